/**
 * The server's Prometheus metrics, in a Registry of its own (never prom-client's global one, so
 * several servers in one process do not mix):
 *
 *   ringkv_http_requests_total{op,outcome}            counter, every request the server answered
 *   ringkv_http_request_duration_seconds{op}          histogram, request in to reply out
 *   ringkv_client_requests_total{op,outcome}          counter, calls into the embedded client
 *   ringkv_client_request_duration_seconds{op}        histogram, the client call alone
 *   ringkv_client_sloppy_writes_total{op}             counter, writes acked with a stand-in
 *   ringkv_admission_limit / _in_flight / _queued    gauges: the admission controller's limit and load
 *   ringkv_admission_baseline_seconds                gauge, its unloaded latency estimate
 *   ringkv_admission_admitted_total                  counter, requests admitted
 *   ringkv_admission_refused_total{reason}           counter, 503s: queue_full, wait_expired
 *   ringkv_admission_dropped_total                   counter, admitted requests a coordinator
 *                                                    refused or that timed out
 *   ringkv_resp_clients                              gauge, RESP connections open (only with a RESP server)
 *   ringkv_resp_connections_accepted_total / _connections_rejected_total / _commands_total /
 *     _error_replies_total / _commands_refused_total / _protocol_errors_total /
 *     _slow_readers_cut_off_total / _idle_closed_total   RESP counters (resp-metrics.ts)
 *   ringkv_lane_opened_total{node} / _closed_total{node,reason} / _requests_total{node} /
 *     _answers_total / _calls_down_total / _calls_refused_total / _frames_written_total /
 *     _frames_read_total, ringkv_lane_in_flight{node}   request-lane counters, only with node
 *                                                    processes (lane-metrics.ts)
 *   ringkv_node_* , ringkv_network_* , ringkv_cluster_stats_up   from the cluster (node-metrics.ts)
 *   ringkv_node_wars_*                                 WARS latency histograms (latency-metrics.ts)
 *   ringkv_process_* , ringkv_nodejs_*                prom-client's default process metrics
 *
 * `op` is get / put / delete for data requests (plus status, health, metrics, events, dashboard,
 * admin, kv, unknown on the HTTP side); `outcome` is ok, siblings, not_found, or an error code in
 * lower case (quorum, timeout, validation, too_large, …). Node series are refreshed from a fresh
 * cluster snapshot on each scrape, bounded by the snapshot timeout.
 */
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { type AdmissionSource, watchAdmission } from './admission-metrics.js';
import type { SnapshotTaker } from './cluster-snapshot.js';
import { type LaneSource, watchLanes } from './lane-metrics.js';
import { LatencyMetrics } from './latency-metrics.js';
import { NodeMetrics } from './node-metrics.js';
import { type RespSource, watchResp } from './resp-metrics.js';

/** 0.5 ms to 5 s: a local in-memory op takes well under a millisecond, a timeout seconds. */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
];

/** Client outcomes that are answers, not failures. */
const CLIENT_OUTCOMES_OK: ReadonlySet<string> = new Set(['ok', 'siblings', 'not_found']);

export type ClientOp = 'get' | 'put' | 'delete';

export class ServerMetrics {
  readonly registry = new Registry();
  /** Read by the dashboard feed for ops/s and p99. */
  readonly clientDuration: Histogram<'op'>;
  private readonly httpRequests: Counter<'op' | 'outcome'>;
  private readonly httpDuration: Histogram<'op'>;
  private readonly clientRequests: Counter<'op' | 'outcome'>;
  private readonly clientSloppy: Counter<'op'>;
  private readonly nodes: NodeMetrics;
  private readonly latencies: LatencyMetrics;
  /** Scrapes run one after another: each replaces every node series before serialising. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly snapshots: SnapshotTaker) {
    const registers = [this.registry];
    const buckets = [...LATENCY_BUCKETS_SECONDS];
    this.httpRequests = new Counter({
      name: 'ringkv_http_requests_total',
      help: 'HTTP requests answered, by operation and outcome.',
      labelNames: ['op', 'outcome'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'ringkv_http_request_duration_seconds',
      help: 'HTTP request latency, from the request to the reply, by operation (event streams excluded).',
      labelNames: ['op'],
      buckets,
      registers,
    });
    this.clientRequests = new Counter({
      name: 'ringkv_client_requests_total',
      help: 'Calls into the embedded cluster client, by operation and outcome.',
      labelNames: ['op', 'outcome'],
      registers,
    });
    this.clientDuration = new Histogram({
      name: 'ringkv_client_request_duration_seconds',
      help: 'Embedded client latency (routing, coordinator, quorum, retries), by operation.',
      labelNames: ['op'],
      buckets,
      registers,
    });
    this.clientSloppy = new Counter({
      name: 'ringkv_client_sloppy_writes_total',
      help: 'Writes that met W only with a stand-in for a down replica (sloppy quorum).',
      labelNames: ['op'],
      registers,
    });
    this.nodes = new NodeMetrics(this.registry);
    this.latencies = new LatencyMetrics(this.registry);
    collectDefaultMetrics({ register: this.registry, prefix: 'ringkv_' });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** Exposes `admission`'s limit, load and counters, read at each scrape. */
  watchAdmission(admission: AdmissionSource): void {
    watchAdmission(this.registry, admission);
  }

  /** Exposes the RESP server's connections and counters, read at each scrape. */
  watchResp(resp: RespSource): void {
    watchResp(this.registry, resp);
  }

  /** Exposes the process runtime's request-lane counters per node, read at each scrape. */
  watchLanes(lanes: LaneSource): void {
    watchLanes(this.registry, lanes);
  }

  /** One HTTP request; `seconds` null for a long-lived event stream (counted, not timed). */
  observeHttp(op: string, outcome: string, seconds: number | null): void {
    this.httpRequests.inc({ op, outcome });
    if (seconds !== null) this.httpDuration.observe({ op }, seconds);
  }

  observeClient(op: ClientOp, outcome: string, seconds: number, sloppy: boolean): void {
    this.clientRequests.inc({ op, outcome });
    this.clientDuration.observe({ op }, seconds);
    if (sloppy) this.clientSloppy.inc({ op });
  }

  /** Client calls so far that failed (any outcome but ok, siblings and not_found). */
  async clientErrorCount(): Promise<number> {
    const { values } = await this.clientRequests.get();
    let failed = 0;
    for (const sample of values) {
      if (!CLIENT_OUTCOMES_OK.has(String(sample.labels.outcome))) failed += sample.value;
    }
    return failed;
  }

  /** The exposition text, with node series from a fresh cluster snapshot. */
  render(): Promise<string> {
    const next = this.queue.then(async () => {
      const snapshot = await this.snapshots.take().catch(() => null);
      this.nodes.update(snapshot);
      this.latencies.update(snapshot);
      return this.registry.metrics();
    });
    this.queue = next.catch(() => {});
    return next;
  }
}
