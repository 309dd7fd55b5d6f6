/**
 * Entry point of a worker thread that hosts one or more nodes (hosted-node.ts): serves the
 * control protocol (control.ts) on parentPort, each message routed to the node it names. The
 * thread's nodes reach each other through one LocalHub; nodes on other threads through the
 * MessageChannels the launcher hands over. The replies of all its nodes made in one event-loop
 * turn travel in one post.
 */
import { parentPort } from 'node:worker_threads';
import { LocalHub } from '../transport/local-hub.js';
import type { FromWorker, ReplyEnvelope, ToWorker, WorkerInit } from './control.js';
import { HostedNode } from './hosted-node.js';
import { withEncodedContext } from './reply-context.js';

class NodeThreadMain {
  private readonly hub = new LocalHub();
  private readonly nodes = new Map<string, HostedNode>();
  private readonly replies: ReplyBatcher;

  constructor(private readonly post: (message: FromWorker) => void) {
    this.replies = new ReplyBatcher(post);
  }

  receive(message: ToWorker): void {
    if (message.type === 'start') return void this.start(message.node, message.init);
    if (message.type === 'requests') {
      // A request for a node that stopped is dropped: the launcher answers it `down`.
      for (const { node, reqId, request } of message.batch)
        this.nodes.get(node)?.request(reqId, request);
      return;
    }
    const node = this.nodes.get(message.node);
    if (node !== undefined) this.toNode(node, message);
  }

  private toNode(node: HostedNode, message: Exclude<ToWorker, { type: 'start' | 'requests' }>) {
    const post = this.post;
    switch (message.type) {
      case 'connect':
        return node.connect(message.peer, message.port);
      case 'disconnect':
        return node.disconnect(message.peer);
      case 'peer-status':
        return node.peerStatus(message.peer, message.up);
      case 'stats':
        return post({
          type: 'stats',
          node: node.id,
          queryId: message.queryId,
          stats: node.stats(),
        });
      case 'inspect': {
        const record = node.inspect(message.key);
        return post({ type: 'inspect', node: node.id, queryId: message.queryId, record });
      }
      case 'explain': {
        const view = node.explain(message.key);
        return post({ type: 'explain', node: node.id, queryId: message.queryId, view });
      }
      case 'faults':
        node.setFaults(message.faults);
        return post({ type: 'faults-applied', node: node.id, queryId: message.queryId });
      case 'close':
      case 'kill':
        node.log.info(message.type === 'kill' ? 'node killed' : 'node closing');
        return void this.stop(node, message.type);
    }
  }

  private async start(id: string, init: WorkerInit): Promise<void> {
    if (this.nodes.has(id)) {
      return this.post({
        type: 'fatal',
        node: id,
        message: `node ${id} runs on this thread already`,
      });
    }
    try {
      const node = await HostedNode.open(init, this.hub, {
        reply: (reqId, result) => this.replies.push({ reqId, result: withEncodedContext(result) }),
        fatal: (message) => {
          if (this.nodes.get(id) === node) this.nodes.delete(id);
          this.post({ type: 'fatal', node: id, message });
        },
      });
      this.nodes.set(id, node);
      this.post({ type: 'ready', node: id, actor: node.actor });
    } catch (error) {
      const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
      this.post({ type: 'fatal', node: id, message: `could not start: ${message}` });
    }
  }

  private async stop(node: HostedNode, how: 'close' | 'kill'): Promise<void> {
    await node.stop();
    if (this.nodes.get(node.id) === node) this.nodes.delete(node.id);
    this.post({ type: 'closed', node: node.id, how });
  }
}

/**
 * Collects the replies made in one event-loop turn into posts to the main thread of up to
 * REPLIES_PER_POST_MAX, like the peer transport's outbox (a reply per microtask meant a post per
 * incoming peer batch).
 */
/** Replies one post carries at most, for the reason node-thread.ts's requests are split. */
const REPLIES_PER_POST_MAX = 16;

class ReplyBatcher {
  private batch: ReplyEnvelope[] = [];

  constructor(private readonly post: (message: FromWorker) => void) {}

  push(reply: ReplyEnvelope): void {
    if (this.batch.length === 0) setImmediate(() => this.flush());
    this.batch.push(reply);
    if (this.batch.length >= REPLIES_PER_POST_MAX) this.flush();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const batch = this.batch;
    this.batch = [];
    this.post({ type: 'replies', batch });
  }
}

if (parentPort === null) throw new Error('worker-main.ts runs inside a worker thread');
const port = parentPort;
const thread = new NodeThreadMain((message) => port.postMessage(message));
port.on('message', (message: ToWorker) => thread.receive(message));
