/**
 * Entry point of a node's worker thread: opens the node's storage, builds its NodeCore and
 * hosts it, then serves the control protocol (control.ts) on parentPort. Peer traffic goes
 * through a FaultyTransport over the MessageChannel mesh, so injected faults apply to it.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { NodeCore } from '../core/node.js';
import { Ring } from '../core/ring.js';
import { nodeId } from '../core/types.js';
import { openStorage } from '../storage/index.js';
import { FaultyTransport } from '../transport/faulty.js';
import { MessageChannelTransport } from '../transport/message-channel.js';
import { loadOrCreateActor } from './actor.js';
import type { FromWorker, ReplyEnvelope, ToWorker, WorkerInit } from './control.js';
import { hostClocks } from './host-clocks.js';
import { createLogger, type Logger, NodeLog } from './log.js';
import { transportFaults } from './node-faults.js';
import { NodeHost } from './node-host.js';
import { withEncodedContext } from './reply-context.js';

async function main(
  port: NonNullable<typeof parentPort>,
  init: WorkerInit,
  log: Logger,
): Promise<void> {
  const post = (message: FromWorker) => port.postMessage(message);
  const storage = await openStorage({ dataDir: init.dataDir, nodeId: init.id });
  const actor = await loadOrCreateActor(init.id, storage);
  const channels = new MessageChannelTransport();
  const transport = new FaultyTransport(channels);
  transport.setFaults(transportFaults(init.faults, init.id));
  const core = new NodeCore({
    id: nodeId(init.id),
    actor,
    ring: Ring.fromOwners(init.owners.map(nodeId)),
    ...(init.ringState === undefined ? {} : { ringState: init.ringState }),
    n: init.n,
    forwardSlackMs: init.forwardSlackMs,
    limits: init.limits,
    store: storage,
    ...hostClocks(),
  });
  const replies = new ReplyBatcher(post);
  const host = new NodeHost(
    core,
    storage,
    transport,
    {
      reply: (reqId, result) => replies.push({ reqId, result: withEncodedContext(result) }),
      fatal: (error) => {
        post({
          type: 'fatal',
          message: error instanceof Error ? (error.stack ?? error.message) : String(error),
        });
        process.exit(1);
      },
    },
    new NodeLog(log),
  );

  port.on('message', (message: ToWorker) => {
    switch (message.type) {
      case 'connect':
        return channels.connect(nodeId(message.peer), message.port);
      case 'disconnect':
        return channels.disconnect(nodeId(message.peer));
      case 'peer-status':
        return host.input({ kind: 'peer-status', peer: nodeId(message.peer), up: message.up });
      case 'requests':
        for (const { reqId, request } of message.batch)
          host.input({ kind: 'request', reqId, request });
        return;
      case 'stats':
        return post({
          type: 'stats',
          queryId: message.queryId,
          stats: {
            actor,
            keys: storage.count(),
            core: core.stats(),
            latency: core.latencies(),
            transport: transport.stats(),
            faults: transport.faultStats(),
          },
        });
      case 'faults':
        transport.setFaults(transportFaults(message.faults, init.id));
        return post({ type: 'faults-applied', queryId: message.queryId });
      case 'inspect':
        return post({
          type: 'inspect',
          queryId: message.queryId,
          record: core.read(message.key) ?? null,
        });
      case 'explain':
        return post({ type: 'explain', queryId: message.queryId, view: core.explain(message.key) });
      case 'close':
        log.info('node closing');
        host.stop();
        transport.close();
        void storage.close().finally(() => {
          post({ type: 'closed' });
          port.close();
        });
        return;
    }
  });
  host.input({ kind: 'start' });
  const kind = init.dataDir === null ? 'memory' : 'lmdb';
  log.info({ actor, storage: kind, keys: storage.count() }, 'node started');
  post({ type: 'ready', actor });
}

/**
 * Collects the replies made in one event-loop turn into a single post to the main thread, like
 * the peer transport's outbox (a reply per microtask meant a post per incoming peer batch).
 */
class ReplyBatcher {
  private batch: ReplyEnvelope[] = [];

  constructor(private readonly post: (message: FromWorker) => void) {}

  push(reply: ReplyEnvelope): void {
    if (this.batch.length === 0) setImmediate(() => this.flush());
    this.batch.push(reply);
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    this.post({ type: 'replies', batch });
  }
}

if (parentPort === null) throw new Error('worker-main.ts runs inside a worker thread');
const init = workerData as WorkerInit;
const log = createLogger({ level: init.logLevel, node: init.id, destination: init.logFd });
main(parentPort, init, log).catch((error: unknown) => {
  log.error({ err: error }, 'node failed to start');
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  parentPort?.postMessage({ type: 'fatal', message } satisfies FromWorker);
  process.exit(1);
});
