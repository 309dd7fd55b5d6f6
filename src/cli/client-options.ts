/**
 * Options every client command shares: where the cluster is (`--url`, env RINGKV_URL), how
 * long one HTTP call may take (`--timeout`), and the admin token (`--token`, env
 * RINGKV_ADMIN_TOKEN) a cluster listening beyond loopback requires.
 */
import { type Command, Option } from 'commander';
import { TIMEOUT_MS_MAX } from '../config.js';
import type { ApiTarget } from './http-client.js';
import { durationMs } from './units.js';
import { usageError } from './up-options.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';
/** Above the server's own request deadline (request timeout + slack + body read, 8 s). */
export const DEFAULT_TIMEOUT_MS = 10_000;

export interface ClientFlags {
  readonly url: string;
  readonly timeout: number;
  readonly token?: string;
}

/** A commander parser: an http(s) URL. */
export function httpUrl(value: string): string {
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw usageError('Must be a URL such as http://127.0.0.1:8080.');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw usageError('Must be an http:// or https:// URL.');
  }
  return value;
}

export function addClientOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--url <url>', 'the cluster API')
        .env('RINGKV_URL')
        .default(DEFAULT_URL)
        .argParser(httpUrl),
    )
    .addOption(
      new Option('--timeout <duration>', 'give up on an HTTP call after this long (e.g. 10s)')
        .default(DEFAULT_TIMEOUT_MS, '10s')
        .argParser(durationMs(TIMEOUT_MS_MAX)),
    )
    .addOption(
      new Option('--token <token>', 'admin token for a cluster that requires one').env(
        'RINGKV_ADMIN_TOKEN',
      ),
    );
}

export function targetOf(flags: ClientFlags): ApiTarget {
  const token = flags.token === undefined || flags.token === '' ? null : flags.token;
  return { url: flags.url, timeoutMs: Math.max(1, flags.timeout), token };
}
