/**
 * The CLI's HTTP calls to a running cluster: global fetch with a hard timeout on the whole
 * exchange (AbortSignal.timeout covers connect, headers and body), network failures mapped to
 * exit code 3 and error replies mapped by status (exit-codes.ts) with the server's message.
 */
import { CliError, EXIT_CLUSTER, EXIT_UNREACHABLE, exitCodeForStatus } from './exit-codes.js';

/** Where the cluster's API is and how long one call may take. */
export interface ApiTarget {
  readonly url: string;
  readonly timeoutMs: number;
  /** Sent as a bearer token (the server requires it on /admin routes when it has one). */
  readonly token?: string | null;
}

export interface ApiReply {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Buffer;
}

export interface ApiRequest {
  readonly body?: Uint8Array | string;
  readonly headers?: Readonly<Record<string, string>>;
}

export async function callApi(
  target: ApiTarget,
  method: string,
  path: string,
  request: ApiRequest = {},
): Promise<ApiReply> {
  const url = `${target.url.replace(/\/+$/, '')}${path}`;
  try {
    const response = await fetch(url, {
      method,
      ...(request.body === undefined ? {} : { body: request.body }),
      headers: {
        // Marks the call as no browser form's: the server refuses admin POSTs without it.
        'x-ringkv-request': 'cli',
        ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
        ...request.headers,
      },
      signal: AbortSignal.timeout(target.timeoutMs),
    });
    const body = Buffer.from(await response.arrayBuffer());
    return { status: response.status, headers: response.headers, body };
  } catch (error) {
    throw unreachable(target, error);
  }
}

/** Throws a CliError for any status not in `ok`, with the server's message and code. */
export function expectStatus(reply: ApiReply, ok: readonly number[], what: string): void {
  if (ok.includes(reply.status)) return;
  const { message, code } = errorOf(reply);
  const detail = code === undefined ? `HTTP ${reply.status}` : `HTTP ${reply.status} ${code}`;
  throw new CliError(`${what}: ${message} (${detail})`, exitCodeForStatus(reply.status));
}

/** The reply body parsed as JSON; a body that is not JSON means this is no ringkv server. */
export function jsonOf<T>(reply: ApiReply): T {
  try {
    return JSON.parse(reply.body.toString('utf8')) as T;
  } catch {
    throw new CliError(`expected JSON from the server, got HTTP ${reply.status}`, EXIT_CLUSTER);
  }
}

/** The `code` of an error reply's JSON body, if it has one. */
export function errorCodeOf(reply: ApiReply): string | undefined {
  return errorOf(reply).code;
}

function errorOf(reply: ApiReply): { message: string; code?: string } {
  try {
    const parsed = JSON.parse(reply.body.toString('utf8')) as { error?: unknown; code?: unknown };
    if (typeof parsed.error === 'string') {
      return typeof parsed.code === 'string'
        ? { message: parsed.error, code: parsed.code }
        : { message: parsed.error };
    }
  } catch {
    // not JSON: fall through
  }
  return { message: reply.body.toString('utf8').slice(0, 200) || 'no details' };
}

function unreachable(target: ApiTarget, error: unknown): CliError {
  if (error instanceof Error && error.name === 'TimeoutError') {
    return new CliError(
      `no answer from ${target.url} within ${target.timeoutMs} ms (raise it with --timeout)`,
      EXIT_UNREACHABLE,
    );
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const reason =
    typeof cause?.code === 'string'
      ? cause.code
      : error instanceof Error
        ? error.message
        : String(error);
  return new CliError(
    `cannot reach the cluster at ${target.url}: ${reason} (is \`ringkv up\` running? set --url or RINGKV_URL)`,
    EXIT_UNREACHABLE,
  );
}
