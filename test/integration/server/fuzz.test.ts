/**
 * Fuzz (fast-check, fixed seed): random HTTP requests against the real server in front of a real
 * 5-node worker-thread cluster. Methods (odd ones too), paths (/kv with percent-garbage, /admin,
 * /status, random segments, very long ones), query strings with junk quorum/timeout values,
 * headers (garbage and real-but-foreign contexts, Expect, Transfer-Encoding, Content-Length lies),
 * bodies (none, empty, binary, chunked, oversized) and callers that hang up mid-upload. Requests
 * go out in small concurrent batches through `http.request` (no agent, one socket each).
 *
 * Asserted for every request: the server answers (a dropped connection is accepted only where
 * the request itself made one inevitable), no 5xx except 503/504, every error reply the server
 * writes is JSON with an `error` string, and /health answers 200 after each batch. Afterwards ~50 keys written before the fuzz read back
 * byte for byte, every node is still up and the network unchanged.
 *
 * Admin requests never change the cluster: the server is given a guard in front of the real
 * cluster's admin API that forwards only calls the cluster must reject (unknown node ids,
 * out-of-range network settings) or that change nothing (heal without a partition, an empty
 * network body) and refuses the rest with a ValidationError (400).
 *
 * Requests Node's HTTP parser itself refuses before the server's handler runs — an unknown
 * method (`FOO /kv/a`), a malformed or contradictory Content-Length/Transfer-Encoding, bytes
 * after a short Content-Length, headers over 16 KiB, `Expect` other than 100-continue — must
 * get JSON errors too (the server's clientError / checkExpectation handlers; this test found
 * the gap). A bare reply is a failure.
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClusterAdmin, NetworkOptions } from '../../../src/client/types.js';
import { base64urlEncode } from '../../../src/core/context.js';
import { ValidationError } from '../../../src/errors.js';
import { type Cluster, startCluster } from '../../../src/index.js';
import { createHttpServer } from '../../../src/server/http.js';

const SEED = 0x52_4b_56; // "RKV"
/** Batches of 1..BATCH_MAX concurrent requests; tuned so the file stays well under 20 s. */
const RUNS = 300;
const BATCH_MAX = 6;
const BODY_MAX_BYTES = 64 * 1024;
const SERVER_TIMEOUT_MS = 1500;
const CLUSTER_TIMEOUT_MS = 800;
/** Longest the test waits for one reply before calling the server hung. */
const CLIENT_TIMEOUT_MS = SERVER_TIMEOUT_MS + 4000;
const KNOWN_PREFIX = 'known:';
const KNOWN_COUNT = 50;
/** Node's own replies to requests its parser refuses (see the header comment). */

// ---------------------------------------------------------------------------------------------
// The request model

type BodyMode =
  | 'none' // no body at all
  | 'exact' // Content-Length matches
  | 'chunked' // Transfer-Encoding: chunked
  | 'short' // Content-Length smaller than what is sent (the rest is garbage on the socket)
  | 'long' // Content-Length larger than what is sent (the server waits for its timeout)
  | 'hangup'; // half the body, then the caller disconnects

interface FuzzRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | string[]>>;
  readonly body: Buffer;
  readonly mode: BodyMode;
  /** How long a `hangup` request waits before disconnecting. */
  readonly hangupAfterMs: number;
}

interface Outcome {
  readonly status: number | null;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
  readonly error: string | null;
}

