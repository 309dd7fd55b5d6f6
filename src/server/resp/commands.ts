/**
 * The command table: every command this front end serves, with its arity, COMMAND flags and
 * key positions. Anything else is answered `-ERR unknown command`.
 */
import type { CommandSpec, Handler } from './command.js';
import * as connection from './handlers-connection.js';
import * as expiry from './handlers-expiry.js';
import * as ringkv from './handlers-ringkv.js';
import * as serverConfig from './handlers-server-config.js';
import * as strings from './handlers-strings.js';

type Row = [
  name: string,
  arity: number,
  flags: string,
  keys: [first: number, last: number, step: number],
  handler: Handler,
  summary: string,
  noAuth?: 'noauth',
];

const NO_KEYS: [number, number, number] = [0, 0, 0];
const ONE_KEY: [number, number, number] = [1, 1, 1];
const ALL_KEYS: [number, number, number] = [1, -1, 1];

const ROWS: Row[] = [
  ['ping', -1, 'fast', NO_KEYS, connection.ping, 'Returns PONG, or its argument.'],
  ['echo', 2, 'fast', NO_KEYS, connection.echo, 'Returns its argument.'],
  [
    'hello',
    -1,
    'noauth fast',
    NO_KEYS,
    connection.hello,
    'Picks RESP2 or RESP3, authenticates, names the connection.',
    'noauth',
  ],
  [
    'auth',
    -2,
    'noauth fast',
    NO_KEYS,
    connection.auth,
    'Authenticates with the admin token.',
    'noauth',
  ],
  ['select', 2, 'fast', NO_KEYS, connection.select, 'Only database 0 exists.'],
  ['client', -2, 'fast', NO_KEYS, connection.client, 'CLIENT ID, GETNAME, SETNAME, SETINFO.'],
  ['command', -1, 'loading', NO_KEYS, connection.command, 'COMMAND, COMMAND COUNT, INFO, DOCS.'],
  [
    'info',
    -1,
    'loading',
    NO_KEYS,
    connection.info,
    'Server facts (loading:0 for client ready checks).',
  ],
  ['quit', -1, 'noauth fast', NO_KEYS, connection.quit, 'Closes the connection.', 'noauth'],
  [
    'config',
    -2,
    'admin loading',
    NO_KEYS,
    serverConfig.config,
    'CONFIG GET: Redis parameters as ringkv has them (read-only).',
  ],
  [
    'get',
    2,
    'readonly fast',
    ONE_KEY,
    strings.get,
    'The value of a key (one sibling, chosen deterministically).',
  ],
  [
    'set',
    -3,
    'write',
    ONE_KEY,
    strings.set,
    'Sets a value: NX, XX, GET, EX, PX, EXAT, PXAT, KEEPTTL.',
  ],
  ['setex', 4, 'write', ONE_KEY, strings.setex, 'SET with an expiry in seconds.'],
  ['psetex', 4, 'write', ONE_KEY, strings.psetex, 'SET with an expiry in milliseconds.'],
  ['getdel', 2, 'write fast', ONE_KEY, strings.getdel, 'Returns a value and deletes the key.'],
  ['del', -2, 'write', ALL_KEYS, strings.del, 'Deletes keys; answers how many existed.'],
  ['unlink', -2, 'write fast', ALL_KEYS, strings.del, 'As DEL.'],
  ['exists', -2, 'readonly fast', ALL_KEYS, strings.exists, 'How many of the keys exist.'],
  ['mget', -2, 'readonly fast', ALL_KEYS, strings.mget, 'The values of several keys.'],
  [
    'mset',
    -3,
    'write',
    [1, -1, 2],
    strings.mset,
    'Sets several keys, each on its own (not atomic).',
  ],
  ['type', 2, 'readonly fast', ONE_KEY, strings.type, 'string, or none.'],
  ['strlen', 2, 'readonly fast', ONE_KEY, strings.strlen, 'The length of a value.'],
  [
    'dbsize',
    1,
    'readonly',
    NO_KEYS,
    strings.dbsize,
    'Approximate number of keys (stored copies / n).',
  ],
  [
    'expire',
    -3,
    'write fast',
    ONE_KEY,
    expiry.expireSeconds,
    'Sets an expiry in seconds (NX, XX, GT, LT).',
  ],
  ['pexpire', -3, 'write fast', ONE_KEY, expiry.expireMs, 'Sets an expiry in milliseconds.'],
  ['ttl', 2, 'readonly fast', ONE_KEY, expiry.ttlSeconds, 'Seconds until the key expires.'],
  ['pttl', 2, 'readonly fast', ONE_KEY, expiry.ttlMs, 'Milliseconds until the key expires.'],
  ['persist', 2, 'write fast', ONE_KEY, expiry.persist, 'Removes the expiry.'],
  ['ringkv.config', -3, 'fast', NO_KEYS, ringkv.config, "This connection's r, w, pr, pw."],
  [
    'ringkv.siblings',
    2,
    'readonly',
    ONE_KEY,
    ringkv.siblings,
    'Every sibling and the causal context.',
  ],
  ['ringkv.put', 4, 'write', ONE_KEY, ringkv.put, 'A write with a causal context.'],
];

export function commandTable(): ReadonlyMap<string, CommandSpec> {
  const table = new Map<string, CommandSpec>();
  for (const [name, arity, flags, [firstKey, lastKey, step], handler, summary, noAuth] of ROWS) {
    table.set(name, {
      name,
      arity,
      flags: flags.split(' '),
      firstKey,
      lastKey,
      step,
      handler,
      summary,
      ...(noAuth === undefined ? {} : { noAuth: true }),
    });
  }
  return table;
}
