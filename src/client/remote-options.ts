/**
 * `connect()`'s options, checked before any socket opens: node URLs (http or https, no path,
 * no credentials), an optional bearer token, a default request timeout and TLS material.
 * Nothing here is logged; the token never appears in an error message.
 */
import { REMOTE_NODES_MAX } from '../config.js';
import { ValidationError } from '../errors.js';
import type { ClusterStatus } from './types.js';
import { validateIntegerIn, validateTimeout } from './validate.js';

/**
 * TLS for `https://` nodes (node:tls options of the same names). PEM as a string or bytes (a
 * Buffer is a Uint8Array): the public types name no Node type, so users need no @types/node.
 */
export interface RemoteTlsOptions {
  /** CA certificate(s) to trust, PEM. @default Node's bundled CAs */
  readonly ca?: Pem | readonly Pem[];
  /** Client certificate, PEM, for nodes that ask for one. */
  readonly cert?: Pem;
  /** The client certificate's private key, PEM. */
  readonly key?: Pem;
  /** Verify the node's certificate. @default true */
  readonly rejectUnauthorized?: boolean;
}

export type Pem = string | Uint8Array;

export interface ConnectOptions {
  /** Base URLs of the nodes' HTTP APIs, e.g. `http://127.0.0.1:8080` (1..64). */
  readonly nodes: readonly string[];
  /** Sent as `Authorization: Bearer <token>` on every request. @default none */
  readonly token?: string;
  /** Default whole-call budget (1..600000 ms). @default the cluster's requestTimeoutMs */
  readonly timeoutMs?: number;
  readonly tls?: RemoteTlsOptions;
}

export interface RemoteSettings {
  /** Normalised `scheme://host:port`, in the order given, without duplicates. */
  readonly nodes: readonly string[];
  readonly token: string | undefined;
  readonly timeoutMs: number | undefined;
  readonly tls: {
    ca?: Pem | Pem[];
    cert?: Pem;
    key?: Pem;
    rejectUnauthorized?: boolean;
  };
}

/** Printable ASCII without spaces: a header value that cannot smuggle a second header. */
const TOKEN_PATTERN = /^[\x21-\x7e]{1,4096}$/;

export function settingsOf(options: ConnectOptions): RemoteSettings {
  if (typeof options !== 'object' || options === null) {
    throw new ValidationError('connect() takes an options object with `nodes`');
  }
  const { nodes, token, timeoutMs, tls } = options;
  if (!Array.isArray(nodes)) throw new ValidationError('nodes must be an array of URLs');
  validateIntegerIn('the number of nodes', nodes.length, 1, REMOTE_NODES_MAX);
  if (token !== undefined && (typeof token !== 'string' || !TOKEN_PATTERN.test(token))) {
    throw new ValidationError('token must be 1..4096 printable ASCII characters without spaces');
  }
  return {
    nodes: [...new Set(nodes.map(nodeUrl))],
    token,
    timeoutMs: timeoutMs === undefined ? undefined : validateTimeout(timeoutMs, 0),
    tls: tlsOf(tls),
  };
}

function nodeUrl(raw: unknown): string {
  if (typeof raw !== 'string') throw new ValidationError('each node must be a URL string');
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ValidationError(`not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`node URL must be http: or https:, got ${url.protocol}`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ValidationError('node URLs must not carry credentials; pass `token` instead');
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
    throw new ValidationError(`node URL must have no path or query: ${url.origin}`);
  }
  return url.origin;
}

function tlsOf(tls: RemoteTlsOptions | undefined): RemoteSettings['tls'] {
  if (tls === undefined) return {};
  if (typeof tls !== 'object' || tls === null) throw new ValidationError('tls must be an object');
  const pem = (name: string, value: unknown) => {
    if (value !== undefined && typeof value !== 'string' && !(value instanceof Uint8Array)) {
      throw new ValidationError(`tls.${name} must be a PEM string or bytes`);
    }
  };
  const cas = Array.isArray(tls.ca) ? tls.ca : [tls.ca];
  for (const ca of cas) pem('ca', ca);
  pem('cert', tls.cert);
  pem('key', tls.key);
  const reject = tls.rejectUnauthorized;
  if (reject !== undefined && typeof reject !== 'boolean') {
    throw new ValidationError('tls.rejectUnauthorized must be a boolean');
  }
  return {
    ...(tls.ca === undefined ? {} : { ca: Array.isArray(tls.ca) ? [...tls.ca] : tls.ca }),
    ...(tls.cert === undefined ? {} : { cert: tls.cert }),
    ...(tls.key === undefined ? {} : { key: tls.key }),
    ...(reject === undefined ? {} : { rejectUnauthorized: reject }),
  } as RemoteSettings['tls'];
}

/** The limits a client validates by, from a node's `/status`; a malformed one is refused. */
export function clusterConfigOf(status: ClusterStatus): {
  n: number;
  r: number;
  w: number;
  requestTimeoutMs: number;
  valueSizeMaxBytes: number;
} {
  const config = (status as { config?: Record<string, unknown> } | null)?.config;
  const field = (name: string): number => {
    const value = config?.[name];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) {
      throw new ValidationError(`the node's /status has no valid config.${name}; is it ringkv?`);
    }
    return value;
  };
  return {
    n: field('n'),
    r: field('r'),
    w: field('w'),
    requestTimeoutMs: field('requestTimeoutMs'),
    valueSizeMaxBytes: field('valueSizeMaxBytes'),
  };
}
