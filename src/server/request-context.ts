/**
 * What a route handler gets: the client and admin API it calls, the server's limits, its
 * monitor, and the request itself. Its own file so that handlers.ts (key routes) and admin.ts
 * (admin routes) both depend on it without depending on each other.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyExplanation } from '../client/key-explain.js';
import type { ClusterAdmin, KvClient } from '../client/types.js';
import type { ControlSettings } from './control-settings.js';
import type { ActivityLog } from './monitor/activity-log.js';
import type { Advisor } from './monitor/advisor.js';
import type { EventStream } from './monitor/event-stream.js';
import type { History } from './monitor/history.js';
import type { ServerMetrics } from './monitor/metrics.js';
import type { AbortLike } from './request-signal.js';

export interface RequestContext {
  readonly client: KvClient;
  /** The cluster's fault-injection API, or null when the server fronts no local cluster. */
  readonly admin: ClusterAdmin | null;
  /** Required on /admin routes when set (request-guard.ts). */
  readonly adminToken: string | null;
  /** A node process's control routes for its supervisor (node-control.ts), or null. */
  readonly control: ControlSettings | null;
  readonly bodySizeMaxBytes: number;
  readonly requestTimeoutMs: number;
  readonly metrics: ServerMetrics;
  /** The staleness advisor (GET /advisor). */
  readonly advisor: Advisor;
  /** Explains keys (GET /explain/:key); null when the server fronts no local cluster. */
  readonly explainer: KeyExplainer | null;
  readonly events: EventStream;
  /** The dashboard's last minutes (GET /history). */
  readonly history: History;
  /** Every admin request, whoever made it (GET /activity, and each event-stream tick). */
  readonly activity: ActivityLog;
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** Fires on the request timeout or when the caller goes away. */
  readonly signal: AbortLike;
  /** The request sent `Expect: 100-continue`; answer `100 Continue` before reading the body. */
  readonly expectContinue: boolean;
}

/** Where key explanations come from (a Cluster; see Cluster.explain). */
export interface KeyExplainer {
  explain(key: string): Promise<KeyExplanation>;
}
