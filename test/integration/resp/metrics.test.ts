/**
 * `ringkv up --resp`: the RESP server's counters are in /metrics as ringkv_resp_*, with the
 * values of what its clients did (raw sockets, so no client library adds commands of its own).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningUp, startUp } from '../../../src/cli/up.js';
import { command, RawClient } from './harness.js';

/** Every `name value` sample line of the exposition, by name (unlabelled series only). */
async function scrape(url: string): Promise<{ text: string; samples: Map<string, number> }> {
  const res = await fetch(`${url}/metrics`, { signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(ringkv_resp_[a-z_]+) (\S+)$/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return { text, samples };
}

const EXPECTED: Readonly<Record<string, number>> = {
  ringkv_resp_clients: 1,
  ringkv_resp_connections_accepted_total: 2,
  ringkv_resp_connections_rejected_total: 0,
  ringkv_resp_commands_total: 4,
  ringkv_resp_error_replies_total: 1,
  ringkv_resp_commands_refused_total: 0,
  ringkv_resp_protocol_errors_total: 1,
  ringkv_resp_slow_readers_cut_off_total: 0,
  ringkv_resp_idle_closed_total: 0,
};

describe('RESP counters in /metrics', () => {
  let running: RunningUp | null = null;
  const sockets: RawClient[] = [];

  beforeAll(async () => {
    running = await startUp(
      {
        config: { nodes: 3, n: 3, r: 2, w: 2, dataDir: null },
        host: '127.0.0.1',
        port: 0,
        resp: 0,
      },
      { out: () => {}, err: () => {}, exit: () => {}, onSignal: () => {} },
    );
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await running?.shutdown();
  });

  it('exports connections, commands, errors and protocol errors with their values', async () => {
    const { url } = running!;
    const port = Number(new URL(running!.resp?.url as string).port);
    const before = await scrape(url);
    expect(before.samples.get('ringkv_resp_commands_total')).toBe(0);
    expect(before.text).toContain('# TYPE ringkv_resp_commands_total counter');
    expect(before.text).toContain('# TYPE ringkv_resp_clients gauge');
    expect(before.text).toMatch(/# HELP ringkv_resp_error_replies_total \S/);

    const broken = new RawClient(port);
    sockets.push(broken);
    await broken.connected();
    broken.send('*1\r\n*1\r\n$1\r\na\r\n'); // a protocol error: answered, then closed
    await broken.closedByServer();

    const raw = new RawClient(port);
    sockets.push(raw);
    await raw.connected();
    raw.send(
      Buffer.concat([
        command('PING'),
        command('SET', 'metered', 'v'),
        command('GET', 'metered'),
        command('NO-SUCH-COMMAND'),
      ]),
    );
    const replies = await raw.read((text) => text.includes('-ERR'));
    expect(replies).toMatch(/^\+PONG\r\n\+OK\r\n\$1\r\nv\r\n-ERR unknown command/);

    // The server may see the broken socket's close a moment after the client did.
    let samples = (await scrape(url)).samples;
    for (let tries = 0; tries < 50 && samples.get('ringkv_resp_clients') !== 1; tries++) {
      await sleep(20);
      samples = (await scrape(url)).samples;
    }
    expect(Object.fromEntries(samples)).toEqual(EXPECTED);
  });
});
