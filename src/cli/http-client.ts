/**
 * The CLI's HTTP calls to a running cluster: global fetch with a hard timeout on the whole
 * exchange (AbortSignal.timeout covers connect, headers and body), network failures mapped to
 * exit code 3 and error replies mapped by status (exit-codes.ts) with the server's message.
 */
import http from 'node:http';
import https from 'node:https';
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

/**
 * One HTTP exchange. node:http rather than fetch: fetch parses the URL the WHATWG way, which
 * folds a path segment `.` or `..` (encoded or not) away, so the keys `.` and `..` could never
 * be reached; here the path goes on the wire exactly as built.
 */
export async function callApi(
  target: ApiTarget,
  method: string,
  path: string,
  request: ApiRequest = {},
): Promise<ApiReply> {
  const base = new URL(target.url);
  const prefix = base.pathname.replace(/\/+$/, '');
  const headers: Record<string, string> = {
    // Marks the call as no browser form's: the server refuses admin POSTs without it.
    'x-ringkv-request': 'cli',
    ...(target.token ? { authorization: `Bearer ${target.token}` } : {}),
    ...request.headers,
  };
  const body = request.body === undefined ? undefined : Buffer.from(request.body);
  if (body !== undefined) headers['content-length'] = String(body.length);
  try {
    return await exchange(base, { method, path: `${prefix}${path}`, headers }, body, target);
  } catch (error) {
    throw unreachable(target, error);
  }
}

function exchange(
  base: URL,
  options: { method: string; path: string; headers: Record<string, string> },
  body: Buffer | undefined,
  target: ApiTarget,
): Promise<ApiReply> {
  const send = base.protocol === 'https:' ? https.request : http.request;
  return new Promise<ApiReply>((resolve, reject) => {
    const req = send(
      {
        ...options,
        host: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port === '' ? undefined : Number(base.port),
        // Covers connect, headers and body: the whole exchange.
        signal: AbortSignal.timeout(target.timeoutMs),
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const replyHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (value === undefined) continue;
            for (const v of Array.isArray(value) ? value : [value]) replyHeaders.append(name, v);
          }
          resolve({
            status: res.statusCode ?? 0,
            headers: replyHeaders,
            body: Buffer.concat(chunks),
          });
        });
      },
    );
    req.on('error', reject);
    req.end(body);
  });
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

/** node:http rejects with an AbortError whose cause is the signal's TimeoutError. */
function isTimeoutAbort(error: Error): boolean {
  return error.name === 'AbortError' && (error.cause as Error | undefined)?.name === 'TimeoutError';
}

function unreachable(target: ApiTarget, error: unknown): CliError {
  if (error instanceof Error && (error.name === 'TimeoutError' || isTimeoutAbort(error))) {
    return new CliError(
      `no answer from ${target.url} within ${target.timeoutMs} ms (raise it with --timeout)`,
      EXIT_UNREACHABLE,
    );
  }
  const cause =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined) : undefined;
  const own = (error as { code?: unknown } | undefined)?.code;
  const reason =
    typeof own === 'string'
      ? own
      : typeof cause?.code === 'string'
        ? cause.code
        : error instanceof Error
          ? error.message
          : String(error);
  return new CliError(
    `cannot reach the cluster at ${target.url}: ${reason} (is \`ringkv up\` running? set --url or RINGKV_URL)`,
    EXIT_UNREACHABLE,
  );
}
