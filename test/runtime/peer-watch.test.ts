import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { nodeId } from '../../src/core/types.js';
import { silentLogger } from '../../src/runtime/log.js';
import type { NodeHost } from '../../src/runtime/node-host.js';
import { PeerBook } from '../../src/runtime/peer-book.js';
import { PeerWatch } from '../../src/runtime/peer-watch.js';
import type { TcpTransport, TransportEvent } from '../../src/transport/tcp.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ringkv-peer-watch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** A watch over a book that knows n2, with the host's inputs and the transport's calls recorded. */
function watched() {
  const book = PeerBook.load(dir, nodeId('n1'));
  book.set('n2', '127.0.0.1:7002');
  const inputs: unknown[] = [];
  const calls: string[] = [];
  const host = { input: (input: unknown) => inputs.push(input) } as unknown as NodeHost;
  const tcp = {
    redial: (peer: string) => calls.push(`redial ${peer}`),
    removePeer: (peer: string) => calls.push(`removePeer ${peer}`),
    setPeerAddress: (peer: string) => calls.push(`setPeerAddress ${peer}`),
  } as unknown as TcpTransport;
  const watch = new PeerWatch(book, silentLogger());
  watch.attach(host, tcp);
  return { watch, inputs, calls };
}

const refused: TransportEvent = {
  kind: 'connect-failed',
  peer: 'n2',
  direction: 'out',
  reason: 'connect ECONNREFUSED 127.0.0.1:7002',
};

describe('PeerWatch', () => {
  it('a refused dial marks the peer down once; its dialing us marks it up and redials our links', () => {
    const { watch, inputs, calls } = watched();
    watch.onEvent(refused);
    watch.onEvent(refused);
    expect(inputs).toEqual([{ kind: 'peer-status', peer: 'n2', up: false }]);
    watch.onEvent({ kind: 'connected', peer: 'n2', direction: 'in', reason: 'quorum' });
    expect(inputs).toEqual([
      { kind: 'peer-status', peer: 'n2', up: false },
      { kind: 'peer-status', peer: 'n2', up: true },
    ]);
    // Only links waiting out a backoff redial: none is closed, so no handshake under way is cut
    // short (the peer would log that as a refused connection).
    expect(calls).toEqual(['redial n2']);
  });

  it('an outbound connection marks the peer up without touching the links; timeouts prove nothing', () => {
    const { watch, inputs, calls } = watched();
    watch.onEvent(refused);
    watch.onEvent({ kind: 'handshake-timeout', peer: 'n2', direction: 'out', reason: 'timeout' });
    watch.onEvent({ kind: 'connected', peer: 'n2', direction: 'out', reason: 'quorum' });
    expect(inputs).toEqual([
      { kind: 'peer-status', peer: 'n2', up: false },
      { kind: 'peer-status', peer: 'n2', up: true },
    ]);
    expect(calls).toEqual([]);
  });
});
