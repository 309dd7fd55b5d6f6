/**
 * Expiry as Redis commands state it (SET EX/PX/EXAT/PXAT/KEEPTTL, SETEX, PSETEX, EXPIRE, …)
 * turned into ringkv's put options (`ttlMs`, `expiresAtMs`), and read back from a GetResult
 * (`expiresAtMs`, aligned with `values`) for TTL, PTTL and KEEPTTL: the key's expiry, when its
 * last live value expires.
 */
import type { GetResult, PutOptions } from '../../client/types.js';
import { integerOf } from './args.js';
import { RespError } from './reply.js';

export type Expiry =
  | { readonly kind: 'none' }
  /** Relative, in ms from now (EX, PX, SETEX, PSETEX, EXPIRE, PEXPIRE). */
  | { readonly kind: 'ttl'; readonly ms: number }
  /** Absolute Unix time in ms (EXAT, PXAT, EXPIREAT-like). */
  | { readonly kind: 'at'; readonly ms: number }
  /** Keep the expiry the value had (KEEPTTL). */
  | { readonly kind: 'keep' };

export const NO_EXPIRY: Expiry = Object.freeze({ kind: 'none' });

/**
 * EX/PX/EXAT/PXAT's argument in ms. Redis refuses a non-positive one for SET (`invalid expire
 * time in 'set' command`); `command` names the command in that message.
 */
export function expiryArg(
  unit: 'EX' | 'PX' | 'EXAT' | 'PXAT',
  arg: Buffer,
  command: string,
): Expiry {
  const value = integerOf(arg);
  if (value <= 0) throw new RespError('ERR', `invalid expire time in '${command}' command`);
  const ms = unit === 'EX' || unit === 'EXAT' ? value * 1000 : value;
  if (!Number.isSafeInteger(ms))
    throw new RespError('ERR', `invalid expire time in '${command}' command`);
  return unit === 'EX' || unit === 'PX' ? { kind: 'ttl', ms } : { kind: 'at', ms };
}

/** Whether an option word names an expiry of SET. */
export function isExpiryWord(option: string): option is 'EX' | 'PX' | 'EXAT' | 'PXAT' {
  return option === 'EX' || option === 'PX' || option === 'EXAT' || option === 'PXAT';
}

/**
 * When the key disappears by itself (absolute ms), or null when it does not: some live value has
 * no deadline. Each sibling expires on its own and the key exists while any is live, so this is
 * the latest deadline among the live values (the README's TTL rule, shared with the HTTP API).
 */
export function expiresAtOf(result: GetResult): number | null {
  if (!result.found) return null;
  let latest = 0;
  for (const at of result.expiresAtMs) {
    if (at === null) return null;
    latest = Math.max(latest, at);
  }
  return latest;
}

/**
 * The put options for `expiry`. `previous` is the read a KEEPTTL write made first. Returns
 * 'expired' when the expiry is already past (Redis then deletes the key).
 */
export function expiryOptions(
  expiry: Expiry,
  previous: GetResult | null,
  nowMs: number,
): Pick<PutOptions, 'ttlMs' | 'expiresAtMs'> | 'expired' {
  switch (expiry.kind) {
    case 'none':
      return {};
    case 'ttl':
      return expiry.ms <= 0 ? 'expired' : { ttlMs: expiry.ms };
    case 'at':
      return expiry.ms <= nowMs ? 'expired' : { expiresAtMs: expiry.ms };
    case 'keep': {
      const at = previous === null ? null : expiresAtOf(previous);
      if (at === null) return {};
      return at <= nowMs ? 'expired' : { expiresAtMs: at };
    }
  }
}

/** EXPIRE/PEXPIRE's NX | XX | GT | LT, against the expiry the value has (null: none). */
export function expireConditionHolds(
  condition: string,
  current: number | null,
  next: number,
): boolean {
  switch (condition) {
    case '':
      return true;
    case 'NX':
      return current === null;
    case 'XX':
      return current !== null;
    case 'GT':
      return current !== null && next > current; // no expiry counts as infinite
    case 'LT':
      return current === null || next < current;
    default:
      throw new RespError('ERR', `Unsupported option ${condition}`);
  }
}
