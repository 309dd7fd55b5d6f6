/**
 * The client commands in-process against a scripted fake HTTP server: what each command sends
 * (method, path, query, headers, body), what it prints, and the exit code for every kind of
 * answer. The real binary against a real cluster is in binary.test.ts.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http, { type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../../cli/run-cli.js';

interface Seen {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

interface Canned {
  status: number;
  body?: string | Buffer;
  headers?: Record<string, string>;
  hang?: boolean;
}

const seen: Seen[] = [];
let replies: Canned[] = [];
let base = '';
let server: Server;
let dir = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ringkv-cli-'));
  server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      });
      const reply = replies.shift() ?? { status: 500, body: '{"error":"no reply scripted"}' };
      if (reply.hang) return;
      res.writeHead(reply.status, reply.headers ?? { 'content-type': 'application/json' });
      res.end(reply.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

beforeEach(() => {
  seen.length = 0;
  replies = [];
});

afterEach(() => {
  delete process.env.RINGKV_URL;
});

/** Runs `ringkv <args> --url <fake>`; returns the exit code and what was printed. */
function run(args: string[], withUrl = true, piped?: string) {
  return runCli(
    withUrl ? [...args, '--url', base] : args,
    piped === undefined ? {} : { stdin: piped },
  );
}

const written = JSON.stringify({ acked: 2, w: 2, coordinator: 'n1', sloppy: false, siblings: 1 });
const network = { delayMs: 5, jitterMs: 1, lossRate: 0.01, groups: null };

describe('put', () => {
  it('reads the value from stdin when one is piped in and none is given', async () => {
    replies = [{ status: 200, body: written }];
    expect((await run(['put', 'k'], true, 'piped value')).code).toBe(0);
    expect(seen[0]!.body).toBe('piped value');
  });

  it.each(['.', '..', '%2e%2e', 'a/../b'])(
    'sends the key %j on the wire as it is, so it round-trips',
    async (key) => {
      replies = [{ status: 200, body: written }];
      expect((await run(['put', key, 'v'])).code).toBe(0);
      expect(seen[0]!.url).toBe(`/kv/${encodeURIComponent(key)}`);
    },
  );

  it('sends the value, quorum, timeout and context', async () => {
    replies = [{ status: 200, body: written }];
    const result = await run([
      'put',
      'a/b',
      'héllo',
      '--w',
      '3',
      '--pw',
      '1',
      '--request-timeout',
      '1.5s',
      '--context',
      'CTX',
    ]);
    expect(result).toMatchObject({ code: 0 });
    expect(result.out).toBe('stored a/b: acked 2 of w=2, coordinator n1, siblings 1\n');
    expect(seen[0]).toMatchObject({
      method: 'PUT',
      url: '/kv/a%2Fb?w=3&pw=1&timeout_ms=1500',
      body: 'héllo',
    });
    expect(seen[0]!.headers['x-ringkv-context']).toBe('CTX');
  });

  it('reads the value from --file and reports sloppy writes and warnings', async () => {
    const file = join(dir, 'value.bin');
    writeFileSync(file, 'from a file');
    const sloppy = { acked: 2, w: 2, coordinator: 'n2', sloppy: true, siblings: 30, warning: 'W!' };
    replies = [{ status: 200, body: JSON.stringify(sloppy) }];
    const result = await run(['put', 'k', '--file', file]);
    expect(result.code).toBe(0);
    expect(seen[0]!.body).toBe('from a file');
    expect(result.out).toContain('sloppy');
    expect(result.err).toContain('warning: W!');
  });

  it('sends --ttl as ttl_ms, parsed by ms', async () => {
    replies = [
      { status: 200, body: written },
      { status: 200, body: written },
    ];
    expect((await run(['put', 'k', 'v', '--ttl', '30s'])).code).toBe(0);
    expect((await run(['put', 'k', 'v', '--ttl', '1.5h', '--w', '2'])).code).toBe(0);
    expect(seen.map((s) => s.url)).toEqual(['/kv/k?ttl_ms=30000', '/kv/k?w=2&ttl_ms=5400000']);
  });

  it('sends --supersede local as supersede=local', async () => {
    replies = [{ status: 200, body: written }];
    expect((await run(['put', 'k', 'v', '--supersede', 'local', '--w', '2'])).code).toBe(0);
    expect(seen.map((s) => s.url)).toEqual(['/kv/k?w=2&supersede=local']);
  });

  it('sends --request-id as the Idempotency-Key of a put and a delete', async () => {
    replies = [
      { status: 200, body: written },
      { status: 200, body: written },
    ];
    expect((await run(['put', 'k', 'v', '--request-id', 'job-9'])).code).toBe(0);
    expect((await run(['delete', 'k', '--context', 'c1', '--request-id', 'job-10'])).code).toBe(0);
    expect(seen.map((s) => s.headers['idempotency-key'])).toEqual(['job-9', 'job-10']);
    replies = [{ status: 200, body: written }];
    expect((await run(['put', 'k', 'v'])).code).toBe(0);
    expect(seen[2]?.headers['idempotency-key']).toBeUndefined();
  });

  it.each([
    [['put', 'k', 'v', '--supersede', 'global'], /only supersede mode is 'local'/],
    [['put', 'k', 'v', '--ttl', '0'], /at least 1ms/],
    [['put', 'k', 'v', '--ttl', '30'], /no unit/],
    [['put', 'k', 'v', '--ttl', 'soon'], /--ttl/],
    [['put', 'k', 'v', '--ttl', '200y'], /--ttl/],
  ])('%j is a usage error (2) and sends nothing', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(seen).toEqual([]);
  });

  it.each([
    [['put', 'k'], /missing value/],
    [['put', 'k', 'v', '--file', 'f'], /not both/],
    [['put', 'k', '--file', '/nonexistent/ringkv'], /cannot read/],
    [['put', 'k', 'v', '--w', '0'], /--w/],
    [['put', 'k', 'v', '--request-timeout', 'soon'], /--request-timeout/],
    [['put'], /missing required argument 'key'/],
  ])('%j is a usage error (2) and sends nothing', async (args, message) => {
    const result = await run(args);
    expect(result.code).toBe(2);
    expect(result.err).toMatch(message);
    expect(seen).toEqual([]);
  });
});

