/** What a node reports about itself (NodeCore.stats()): counters since start, and gauges now. */
import type { CoordinatorStats } from './quorum.js';

export interface NodeStats extends CoordinatorStats {
  /** Operations waiting for replica answers. */
  inFlight: number;
  /** Persists issued and not yet reported durable. */
  persistsPending: number;
  /** Peer messages dropped at the boundary because they were malformed. */
  malformedMessages: number;
  /** Puts handed to another node because this one does not replicate the key. */
  forwarded: number;
  replicaPuts: number;
  replicaGets: number;
  /** Requests refused because inFlightMax was reached. */
  overloaded: number;
  /** Hinted keys held for down replicas, now. */
  hintsPending: number;
  hintsStored: number;
  hintsRefused: number;
  /** Hinted keys handed to their owner and dropped here. */
  hintsDelivered: number;
  repairsApplied: number;
  tombstonesReaped: number;
  aeExchanges: number;
  aeExchangesInSync: number;
  aeExchangesAbandoned: number;
  /** Keys whose local record an anti-entropy exchange changed. */
  aeKeysRepaired: number;
  aePartitionsRepaired: number;
  /** Keys waiting for their reap (grace period or check round). */
  reapsPending: number;
  reapsSent: number;
  reapChecksFailed: number;
  /** Values this node stored as tombstones because their deadline (TTL) passed. */
  valuesExpired: number;
  /** Keys here holding a value with a deadline still ahead, now. */
  expiringKeys: number;
  /** Peers currently suspected down (timed out, not heard from since). */
  suspected: number;
  /** Version of the ring state this node routes by. */
  ringVersion: number;
  /** Keys sent to new replicas in membership changes (once per target). */
  transferKeysSent: number;
  transferKeysReceived: number;
  /** Keys held for partitions this node no longer replicates, still to hand over. */
  keysToDrain: number;
  /** Members the gossip view holds suspect, dead or left (0 without gossip membership). */
  membersUnhealthy: number;
  /** Members the gossip view holds dead or left: routed around like a down peer. */
  membersDead: number;
}
