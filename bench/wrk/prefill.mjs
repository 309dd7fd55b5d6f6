#!/usr/bin/env node
// Writes <prefix>0 .. <prefix>(count-1), each a 1 KiB value, to a running ringkv over HTTP with
// 64 requests in flight. Usage: node bench/wrk/prefill.mjs <base-url> [count] [prefix]
import http from 'node:http';

const [base, countArg = '1000', prefix = 'wrk-get-'] = process.argv.slice(2);
if (base === undefined) {
  console.error('usage: prefill.mjs <base-url> [count] [prefix]');
  process.exit(2);
}
const count = Number(countArg);
const body = Buffer.alloc(1024, 'v');
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function put(i) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/kv/${prefix}${i}`, { method: 'PUT', agent, timeout: 10_000 });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () =>
        res.statusCode === 200
          ? resolve()
          : reject(new Error(`PUT ${prefix}${i}: ${res.statusCode}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error(`PUT ${prefix}${i}: no reply in 10 s`)));
    req.on('error', reject);
    req.end(body);
  });
}

let next = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < count) await put(next++);
  }),
);
agent.destroy();
console.log(
  `prefilled ${count} keys (${prefix}*) in ${Math.round(performance.now() - started)} ms`,
);
