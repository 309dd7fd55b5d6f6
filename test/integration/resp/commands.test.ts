/**
 * The RESP server in front of a real 3-node cluster (N=3 R=W=2), driven by ioredis over RESP2
 * and RESP3: every command of the table, pipelining, errors, AUTH, the quorum override, and the
 * siblings rules (sequential SETs make no sibling; GET picks one deterministically; every
 * sibling stays reachable through RINGKV.SIBLINGS and RINGKV.PUT resolves them).
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { command, RawClient, type RespHarness, startRespHarness } from './harness.js';

let h: RespHarness;
let redis: Redis;
let resp3: Redis;

beforeAll(async () => {
  h = await startRespHarness();
  redis = h.redis({ protocol: 2 });
  resp3 = h.redis({ protocol: 3 });
});

afterAll(async () => {
  await h?.close();
});

describe('RESP: connection commands', () => {
  it('PING, ECHO, SELECT 0, CLIENT, QUIT', async () => {
    expect(await redis.ping()).toBe('PONG');
    expect(await redis.ping('hi')).toBe('hi');
    expect(await redis.echo('héllo')).toBe('héllo');
    expect(await redis.select(0)).toBe('OK');
    await expect(redis.select(1)).rejects.toThrow('DB index is out of range');
    expect(await redis.client('SETNAME', 'tester')).toBe('OK');
    expect(await redis.client('GETNAME')).toBe('tester');
    expect(await redis.client('SETINFO', 'LIB-NAME', 'x')).toBe('OK');
    expect(typeof (await redis.client('ID'))).toBe('number');
    const quitter = h.redis({ protocol: 2 });
    expect(await quitter.quit()).toBe('OK');
  });

  it('HELLO 3 answers a map and switches the protocol; HELLO 4 is refused', async () => {
    const raw = new RawClient(h.port);
    await raw.connected();
    raw.send(command('HELLO', '3'));
    const text = await raw.read((t) => t.includes('modules'));
    expect(text.startsWith('%7\r\n')).toBe(true);
    expect(text).toContain('$5\r\nproto\r\n:3\r\n');
    raw.send(command('GET', 'hello-missing'));
    expect(await raw.read((t) => t.endsWith('_\r\n'))).toMatch(/_\r\n$/);
    raw.send(command('HELLO', '4'));
    expect(await raw.read((t) => t.includes('NOPROTO'))).toContain(
      '-NOPROTO unsupported protocol version',
    );
    raw.destroy();
  });

  it('COMMAND, COMMAND COUNT, COMMAND INFO, COMMAND DOCS, INFO', async () => {
    const count = (await redis.call('COMMAND', 'COUNT')) as number;
    const all = (await redis.call('COMMAND')) as unknown[][];
    expect(all).toHaveLength(count);
    expect(all.map((entry) => entry[0])).toContain('get');
    const [set] = (await redis.call('COMMAND', 'INFO', 'set')) as unknown[][];
    expect(set!.slice(0, 2)).toEqual(['set', -3]);
    const docs = (await redis.call('COMMAND', 'DOCS', 'get')) as unknown[];
    expect(docs[0]).toBe('get');
    const info = await redis.info();
    expect(info).toContain('loading:0');
    expect(info).toContain('redis_version:');
    expect(await redis.info('clients')).toMatch(/^# Clients\r\nconnected_clients:\d+/);
  });

  it('CONFIG GET answers the Redis parameters ringkv has (globs, RESP2 pairs, RESP3 map)', async () => {
    expect(await redis.call('CONFIG', 'GET', 'save')).toEqual(['save', '']);
    // The harness's cluster keeps data in memory: no AOF.
    expect(await redis.call('CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await redis.call('CONFIG', 'GET', 'MAXMEMORY*')).toEqual([
      'maxmemory',
      '0',
      'maxmemory-policy',
      'noeviction',
    ]);
    expect(await redis.call('CONFIG', 'GET', 'databases', 'timeout')).toEqual([
      'databases',
      '1',
      'timeout',
      '300',
    ]);
    expect(await redis.call('CONFIG', 'GET', 'no-such-parameter')).toEqual([]);
    const all = (await redis.call('CONFIG', 'GET', '*')) as string[];
    expect(all.filter((_, i) => i % 2 === 0)).toContain('proto-max-bulk-len');
    expect(await resp3.call('CONFIG', 'GET', 'databases')).toEqual(['databases', '1']);
    await expect(redis.call('CONFIG', 'SET', 'maxmemory', '1')).rejects.toThrow(
      /CONFIG SET is not supported.*RINGKV\.CONFIG SET/,
    );
    await expect(redis.call('CONFIG', 'GET')).rejects.toThrow(/wrong number of arguments/);
    const raw = new RawClient(h.port);
    await raw.connected();
    raw.send(command('HELLO', '3'));
    await raw.read((t) => t.includes('modules'));
    raw.send(command('CONFIG', 'GET', 'databases'));
    expect(await raw.read((t) => t.endsWith('$1\r\n1\r\n'))).toMatch(
      /%1\r\n\$9\r\ndatabases\r\n\$1\r\n1\r\n$/,
    );
    raw.destroy();
  });
});

describe('RESP: strings', () => {
  it('SET, GET, STRLEN, TYPE, EXISTS, GETDEL', async () => {
    expect(await redis.set('s:a', 'alpha')).toBe('OK');
    expect(await redis.get('s:a')).toBe('alpha');
    expect(await redis.strlen('s:a')).toBe(5);
    expect(await redis.type('s:a')).toBe('string');
    expect(await redis.type('s:none')).toBe('none');
    expect(await redis.exists('s:a', 's:a', 's:none')).toBe(2);
    expect(await redis.getdel('s:a')).toBe('alpha');
    expect(await redis.get('s:a')).toBeNull();
    expect(await redis.getdel('s:a')).toBeNull();
    expect(await redis.strlen('s:a')).toBe(0);
  });

  it('keeps binary values byte for byte', async () => {
    const value = Buffer.from([0, 1, 13, 10, 255, 0]);
    await redis.set('s:bin', value);
    expect([...(await redis.getBuffer('s:bin'))!]).toEqual([...value]);
  });

  it('SET NX, XX and GET', async () => {
    expect(await redis.set('s:nx', 'one', 'NX')).toBe('OK');
    expect(await redis.set('s:nx', 'two', 'NX')).toBeNull();
    expect(await redis.get('s:nx')).toBe('one');
    expect(await redis.set('s:nx', 'three', 'XX', 'GET')).toBe('one');
    expect(await redis.get('s:nx')).toBe('three');
    expect(await redis.set('s:xx-missing', 'v', 'XX')).toBeNull();
    expect(await redis.get('s:xx-missing')).toBeNull();
    expect(await redis.set('s:nx', 'four', 'GET')).toBe('three');
    await expect(redis.call('SET', 's:nx', 'v', 'NX', 'XX')).rejects.toThrow('syntax error');
    await expect(redis.call('SET', 's:nx', 'v', 'EX', '0')).rejects.toThrow(
      "invalid expire time in 'set' command",
    );
  });

  it('DEL and UNLINK count the keys that existed; MSET and MGET', async () => {
    expect(await redis.mset('m:a', '1', 'm:b', '2', 'm:a', '3')).toBe('OK');
    expect(await redis.mget('m:a', 'm:b', 'm:c')).toEqual(['3', '2', null]);
    expect(await redis.del('m:a', 'm:c', 'm:a')).toBe(1);
    expect(await redis.unlink('m:b')).toBe(1);
    expect(await redis.mget('m:a', 'm:b')).toEqual([null, null]);
    await expect(redis.call('MSET', 'm:a', '1', 'm:b')).rejects.toThrow(
      'wrong number of arguments',
    );
  });

  it('DBSIZE approximates the keys (copies / n)', async () => {
    const before = await redis.dbsize();
    await redis.mset('d:1', 'x', 'd:2', 'x', 'd:3', 'x');
    const after = await redis.dbsize();
    expect(after - before).toBeGreaterThanOrEqual(2);
    expect(after - before).toBeLessThanOrEqual(4);
  });

  it('RESP3 answers null as _ and maps as maps (ioredis resp3 mapping)', async () => {
    expect(await resp3.get('r3:missing')).toBeNull();
    await resp3.set('r3:k', 'v');
    expect(await resp3.get('r3:k')).toBe('v');
  });
});

describe('RESP: pipelining', () => {
  it('answers a pipeline in order, a SET then GET of one key included', async () => {
    const pipeline = redis.pipeline();
    for (let i = 0; i < 200; i++) {
      pipeline.set(`p:${i % 20}`, `v${i}`);
      pipeline.get(`p:${i % 20}`);
    }
    const results = (await pipeline.exec())!;
    expect(results).toHaveLength(400);
    for (let i = 0; i < 200; i++) {
      expect(results[2 * i]).toEqual([null, 'OK']);
      expect(results[2 * i + 1]).toEqual([null, `v${i}`]);
    }
  });

  it('answers raw pipelined bytes sent in one write, errors in their place', async () => {
    const raw = new RawClient(h.port);
    await raw.connected();
    raw.send(
      Buffer.concat([command('PING'), command('NOPE', 'a'), command('ECHO', 'x'), command('GET')]),
    );
    const text = await raw.read((t) => t.split('\r\n').length >= 5);
    expect(text).toBe(
      "+PONG\r\n-ERR unknown command 'NOPE', with args beginning with: 'a' \r\n$1\r\nx\r\n" +
        "-ERR wrong number of arguments for 'get' command\r\n",
    );
    raw.destroy();
  });
});

describe('RESP: errors and limits', () => {
  it('answers an unknown command with the standard error and keeps the connection', async () => {
    await expect(redis.call('FLUSHALL')).rejects.toThrow("ERR unknown command 'FLUSHALL'");
    expect(await redis.ping()).toBe('PONG');
  });

  it('refuses a value over the limit and goes on serving the connection', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 97);
    await expect(redis.set('big', big)).rejects.toThrow(/larger than the limit|limit is/);
    expect(await redis.set('big', 'small')).toBe('OK');
    expect(await redis.get('big')).toBe('small');
  });

  it('closes the connection on a protocol error after answering it; others go on', async () => {
    const raw = new RawClient(h.port);
    await raw.connected();
    raw.send('*1\r\n*1\r\n$1\r\na\r\n');
    await raw.closedByServer();
    expect(raw.text).toBe("-ERR Protocol error: expected '$', got '*'\r\n");
    expect(await redis.ping()).toBe('PONG');
  });
});

describe('RESP: per-connection quorum (RINGKV.CONFIG)', () => {
  it('GET answers the defaults; SET changes this connection only; bad values are refused', async () => {
    const mine = h.redis({ protocol: 2 });
    expect(await mine.call('RINGKV.CONFIG', 'GET', '*')).toEqual([
      'r',
      '2',
      'w',
      '2',
      'pr',
      '0',
      'pw',
      '0',
    ]);
    expect(await mine.call('RINGKV.CONFIG', 'SET', 'w', '3')).toBe('OK');
    expect(await mine.call('RINGKV.CONFIG', 'SET', 'r', '1')).toBe('OK');
    expect(await mine.call('RINGKV.CONFIG', 'GET', 'w')).toEqual(['w', '3']);
    expect(await redis.call('RINGKV.CONFIG', 'GET', 'w')).toEqual(['w', '2']);
    await expect(mine.call('RINGKV.CONFIG', 'SET', 'w', '4')).rejects.toThrow('between 1 and n=3');
    await expect(mine.call('RINGKV.CONFIG', 'SET', 'x', '1')).rejects.toThrow('unknown parameter');
    expect(await mine.set('q:k', 'v')).toBe('OK');
    // w=3: every replica acked before the reply.
    const replicas = (await h.cluster.inspect('q:k')).filter((r) => r.primary);
    expect(replicas.every((r) => r.versions?.length === 1)).toBe(true);
    expect(await mine.call('RINGKV.CONFIG', 'SET', 'w', 'default')).toBe('OK');
    expect(await mine.call('RINGKV.CONFIG', 'GET', 'w')).toEqual(['w', '2']);
  });

  it('a quorum the cluster cannot meet is a QUORUM error, not a hang; bad mixes are ERR', async () => {
    const mine = h.redis({ protocol: 2 });
    await mine.call('RINGKV.CONFIG', 'SET', 'pr', '3');
    await expect(mine.get('q:k')).rejects.toThrow(/ERR pr must be an integer between 0 and 2/);
    await mine.call('RINGKV.CONFIG', 'SET', 'r', '3');
    await h.cluster.killNode('n3');
    try {
      await expect(mine.get('q:k')).rejects.toThrow(/^QUORUM /);
      expect(await mine.ping()).toBe('PONG');
    } finally {
      await h.cluster.restartNode('n3');
    }
  });
});

describe('RESP: siblings', () => {
  it('(1) sequential SETs from one client never create a sibling', async () => {
    for (let i = 0; i < 30; i++) await redis.set('sib:seq', `v${i}`);
    const [, , , values] = (await redis.call('RINGKV.SIBLINGS', 'sib:seq')) as unknown[];
    expect(values).toEqual(['v29']);
    const views = await h.cluster.inspect('sib:seq');
    for (const view of views.filter((v) => v.primary)) expect(view.versions?.length ?? 1).toBe(1);
  });

  it('(2) GET answers the sibling with the greatest dot; RINGKV.SIBLINGS has them all; RINGKV.PUT resolves', async () => {
    // Blind writes with an empty context through the embedded API make real siblings.
    await h.cluster.put('sib:two', 'left');
    await h.cluster.put('sib:two', 'right');
    const direct = await h.cluster.get('sib:two');
    expect(direct.values).toHaveLength(2);
    const reply = (await redis.call('RINGKV.SIBLINGS', 'sib:two')) as unknown[];
    expect(reply[0]).toBe('context');
    expect(reply[1]).toBe(direct.context);
    expect(reply[2]).toBe('values');
    expect(reply[3]).toEqual(direct.strings());
    const last = direct.strings().at(-1);
    for (let i = 0; i < 5; i++) expect(await redis.get('sib:two')).toBe(last);
    expect(await redis.strlen('sib:two')).toBe(last!.length);
    expect(await redis.call('RINGKV.PUT', 'sib:two', 'merged', direct.context)).toBe('OK');
    const after = (await redis.call('RINGKV.SIBLINGS', 'sib:two')) as unknown[];
    expect(after[3]).toEqual(['merged']);
    await expect(redis.call('RINGKV.PUT', 'sib:two', 'x', 'not-a-context!')).rejects.toThrow(
      'invalid context',
    );
  });
});

describe('RESP: AUTH', () => {
  let guarded: RespHarness;
  const token = 'a-test-token-of-32-characters-xx';

  beforeAll(async () => {
    guarded = await startRespHarness({ adminToken: token, cluster: h.cluster });
  });

  afterAll(async () => {
    await guarded?.close();
  });

  it('refuses commands before AUTH, refuses a wrong token, accepts the admin token', async () => {
    const raw = new RawClient(guarded.port);
    await raw.connected();
    raw.send(
      Buffer.concat([
        command('GET', 'x'),
        command('AUTH', 'wrong'),
        command('AUTH', token),
        command('PING'),
      ]),
    );
    const text = await raw.read((t) => t.includes('PONG'));
    expect(text).toBe(
      '-NOAUTH Authentication required.\r\n' +
        '-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n',
    );
    raw.destroy();
  });

  it('ioredis with the password works; HELLO 3 AUTH default <token> works', async () => {
    const client = guarded.redis({ password: token, protocol: 2 });
    expect(await client.set('auth:k', 'v')).toBe('OK');
    const resp3Client = guarded.redis({ password: token, username: 'default', protocol: 3 });
    expect(await resp3Client.get('auth:k')).toBe('v');
    const wrong = guarded.redis({ password: 'nope', protocol: 2, lazyConnect: true });
    await expect(wrong.connect()).rejects.toThrow();
  });

  it('without a token set, AUTH says so', async () => {
    await expect(redis.call('AUTH', 'x')).rejects.toThrow('without any password configured');
  });
});
