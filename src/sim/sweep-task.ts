/**
 * One seed of a sweep as a pool job (util/task-pool.ts): the default export runs in a worker
 * thread of `npm run sim -- --seeds N`, and in the calling thread when the sweep is serial. Its
 * input and the RunReport it returns are plain data (they cross threads by structured clone).
 * Reads a wall clock for the report's wallMs, as cli.ts does; nothing else depends on it.
 */
import { type RunReport, runSeed, type SwarmModes } from './swarm.js';

export interface SeedTask extends SwarmModes {
  readonly seed: number;
  readonly livenessProbes: boolean;
}

export default function runSeedTask(task: SeedTask): RunReport {
  const { seed, ...modes } = task;
  return runSeed(seed, { clock: () => performance.now(), ...modes });
}