function send(port: number, request: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (outcome: Outcome): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(outcome);
    };
    const failed = (error: string): void =>
      finish({ status: null, headers: {}, body: Buffer.alloc(0), error });
    const timer = setTimeout(() => {
      failed('client timeout');
      req.destroy();
    }, CLIENT_TIMEOUT_MS);
    const headers: Record<string, string | string[]> = { ...request.headers };
    const { body, mode } = request;
    if (mode === 'exact') headers['content-length'] = String(body.length);
    if (mode === 'short') headers['content-length'] = String(Math.floor(body.length / 2));
    if (mode === 'long') headers['content-length'] = String(body.length + 1 + (body.length % 97));
    // said explicitly: Node's client sends a GET/DELETE body unframed unless told to chunk it
    if ((mode === 'chunked' || mode === 'hangup') && headers['transfer-encoding'] === undefined) {
      headers['transfer-encoding'] = 'chunked';
    }
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.path,
        headers,
        agent: false,
      },
      (res) => {
        if (String(res.headers['content-type']).startsWith('text/event-stream')) {
          // GET /events never ends: the status and headers are the reply
          res.destroy();
          finish({
            status: res.statusCode ?? null,
            headers: res.headers,
            body: Buffer.alloc(0),
            error: null,
          });
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          finish({
            status: res.statusCode ?? null,
            headers: res.headers,
            body: Buffer.concat(chunks),
            error: null,
          }),
        );
        res.on('error', (error) => failed(`response: ${error.message}`));
        res.on('close', () => failed('response cut off'));
      },
    );
    let responded = false;
    req.on('response', () => {
      responded = true;
    });
    // CONNECT: Node hands any reply to a 'connect' listener instead of 'response'
    req.on('connect', (res: http.IncomingMessage, socket: Socket) => {
      socket.destroy();
      finish({
        status: res.statusCode ?? null,
        headers: res.headers,
        body: Buffer.alloc(0),
        error: null,
      });
    });
    req.on('error', (error) => failed(error.message));
    req.on('close', () => {
      if (!responded) failed('closed without a reply');
    });
    if (mode === 'none') {
      req.end();
    } else if (mode === 'hangup') {
      req.write(body.subarray(0, Math.ceil(body.length / 2)));
      setTimeout(() => {
        req.destroy();
        failed('hung up on purpose');
      }, request.hangupAfterMs);
    } else if (mode === 'chunked') {
      // write() before end() without a Content-Length makes Node send the body chunked
      if (body.length > 0) req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

// ---------------------------------------------------------------------------------------------
// Generators

/** Characters Node's client lets through in a path (0x21..0x7e), weighted towards URL syntax. */
const pathChar = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('a', 'k', 'z', '0', '9', '-', '_', '.', '~') },
  { weight: 2, arbitrary: fc.constantFrom('%', '/', '?', '&', '=', '#', '+', ';', ':', '@') },
  { weight: 1, arbitrary: fc.integer({ min: 0x21, max: 0x7e }).map((c) => String.fromCharCode(c)) },
);
const segment = fc.string({ unit: pathChar, maxLength: 24 });

