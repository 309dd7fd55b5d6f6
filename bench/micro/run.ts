/**
 * Runs the micro-benchmarks and prints one table per group, then a summary line per group.
 *
 *   node --import tsx bench/micro/run.ts [--filter ring[,storage]] [--time 500] [--dir /path]
 *
 *   --filter  run only the groups whose name contains one of these words (comma-separated)
 *   --time    measuring time per task in ms (default 500; warm-up is a quarter of it)
 *   --dir     parent directory for the lmdb temp directory (default: the OS temp dir)
 *
 * Groups: ring, version, messages, storage, merkle (see the *.bench.ts files). A full run
 * takes about 20 s at the default --time. Exit code 1 if any task failed.
 */
import os from 'node:os';
import { parseArgs } from 'node:util';
import { type GroupReport, type MicroGroup, runGroup, sinkTotal } from './harness.js';
import { merkleGroup } from './merkle.bench.js';
import { messagesGroup } from './messages.bench.js';
import { ringGroup } from './ring.bench.js';
import { setStorageDir, storageGroup } from './storage.bench.js';
import { versionGroup } from './version.bench.js';

const GROUPS: readonly MicroGroup[] = [
  ringGroup,
  versionGroup,
  messagesGroup,
  storageGroup,
  merkleGroup,
];

const USAGE =
  'usage: node --import tsx bench/micro/run.ts [--filter NAME[,NAME]] [--time MS] [--dir PATH]\n' +
  `groups: ${GROUPS.map((group) => group.name).join(', ')}`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function parseOptions(): { groups: MicroGroup[]; timeMs: number } {
  let values: { filter?: string; time?: string; dir?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      options: {
        filter: { type: 'string' },
        time: { type: 'string' },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  if (values.help === true) {
    console.log(USAGE);
    process.exit(0);
  }
  const timeMs = values.time === undefined ? 500 : Number(values.time);
  if (!Number.isFinite(timeMs) || timeMs < 10) fail(`--time must be a number >= 10 (ms)`);
  if (values.dir !== undefined) setStorageDir(values.dir);
  const words = (values.filter ?? '')
    .split(',')
    .map((word) => word.trim().toLowerCase())
    .filter((word) => word.length > 0);
  const groups =
    words.length === 0
      ? [...GROUPS]
      : GROUPS.filter((group) => words.some((word) => group.name.includes(word)));
  if (groups.length === 0) fail(`--filter ${values.filter} matches no group`);
  return { groups, timeMs };
}

async function main(): Promise<void> {
  const { groups, timeMs } = parseOptions();
  const warmupMs = Math.max(20, Math.round(timeMs / 4));
  const cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `ringkv micro-benchmarks — node ${process.version}, ${os.platform()}/${os.arch()}, ` +
      `${os.cpus().length} × ${cpu}`,
  );
  console.log(
    `tinybench, ${timeMs} ms per task after ${warmupMs} ms warm-up. One sample runs ` +
      '"ops/sample" operations; mean and p99 are per operation (p99 of the per-sample means ' +
      'when ops/sample > 1), ops/s = 1 / mean, ± = relative margin of error of the mean (95 %).',
  );
  const started = performance.now();
  const reports: GroupReport[] = [];
  for (const group of groups) reports.push(await runGroup(group, { timeMs, warmupMs }));
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(`\nall groups: ${seconds} s (sink ${sinkTotal()})`);
  if (reports.some((report) => report.failed)) process.exitCode = 1;
}

await main();
