/**
 * The admission controller's state as Prometheus series (names in metrics.ts), read from its
 * stats at each scrape: nothing is observed per request.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { scrapedCounter } from './scraped-counter.js';

/** What the series read: server/admission.ts's AdmissionController has this shape. */
export interface AdmissionSource {
  stats(): AdmissionStats;
}

/** The controller's state the series read; server/admission.ts's AdmissionStats extends it. */
export interface AdmissionStats {
  /** The current concurrency limit (whole requests). */
  readonly limit: number;
  readonly inFlight: number;
  readonly queued: number;
  /** The baseline (unloaded) latency estimate in ms (null before the first window closes). */
  readonly baselineMs: number | null;
  readonly admitted: number;
  readonly refusedQueueFull: number;
  readonly refusedWaitExpired: number;
  /** Admitted requests released as dropped downstream. */
  readonly dropped: number;
  /** The gradient's limit on requests at the cluster (`limit` is it times holdRatio). */
  readonly clusterLimit: number;
  /** Permits' mean hold time over the cluster's service time, smoothed (1 without those). */
  readonly holdRatio: number;
}

export function watchAdmission(registry: Registry, admission: AdmissionSource): void {
  const registers = [registry];
  const gauge = (name: string, help: string, read: (stats: AdmissionStats) => number | null) =>
    new Gauge({
      name,
      help,
      registers,
      collect() {
        const value = read(admission.stats());
        if (value === null) this.reset();
        else this.set(value);
      },
    });
  gauge('ringkv_admission_limit', 'Requests admitted at once at most (adaptive).', (s) => s.limit);
  gauge(
    'ringkv_admission_cluster_limit',
    'Requests at the cluster the latency gradient allows; the limit is this times the hold ratio.',
    (s) => s.clusterLimit,
  );
  gauge(
    'ringkv_admission_hold_ratio',
    "Admitted requests' mean hold time over the cluster's mean service time (1 where the runtime cannot measure it).",
    (s) => s.holdRatio,
  );
  gauge('ringkv_admission_in_flight', 'Admitted requests running now.', (s) => s.inFlight);
  gauge('ringkv_admission_queued', 'Requests waiting for an admission slot.', (s) => s.queued);
  gauge(
    'ringkv_admission_baseline_seconds',
    'Unloaded service latency the limit is tuned against (least recent window mean).',
    (s) => (s.baselineMs === null ? null : s.baselineMs / 1000),
  );
  const total = (name: string, help: string, read: (stats: AdmissionStats) => number) =>
    scrapedCounter(registry, name, help, () => read(admission.stats()));
  total('ringkv_admission_admitted_total', 'Requests admitted.', (s) => s.admitted);
  total(
    'ringkv_admission_dropped_total',
    'Admitted requests a coordinator refused as overloaded or that timed out.',
    (s) => s.dropped,
  );
  new Counter({
    name: 'ringkv_admission_refused_total',
    help: 'Requests refused with a 503 and Retry-After, by reason.',
    labelNames: ['reason'],
    registers,
    collect() {
      const stats = admission.stats();
      this.reset();
      this.inc({ reason: 'queue_full' }, stats.refusedQueueFull);
      this.inc({ reason: 'wait_expired' }, stats.refusedWaitExpired);
    },
  });
}
