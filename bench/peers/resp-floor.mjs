#!/usr/bin/env node
// The floor of bench/peers/redis-vs-ringkv.mjs: a bare key-value store behind ringkv's own RESP
// parser, with nothing else: no replicas, no versions, no quorum, no expiry, no admission, no
// bounds. It answers SET (key value, no options) with +OK, GET with the value or nil, PING with
// +PONG and anything else with an error. Under the same redis-benchmark run, its req/s is the
// most a RESP front on Node can serve on this machine, so ringkv's figures are read against it.
//
//   node bench/peers/resp-floor.mjs [--threads 1|2]
//   node --import tsx bench/peers/resp-floor.mjs --sources [--threads 1|2]   (the parser from src/)
//
// --threads 1: parsing and one Map on the main thread.
// --threads 2: ringkv's shape without its work: the main thread parses and answers, a worker
//   thread keeps the Map; requests go over in one postMessage per event-loop turn, the replies
//   come back in one per batch.
// Prints "listening on PORT" once it listens on 127.0.0.1 (a free port), and runs until killed.
// Needs the compiled build (npm run build): it imports dist/src/server/resp/parser.js, or with
// --sources src/server/resp/parser.ts (tests: a build may empty dist/ meanwhile).
import net from 'node:net';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker } from 'node:worker_threads';

const LIMITS = {
  argsMax: 1024,
  bulkBytesMax: 512 * 1024 * 1024,
  argBytesMax: 16 * 1024 * 1024,
  commandBytesMax: 64 * 1024 * 1024,
};
const SET = 1;
const GET = 2;
const OK = Buffer.from('+OK\r\n');
const NIL = Buffer.from('$-1\r\n');
const CRLF = Buffer.from('\r\n');

if (isMainThread) await serve();
else keepInWorker();

async function serve() {
  const { values } = parseArgs({
    options: {
      threads: { type: 'string', default: '1' },
      sources: { type: 'boolean', default: false },
    },
  });
  if (!['1', '2'].includes(values.threads)) throw new Error('--threads is 1 or 2');
  const module = values.sources
    ? '../../src/server/resp/parser.ts'
    : '../../dist/src/server/resp/parser.js';
  const { RespRequestParser } = await import(module);
  const store = values.threads === '1' ? mapStore() : workerStore();
  const server = net.createServer((socket) => connection(socket, store, RespRequestParser));
  server.listen(0, '127.0.0.1', () => console.log(`listening on ${server.address().port}`));
}

/** One Map, answered in the same turn (`sync`: replies are values, not promises). */
function mapStore() {
  const map = new Map();
  const store = (op, key, value) => {
    if (op === SET) {
      map.set(key, new Uint8Array(value)); // a copy, as ringkv keeps: the parser's view is not ours
      return null;
    }
    return map.get(key) ?? null;
  };
  store.sync = true;
  return store;
}

/** The Map in a worker thread; a promise per request, batched per turn. */
function workerStore() {
  const worker = new Worker(new URL(import.meta.url));
  const waiting = new Map();
  let nextId = 1;
  let batch = [];
  const post = () => {
    const sent = batch;
    batch = [];
    worker.postMessage(sent);
  };
  worker.on('message', (replies) => {
    for (const [id, value] of replies) {
      const resolve = waiting.get(id);
      waiting.delete(id);
      resolve(value);
    }
  });
  worker.on('error', (error) => {
    console.error(error);
    process.exit(1);
  });
  const store = (op, key, value) =>
    new Promise((resolve) => {
      const id = nextId++;
      waiting.set(id, resolve);
      if (batch.length === 0) setImmediate(post);
      batch.push([id, op, key, op === SET ? new Uint8Array(value) : null]);
    });
  store.sync = false;
  return store;
}

function keepInWorker() {
  const map = new Map();
  parentPort.on('message', (batch) => {
    const replies = [];
    for (const [id, op, key, value] of batch) {
      if (op === SET) {
        map.set(key, value);
        replies.push([id, null]);
      } else replies.push([id, map.get(key) ?? null]);
    }
    parentPort.postMessage(replies);
  });
}

/** Commands of one connection run in order, as ringkv's do. */
function connection(socket, store, RespRequestParser) {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const parser = new RespRequestParser(LIMITS);
  let chain = Promise.resolve();
  socket.on('data', (chunk) => {
    parser.push(chunk);
    for (let event = parser.next(); event !== null; event = parser.next()) {
      if (event.kind !== 'command') {
        socket.end(`-ERR ${event.message}\r\n`);
        return;
      }
      const args = event.args;
      if (store.sync) socket.write(answer(args, store));
      else chain = chain.then(() => answer(args, store)).then((reply) => socket.write(reply));
    }
  });
}

/** The reply to `args`, or a promise of it when the store answers later. */
function answer(args, store) {
  const name = args[0].toString('latin1').toLowerCase();
  if (name === 'set' && args.length === 3) {
    const done = store(SET, args[1].toString('utf8'), args[2]);
    return store.sync ? OK : done.then(() => OK);
  }
  if (name === 'get' && args.length === 2) {
    const found = store(GET, args[1].toString('utf8'));
    return store.sync ? bulk(found) : found.then(bulk);
  }
  if (name === 'ping') return Buffer.from('+PONG\r\n');
  return Buffer.from('-ERR the floor server serves SET key value, GET key and PING only\r\n');
}

function bulk(value) {
  return value === null ? NIL : Buffer.concat([Buffer.from(`$${value.length}\r\n`), value, CRLF]);
}
