/**
 * Every way the handshake refuses a peer, on real sockets: another CA, no certificate, a
 * certificate for another node than claimed (either side), a wrong cluster name, a wrong
 * protocol version. Each refusal is counted and reported with a reason, and nothing from the
 * refused peer is delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { type PeerMessage, PROTOCOL_VERSION } from '../../../src/core/messages.js';
import { nodeId } from '../../../src/core/types.js';
import {
  collect,
  helloFrame,
  introduce,
  type NodeSpec,
  rawPeer,
  type Started,
  startNode,
  tlsOf,
  until,
} from './helpers.js';

const ack: PeerMessage = { type: 'replica-put-ack', v: PROTOCOL_VERSION, opId: 1 };
const b = nodeId('b');

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

async function node(spec: NodeSpec): Promise<Started> {
  const started = await startNode(spec);
  cleanups.push(() => started.transport.closeAndWait());
  return started;
}

/** Starts the honest `b` and a dialing `a` built from `spec`; `a` sends once. */
async function aDialsB(spec: Omit<NodeSpec, 'id'>, bSpec: Partial<NodeSpec> = {}) {
  const bNode = await node({ id: 'b', tls: await tlsOf('b'), ...bSpec });
  const aNode = await node({ id: 'a', ...spec });
  const atB = collect(bNode.transport);
  introduce(aNode.transport, bNode.transport, 'b');
  aNode.transport.send(b, ack);
  return { a: aNode, b: bNode, atB };
}

const reasons = (started: Started, kind = 'refused') =>
  started.events.filter((e) => e.kind === kind).map((e) => e.reason);

describe('mutual TLS refusals', () => {
  it('the acceptor refuses a dialer whose certificate another CA signed', async () => {
    // a trusts the cluster CA (so it accepts b) but presents a certificate of another CA.
    const foreign = await tlsOf('a', 'other');
    const ours = await tlsOf('a');
    const { b: bNode, atB } = await aDialsB({ tls: { ...foreign, ca: ours.ca } });
    await until(() => bNode.transport.stats().handshakesRefused >= 1, 'b to refuse');
    expect(reasons(bNode).join()).toMatch(/^TLS: .*certificate/);
    expect(atB).toEqual([]);
    expect(bNode.transport.stats().connectionsIn).toBe(0);
  });

  it('the dialer refuses an acceptor whose certificate another CA signed', async () => {
    const { a, atB } = await aDialsB({ tls: await tlsOf('a', 'other') });
    await until(() => a.transport.stats().handshakesRefused >= 1, 'a to refuse');
    expect(reasons(a).join()).toMatch(/certificate/);
    expect(a.transport.stats().connectionsOut).toBe(0);
    expect(atB).toEqual([]);
  });

  it('refuses a peer that presents no certificate', async () => {
    const { transport, events } = await node({ id: 'b', tls: await tlsOf('b') });
    const raw = rawPeer(transport.address().port, 'no-cert').then(async (peer) => {
      peer.socket.write(helloFrame({ from: 'a', to: 'b' }));
      await peer.closed;
    });
    await Promise.allSettled([raw]);
    await until(() => transport.stats().handshakesRefused === 1, 'the refusal counted');
    expect(events.find((e) => e.kind === 'refused')?.reason).toMatch(/certificate/i);
    expect(transport.stats().connectionsIn).toBe(0);
  });

  it('refuses a dialer whose certificate names another node than it claims', async () => {
    // `a` holds c's certificate, signed by the cluster CA, and claims to be a.
    const { a, b: bNode, atB } = await aDialsB({ tls: await tlsOf('c') });
    await until(() => a.transport.stats().handshakesRefused >= 1, 'a to be refused');
    expect(reasons(bNode)).toContain('claims a, its certificate names c');
    expect(reasons(a).join()).toMatch(/refused by the peer: claims a, its certificate names c/);
    expect(atB).toEqual([]);
  });

  it('refuses an acceptor whose certificate names another node than the one dialed', async () => {
    // The process listening where a expects b holds c's certificate.
    const { a, atB } = await aDialsB({ tls: await tlsOf('a') }, { tls: await tlsOf('c') });
    await until(() => a.transport.stats().handshakesRefused >= 1, 'a to refuse');
    expect(reasons(a)).toContain('dialed b, its certificate names c');
    expect(atB).toEqual([]);
  });
});

describe('handshake refusals', () => {
  it.each([
    ['a wrong cluster name', { cluster: 'another-cluster' }, 'cluster name does not match'],
    [
      'a wrong protocol version',
      { deps: { protocolVersion: PROTOCOL_VERSION + 98 } },
      `protocol version ${PROTOCOL_VERSION + 98} is not ${PROTOCOL_VERSION}`,
    ],
  ])('refuses %s, TLS or not', async (_what, spec, reason) => {
    for (const secure of [true, false]) {
      const tlsA = secure ? await tlsOf('a') : null;
      const {
        a,
        b: bNode,
        atB,
      } = await aDialsB({ tls: tlsA, ...spec }, { tls: secure ? await tlsOf('b') : null });
      await until(() => a.transport.stats().handshakesRefused >= 1, 'a to be refused');
      expect(reasons(bNode)).toContain(reason);
      expect(reasons(a)).toContain(`refused by the peer: ${reason}`);
      expect(bNode.transport.stats().handshakesRefused).toBeGreaterThanOrEqual(1);
      expect(atB).toEqual([]);
    }
  });

  it('refuses a hello addressed to another node', async () => {
    const { transport, events } = await node({ id: 'b', tls: null });
    const raw = await rawPeer(transport.address().port, null);
    raw.socket.write(helloFrame({ from: 'a', to: 'c' }));
    expect(await raw.nextFrame()).toEqual({ ringkv: 'refused', reason: 'dialed c, reached b' });
    await raw.closed;
    expect(events.find((e) => e.kind === 'refused')).toMatchObject({ peer: 'a', direction: 'in' });
  });
});
