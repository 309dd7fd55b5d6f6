/**
 * The nodes' WARS latency histograms (core/latency-meter.ts) in /metrics, refreshed from each
 * scrape's cluster snapshot:
 *
 *   ringkv_node_wars_latency_ms{node,class,quantile}   gauge, decayed histogram quantile
 *   ringkv_node_wars_recent_samples{node,class}        gauge, decayed sample weight
 *   ringkv_node_wars_samples_recorded{node,class}      gauge, samples since the node started
 *
 * `class` is w (write request), a (its ack), r (read request), s (read reply); quantiles 0.5,
 * 0.9, 0.99, 0.999. Series are kept as histogram quantiles, not a Prometheus histogram: the
 * counts decay (a half-life), which a Prometheus counter may not do. A node that is down or
 * measures nothing has no series in that scrape.
 */
import { Gauge, type Registry } from 'prom-client';
import { LATENCY_CLASSES, quantileOf } from '../../core/latency-meter.js';
import type { ClusterSnapshot } from './cluster-snapshot.js';

const QUANTILES: readonly number[] = [0.5, 0.9, 0.99, 0.999];

export class LatencyMetrics {
  private readonly latency: Gauge<'node' | 'class' | 'quantile'>;
  private readonly recent: Gauge<'node' | 'class'>;
  private readonly recorded: Gauge<'node' | 'class'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.latency = new Gauge({
      name: 'ringkv_node_wars_latency_ms',
      help: 'WARS latency class quantile over recent traffic (decaying histogram), ms.',
      labelNames: ['node', 'class', 'quantile'],
      registers,
    });
    this.recent = new Gauge({
      name: 'ringkv_node_wars_recent_samples',
      help: 'Decayed sample weight of each WARS latency histogram (what the advisor fits).',
      labelNames: ['node', 'class'],
      registers,
    });
    this.recorded = new Gauge({
      name: 'ringkv_node_wars_samples_recorded',
      help: 'WARS latency samples recorded since the node started.',
      labelNames: ['node', 'class'],
      registers,
    });
  }

  update(snapshot: ClusterSnapshot | null): void {
    this.latency.reset();
    this.recent.reset();
    this.recorded.reset();
    if (snapshot === null) return;
    for (const [node, stats] of snapshot.counters) {
      const measured = stats?.latency ?? null;
      if (measured === null) continue;
      for (const name of LATENCY_CLASSES) {
        const histogram = measured[name];
        this.recent.set({ node, class: name }, histogram.weight);
        this.recorded.set({ node, class: name }, histogram.samples);
        if (histogram.weight <= 0) continue;
        for (const q of QUANTILES) {
          this.latency.set({ node, class: name, quantile: String(q) }, quantileOf(histogram, q));
        }
      }
    }
  }
}
