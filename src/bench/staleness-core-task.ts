/**
 * One chunk of `ringkv bench staleness --mode core` as a pool job (util/task-pool.ts): the
 * default export runs in a worker thread, or in the calling thread when the pool has one.
 */
import { type CoreChunkResult, type CoreChunkTask, runCoreChunk } from './staleness-core.js';

export default function runCoreChunkTask(task: CoreChunkTask): CoreChunkResult {
  return runCoreChunk(task);
}
