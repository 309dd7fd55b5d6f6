/** What a TcpTransport counts, and the events it reports to its host for logging. */
import type { TransportStats } from './transport.js';

export interface TcpTransportStats extends TransportStats {
  /** True when the transport runs plain TCP (`insecure`): no TLS, no peer authentication. */
  insecure: boolean;
  /** Outbound connections past their handshake right now (both lanes). */
  connectionsOut: number;
  /** Inbound connections past their handshake right now. */
  connectionsIn: number;
  /** Connections refused by either side's handshake: TLS, wrong id, cluster, version. */
  handshakesRefused: number;
  /** Connections closed because the other side did not finish its handshake in time. */
  handshakeTimeouts: number;
  /** Connections closed for bytes that break the framing: oversized or empty length, garbage. */
  protocolErrors: number;
  /** Outbound connections that failed or ended and were dialed again. */
  reconnects: number;
  /** Messages dropped because a peer's send queue was full (included in `dropped`). */
  queueDrops: number;
  /** Messages dropped because alone they exceed the frame size (included in `dropped`). */
  oversizeDrops: number;
  /** Messages dropped because they were queued for a previous life of a restarted peer. */
  staleDrops: number;
  /** Encoded bytes waiting in every send queue right now. */
  queuedBytes: number;
  /** Messages waiting in every send queue right now. */
  queuedMessages: number;
}

export type TcpCounters = Omit<
  TcpTransportStats,
  'insecure' | 'connectionsOut' | 'connectionsIn' | 'queuedBytes' | 'queuedMessages'
>;

export function emptyCounters(): TcpCounters {
  return {
    sent: 0,
    received: 0,
    dropped: 0,
    batches: 0,
    handshakesRefused: 0,
    handshakeTimeouts: 0,
    protocolErrors: 0,
    reconnects: 0,
    queueDrops: 0,
    oversizeDrops: 0,
    staleDrops: 0,
  };
}

/** Something the host may want to log; never carries message contents or key material. */
export interface TransportEvent {
  readonly kind:
    | 'refused'
    | 'handshake-timeout'
    | 'protocol-error'
    | 'connect-failed'
    | 'connected'
    | 'disconnected'
    | 'oversize';
  /** The peer, when known (claimed, for an inbound connection refused before it was proven). */
  readonly peer?: string;
  /** Which side noticed: we dialed (`out`) or accepted (`in`). */
  readonly direction: 'in' | 'out';
  readonly reason: string;
}

export type TransportEventHandler = (event: TransportEvent) => void;
