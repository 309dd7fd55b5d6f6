#!/usr/bin/env node
// A small HTTP load generator for when wrk is not installed: keep-alive agent, a fixed number of
// requests in flight, PUT (1 KiB body) or GET of keys uniform over <prefix>0..<keys-1>, for a
// fixed time. Several base URLs spread the requests round-robin. Prints one JSON line:
// requests/s, error count and latency percentiles in ms.
//
//   node bench/http-load.mjs <url[,url…]> <PUT|GET> [seconds=10] [concurrency=64] [keys=1000] [prefix=load-]
//
// A GET run wants the keys written first: run PUT with the same keys and prefix before it.
import http from 'node:http';

const [
  urlsArg,
  method,
  secondsArg = '10',
  concurrencyArg = '64',
  keysArg = '1000',
  prefix = 'load-',
] = process.argv.slice(2);
if (urlsArg === undefined || (method !== 'PUT' && method !== 'GET')) {
  console.error(
    'usage: http-load.mjs <url[,url…]> <PUT|GET> [seconds] [concurrency] [keys] [prefix]',
  );
  process.exit(2);
}
const urls = urlsArg.split(',');
const seconds = Number(secondsArg);
const concurrency = Number(concurrencyArg);
const keys = Number(keysArg);
const body = Buffer.alloc(1024, 'v');
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
/** No request may hang the run: past this it counts as an error. */
const REQUEST_TIMEOUT_MS = 10_000;

function once(url) {
  return new Promise((resolve) => {
    const key = `${prefix}${Math.floor(Math.random() * keys)}`;
    const req = http.request(`${url}/kv/${key}`, { method, agent, timeout: REQUEST_TIMEOUT_MS });
    req.on('response', (res) => {
      res.resume();
      // A GET of a key written concurrently may answer 300 (siblings): an answer all the same.
      res.on('end', () => resolve(res.statusCode === 200 || res.statusCode === 300));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(false));
    req.end(method === 'PUT' ? body : undefined);
  });
}

const latencies = [];
let errors = 0;
let next = 0;
const endAt = performance.now() + seconds * 1000;
async function worker() {
  while (performance.now() < endAt) {
    const url = urls[next++ % urls.length];
    const start = performance.now();
    const ok = await once(url);
    latencies.push(performance.now() - start);
    if (!ok) errors++;
  }
}
const startedAt = performance.now();
await Promise.all(Array.from({ length: concurrency }, worker));
const elapsedS = (performance.now() - startedAt) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p) =>
  Number(
    (latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0).toFixed(2),
  );
console.log(
  JSON.stringify({
    method,
    urls: urls.length,
    concurrency,
    requests: latencies.length,
    perSecond: Math.round((latencies.length - errors) / elapsedS),
    errors,
    p50: pct(0.5),
    p99: pct(0.99),
  }),
);
agent.destroy();
