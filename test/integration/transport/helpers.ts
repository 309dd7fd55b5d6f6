/** Real-socket helpers for the TCP transport tests: certificates, pairs, raw peers, polling. */
import { mkdtemp } from 'node:fs/promises';
import { connect as netConnect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import type { TransportConfig } from '../../../src/config.js';
import { type NodeId, nodeId } from '../../../src/core/types.js';
import { createCerts, loadNodeTls } from '../../../src/runtime/certs.js';
import { decodeValue, encodeValue } from '../../../src/transport/codec.js';
import { FrameDecoder, frameHeader } from '../../../src/transport/frame.js';
import type { Hello } from '../../../src/transport/handshake.js';
import {
  type TcpTransport as Tcp,
  TcpTransport,
  type TcpTransportDeps,
  type TlsMaterial,
  type TransportEvent,
} from '../../../src/transport/tcp.js';
import type { TransportPair } from '../../transport/contract.js';

export const CLUSTER = 'test-cluster';
export const LOOPBACK = '127.0.0.1';
/** Short enough for the timeout tests, long enough for a loaded 2-core machine. */
export const FAST: Partial<TransportConfig> = {
  handshakeTimeoutMs: 300,
  reconnectDelayBaseMs: 5,
  reconnectDelayMaxMs: 50,
};

let certs: Promise<{ dir: string; otherDir: string }> | null = null;

/** One CA with nodes a, b, c; another CA with a node a. Made once per test file. */
export function testCerts(): Promise<{ dir: string; otherDir: string }> {
  certs ??= (async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ringkv-tcp-ca-'));
    const otherDir = await mkdtemp(join(tmpdir(), 'ringkv-tcp-other-ca-'));
    await createCerts({ dir, nodes: ['a', 'b', 'c'], days: 1 });
    await createCerts({ dir: otherDir, nodes: ['a'], days: 1 });
    return { dir, otherDir };
  })();
  return certs;
}

export async function tlsOf(id: string, which: 'ours' | 'other' = 'ours'): Promise<TlsMaterial> {
  const { dir, otherDir } = await testCerts();
  return loadNodeTls(which === 'ours' ? dir : otherDir, id);
}

export interface NodeSpec {
  readonly id: string;
  /** TLS material, or null for insecure. */
  readonly tls: TlsMaterial | null;
  readonly port?: number;
  readonly cluster?: string;
  readonly config?: Partial<TransportConfig>;
  readonly deps?: TcpTransportDeps;
}

export interface Started {
  readonly transport: Tcp;
  readonly events: TransportEvent[];
}

export async function startNode(spec: NodeSpec): Promise<Started> {
  const events: TransportEvent[] = [];
  const transport = await TcpTransport.start(
    {
      self: nodeId(spec.id),
      cluster: spec.cluster ?? CLUSTER,
      listen: { host: LOOPBACK, port: spec.port ?? 0 },
      ...(spec.tls === null ? { insecure: true } : { tls: spec.tls }),
      config: { ...FAST, ...spec.config },
    },
    { ...spec.deps, onEvent: (event) => events.push(event) },
  );
  return { transport, events };
}

/** Makes `from` know where `to` listens. */
export function introduce(from: Tcp, to: Tcp, toId: string): void {
  from.setPeerAddress(nodeId(toId), { host: LOOPBACK, port: to.address().port });
}

export async function openTcpPair(secure: boolean): Promise<TransportPair & { ta: Tcp; tb: Tcp }> {
  const a = await startNode({ id: 'a', tls: secure ? await tlsOf('a') : null });
  const b = await startNode({ id: 'b', tls: secure ? await tlsOf('b') : null });
  introduce(a.transport, b.transport, 'b');
  introduce(b.transport, a.transport, 'a');
  const raws: Socket[] = [];
  return {
    a: a.transport,
    b: b.transport,
    ta: a.transport,
    tb: b.transport,
    idA: nodeId('a'),
    idB: nodeId('b'),
    injectRaw: (data) => {
      void (async () => {
        const raw = await rawPeer(b.transport.address().port, secure ? await tlsOf('a') : null);
        raws.push(raw.socket);
        raw.socket.write(helloFrame({ from: 'a', to: 'b' }));
        await raw.nextFrame();
        raw.socket.write(frameOf(encodeValue(data)));
      })();
    },
    close: async () => {
      for (const socket of raws) socket.destroy();
      await Promise.all([a.transport.closeAndWait(), b.transport.closeAndWait()]);
    },
  };
}

export function frameOf(body: Buffer): Buffer {
  return Buffer.concat([frameHeader(body.length), body]);
}

export function helloFrame(fields: Partial<Hello> & { from: string; to: string }): Buffer {
  const hello: Hello = {
    ringkv: 'hello',
    version: 1,
    cluster: CLUSTER,
    lane: 'quorum',
    incarnation: 'a1a1a1a1a1a1a1a1',
    ...fields,
  };
  return frameOf(encodeValue(hello));
}

export interface RawPeer {
  readonly socket: Socket;
  /** The next frame the other side writes, decoded; rejects when the socket closes first. */
  nextFrame(): Promise<unknown>;
  /** Resolves when the socket is closed (by either side). */
  readonly closed: Promise<void>;
}

/** A hand-driven connection: plain, or TLS with the given material (no server identity check). */
export async function rawPeer(port: number, tls: TlsMaterial | null | 'no-cert'): Promise<RawPeer> {
  const socket: Socket =
    tls === null
      ? netConnect({ host: LOOPBACK, port })
      : tlsConnect({
          host: LOOPBACK,
          port,
          minVersion: 'TLSv1.3',
          ca: tls === 'no-cert' ? (await tlsOf('a')).ca : tls.ca,
          ...(tls === 'no-cert' ? {} : { cert: tls.cert, key: tls.key }),
          checkServerIdentity: () => undefined,
        });
  socket.on('error', () => {});
  const decoder = new FrameDecoder(1 << 20);
  const frames: unknown[] = [];
  const waiters: Array<() => void> = [];
  let isClosed = false;
  const closed = new Promise<void>((resolve) =>
    socket.on('close', () => {
      isClosed = true;
      resolve();
      for (const wake of waiters.splice(0)) wake();
    }),
  );
  socket.on('data', (chunk: Buffer) => {
    for (const body of decoder.push(chunk)) frames.push(decodeValue(body));
    for (const wake of waiters.splice(0)) wake();
  });
  await new Promise<void>((resolve, reject) => {
    socket.once(tls === null ? 'connect' : 'secureConnect', () => resolve());
    socket.once('error', reject);
  });
  return {
    socket,
    closed,
    nextFrame: async () => {
      while (frames.length === 0) {
        if (isClosed) throw new Error('closed before a frame arrived');
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      return frames.shift();
    },
  };
}

/** Polls `check` every few ms until it holds; fails after `timeoutMs` naming `what`. */
export async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

export function collect(t: Tcp): Array<{ from: NodeId; message: unknown }> {
  const got: Array<{ from: NodeId; message: unknown }> = [];
  t.onMessage((from, message) => got.push({ from, message }));
  return got;
}
