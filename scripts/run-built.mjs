#!/usr/bin/env node
// Runs a ringkv command from the compiled build, compiling first when a source changed since
// the last build: `npm start` is `node scripts/run-built.mjs up`, and the benchmarks run the
// same build (bench/peers/harness.mjs, bench/compiled-ringkv.ts), so they run what an installed
// package runs. bin/ringkv.mjs in a checkout runs the sources through tsx instead, whose
// transform keeps every function's name (esbuild's keepNames): a call per closure made, which
// costs 7-43 % more CPU per request (measured against the build: HTTP GET 7-10 %, durable HTTP
// PUT about 12 %, RESP SET 18-22 %, RESP GET 28-43 %). When the build fails, the sources run
// through tsx.
//
//   node scripts/run-built.mjs <ringkv arguments>
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ensureBuilt } from './build-freshness.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
if (ensureBuilt(root)) {
  const { main } = await import(pathToFileURL(join(root, 'dist/src/cli/main.js')).href);
  await main([process.argv[0], join(root, 'bin/ringkv.mjs'), ...process.argv.slice(2)]);
} else {
  process.argv.splice(1, 1, join(root, 'bin/ringkv.mjs'));
  await import(pathToFileURL(join(root, 'bin/ringkv.mjs')).href);
}