/** Percent sequences, valid and not: `%`, `%G1`, `%e9`, `%ED%A0%80` (a lone surrogate), … */
const percentGarbage = fc
  .array(
    fc.oneof(
      fc.constantFrom('%', '%%', '%G1', '%1', '%zz', '%00', '%2F', '%2f', '%ED%A0%80', '%C3'),
      fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, '0')}`),
      fc.string({ unit: pathChar, maxLength: 4 }),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((parts) => parts.join(''));

/** A key segment that may or may not decode; never one of the known keys (checked on use). */
const keySegment = fc.oneof(
  // a small pool, so blind writes pile up siblings (300s) on the same keys
  { weight: 4, arbitrary: fc.constantFrom('fz-a', 'fz-b', 'fz-c', 'fz-%C3%A9', 'fz-%00') },
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z0-9]{1,12}$/).map((k) => `fz-${k}`) },
  { weight: 3, arbitrary: percentGarbage },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }).map((k) => encodeURIComponent(`fz${k}`)) },
  { weight: 1, arbitrary: fc.constantFrom('', '.', '..', '%2e%2e', 'fz%2Fslash', '%20') },
  { weight: 1, arbitrary: fc.integer({ min: 900, max: 5000 }).map((n) => 'L'.repeat(n)) },
);

const nodeSegment = fc.oneof(
  fc.constantFrom('n0', 'n6', 'n9', 'N1', 'n1%20', '%6e1x', '', '%', '%zz', 'n1/extra'),
  segment,
);

const adminPath = fc.oneof(
  fc
    .tuple(nodeSegment, fc.constantFrom('kill', 'restart', 'KILL', '', 'kill/now', 'explode'))
    .map(([node, action]) => `/admin/nodes/${node}/${action}`),
  nodeSegment.map((node) => `/admin/nodes/${node}`),
  fc.constantFrom(
    '/admin/nodes',
    '/admin/nodes/',
    '/admin/partition',
    '/admin/heal',
    '/admin/network',
    '/admin/',
    '/admin',
    '/admin/partition/',
    '/admin//heal',
    '/admin/nodes//kill',
  ),
);

const kvPath = fc.oneof(
  { weight: 6, arbitrary: keySegment.map((key) => `/kv/${key}`) },
  { weight: 1, arbitrary: fc.constantFrom('/kv', '/kv/', '/kv//x', '/KV/a', '/kv/a/b', '//kv/a') },
  { weight: 1, arbitrary: percentGarbage.map((g) => `/kv${g}`) },
);

const otherPath = fc.oneof(
  fc.constantFrom('/status', '/health', '/status/', '/health/x', '/', '*', '/metrics', '/%'),
  fc.constantFrom('/events', '/events/', '/index.html', '/dashboard.js', '/dashboard.css', '/..'),
  fc.constantFrom('http://127.0.0.1/kv/fz-abs', 'http://127.0.0.1/health', '/../kv/fz-up'),
  fc.array(segment, { minLength: 1, maxLength: 6 }).map((parts) => `/${parts.join('/')}`),
  fc.integer({ min: 2_000, max: 20_000 }).map((n) => `/${'p'.repeat(n)}`), // > 16 KiB: 431
);

const queryName = fc.constantFrom('r', 'w', 'pr', 'pw', 'timeout_ms', 'R', 'W', 'x', '', 'r%00');
const queryValue = fc.oneof(
  fc.constantFrom('', '0', '1', '2', '3', '4', '9', '-1', '+2', ' 2', '2.5', '1e3', '0x10'),
  fc.constantFrom('1024', '1025', '99999999999999999999', 'NaN', 'Infinity', '%', '%zz', '%32'),
  fc.constantFrom('1', '5', '50', '1500', '1501', '2000000000'), // timeout_ms around the limit
  fc.string({ unit: pathChar, maxLength: 8 }),
);
/** Sensible values, so that a fair share of requests gets past validation (see forMethod). */
const validQuery = fc.record(
  {
    r: fc.integer({ min: 1, max: 3 }),
    w: fc.integer({ min: 1, max: 3 }),
    pr: fc.integer({ min: 0, max: 2 }),
    pw: fc.integer({ min: 0, max: 2 }),
    timeout_ms: fc.integer({ min: 1, max: 1500 }),
  },
  { requiredKeys: [] },
);

/** The valid fields that `method` takes on /kv (r, pr for reads; w, pw for writes). */
function forMethod(method: string, fields: Readonly<Record<string, number>>): string {
  const read = method.toUpperCase() === 'GET';
  const allowed = read ? ['r', 'pr', 'timeout_ms'] : ['w', 'pw', 'timeout_ms'];
  const pairs = Object.entries(fields)
    .filter(([name]) => allowed.includes(name))
    .map(([name, value]) => `${name}=${value}`);
  return pairs.length === 0 ? '' : `?${pairs.join('&')}`;
}

const junkQuery = fc.oneof(
  { weight: 5, arbitrary: fc.constant('') },
  {
    weight: 5,
    arbitrary: fc
      .array(
        fc.oneof(
          { weight: 8, arbitrary: fc.tuple(queryName, queryValue).map(([n, v]) => `${n}=${v}`) },
          { weight: 1, arbitrary: queryName },
          { weight: 1, arbitrary: fc.string({ unit: pathChar, maxLength: 10 }) },
        ),
        { minLength: 1, maxLength: 4 },
      )
      .map((pairs) => `?${pairs.join('&')}`),
  },
);

/** Header values Node's client accepts (no CR, LF or other controls except tab). */
const headerValue = fc.string({
  unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
  maxLength: 40,
});
const tokenChars = 'abcdefghijklmnopqrstuvwxyz0123456789-!#$%&*+.^_|~';
const headerName = fc
  .string({ unit: fc.constantFrom(...tokenChars.split('')), minLength: 1, maxLength: 16 })
  .map((name) => `x-${name}`);

const msgpack = new Packr({ useRecords: false });
/** Contexts: garbage, valid base64url of junk, msgpack of the wrong shape, real ones, huge. */
function contextValue(realContexts: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    fc.constant(''),
    headerValue,
    fc.uint8Array({ maxLength: 64 }).map((bytes) => base64urlEncode(bytes)),
    fc
      .jsonValue({ maxDepth: 3 })
      .map((value) => base64urlEncode(msgpack.pack(value) as Uint8Array)),
    fc
      .array(
        fc.tuple(fc.constantFrom('n1', 'n2.x', '', 'zz'), fc.integer({ min: -5, max: 2 ** 40 })),
        {
          maxLength: 5,
        },
      )
      .map((pairs) => base64urlEncode(msgpack.pack(pairs) as Uint8Array)),
    { weight: 3, arbitrary: fc.constantFrom(...realContexts) },
    fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'A'.repeat(n)), // > 16 KiB: 431
  );
}

function headersArb(
  realContexts: readonly string[],
): fc.Arbitrary<Record<string, string | string[]>> {
  const context = contextValue(realContexts);
  const entry = (name: string, values: readonly string[]) =>
    fc.constantFrom(...values).map((value): [string, string] => [name, value]);
  const other = fc.oneof(
    {
      weight: 4,
      arbitrary: entry('content-type', ['application/json', 'text/plain', '', 'x/y; a=%%']),
    },
    { weight: 3, arbitrary: entry('accept', ['*/*', 'text/html', 'application/json;q=0']) },
    { weight: 6, arbitrary: fc.tuple(headerName, headerValue) },
    { weight: 1, arbitrary: entry('expect', ['100-continue', '100-Continue', 'tea', '']) },
    {
      weight: 1,
      arbitrary: entry('transfer-encoding', ['gzip', 'chunked, gzip', 'identity', 'chunked']),
    },
    {
      weight: 1,
      arbitrary: entry('content-length', ['abc', '-1', '1.5', '99999999999999999999999', '0']),
    },
    { weight: 1, arbitrary: entry('connection', ['close', 'Upgrade', 'keep-alive']) },
    { weight: 1, arbitrary: entry('upgrade', ['websocket', 'h2c']) },
  );
  return fc
    .record({
      context: fc.option(fc.oneof(context, fc.array(context, { minLength: 2, maxLength: 3 })), {
        nil: undefined,
        freq: 2,
      }),
      others: fc.array(other, { maxLength: 2 }),
    })
    .map(({ context, others }) => {
      const headers: Record<string, string | string[]> = Object.fromEntries(others);
      if (context !== undefined) headers['x-ringkv-context'] = context;
      return headers;
    });
}

/** Deterministic filler: the content does not matter, only the size. */
function filler(size: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + 7) & 0xff;
  return out;
}

const bodyArb = fc.oneof(
  { weight: 2, arbitrary: fc.constant(Buffer.alloc(0)) },
  { weight: 4, arbitrary: fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)) },
  {
    weight: 2,
    arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => Buffer.from(JSON.stringify(v))),
  },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom(
        '{"groups":[["n9"]]}',
        '{"groups":[["n1","n1"]]}',
        '{"groups":[[1,2]]}',
        '{"groups":"n1"}',
        '{"groups":[["n1"],["zz"]],"x":1}',
        '{"delay_ms":-1}',
        '{"loss":2}',
        '{"jitter_ms":"5"}',
        '{"delay_ms":1e400}',
        '{"delay_ms":60001}',
        '{"loss":-0.5,"delay_ms":5}',
        '{}',
        '[]',
        'null',
        '{"groups":[',
        '\u0000\u00ff',
      )
      .map((text) => Buffer.from(text)),
  },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 64 * 1024 }).map(filler) },
  {
    weight: 2,
    arbitrary: fc.integer({ min: BODY_MAX_BYTES + 1, max: BODY_MAX_BYTES + 200_000 }).map(filler),
  },
);

const methodArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('GET', 'PUT') },
  { weight: 4, arbitrary: fc.constantFrom('DELETE', 'POST') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('HEAD', 'OPTIONS', 'PATCH', 'PROPFIND', 'MKCOL', 'SEARCH', 'PURGE'),
  },
  { weight: 1, arbitrary: fc.constantFrom('get', 'TRACE', 'M-SEARCH', 'LINK', 'CONNECT') },
  { weight: 1, arbitrary: fc.constantFrom('FOO', 'BREW', 'G3T', 'X-DELETE', 'PUTT') },
);

const modeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom<BodyMode>('exact', 'none') },
  { weight: 2, arbitrary: fc.constant<BodyMode>('chunked') },
  { weight: 1, arbitrary: fc.constantFrom<BodyMode>('short', 'long', 'hangup') },
);

function requestArb(realContexts: readonly string[]): fc.Arbitrary<FuzzRequest> {
  const path = fc.oneof(
    { weight: 6, arbitrary: kvPath },
    { weight: 2, arbitrary: adminPath },
    { weight: 2, arbitrary: otherPath },
  );
  const knownRead = fc
    .integer({ min: 0, max: KNOWN_COUNT - 1 })
    .map((i) => `/kv/${encodeURIComponent(knownKey(i))}`);
  return fc
    .record({
      method: methodArb,
      path: fc.oneof({ weight: 9, arbitrary: path }, { weight: 1, arbitrary: knownRead }),
      query: fc.oneof({ weight: 1, arbitrary: junkQuery }, { weight: 1, arbitrary: validQuery }),
      headers: headersArb(realContexts),
      body: bodyArb,
      mode: modeArb,
      hangupAfterMs: fc.integer({ min: 0, max: 100 }),
    })
    .map(({ method: generated, path, query, headers, body, mode, hangupAfterMs }) => {
      // the known keys are only ever read: a write to one would be the fuzz's own doing
      const method = touchesKnownKey(path) && generated.toUpperCase() !== 'GET' ? 'GET' : generated;
      const search = typeof query === 'string' ? query : forMethod(method, query);
      const request: FuzzRequest = {
        method,
        path: clientSafe(path.includes('?') ? path : `${path}${search}`),
        headers,
        body,
        mode,
        hangupAfterMs,
      };
      // fast-check prints counterexamples with this: keep long paths, headers and bodies short
      return Object.assign(request, { [fc.toStringMethod]: () => describeRequest(request) });
    });
}

/** Node's client refuses paths with characters outside 0x21..0xff: send those percent-encoded. */
function clientSafe(path: string): string {
  return path.replace(/[^\u0021-\u00ff]/g, (c) => encodeURIComponent(c));
}

function knownKey(i: number): string {
  return `${KNOWN_PREFIX}${String(i).padStart(2, '0')}/é`;
}

/** Deterministic values: empty, every byte value, text, and sizes up to 4 KiB. */
function knownValue(i: number): Buffer {
  if (i === 0) return Buffer.alloc(0);
  if (i === 1) return Buffer.from(Array.from({ length: 256 }, (_, b) => b));
  if (i % 2 === 0) return Buffer.from(`value ${i} ✓`);
  const out = Buffer.alloc((i * 83) % 4096);
  for (let j = 0; j < out.length; j++) out[j] = (i * 131 + j * 17) & 0xff;
  return out;
}

/** Whether the request could address one of the known keys (by any spelling the server decodes). */
function touchesKnownKey(path: string): boolean {
  if (!path.startsWith('/kv/')) return false;
  const raw = path.slice('/kv/'.length).split('?')[0]!;
  let decoded = raw;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    // not decodable: the server rejects it as a key
  }
  return decoded.startsWith(KNOWN_PREFIX) || raw.includes(KNOWN_PREFIX);
}

// ---------------------------------------------------------------------------------------------
// The guard in front of the real admin API

function networkInRange(options: NetworkOptions): boolean {
  const delay = (v: number | undefined) => v === undefined || (v >= 0 && v <= 60_000);
  const loss = options.lossRate === undefined || (options.lossRate >= 0 && options.lossRate <= 1);
  return delay(options.delayMs) && delay(options.jitterMs) && loss;
}

function guardedAdmin(db: Cluster, refused: string[]): ClusterAdmin {
  const ids = new Set(db.nodeIds);
  const refuse = (what: string): never => {
    refused.push(what);
    throw new ValidationError(`fuzz guard: refusing to ${what}`);
  };
  return {
    nodeIds: db.nodeIds,
    killNode: async (id) => refuse(`kill ${id}`),
    restartNode: async (id) => refuse(`restart ${id}`),
    partition: async (groups) =>
      groups.flat().some((id) => !ids.has(id))
        ? db.partition(groups) // must be rejected by the cluster
        : refuse(`partition ${JSON.stringify(groups)}`),
    heal: () => db.heal(), // no partition is ever in force, so this changes nothing
    setNetwork: async (options) =>
      Object.keys(options).length === 0 || !networkInRange(options)
        ? db.setNetwork(options) // a no-op, or must be rejected by the cluster
        : refuse(`set network ${JSON.stringify(options)}`),
    addNode: async (options) =>
      options?.id !== undefined && ids.has(options.id)
        ? db.addNode(options) // an id in use: must be rejected by the cluster
        : refuse(`add node ${JSON.stringify(options)}`),
    removeNode: async (id) => refuse(`remove node ${id}`),
  };
}

// ---------------------------------------------------------------------------------------------
// Judging one outcome

interface Tally {
  requests: number;
  byStatus: Map<string, number>;
  dropped: number;
}

/** Why this request may legitimately end without a reply (or with a bare Node rejection). */
function mayBeDroppedOrBare(request: FuzzRequest): boolean {
  const method = request.method.toUpperCase();
  const h = request.headers;
  const expectHeader = typeof h.expect === 'string' ? h.expect.toLowerCase() : undefined;
  const headerBytes = JSON.stringify(h).length + request.path.length;
  return (
    method === 'CONNECT' || // no 'connect' listener: Node drops the socket
    !http.METHODS.includes(method) || // the parser refuses unknown methods
    request.mode === 'short' ||
    request.mode === 'hangup' ||
    (h['content-length'] !== undefined && request.mode !== 'none') ||
    (h['content-length'] !== undefined && h['content-length'] !== '0') ||
    h['transfer-encoding'] !== undefined ||
    (expectHeader !== undefined && expectHeader !== '100-continue') || // Node answers 417
    headerBytes > 15_000 ||
    (method === 'TRACE' && request.body.length > 0) ||
    request.body.length > BODY_MAX_BYTES // a 413 closes the socket while the upload may go on
  );
}

function abbreviate(text: string, max = 120): string {
  return text.length <= max ? text : `${text.slice(0, max)}…(${text.length} chars)`;
}

function describeRequest(request: FuzzRequest): string {
  const headers = Object.entries(request.headers)
    .map(([name, value]) => `${name}: ${abbreviate(JSON.stringify(value), 80)}`)
    .join('; ');
  const body = request.body.length <= 32 ? JSON.stringify(request.body.toString('latin1')) : '';
  return `${request.method} ${abbreviate(request.path)} [mode ${request.mode}, body ${request.body.length} B ${body}] {${headers}}`;
}

/** Everything the server logged (unexpected errors); the tail goes into failure messages. */
const serverLog: string[] = [];

function fail(message: string): never {
  const log = serverLog.slice(-3).map((line) => abbreviate(line, 600));
  throw new Error(log.length === 0 ? message : `${message}\nserver log:\n${log.join('\n')}`);
}

function judge(request: FuzzRequest, outcome: Outcome, tally: Tally): void {
  const where = describeRequest(request);
  tally.requests += 1;
  if (outcome.status === null) {
    tally.dropped += 1;
    tally.byStatus.set('dropped', (tally.byStatus.get('dropped') ?? 0) + 1);
    if (outcome.error === 'client timeout') {
      fail(`no reply within ${CLIENT_TIMEOUT_MS} ms: ${where}`);
    }
    if (!mayBeDroppedOrBare(request)) {
      fail(`connection dropped without a reply (${outcome.error}): ${where}`);
    }
    return;
  }
  const status = outcome.status;
  tally.byStatus.set(String(status), (tally.byStatus.get(String(status)) ?? 0) + 1);

  if (status >= 500) {
    const allowed = status === 503 || status === 504;
    if (!allowed) fail(`status ${status}: ${where}: ${outcome.body.toString().slice(0, 300)}`);
  }

  const contentType = outcome.headers['content-type'];
  const bare = contentType === undefined && outcome.body.length === 0;
  if (bare && status >= 400) fail(`bare ${status} (no JSON body): ${where}`);

  if (status >= 400) {
    expect(contentType, where).toMatch(/^application\/json/);
    const method = request.method.toUpperCase();
    // No body on HEAD replies; a CONNECT reply's body is not readable through http.request.
    if (method === 'HEAD' || method === 'CONNECT') return;
    let json: unknown;
    try {
      json = JSON.parse(outcome.body.toString('utf8'));
    } catch {
      fail(`error reply ${status} is not JSON: ${where}: ${outcome.body.toString()}`);
    }
    expect(typeof (json as { error?: unknown }).error, `${status} ${where}`).toBe('string');
    expect(typeof (json as { code?: unknown }).code, `${status} ${where}`).toBe('string');
  } else if (status === 300) {
    const json = JSON.parse(outcome.body.toString('utf8')) as { siblings?: unknown };
    expect(Array.isArray(json.siblings), where).toBe(true);
  } else if (status !== 200) {
    fail(`unexpected status ${status}: ${where}`);
  }
}

// ---------------------------------------------------------------------------------------------

describe('HTTP fuzz against a real cluster', () => {
  let db: Cluster;
  let server: http.Server;
  let port = 0;
  const refused: string[] = [];
  const realContexts: string[] = [];

  beforeAll(async () => {
    db = await startCluster({ nodes: 5, n: 3, r: 2, w: 2, requestTimeoutMs: CLUSTER_TIMEOUT_MS });
    server = createHttpServer(db, {
      bodySizeMaxBytes: BODY_MAX_BYTES,
      requestTimeoutMs: SERVER_TIMEOUT_MS,
      admin: guardedAdmin(db, refused),
      log: (line) => serverLog.push(line),
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await db?.close();
  });

  const plain = (method: string, path: string, body?: Buffer) =>
    send(port, {
      method,
      path,
      headers: {},
      body: body ?? Buffer.alloc(0),
      mode: body === undefined ? 'none' : 'exact',
      hangupAfterMs: 0,
    });
  const knownPath = (i: number) => `/kv/${encodeURIComponent(knownKey(i))}`;
  /** A set-up or check request; retried (3 tries in all) on a 503/504 from a loaded machine. */
  const steady = async (method: string, path: string, body?: Buffer) => {
    let outcome = await plain(method, path, body);
    for (let attempt = 1; attempt < 3 && [503, 504].includes(outcome.status ?? 0); attempt++) {
      outcome = await plain(method, path, body);
    }
    return outcome;
  };

  it('survives random requests and keeps the data written before', async () => {
    // Write the known keys over HTTP, all three replicas acked, and keep a few real contexts.
    for (let i = 0; i < KNOWN_COUNT; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => i + j);
      const puts = await Promise.all(
        batch.map((k) => steady('PUT', `${knownPath(k)}?w=3`, knownValue(k))),
      );
      for (const put of puts) expect(put.status, put.body.toString()).toBe(200);
    }
    for (const i of [3, 17, 42]) {
      const got = await steady('GET', knownPath(i));
      expect(got.status).toBe(200);
      realContexts.push(String(got.headers['x-ringkv-context']));
    }

    const tally: Tally = { requests: 0, byStatus: new Map(), dropped: 0 };
    await fc.assert(
      fc.asyncProperty(
        fc.array(requestArb(realContexts), { minLength: 1, maxLength: BATCH_MAX }),
        async (batch) => {
          const outcomes = await Promise.all(batch.map((request) => send(port, request)));
          for (const [i, request] of batch.entries()) judge(request, outcomes[i]!, tally);
          const health = await plain('GET', '/health');
          expect(health.status, `after ${JSON.stringify(batch.map((r) => r.path))}`).toBe(200);
          expect(JSON.parse(health.body.toString())).toEqual({ ok: true });
        },
      ),
      { seed: SEED, numRuns: RUNS, endOnFailure: true },
    );

    // The known keys: every one reads back byte for byte, with no sibling.
    for (let i = 0; i < KNOWN_COUNT; i += 10) {
      const batch = Array.from({ length: 10 }, (_, j) => i + j);
      const gets = await Promise.all(batch.map((k) => steady('GET', `${knownPath(k)}?r=3`)));
      for (const [j, got] of gets.entries()) {
        expect(got.status, knownKey(batch[j]!)).toBe(200);
        expect(got.body.equals(knownValue(batch[j]!)), knownKey(batch[j]!)).toBe(true);
      }
    }

    // The cluster was not changed by the admin requests.
    const status = await db.status();
    expect(status.nodes.map((node) => node.state)).toEqual(['up', 'up', 'up', 'up', 'up']);
    expect(status.network).toEqual({ delayMs: 0, jitterMs: 0, lossRate: 0, groups: null });
    expect(serverLog.filter((line) => !line.includes('fuzz guard'))).toEqual([]);

    const counts = [...tally.byStatus.entries()].sort().map(([s, n]) => `${s}:${n}`);
    console.log(
      `fuzz: ${tally.requests} requests in ${RUNS} batches; statuses ${counts.join(' ')}; ` +
        `${refused.length} admin calls refused by the guard`,
    );
  }, 60_000);
});
