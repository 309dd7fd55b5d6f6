/**
 * The process runtime's request-lane counters as Prometheus series (names in metrics.ts), one
 * `node` label value per node, read from a stats snapshot at each scrape: nothing is observed
 * per request. Registered only for a front whose nodes are processes (`ringkv up --processes`).
 */
import { Gauge, type Registry } from 'prom-client';
import type { LaneStats } from '../../client/lane-counters.js';
import { scrapedCounterByLabel } from './scraped-counter.js';

/** What the series read: a Cluster of the process runtime has this shape. */
export interface LaneSource {
  /** Each node's counters now; null when there are no lanes. */
  laneStats(): readonly LaneStats[] | null;
}

type NumberField = Exclude<keyof LaneStats, 'node' | 'closed' | 'inFlight'>;

/** Each per-node counter series: its name, HELP text and the field it reads. */
const COUNTERS: readonly (readonly [string, string, NumberField])[] = [
  [
    'ringkv_lane_opened_total',
    'Request lanes the front started to the node (a connect attempt each, reconnects included).',
    'opened',
  ],
  ['ringkv_lane_requests_total', 'Client requests the front sent the node on its lanes.', 'sent'],
  [
    'ringkv_lane_answers_total',
    'Replies read from the node that settled a waiting call (late replies to cancelled calls excluded).',
    'answered',
  ],
  [
    'ringkv_lane_calls_down_total',
    'Calls that were waiting when their lane closed, and so ended down.',
    'down',
  ],
  [
    'ringkv_lane_calls_refused_total',
    'Sends answered down at once because the lane had PROCESS_LANE_PENDING_MAX calls waiting.',
    'refused',
  ],
  [
    'ringkv_lane_frames_written_total',
    'Frames the front wrote on its lanes to the node (requests per frame: requests / frames).',
    'framesWritten',
  ],
  [
    'ringkv_lane_frames_read_total',
    'Frames the front read on its lanes from the node.',
    'framesRead',
  ],
];

/** Registers the ringkv_lane_* series of `source` in `registry`. */
export function watchLanes(registry: Registry, source: LaneSource): void {
  const registers = [registry];
  const nodes = () => source.laneStats() ?? [];
  new Gauge({
    name: 'ringkv_lane_in_flight',
    help: 'Calls waiting for a reply on the lane to the node now.',
    labelNames: ['node'],
    registers,
    collect() {
      this.reset();
      for (const stats of nodes()) this.set({ node: stats.node }, stats.inFlight);
    },
  });
  scrapedCounterByLabel(
    registry,
    'ringkv_lane_closed_total',
    'Request lanes to the node that closed, by reason: peer (the node closed it), error, malformed (a bad frame), timeout (did not open in time), local (the front closed it).',
    ['node', 'reason'],
    () =>
      nodes().flatMap((stats) =>
        Object.entries(stats.closed).map(
          ([reason, count]) => [{ node: stats.node, reason }, count] as const,
        ),
      ),
  );
  for (const [name, help, field] of COUNTERS) {
    scrapedCounterByLabel(registry, name, help, ['node'], () =>
      nodes().map((stats) => [{ node: stats.node }, stats[field]] as const),
    );
  }
}
