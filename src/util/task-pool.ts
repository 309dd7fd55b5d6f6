/**
 * Runs independent CPU-bound jobs (one simulator seed, one chunk of staleness trials) on a pool
 * of worker threads (piscina), in order: `mapInOrder` hands results back in the order of the
 * inputs whatever order the threads finish in, so a caller that folds them gets exactly what a
 * serial loop gets. One thread runs everything in the calling thread, without workers.
 *
 * The task module exports the job as its default export; it runs in a worker, so its inputs and
 * result must survive the structured clone.
 */
import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { POOL_THREADS_MAX } from '../config.js';
import { assert } from '../core/assert.js';

/** Jobs queued per thread beyond the one it runs: keeps every thread busy, bounds the queue. */
const QUEUED_PER_THREAD = 2;

/** The default pool size: every core the process may use (at least 1, at most the max). */
export function defaultPoolThreads(): number {
  return Math.min(POOL_THREADS_MAX, Math.max(1, availableParallelism()));
}

export interface MapOptions<I, O> {
  /** The task module (its default export is the job), by its built name: `new URL('./x.js', import.meta.url)`. */
  readonly taskModule: URL;
  /** The same job, called directly when threads is 1. */
  readonly serial: (input: I) => O;
  /** 1..POOL_THREADS_MAX. @default defaultPoolThreads() */
  readonly threads?: number;
  /** Called once per input, in input order, as soon as that result and all before it are in. */
  readonly onResult: (output: O, index: number) => void;
}

/**
 * The worker file piscina loads: the TS bootstrap when running from sources (tsx resolves the
 * task module's `.js` name to its `.ts` file there), else the built task module itself.
 */
function workerFile(taskModule: URL): { filename: string; workerData: unknown } {
  const fromSources = import.meta.url.endsWith('.ts');
  const filename = fromSources
    ? new URL('./task-pool-bootstrap.mjs', import.meta.url).href
    : taskModule.href;
  return { filename, workerData: { taskModule: taskModule.href } };
}

/**
 * Runs the job on every input and calls `onResult` in input order. A job that throws rejects the
 * whole map with its error (after the pool is closed); no result after it is reported.
 */
export async function mapInOrder<I, O>(
  inputs: readonly I[],
  options: MapOptions<I, O>,
): Promise<void> {
  const threads = options.threads ?? defaultPoolThreads();
  assert(
    Number.isSafeInteger(threads) && threads >= 1 && threads <= POOL_THREADS_MAX,
    `pool threads in 1..${POOL_THREADS_MAX}`,
  );
  if (threads === 1 || inputs.length <= 1) {
    for (const [i, input] of inputs.entries()) options.onResult(options.serial(input), i);
    return;
  }
  const pool = new Piscina({
    ...workerFile(options.taskModule),
    // The bootstrap registers tsx itself: an inherited `--import tsx` would add a second loader.
    ...(import.meta.url.endsWith('.ts') ? { execArgv: [] } : {}),
    minThreads: threads,
    maxThreads: threads,
    maxQueue: threads * (1 + QUEUED_PER_THREAD),
  });
  const window = threads * (1 + QUEUED_PER_THREAD);
  const inFlight: Promise<O>[] = [];
  let next = 0;
  const submit = () => {
    const job = pool.run(inputs[next++]) as Promise<O>;
    job.catch(() => {}); // awaited in order below; an early failure must not go unhandled
    inFlight.push(job);
  };
  try {
    while (next < inputs.length && inFlight.length < window) submit();
    for (let i = 0; i < inputs.length; i++) {
      const output = await inFlight.shift()!;
      if (next < inputs.length) submit();
      options.onResult(output, i);
    }
  } finally {
    await pool.destroy();
  }
}
