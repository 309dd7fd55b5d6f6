// Reading redis-benchmark's report (the form it prints without -q), for bench/peers/redis-vs-ringkv.mjs.
//
// Per test it prints a "====== SET ======" header, then, under "Summary:",
//   throughput summary: 44543.43 requests per second
//   latency summary (msec):
//           avg       min       p50       p95       p99       max
//         0.759     0.160     0.663     1.215     4.599     9.135
// Its progress lines ("SET: rps=… (overall: …)") end in \r and share a line with what follows.

const HEADER = /^====== (.+) ======$/;
const THROUGHPUT = /^throughput summary: ([0-9.]+) requests per second$/;
const LATENCY_COLUMNS = ['avg', 'min', 'p50', 'p95', 'p99', 'max'];

/** The text without the \r-terminated progress lines redis-benchmark redraws in place. */
export function stripProgress(out) {
  return out.replace(/[^\n]*\r/g, '');
}

/**
 * The tests of one redis-benchmark run, in the order it ran them: name as printed ("SET",
 * "GET"), requests per second, and latency in ms (avg, min, p50, p95, p99, max). Throws when a
 * test's summary is missing or unreadable, or when no test is found at all.
 */
export function parseRedisBenchmark(out) {
  const lines = stripProgress(out)
    .split('\n')
    .map((line) => line.trim());
  const tests = [];
  let current = null;
  for (let i = 0; i < lines.length; i++) {
    const header = HEADER.exec(lines[i]);
    if (header !== null) {
      current = { test: header[1], rps: Number.NaN };
      tests.push(current);
      continue;
    }
    if (current === null) continue;
    const throughput = THROUGHPUT.exec(lines[i]);
    if (throughput !== null) current.rps = Number(throughput[1]);
    else if (lines[i] === 'latency summary (msec):')
      readLatency(current, lines[i + 1], lines[i + 2]);
  }
  if (tests.length === 0)
    throw new Error('redis-benchmark output: no "====== TEST ======" section');
  for (const t of tests) {
    if (!Number.isFinite(t.rps))
      throw new Error(`redis-benchmark output: ${t.test} has no throughput summary`);
    if (t.p99 === undefined)
      throw new Error(`redis-benchmark output: ${t.test} has no latency summary`);
  }
  return tests;
}

function readLatency(test, columnLine = '', valueLine = '') {
  const columns = columnLine.split(/\s+/);
  const values = valueLine.split(/\s+/).map(Number);
  const ok =
    columns.join(' ') === LATENCY_COLUMNS.join(' ') &&
    values.length === columns.length &&
    values.every((v) => Number.isFinite(v));
  if (!ok) {
    throw new Error(
      `redis-benchmark output: ${test.test}'s latency summary is not "${LATENCY_COLUMNS.join(' ')}" ` +
        `over numbers: "${columnLine}" / "${valueLine}"`,
    );
  }
  for (const [i, name] of columns.entries()) test[name] = values[i];
}
