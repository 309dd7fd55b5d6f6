/**
 * The ringkv library for a benchmark to measure, as an installed package runs it: the compiled
 * dist/, compiled first when a source changed since the last build (scripts/build.mjs
 * --if-stale). Run through tsx, the sources cost 7-43 % more CPU per request: tsx keeps every
 * function's name, a call per closure made (scripts/run-built.mjs). When the build fails, the
 * sources are measured instead, and `from` says so.
 */
import { fileURLToPath } from 'node:url';
import { ensureBuilt } from '../scripts/build-freshness.mjs';

type Ringkv = typeof import('../src/index.js');

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export async function compiledRingkv(): Promise<{ ringkv: Ringkv; from: string }> {
  if (ensureBuilt(ROOT, 'ignore')) {
    const ringkv = (await import(new URL('../dist/src/index.js', import.meta.url).href)) as Ringkv;
    return { ringkv, from: 'the compiled build (dist/)' };
  }
  return { ringkv: await import('../src/index.js'), from: 'the sources, through tsx' };
}
