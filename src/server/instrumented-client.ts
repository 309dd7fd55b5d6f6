/**
 * A KvClient that times every put, get and delete of the client it wraps and reports the
 * outcome to ServerMetrics: the "embedded client" latency, apart from HTTP parsing and replies.
 */
import { performance } from 'node:perf_hooks';
import type {
  DeleteOptions,
  GetOptions,
  GetResult,
  KvClient,
  PutOptions,
  PutResult,
  ValueInput,
} from '../client/types.js';
import { errorOutcome } from './metric-labels.js';
import type { ClientOp, ServerMetrics } from './monitor/metrics.js';

export function instrumentClient(client: KvClient, metrics: ServerMetrics): KvClient {
  const timed = async <T>(op: ClientOp, call: () => Promise<T>, outcome: (r: T) => string) => {
    const startMs = performance.now();
    try {
      const result = await call();
      const sloppy = op !== 'get' && (result as PutResult).sloppy === true;
      metrics.observeClient(op, outcome(result), secondsSince(startMs), sloppy);
      return result;
    } catch (error) {
      metrics.observeClient(op, errorOutcome(error), secondsSince(startMs), false);
      throw error;
    }
  };
  const ok = (): string => 'ok';
  return {
    put: (key: string, value: ValueInput, options?: PutOptions): Promise<PutResult> =>
      timed('put', () => client.put(key, value, options), ok),
    delete: (key: string, options?: DeleteOptions): Promise<PutResult> =>
      timed('delete', () => client.delete(key, options), ok),
    get: (key: string, options?: GetOptions): Promise<GetResult> =>
      timed(
        'get',
        () => client.get(key, options),
        (result) => (result.found ? 'ok' : 'not_found'),
      ),
    status: () => client.status(),
  };
}

/** Seconds from `startMs` (performance.now) to now; a function, not a closure per call. */
function secondsSince(startMs: number): number {
  return (performance.now() - startMs) / 1000;
}