describe('get', () => {
  it('prints one value as is, and the context on stderr', async () => {
    replies = [
      { status: 200, body: Buffer.from('raw\nbytes'), headers: { 'x-ringkv-context': 'C1' } },
    ];
    const result = await run(['get', 'k', '--r', '3', '--pr', '0']);
    expect(result).toEqual({ code: 0, out: 'raw\nbytes', err: 'context: C1\n' });
    expect(seen[0]).toMatchObject({ method: 'GET', url: '/kv/k?r=3&pr=0' });
  });

  it('reports when the one value expires, on stderr', async () => {
    const headers = { 'x-ringkv-context': 'C1', 'x-ringkv-expires-at-ms': '1700000030000' };
    replies = [{ status: 200, body: 'v', headers }];
    const result = await run(['get', 'k']);
    expect(result).toEqual({
      code: 0,
      out: 'v',
      err: 'expires: 2023-11-14T22:13:50.000Z\ncontext: C1\n',
    });
  });

  it('numbers siblings', async () => {
    const siblings = [{ value: 'YQ==' }, { value: 'Yg==' }];
    replies = [
      { status: 300, body: JSON.stringify({ siblings }), headers: { 'x-ringkv-context': 'C2' } },
    ];
    const result = await run(['get', 'k']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('2 siblings');
    expect(result.out).toContain('[1] a\n[2] b\n');
  });

  it('--context-only prints just the context', async () => {
    replies = [{ status: 200, body: 'v', headers: { 'x-ringkv-context': 'C3' } }];
    expect(await run(['get', 'k', '--context-only'])).toEqual({ code: 0, out: 'C3\n', err: '' });
  });

  it('a missing key exits 4', async () => {
    replies = [{ status: 404, body: '{"error":"not found","code":"NOT_FOUND"}' }];
    const result = await run(['get', 'nope']);
    expect(result.code).toBe(4);
    expect(result.err).toContain('not found: nope');
  });

  it.each([
    ['a route the server does not have', '{"error":"no route for /kv/x","code":"NO_ROUTE"}'],
    ['a server that is not ringkv', '<html>Not Found</html>'],
  ])('a 404 from %s is no missing key: exit 3', async (_what, body) => {
    replies = [{ status: 404, body }];
    const result = await run(['get', 'nope']);
    expect(result.code).toBe(3);
    expect(result.err).toContain('is --url (or RINGKV_URL) a ringkv cluster?');
    expect(result.err).not.toContain('not found: nope');
  });
});

describe('delete', () => {
  it('reads the context first, then deletes with it', async () => {
    replies = [
      { status: 200, body: 'v', headers: { 'x-ringkv-context': 'C4' } },
      { status: 200, body: written },
    ];
    const result = await run(['delete', 'k', '--w', '3']);
    expect(result.code).toBe(0);
    expect(result.out).toContain('deleted k');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /kv/k', 'DELETE /kv/k?w=3']);
    expect(seen[1]!.headers['x-ringkv-context']).toBe('C4');
  });

  it('with --context it deletes at once', async () => {
    replies = [{ status: 200, body: written }];
    expect((await run(['delete', 'k', '--context', 'C5'])).code).toBe(0);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['x-ringkv-context']).toBe('C5');
  });

  it('nothing to delete exits 4', async () => {
    replies = [{ status: 404, body: '{"error":"not found","code":"NOT_FOUND"}' }];
    expect((await run(['delete', 'k'])).code).toBe(4);
    expect(seen).toHaveLength(1);
  });
});

