#!/usr/bin/env node
// The floor of bench/overload/run.mjs: a bare node:http server that reads each request's body
// and answers 503 with Retry-After, doing nothing else. Under the same flood, the p99 of its
// refusals is the least any front on Node's HTTP stack could answer in on this machine, so the
// ringkv figures are read against it. Usage: node bench/overload/refuse-all.mjs; prints
// "listening on PORT" once it listens on 127.0.0.1 (a free port), and runs until killed.
import http from 'node:http';

const BODY = Buffer.from('{"error":"overloaded: refused by the floor server","code":"OVERLOAD"}\n');
const HEADERS = {
  'content-type': 'application/json',
  'content-length': String(BODY.length),
  'retry-after': '1',
};

const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(503, HEADERS);
    res.end(BODY);
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`);
});
