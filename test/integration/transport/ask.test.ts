/**
 * The ask lane of the TCP transport (handshake.ts ASK_LANE, ask.ts): a node that knows a peer
 * only by its address asks once and gets the answer and the peer's id, under mutual TLS too; an
 * acceptor without a handler, a handler that never answers, a closed port and another CA's
 * certificate each end the ask with a reason, never a hang.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { nodeId } from '../../../src/core/types.js';
import { TcpTransport } from '../../../src/transport/tcp.js';
import { CLUSTER, LOOPBACK, tlsOf } from './helpers.js';

const open: TcpTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.closeAndWait()));
});

/** A transport for `id` (certificates exist for a, b, c of our CA and a of another). */
async function node(id: string, tls: 'plain' | 'ours' | 'other', askTimeoutMs = 2_000) {
  const material = tls === 'plain' ? null : await tlsOf(id, tls);
  const transport = await TcpTransport.start({
    self: nodeId(id),
    cluster: CLUSTER,
    listen: { host: LOOPBACK, port: 0 },
    ...(material === null ? { insecure: true } : { tls: material }),
    askTimeoutMs,
  });
  open.push(transport);
  return transport;
}

const where = (t: TcpTransport) => ({ host: LOOPBACK, port: t.address().port });

describe('TcpTransport.ask', () => {
  it.each(['plain', 'ours'] as const)('asks a peer known only by address (%s)', async (tls) => {
    const member = await node('b', tls);
    const asker = await node('a', tls);
    member.onAsk(async (from, request) => ({ from, echo: request }));
    const { node: who, answer } = await asker.ask(where(member), { op: 'info' });
    expect(who).toBe('b');
    expect(answer).toEqual({ from: 'a', echo: { op: 'info' } });
  });

  it('an acceptor without a handler answers a refusal', async () => {
    const member = await node('b', 'plain');
    const asker = await node('a', 'plain');
    const { answer } = await asker.ask(where(member), { op: 'info' });
    expect(answer).toMatchObject({ ok: false });
  });

  it('a handler that never answers: the ask ends at its timeout', async () => {
    const member = await node('b', 'plain', 300);
    const asker = await node('a', 'plain', 300);
    member.onAsk(() => new Promise(() => {}));
    await expect(asker.ask(where(member), {})).rejects.toThrow(/no answer within 300 ms|closed/);
  });

  it('a closed port and a certificate of another CA end the ask with a reason', async () => {
    const asker = await node('a', 'ours');
    const gone = await node('c', 'ours');
    const port = where(gone);
    await gone.closeAndWait();
    await expect(asker.ask(port, {})).rejects.toThrow(/cannot ask: .*ECONNREFUSED/);
    const member = await node('b', 'ours');
    member.onAsk(async () => ({ ok: true }));
    const stranger = await node('a', 'other');
    await expect(stranger.ask(where(member), {})).rejects.toThrow(/cannot ask|closed/);
  });
});
