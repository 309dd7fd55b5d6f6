/**
 * Starting the Redis-protocol server next to the HTTP API, for `ringkv up --resp PORT` and
 * `ringkv node --resp HOST:PORT`: the same client, the cluster's value limit and quorums, the
 * admin token (AUTH) when one is set, and the process's admission bound (every key operation of
 * a command takes a permit, as an HTTP request does). A port that cannot be bound is a StartupError.
 * Made in two steps (createResp, startResp) so the HTTP server's /metrics can read its counters.
 */
import type { KvClient } from '../client/types.js';
import type { RingkvConfig } from '../config.js';
import { formatHostPort } from '../runtime/node-identity.js';
import type { AdmissionController } from '../server/admission.js';
import { admitClient } from '../server/admitted-client.js';
import { RespServer } from '../server/resp/server.js';
import { StartupError, startupExitCode } from './exit-codes.js';
import { packageVersion } from './version.js';

export interface RunningResp {
  readonly server: RespServer;
  /** `redis://host:port`, with the bound port. */
  readonly url: string;
}

/**
 * The RESP server, made but not yet listening: made before the HTTP server, so /metrics can
 * export its counters (HttpServerOptions.resp); startResp then binds it.
 */
export function createResp(
  client: KvClient,
  admission: AdmissionController,
  config: RingkvConfig,
  adminToken: string | null,
  log: (line: string) => void,
): RespServer {
  return new RespServer(admitClient(client, admission), {
    valueSizeMaxBytes: config.valueSizeMaxBytes,
    defaults: { n: config.n, r: config.r, w: config.w },
    version: packageVersion(),
    adminToken,
    durable: config.dataDir !== null,
    storageBytesMax: config.storageBytesMax,
    log,
  });
}

/** Binds `server` (from createResp) to `at`. */
export async function startResp(
  server: RespServer,
  at: { readonly host: string; readonly port: number },
): Promise<RunningResp> {
  try {
    const bound = await server.listen(at.port, at.host);
    return { server, url: `redis://${formatHostPort({ host: bound.address, port: bound.port })}` };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    const code = startupExitCode(error);
    throw new StartupError(`cannot serve RESP on ${formatHostPort(at)} (--resp): ${message}`, code);
  }
}
