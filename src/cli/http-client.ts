/**
 * The CLI's HTTP calls to a running cluster: one bounded exchange each (callApi), network
 * failures mapped to
 * exit code 3 and error replies mapped by status (exit-codes.ts) with the server's message.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import https from 'node:https';
import { exchange, type HttpMethod, LinkError } from '../client/http-exchange.js';
import { TimeoutError } from '../errors.js';
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
 * One HTTP exchange, through the remote client's (client/http-exchange.ts): node:http rather
 * than fetch, whose WHATWG URL parsing folds a path segment `.` or `..` (encoded or not) away,
 * so the keys `.` and `..` could never be reached; a deadline on the whole exchange; a bounded
 * reply. No keep-alive: a CLI call is one request, and an idle socket would hold the exit back.
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
  const agent = base.protocol === 'https:' ? new https.Agent() : new http.Agent();
  try {
    const answer = await exchange({
      base: base.origin,
      method: method as HttpMethod,
      path: `${prefix}${path}`,
      headers,
      ...(body === undefined ? {} : { body }),
      timeoutMs: target.timeoutMs,
      agent,
    });
    return { status: answer.status, headers: headersOf(answer.headers), body: answer.body };
  } catch (error) {
    throw unreachable(target, error);
  } finally {
    agent.destroy();
  }
}

function headersOf(incoming: IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
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
  const code = error instanceof LinkError ? error.code : undefined;
  if (error instanceof TimeoutError || code === 'ETIMEDOUT') {
    return new CliError(
      `no answer from ${target.url} within ${target.timeoutMs} ms (raise it with --timeout)`,
      EXIT_UNREACHABLE,
    );
  }
  const reason = code ?? (error instanceof Error ? error.message : String(error));
  return new CliError(
    `cannot reach the cluster at ${target.url}: ${reason} (is \`ringkv up\` running? set --url or RINGKV_URL)`,
    EXIT_UNREACHABLE,
  );
}