describe('admin commands', () => {
  it('kill and restart post to the node route; an unknown node exits 4', async () => {
    replies = [
      { status: 200, body: '{}' },
      { status: 200, body: '{}' },
      { status: 404, body: '{"error":"no node \\"n9\\"","code":"NODE_NOT_FOUND"}' },
    ];
    expect((await run(['kill', 'n3'])).out).toBe('n3 killed\n');
    expect((await run(['restart', 'n3'])).out).toBe('n3 restarted\n');
    const unknown = await run(['kill', 'n9']);
    expect(unknown.code).toBe(4);
    expect(unknown.err).toContain('NODE_NOT_FOUND');
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual([
      'POST /admin/nodes/n3/kill',
      'POST /admin/nodes/n3/restart',
      'POST /admin/nodes/n9/kill',
    ]);
  });

  it('kill of a down node and restart of a running one say that nothing happened', async () => {
    replies = [
      { status: 200, body: '{"node":"n3","state":"down","changed":false}' },
      { status: 200, body: '{"node":"n3","state":"up","changed":false}' },
    ];
    expect(await run(['kill', 'n3'])).toMatchObject({
      code: 0,
      out: 'n3 was down already: nothing to do\n',
    });
    expect(await run(['restart', 'n3'])).toMatchObject({
      code: 0,
      out: 'n3 was up already: nothing to do\n',
    });
  });

  it('add-node and remove-node drive the membership routes and wait for the result', async () => {
    const joined = { id: 'n6', kind: 'join', version: 2, ms: 5500, keysSent: 120, keysDrained: 3 };
    const left = { id: 'n2', kind: 'leave', version: 5, ms: 900, keysSent: 80, keysDrained: 0 };
    replies = [
      { status: 201, body: JSON.stringify(joined) },
      { status: 200, body: JSON.stringify(left) },
      { status: 409, body: '{"error":"membership change 3 is still running","code":"BUSY"}' },
    ];
    expect((await run(['add-node', '--id', 'n6'])).out).toBe(
      'n6 joined: ring version 2, 120 keys moved, 3 drained, 5.5 s\n',
    );
    expect((await run(['remove-node', 'n2'])).out).toBe(
      'n2 left: ring version 5, 80 keys moved, 0 drained, 0.9 s\n',
    );
    const busy = await run(['add-node']);
    expect(busy.code).not.toBe(0);
    expect(busy.err).toContain('still running');
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      'POST /admin/nodes {"id":"n6"}',
      'DELETE /admin/nodes/n2 ',
      'POST /admin/nodes {}',
    ]);
  });

  it('add-node takes the id as an argument too, and refuses two different ids', async () => {
    const joined = { id: 'n7', kind: 'join', version: 3, ms: 100, keysSent: 1, keysDrained: 0 };
    replies = [{ status: 201, body: JSON.stringify(joined) }];
    expect((await run(['add-node', 'n7'])).code).toBe(0);
    expect(seen.map((s) => `${s.method} ${s.url} ${s.body}`)).toEqual([
      'POST /admin/nodes {"id":"n7"}',
    ]);
    const both = await run(['add-node', 'n7', '--id', 'n8']);
    expect(both.code).toBe(2);
    expect(both.err).toContain('two ids given, n7 and --id n8');
    expect(seen).toHaveLength(1);
  });

  it('remove-node --force asks the server to go below n nodes', async () => {
    const left = { id: 'n2', kind: 'leave', version: 5, ms: 900, keysSent: 80, keysDrained: 0 };
    replies = [{ status: 200, body: JSON.stringify(left) }];
    expect((await run(['remove-node', 'n2', '--force'])).code).toBe(0);
    expect(seen[0]).toMatchObject({ method: 'DELETE', url: '/admin/nodes/n2?force=1' });
  });

  it('partition sends the groups; heal posts', async () => {
    const partitioned = { ...network, groups: [['n1', 'n2'], ['n3']] };
    replies = [
      { status: 200, body: JSON.stringify({ network: partitioned }) },
      { status: 200, body: JSON.stringify({ network }) },
    ];
    const result = await run(['partition', 'n1,n2', 'n3']);
    expect(result.out).toBe('partitioned [n1 n2] | [n3]; delay 5 ms, jitter 1 ms, loss 1%\n');
    expect(JSON.parse(seen[0]!.body)).toEqual({ groups: [['n1', 'n2'], ['n3']] });
    expect((await run(['heal'])).out).toContain('no partition');
    expect(seen[1]).toMatchObject({ method: 'POST', url: '/admin/heal' });
    // Marked as no browser form's (the server refuses admin POSTs without it); no token given.
    expect(seen[1]!.headers['x-ringkv-request']).toBe('cli');
    expect(seen[1]!.headers.authorization).toBeUndefined();
  });

  it('--token is sent as a bearer token', async () => {
    replies = [{ status: 200, body: JSON.stringify({ network }) }];
    await run(['heal', '--token', 'a-token-of-at-least-16-chars']);
    expect(seen[0]!.headers.authorization).toBe('Bearer a-token-of-at-least-16-chars');
  });

  it.each([[['partition', 'n1,,n2']], [['partition']], [['partition', ',']]])(
    '%j is a usage error',
    async (args) => {
      expect((await run(args)).code).toBe(2);
      expect(seen).toEqual([]);
    },
  );

  it('net sends only the given settings; no option shows them; --reset zeroes them', async () => {
    replies = [
      { status: 200, body: JSON.stringify({ network }) },
      { status: 200, body: JSON.stringify({ nodes: [], network }) },
      { status: 200, body: JSON.stringify({ network }) },
    ];
    expect((await run(['net', '--delay', '5ms', '--jitter', '1ms', '--loss', '1%'])).code).toBe(0);
    expect(JSON.parse(seen[0]!.body)).toEqual({ delay_ms: 5, jitter_ms: 1, loss: 0.01 });
    expect((await run(['net'])).out).toBe('no partition; delay 5 ms, jitter 1 ms, loss 1%\n');
    expect(seen[1]).toMatchObject({ method: 'GET', url: '/status' });
    await run(['net', '--reset']);
    expect(JSON.parse(seen[2]!.body)).toEqual({ delay_ms: 0, jitter_ms: 0, loss: 0 });
  });

  it.each([
    [['net', '--reset', '--loss', '0']],
    [['net', '--loss', '150%']],
    [['net', '--delay', '61s']],
    [['net', '--jitter', '-1ms']],
  ])('%j is a usage error', async (args) => {
    expect((await run(args)).code).toBe(2);
    expect(seen).toEqual([]);
  });

  it('status prints the table, or the JSON with --json', async () => {
    const status = {
      nodes: [
        {
          id: 'n1',
          state: 'up',
          partitions: 8,
          keys: 1,
          hintsPending: 0,
          partitionGroup: null,
          messagesDropped: 0,
        },
      ],
      ring: { partitionCount: 8, owners: [] },
      config: { n: 1, r: 1, w: 1, requestTimeoutMs: 1, valueSizeMaxBytes: 1, durable: false },
      network,
    };
    replies = [
      { status: 200, body: JSON.stringify(status) },
      { status: 200, body: JSON.stringify(status) },
    ];
    expect((await run(['status'])).out).toMatch(
      /^node\s+state.*\nn1\s+up\s+8\s+1\s+0\s+-\s+-\s+0\n/,
    );
    expect(JSON.parse((await run(['status', '--json'])).out)).toEqual(status);
  });
});

