/**
 * The receiving side of bench/transport.bench.ts: counts messages and, for every ACK_EVERY-th
 * one, echoes a `replica-put-ack` with its opId, which the sender uses as its flow-control
 * window. Runs as a worker thread (MessageChannel: workerData.port) or as a child process (TCP:
 * argv[2] is a JSON job; it prints {"port":…} on stdout and exits when stdin closes).
 */
import { isMainThread, type MessagePort, workerData } from 'node:worker_threads';
import { PROTOCOL_VERSION } from '../src/core/messages.js';
import { nodeId } from '../src/core/types.js';
import { loadNodeTls } from '../src/runtime/certs.js';
import { MessageChannelTransport } from '../src/transport/message-channel.js';
import { TcpTransport } from '../src/transport/tcp.js';
import type { Transport } from '../src/transport/transport.js';

export const ACK_EVERY = 500;
export const CLUSTER = 'bench';

const sender = nodeId('a');

function echo(transport: Transport): void {
  transport.onMessage((_from, message) => {
    const { opId } = message as { opId: number };
    if (opId % ACK_EVERY === ACK_EVERY - 1) {
      transport.send(sender, { type: 'replica-put-ack', v: PROTOCOL_VERSION, opId });
    }
  });
}

interface TcpJob {
  readonly certDir: string | null;
  readonly senderPort: number;
}

async function runTcp(job: TcpJob): Promise<void> {
  const transport = await TcpTransport.start({
    self: nodeId('b'),
    cluster: CLUSTER,
    listen: { host: '127.0.0.1', port: 0 },
    peers: new Map([[sender, { host: '127.0.0.1', port: job.senderPort }]]),
    ...(job.certDir === null ? { insecure: true } : { tls: await loadNodeTls(job.certDir, 'b') }),
  });
  echo(transport);
  process.stdout.write(`${JSON.stringify({ port: transport.address().port })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => {
    void transport.closeAndWait().then(() => process.exit(0));
  });
}

if (!isMainThread) {
  const transport = new MessageChannelTransport();
  transport.connect(sender, (workerData as { port: MessagePort }).port);
  echo(transport);
} else if (process.argv[2] !== undefined) {
  void runTcp(JSON.parse(process.argv[2]) as TcpJob);
}
