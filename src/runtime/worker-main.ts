/**
 * Entry point of a worker thread that hosts one or more nodes (hosted-node.ts): serves the
 * control protocol (control.ts) on parentPort, each message routed to the node it names. The
 * thread's nodes reach each other through one LocalHub; nodes on other threads through the
 * MessageChannels the launcher hands over. The replies of all its nodes travel together, a post
 * per turn or per POST_ITEMS_MAX.
 */
import { parentPort } from 'node:worker_threads';
import { LocalHub } from '../transport/local-hub.js';
import { errorText } from '../util/error-text.js';
import { TurnBatcher } from '../util/turn-batcher.js';
import {
  type FromWorker,
  POST_ITEMS_MAX,
  type ReplyEnvelope,
  type ToWorker,
  type WorkerInit,
} from './control.js';
import { processClockMs } from './host-clocks.js';
import { HostedNode } from './hosted-node.js';
import { withEncodedContext } from './reply-context.js';

type StopKind = 'close' | 'kill';

class NodeThreadMain {
  private readonly hub = new LocalHub();
  private readonly nodes = new Map<string, HostedNode>();
  /**
   * Nodes whose storage is still opening, with the stop asked meanwhile (null: none yet). A
   * stop asked then is carried out once the node is open, and only on that node: the main
   * thread asks it when a start times out, and must not have to end the whole thread for it.
   */
  private readonly opening = new Map<string, StopKind | null>();
  /** The replies of all the thread's nodes (see POST_ITEMS_MAX). */
  private readonly replies: TurnBatcher<ReplyEnvelope>;

  constructor(private readonly post: (message: FromWorker) => void) {
    this.replies = new TurnBatcher(POST_ITEMS_MAX, (batch) =>
      post({ type: 'replies', batch, sentAtMs: processClockMs() }),
    );
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
    else if (
      (message.type === 'close' || message.type === 'kill') &&
      this.opening.has(message.node)
    )
      this.opening.set(message.node, message.type);
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
    if (this.nodes.has(id) || this.opening.has(id)) {
      const message = `node ${id} runs on this thread already`;
      return this.post({ type: 'fatal', node: id, message });
    }
    this.opening.set(id, null);
    let node: HostedNode;
    try {
      node = await HostedNode.open(init, this.hub, {
        reply: (reqId, result) => this.replies.push({ reqId, result: withEncodedContext(result) }),
        fatal: (message) => {
          if (this.nodes.get(id) === node) this.nodes.delete(id);
          this.post({ type: 'fatal', node: id, message });
        },
      });
    } catch (error) {
      this.opening.delete(id);
      return this.post({
        type: 'fatal',
        node: id,
        message: `could not start: ${errorText(error)}`,
      });
    }
    const asked = this.opening.get(id) ?? null;
    this.opening.delete(id);
    this.nodes.set(id, node);
    if (asked !== null) return this.stop(node, asked);
    this.post({ type: 'ready', node: id, actor: node.actor });
  }

  private async stop(node: HostedNode, how: StopKind): Promise<void> {
    await node.stop();
    if (this.nodes.get(node.id) === node) this.nodes.delete(node.id);
    this.post({ type: 'closed', node: node.id, how });
  }
}

if (parentPort === null) throw new Error('worker-main.ts runs inside a worker thread');
const port = parentPort;
const thread = new NodeThreadMain((message) => port.postMessage(message));
port.on('message', (message: ToWorker) => thread.receive(message));
