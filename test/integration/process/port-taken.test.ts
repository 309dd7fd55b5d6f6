/**
 * `ringkv up --processes` picks its nodes' ports before they bind them, so anything on the
 * machine can take one in between. A node that exits for that (exit code 5) makes the supervisor
 * start again on other ports, at cluster start and when a node is added; a port that stays taken
 * fails the start after PROCESS_PORT_ATTEMPTS_MAX tries, leaving nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControlCaller } from '../../../src/client/process-link.js';
import { PROCESS_PORT_ATTEMPTS_MAX } from '../../../src/config.js';
import type { RingState } from '../../../src/core/ring-state.js';
import {
  ProcessCluster,
  type ProcessClusterOptions,
} from '../../../src/runtime/process-cluster.js';
import { freePorts, http, LOOPBACK } from './helpers.js';

const IDS = ['n1', 'n2', 'n3'];

/** Listens on a free port until closed: the port a stranger took. */
async function takePort(): Promise<{ port: number; server: Server }> {
  const [port] = (await freePorts(1)) as [number];
  // Peers of the node that could not bind it dial it: hang up on them at once.
  const server = createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(port, LOOPBACK, resolve));
  return { port, server };
}

/** Picks free ports, except that the picks numbered in `takenAt` (from 0) put `port` first. */
function pickerTaking(port: number, takenAt: (pick: number) => boolean) {
  const picks: number[][] = [];
  const pick = async (count: number): Promise<number[]> => {
    const fresh = await freePorts(count);
    const ports = takenAt(picks.length) ? [port, ...fresh.slice(1)] : fresh;
    picks.push(ports);
    return ports;
  };
  return { pick, picks };
}

/**
 * Whether nothing listens on `port` (a stopped node released it): a dial is refused. Not a
 * trial bind: under load one failed now and then although no process held the port (a moment
 * later only TIME-WAIT sockets of the node's closed connections were left on it, and those
 * alone do not block a bind: something still closing at that instant did).
 */
function released(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, LOOPBACK);
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

function options(
  token: string,
  pickPorts: (count: number) => Promise<number[]>,
  dataDir: string | null = null,
  logDestination?: string,
): ProcessClusterOptions {
  return {
    nodeIds: IDS,
    initial: IDS,
    joinTimeoutMs: 20_000,
    n: 3,
    r: 2,
    w: 2,
    readSpeculateMs: 20,
    dataDir,
    logLevel: 'warn',
    controlToken: token,
    pickPorts,
    ...(logDestination === undefined ? {} : { logDestination }),
  };
}

describe('ringkv up --processes when a port is taken before its node binds it', () => {
  let stranger: { port: number; server: Server };
  const token = randomBytes(16).toString('hex');
  const caller = new ControlCaller(token);
  const call = caller.call.bind(caller);

  beforeAll(async () => {
    stranger = await takePort();
  });

  afterAll(async () => {
    caller.close();
    await new Promise((resolve) => stranger.server.close(resolve));
  });

  it('starts again on other ports, and adds a node again on other ports', async () => {
    // Pick 0 is the start's first (taken), 1 its second; 2 is addNode's first (taken), 3 its second.
    const picker = pickerTaking(stranger.port, (pick) => pick === 0 || pick === 2);
    const logDir = await mkdtemp(join(tmpdir(), 'ringkv-port-taken-log-'));
    const logFile = join(logDir, 'supervisor.log');
    const cluster = await ProcessCluster.start(options(token, picker.pick, null, logFile), call);
    try {
      expect(picker.picks).toHaveLength(2);
      for (const id of IDS) {
        const endpoint = cluster.directory.endpoint(id);
        expect(endpoint?.url).not.toContain(`:${stranger.port}`);
        expect((await http(`${endpoint?.url}/status`)).status).toBe(200);
      }
      const n1 = cluster.directory.endpoint('n1')?.url as string;
      expect((await http(`${n1}/kv/kept`, { method: 'PUT', body: 'v' })).status).toBe(200);

      // addNode only reads the owners, to choose the member the joiner joins through.
      await cluster.addNode('n4', { owners: IDS } as unknown as RingState);
      expect(picker.picks).toHaveLength(4);
      const n4 = cluster.directory.endpoint('n4')?.url as string;
      expect(n4).not.toContain(`:${stranger.port}`);
      expect((await http(`${n4}/status`)).status).toBe(200);

      // The retry is one warning; the exit that caused it is no error line of its own.
      const lines = (await readFile(logFile, 'utf8'))
        .split('\n')
        .filter((line) => line.length > 0)
        .map((line) => JSON.parse(line) as { level: string; msg: string });
      const retries = lines.filter((l) => l.msg.startsWith('a port was taken'));
      expect(retries.map((l) => l.level)).toEqual(['warn', 'warn']);
      expect(lines.filter((l) => l.level === 'error')).toEqual([]);
    } finally {
      await cluster.close();
      await rm(logDir, { recursive: true, force: true });
    }
  }, 90_000);

  it(`fails after ${PROCESS_PORT_ATTEMPTS_MAX} starts when the port stays taken, leaving nothing`, async () => {
    const picker = pickerTaking(stranger.port, () => true);
    const parent = await mkdtemp(join(tmpdir(), 'ringkv-port-taken-'));
    const dataDir = join(parent, 'cluster');
    try {
      const failed = ProcessCluster.start(options(token, picker.pick, dataDir), call);
      await expect(failed).rejects.toThrow(/node n1 did not start: it exited with code 5/);
      expect(picker.picks).toHaveLength(PROCESS_PORT_ATTEMPTS_MAX);
      // Every attempt's nodes were stopped (their ports are free) and the data dir it made is gone.
      const others = picker.picks.flatMap((ports) => ports.slice(1));
      expect(await Promise.all(others.map(released))).toEqual(others.map(() => true));
      expect(existsSync(dataDir)).toBe(false);
    } finally {
      await rm(parent, { recursive: true, force: true });
    }
  }, 90_000);
});
