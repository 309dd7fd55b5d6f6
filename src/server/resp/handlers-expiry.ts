/**
 * EXPIRE, PEXPIRE, TTL, PTTL, PERSIST. ringkv keeps an expiry per stored value, so changing a
 * key's expiry rewrites its value: a read, then a put of the chosen value with the read's
 * context and the new expiry (a concurrent write in between becomes a sibling, never lost).
 * TTL and PTTL report when the key disappears: -1 while any live sibling has no expiry, else
 * the latest expiry among the live siblings (expiry.ts).
 */
import { integerOf, keyOf, word, wrongArity } from './args.js';
import type { Handler } from './command.js';
import { expireConditionHolds, expiresAtOf } from './expiry.js';
import { read, writeOptions } from './handlers-strings.js';
import { int, RespError } from './reply.js';
import { chosenValue } from './siblings.js';

/** EXPIRE key seconds [NX|XX|GT|LT]; PEXPIRE key ms [NX|XX|GT|LT]. 1 when set, else 0. */
function expire(unitMs: number, name: string): Handler {
  return async (args, env) => {
    if (args.length > 4) throw wrongArity(name);
    const amount = integerOf(args[2]!);
    const ttlMs = amount * unitMs;
    if (!Number.isSafeInteger(ttlMs)) {
      throw new RespError('ERR', `invalid expire time in '${name}' command`);
    }
    const condition = word(args[3]);
    const key = keyOf(args[1]!);
    const previous = await read(env, key);
    const value = chosenValue(previous);
    if (value === null) return int(0);
    const nowMs = Date.now();
    if (!expireConditionHolds(condition, expiresAtOf(previous), nowMs + ttlMs)) return int(0);
    // A non-positive expiry deletes the key, as in Redis.
    if (ttlMs <= 0) await env.client.delete(key, writeOptions(env, previous));
    else await env.client.put(key, value, { ...writeOptions(env, previous), ttlMs });
    return int(1);
  };
}

export const expireSeconds = expire(1000, 'expire');
export const expireMs = expire(1, 'pexpire');

/** TTL / PTTL: -2 no such key, -1 no expiry, else what is left (TTL rounds to seconds). */
function ttl(unitMs: number): Handler {
  return async (args, env) => {
    const previous = await read(env, keyOf(args[1]!));
    if (!previous.found) return int(-2);
    const at = expiresAtOf(previous);
    if (at === null) return int(-1);
    const leftMs = at - Date.now();
    if (leftMs <= 0) return int(-2);
    return int(unitMs === 1 ? leftMs : Math.round(leftMs / unitMs));
  };
}

export const ttlSeconds = ttl(1000);
export const ttlMs = ttl(1);

/** PERSIST key: 1 when the value had an expiry and now has none, else 0. */
export const persist: Handler = async (args, env) => {
  const key = keyOf(args[1]!);
  const previous = await read(env, key);
  const value = chosenValue(previous);
  if (value === null || expiresAtOf(previous) === null) return int(0);
  await env.client.put(key, value, writeOptions(env, previous));
  return int(1);
};
