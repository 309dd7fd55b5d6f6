/**
 * The key-value commands: GET, SET, SETEX, PSETEX, GETDEL, DEL, UNLINK, EXISTS, MGET, MSET,
 * TYPE, STRLEN, DBSIZE. Every write supersedes what its coordinator holds for the key
 * (`supersede: 'local'`), so sequential writes never pile up siblings; a write that read first
 * (NX, XX, GET, KEEPTTL, DEL, GETDEL) also passes the read's context. Reads answer with the
 * value siblings.ts chooses. Nothing spans keys atomically: MSET writes each key on its own.
 */
import type { GetResult, KvClient, PutOptions } from '../../client/types.js';
import { RESP_KEYS_IN_FLIGHT_MAX } from '../../config.js';
import { keyOf, syntaxError, word, wrongArity } from './args.js';
import type { Handler, RespEnv } from './command.js';
import { type Expiry, expiryArg, expiryOptions, isExpiryWord, NO_EXPIRY } from './expiry.js';
import { array, bulk, int, NULL, OK, type Reply, simple } from './reply.js';
import { chosenValue } from './siblings.js';

/** The options every write passes: the session's quorum, supersede, the read's context. */
export function writeOptions(env: RespEnv, read: GetResult | null = null): PutOptions {
  return {
    ...env.session.writeOptions(),
    supersede: 'local',
    ...(read === null || read.context === '' ? {} : { context: read.context }),
  };
}

/** `fn` of every item, at most RESP_KEYS_IN_FLIGHT_MAX at once, results in order; the first failure rejects (and no further item starts). */
export async function perKey<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  let failed = false;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        results[index] = await fn(items[index]!);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const workers = Math.min(RESP_KEYS_IN_FLIGHT_MAX, items.length);
  await Promise.all(Array.from({ length: workers }, worker));
  return results;
}

export function read(env: RespEnv, key: string): Promise<GetResult> {
  return env.client.get(key, env.session.readOptions());
}

function valueReply(value: Uint8Array | null): Reply {
  return value === null ? NULL : bulk(value);
}

export const get: Handler = async (args, env) =>
  valueReply(chosenValue(await read(env, keyOf(args[1]!))));

interface SetOptions {
  readonly condition: 'NX' | 'XX' | null;
  readonly get: boolean;
  readonly expiry: Expiry;
}

/** SET's options after key and value, with Redis's rules: one condition, one expiry. */
function parseSetOptions(rest: readonly Buffer[]): SetOptions {
  let condition: 'NX' | 'XX' | null = null;
  let get = false;
  let expiry: Expiry = NO_EXPIRY;
  for (let i = 0; i < rest.length; i++) {
    const option = word(rest[i]);
    if ((option === 'NX' || option === 'XX') && condition === null) condition = option;
    else if (option === 'GET' && !get) get = true;
    else if (option === 'KEEPTTL' && expiry.kind === 'none') expiry = { kind: 'keep' };
    else if (isExpiryWord(option) && expiry.kind === 'none' && i + 1 < rest.length) {
      expiry = expiryArg(option, rest[++i]!, 'set');
    } else throw syntaxError();
  }
  return { condition, get, expiry };
}

/** SET key value [NX | XX] [GET] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL] */
export const set: Handler = (args, env) =>
  setValue(env, keyOf(args[1]!), args[2]!, parseSetOptions(args.slice(3)));

/** SETEX key seconds value, PSETEX key ms value: SET with EX / PX. */
export const setex: Handler = (args, env) =>
  setValue(env, keyOf(args[1]!), args[3]!, {
    condition: null,
    get: false,
    expiry: expiryArg('EX', args[2]!, 'setex'),
  });

export const psetex: Handler = (args, env) =>
  setValue(env, keyOf(args[1]!), args[3]!, {
    condition: null,
    get: false,
    expiry: expiryArg('PX', args[2]!, 'psetex'),
  });

async function setValue(
  env: RespEnv,
  key: string,
  value: Buffer,
  options: SetOptions,
): Promise<Reply> {
  const { condition, get, expiry } = options;
  const mustRead = condition !== null || get || expiry.kind === 'keep';
  const previous = mustRead ? await read(env, key) : null;
  const old = previous === null ? null : chosenValue(previous);
  const answer = get ? valueReply(old) : OK;
  if (condition === 'NX' && old !== null) return get ? answer : NULL;
  if (condition === 'XX' && old === null) return NULL;
  const ttl = expiryOptions(expiry, previous, Date.now());
  if (ttl === 'expired') await env.client.delete(key, writeOptions(env, previous));
  else await env.client.put(key, value, { ...writeOptions(env, previous), ...ttl });
  return answer;
}

/** GETDEL key: the value, then a delete with the read's context. */
export const getdel: Handler = async (args, env) => {
  const key = keyOf(args[1]!);
  const previous = await read(env, key);
  const value = chosenValue(previous);
  if (value !== null) await env.client.delete(key, writeOptions(env, previous));
  return valueReply(value);
};

/** DEL / UNLINK key…: how many of the keys existed (each read, then deleted with its context). */
export const del: Handler = async (args, env) => {
  const keys = [...new Set(args.slice(1).map(keyOf))];
  const deleted = await perKey(keys, async (key) => {
    const previous = await read(env, key);
    if (!previous.found) return 0;
    await env.client.delete(key, writeOptions(env, previous));
    return 1;
  });
  return int(sum(deleted));
};

/** EXISTS key…: keys found, a key named twice counted twice (as Redis does). */
export const exists: Handler = async (args, env) => {
  const keys = args.slice(1).map(keyOf);
  const distinct = [...new Set(keys)];
  const found = new Map(
    await perKey(distinct, async (key) => [key, (await read(env, key)).found] as const),
  );
  return int(keys.filter((key) => found.get(key)).length);
};

export const mget: Handler = async (args, env) => {
  const results = await perKey(args.slice(1), (arg) => read(env, keyOf(arg)));
  return array(results.map((result) => valueReply(chosenValue(result))));
};

/**
 * MSET key value [key value …]: each key written on its own, in parallel — not atomic: when one
 * write fails the reply is its error and the others may have been written.
 */
export const mset: Handler = async (args, env) => {
  if (args.length % 2 !== 1) throw wrongArity('mset');
  const last = new Map<string, Buffer>(); // a key named twice: the last value wins, as in Redis
  for (let i = 1; i < args.length; i += 2) last.set(keyOf(args[i]!), args[i + 1]!);
  await perKey([...last], ([key, value]) => env.client.put(key, value, writeOptions(env)));
  return OK;
};

export const type: Handler = async (args, env) =>
  simple((await read(env, keyOf(args[1]!))).found ? 'string' : 'none');

export const strlen: Handler = async (args, env) =>
  int(chosenValue(await read(env, keyOf(args[1]!)))?.length ?? 0);

/**
 * DBSIZE: approximate — the keys every node stores, divided by n. It counts tombstones not yet
 * reaped and keys with fewer or more than n copies (hints, a membership change), and leaves out
 * nodes that are down.
 */
export const dbsize: Handler = async (_args, env) => int(await approximateKeys(env.client));

export async function approximateKeys(client: KvClient): Promise<number> {
  const status = await client.status();
  const stored = sum(status.nodes.map((node) => node.keys ?? 0));
  return Math.round(stored / status.config.n);
}

function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