describe('exit codes', () => {
  it.each([
    [503, '{"error":"quorum not met","code":"QUORUM","needed":3,"acked":1}', 1],
    [504, '{"error":"timeout","code":"TIMEOUT"}', 1],
    [500, 'not json', 1],
    [400, '{"error":"bad key","code":"VALIDATION"}', 2],
    [413, '{"error":"too large","code":"VALIDATION"}', 2],
  ])('HTTP %d exits %d', async (status, body, code) => {
    replies = [{ status, body }];
    const result = await run(['put', 'k', 'v']);
    expect(result.code).toBe(code);
    expect(result.err).toContain(`HTTP ${status}`);
  });

  it('a reply that is not JSON where JSON is expected exits 1', async () => {
    replies = [{ status: 200, body: '<html>', headers: { 'content-type': 'text/html' } }];
    expect((await run(['status'])).code).toBe(1);
  });

  it('an unreachable cluster exits 3', async () => {
    const result = await run(['status', '--url', 'http://127.0.0.1:1'], false);
    expect(result.code).toBe(3);
    expect(result.err).toContain('cannot reach the cluster at http://127.0.0.1:1');
  });

  it('no answer within --timeout exits 3', async () => {
    replies = [{ status: 200, hang: true }];
    const result = await run(['status', '--timeout', '100ms']);
    expect(result.code).toBe(3);
    expect(result.err).toContain('within 100 ms');
  });

  it('RINGKV_URL picks the cluster; a bad --url is a usage error', async () => {
    process.env.RINGKV_URL = 'http://127.0.0.1:1';
    expect((await run(['heal'], false)).code).toBe(3);
    expect((await run(['heal', '--url', 'not a url'], false)).code).toBe(2);
    expect((await run(['heal', '--url', 'ftp://x'], false)).code).toBe(2);
  });
});
