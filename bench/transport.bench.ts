/**
 * Raw message rate between two transports on one machine: the sender in this process, the
 * receiver in another thread (MessageChannel) or another OS process (TCP, with and without
 * mutual TLS), so both sides get a core of their own as they would in a cluster.
 *
 *   npm run bench:transport            (node --import tsx bench/transport.bench.ts)
 *
 * The sender keeps at most WINDOW messages unacknowledged (the receiver echoes an ack every
 * ACK_EVERY messages), so the send queue never overflows and nothing is dropped: the rate is
 * what the transport carries, end to end, including encoding, framing, TLS and decoding.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { MessageChannel, Worker } from 'node:worker_threads';
import { type PeerMessage, PROTOCOL_VERSION } from '../src/core/messages.js';
import { nodeId } from '../src/core/types.js';
import { createCerts, loadNodeTls } from '../src/runtime/certs.js';
import { MessageChannelTransport } from '../src/transport/message-channel.js';
import { TcpTransport } from '../src/transport/tcp.js';
import type { Transport } from '../src/transport/transport.js';
import { ACK_EVERY, CLUSTER } from './transport-peer.js';

const WINDOW = 20_000;
/** Longest one measurement may take before the benchmark gives up. */
const RUN_TIMEOUT_MS = 120_000;
const PEER_SCRIPT = fileURLToPath(new URL('./transport-peer.ts', import.meta.url));
const receiver = nodeId('b');

interface Shape {
  readonly name: string;
  readonly count: number;
  readonly make: (i: number) => PeerMessage;
}

const value = new Uint8Array(1024).fill(7);
const SHAPES: readonly Shape[] = [
  {
    name: 'small (replica-put-ack, ~20 B)',
    count: 400_000,
    make: (opId) => ({ type: 'replica-put-ack', v: PROTOCOL_VERSION, opId }),
  },
  {
    name: 'replica-put, 1 KiB value',
    count: 150_000,
    make: (opId) => ({
      type: 'replica-put',
      v: PROTOCOL_VERSION,
      opId,
      key: `key-${opId}`,
      record: { siblings: [{ dot: ['a', opId + 1], past: [], value }] },
    }),
  },
];

/** Sends `count` messages within the window; resolves with messages per second. */
async function measure(transport: Transport, shape: Shape): Promise<number> {
  let acked = 0;
  transport.onMessage((_from, message) => {
    acked = Math.max(acked, (message as { opId: number }).opId + 1);
  });
  const started = performance.now();
  let sent = 0;
  while (acked < shape.count) {
    if (performance.now() - started > RUN_TIMEOUT_MS) throw new Error(`${shape.name}: timed out`);
    const room = Math.min(shape.count - sent, WINDOW - (sent - acked), 2000);
    for (let i = 0; i < room; i++) transport.send(receiver, shape.make(sent++));
    await new Promise((resolve) => setImmediate(resolve));
  }
  const seconds = (performance.now() - started) / 1000;
  if (transport.stats().dropped !== 0) throw new Error(`${shape.name}: messages were dropped`);
  return shape.count / seconds;
}

async function runAll(label: string, transport: Transport): Promise<void> {
  await measure(transport, { ...SHAPES[0]!, count: 20_000 }); // warm-up: connect, JIT
  for (const shape of SHAPES) {
    const rate = await measure(transport, shape);
    console.log(
      `${label.padEnd(26)} ${shape.name.padEnd(32)} ${Math.round(rate).toLocaleString('en').padStart(10)} msgs/s`,
    );
  }
}

async function messageChannel(): Promise<void> {
  const { port1, port2 } = new MessageChannel();
  // Node 20 cannot load a .ts worker by itself: register tsx's loader in the thread first.
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(new URL('./transport-peer.ts', import.meta.url).href)}); })`;
  const worker = new Worker(boot, {
    eval: true,
    workerData: { port: port2 },
    transferList: [port2],
  });
  const transport = new MessageChannelTransport();
  transport.connect(receiver, port1);
  try {
    await runAll('MessageChannel (threads)', transport);
  } finally {
    transport.close();
    await worker.terminate();
  }
}

async function tcp(certDir: string | null): Promise<void> {
  const transport = await TcpTransport.start({
    self: nodeId('a'),
    cluster: CLUSTER,
    listen: { host: '127.0.0.1', port: 0 },
    ...(certDir === null ? { insecure: true } : { tls: await loadNodeTls(certDir, 'a') }),
  });
  const job = JSON.stringify({ certDir, senderPort: transport.address().port });
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', PEER_SCRIPT, job], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    const line = await firstLine(child);
    transport.setPeerAddress(receiver, {
      host: '127.0.0.1',
      port: (JSON.parse(line) as { port: number }).port,
    });
    await runAll(certDir === null ? 'TCP (processes)' : 'TCP + mTLS 1.3 (processes)', transport);
  } finally {
    child.stdin?.end();
    await transport.closeAndWait();
  }
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the peer process did not start in 30 s')),
      30_000,
    );
    createInterface({ input: child.stdout! }).once('line', (line) => {
      clearTimeout(timer);
      resolve(line);
    });
    child.once('exit', (code) => reject(new Error(`the peer process exited (${code})`)));
  });
}

const certDir = await mkdtemp(join(tmpdir(), 'ringkv-bench-certs-'));
try {
  await createCerts({ dir: certDir, nodes: ['a', 'b'], days: 1 });
  console.log(
    `window ${WINDOW} messages, ack every ${ACK_EVERY}; sender here, receiver in its own thread/process`,
  );
  await messageChannel();
  await tcp(null);
  await tcp(certDir);
} finally {
  await rm(certDir, { recursive: true, force: true });
}
