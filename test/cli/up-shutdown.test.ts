import type { Server } from 'node:http';
import { describe, expect, it } from 'vitest';
import {
  formatSummary,
  installShutdown,
  listenErrorMessage,
  type RunningUp,
  type UpIo,
} from '../../src/cli/up.js';
import type { Cluster, ClusterStatus } from '../../src/client/types.js';
import { DEFAULT_CONFIG } from '../../src/config.js';

function fakeIo(): UpIo & { exits: number[]; errs: string[]; emit(signal: NodeJS.Signals): void } {
  const handlers = new Map<string, (() => void)[]>();
  const io = {
    exits: [] as number[],
    errs: [] as string[],
    out: () => {},
    err: (line: string) => io.errs.push(line),
    exit: (code: number) => io.exits.push(code),
    onSignal: (signal: NodeJS.Signals, handler: () => void) => {
      handlers.set(signal, [...(handlers.get(signal) ?? []), handler]);
    },
    emit: (signal: NodeJS.Signals) => {
      for (const handler of handlers.get(signal) ?? []) handler();
    },
  };
  return io;
}

function running(shutdown: () => Promise<void>): RunningUp {
  return { url: 'http://x', server: {} as Server, cluster: {} as Cluster, shutdown };
}

describe('up shutdown', () => {
  it('the first signal shuts down and exits 0', async () => {
    const io = fakeIo();
    let stopped = 0;
    installShutdown(
      running(async () => {
        stopped += 1;
      }),
      io,
    );
    io.emit('SIGTERM');
    await Promise.resolve();
    await Promise.resolve();
    expect(stopped).toBe(1);
    expect(io.exits).toEqual([0]);
  });

  it('a second signal during shutdown forces exit 1', () => {
    const io = fakeIo();
    installShutdown(
      running(() => new Promise<void>(() => {})),
      io,
    );
    io.emit('SIGINT');
    expect(io.exits).toEqual([]);
    io.emit('SIGINT');
    expect(io.exits).toEqual([1]);
  });

  it('a failed shutdown exits 1 with the reason', async () => {
    const io = fakeIo();
    installShutdown(
      running(() => Promise.reject(new Error('worker stuck'))),
      io,
    );
    io.emit('SIGINT');
    await new Promise((resolve) => setImmediate(resolve));
    expect(io.exits).toEqual([1]);
    expect(io.errs.join('\n')).toContain('worker stuck');
  });
});

describe('up messages', () => {
  const plan = { config: {}, host: '127.0.0.1', port: 8080 };

  it('names a port in use and how to pick another', () => {
    const error = Object.assign(new Error('listen EADDRINUSE'), { code: 'EADDRINUSE' });
    expect(listenErrorMessage(error, plan)).toBe(
      'port 8080 on 127.0.0.1 is already in use; choose another with --port (0 picks a free one)',
    );
  });

  it('summarises the ring, quorum and storage', () => {
    const status: ClusterStatus = {
      nodes: [
        {
          id: 'n1',
          state: 'up',
          partitions: 512,
          keys: 0,
          hintsPending: 0,
          partitionGroup: null,
          messagesDropped: 0,
        },
        {
          id: 'n2',
          state: 'up',
          partitions: 512,
          keys: 0,
          hintsPending: 0,
          partitionGroup: null,
          messagesDropped: 0,
        },
      ],
      ring: { partitionCount: 1024, owners: [] },
      config: {
        n: 2,
        r: 1,
        w: 2,
        requestTimeoutMs: 2000,
        valueSizeMaxBytes: 1,
        durable: true,
        engine: 'lmdb and log',
      },
      network: { delayMs: 0, jitterMs: 0, lossRate: 0, groups: null },
    };
    const text = formatSummary(
      'http://127.0.0.1:8080',
      status,
      { ...DEFAULT_CONFIG, dataDir: '/d' },
      null,
      2,
    );
    expect(text).toContain('http://127.0.0.1:8080');
    expect(text).toContain('n1:512 n2:512');
    expect(text).toContain('N=2 R=1 W=2');
    expect(text).toContain('lmdb and log under /d');
    expect(text).toContain('nodes       2 on 1 worker thread\n');
    const four = formatSummary('http://x', status, { ...DEFAULT_CONFIG, nodes: 2 }, null, 4);
    expect(four).toContain('nodes       2 on 2 worker threads\n');
  });
});
