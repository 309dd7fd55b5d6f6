/**
 * What the transport learns about peers, fed to the core as `peer-status` — the process
 * runtime's counterpart of the worker launcher reporting that a worker exited or started:
 * - a dial refused (ECONNREFUSED) means no process listens at the peer's address: it is down;
 * - a completed handshake, either way, means it runs again. When it dialed us, our links to it
 *   that wait out a reconnect backoff grown while it was down dial now, so what they hold goes
 *   out at once (what was addressed to a previous life of it was already dropped when its hello
 *   named a new incarnation). Links already dialing are left alone: cutting their handshake
 *   short would look to the peer like a refused one (a warning in its log).
 * Timeouts and resets prove nothing (a slow or partitioned peer looks the same) and are left to
 * the core's own suspicion and SWIM.
 */
import { nodeId } from '../core/types.js';
import type { TcpTransport, TransportEvent } from '../transport/tcp.js';
import { isNodeIdText } from '../util/node-id.js';
import type { Logger } from './log.js';
import type { NodeHost } from './node-host.js';
import type { PeerBook } from './peer-book.js';

/** Feeds the core what the transport proves about a peer being down or up again. */
export class PeerWatch {
  private readonly down = new Set<string>();
  private host: NodeHost | null = null;
  private tcp: TcpTransport | null = null;

  constructor(
    private readonly addresses: PeerBook,
    private readonly log: Logger,
  ) {}

  attach(host: NodeHost, tcp: TcpTransport): void {
    this.host = host;
    this.tcp = tcp;
  }

  onEvent(event: TransportEvent): void {
    const peer = event.peer;
    if (peer === undefined || this.host === null || !isNodeIdText(peer)) return;
    if (!this.addresses.has(nodeId(peer))) return;
    if (event.kind === 'connect-failed' && /ECONNREFUSED/.test(event.reason)) {
      if (this.down.has(peer)) return;
      this.down.add(peer);
      this.log.info({ peer }, 'peer down: its address refuses connections');
      this.host.input({ kind: 'peer-status', peer: nodeId(peer), up: false });
    } else if (event.kind === 'connected' && this.down.delete(peer)) {
      this.log.info({ peer, direction: event.direction }, 'peer up again');
      if (event.direction === 'in') {
        // It dialed us: our own links to it may sit in backoff. (An outbound 'connected' is one
        // of those links, just open: nothing to redo.)
        this.tcp?.redial(nodeId(peer));
      }
      this.host.input({ kind: 'peer-status', peer: nodeId(peer), up: true });
    }
  }
}
