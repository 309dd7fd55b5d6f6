/**
 * Every way the handshake refuses a peer, on real sockets: another CA, no certificate, a
 * certificate for another node than claimed (either side), a wrong cluster name, a wrong
 * protocol version. Each refusal is counted and reported with a reason, and nothing from the
 * refused peer is delivered.
 */
import type { AddressInfo } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { type PeerMessage, PROTOCOL_VERSION } from '../../../src/core/messages.js';
import { nodeId } from '../../../src/core/types.js';
import {
  collect,
  helloFrame,
  introduce,
  LOOPBACK,
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
    // A transport will not start with another node's certificate, so the impostor is raw:
    // it holds c's certificate, signed by the cluster CA, and claims to be a.
    const { transport, events } = await node({ id: 'b', tls: await tlsOf('b') });
    const atB = collect(transport);
    const impostor = await rawPeer(transport.address().port, await tlsOf('c'));
    impostor.socket.write(helloFrame({ from: 'a', to: 'b' }));
    expect(await impostor.nextFrame()).toEqual({
      ringkv: 'refused',
      reason: 'claims a, its certificate names c',
    });
    await impostor.closed;
    expect(transport.stats().handshakesRefused).toBe(1);
    expect(events.find((e) => e.kind === 'refused')).toMatchObject({ peer: 'a', direction: 'in' });
    expect(atB).toEqual([]);
  });

  it('refuses an acceptor whose certificate names another node than the one dialed', async () => {
    // Where a expects b listens a server holding c's certificate.
    const c = await tlsOf('c');
    const impostor = createTlsServer({ ...c, requestCert: true, minVersion: 'TLSv1.3' }, (s) =>
      s.on('error', () => {}),
    );
    await new Promise<void>((resolve) => impostor.listen(0, LOOPBACK, resolve));
    cleanups.push(() => new Promise<void>((resolve) => impostor.close(() => resolve())));
    const a = await node({ id: 'a', tls: await tlsOf('a') });
    a.transport.setPeerAddress(b, {
      host: LOOPBACK,
      port: (impostor.address() as AddressInfo).port,
    });
    a.transport.send(b, ack);
    await until(() => a.transport.stats().handshakesRefused >= 1, 'a to refuse');
    expect(reasons(a)).toContain('dialed b, its certificate names c');
    expect(a.transport.stats().connectionsOut).toBe(0);
  });

  it('will not start with a certificate for another node', async () => {
    await expect(startNode({ id: 'a', tls: await tlsOf('c') })).rejects.toThrow(
      'the node certificate names c, this node is a',
    );
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
