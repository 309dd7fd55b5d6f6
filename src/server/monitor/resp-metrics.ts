/**
 * A RESP server's counters as Prometheus series (names in metrics.ts), read from its stats at
 * each scrape: nothing is observed per command. Registered only for a process that serves RESP.
 */
import { Gauge, type Registry } from 'prom-client';
import { scrapedCounter } from './scraped-counter.js';

/** The counters the series read: server/resp/stats.ts's RespStats has this shape. */
export interface RespCounters {
  readonly connectionsAccepted: number;
  readonly connectionsRejected: number;
  readonly commands: number;
  readonly errors: number;
  readonly refused: number;
  readonly protocolErrors: number;
  readonly slowReadersCutOff: number;
  readonly idleClosed: number;
}

/** What the series read: server/resp/server.ts's RespServer has this shape. */
export interface RespSource {
  /** Connections open now. */
  readonly clients: number;
  readonly stats: RespCounters;
}

/** Each counter series: its name, HELP text and the RespCounters field it reads. */
const COUNTERS: readonly (readonly [string, string, keyof RespCounters])[] = [
  ['ringkv_resp_connections_accepted_total', 'RESP connections accepted.', 'connectionsAccepted'],
  [
    'ringkv_resp_connections_rejected_total',
    'RESP connections refused at the clients limit (RespConfig clientsMax).',
    'connectionsRejected',
  ],
  ['ringkv_resp_commands_total', 'RESP commands received, refused ones included.', 'commands'],
  [
    'ringkv_resp_error_replies_total',
    'RESP commands answered with an error reply (unknown command, bad input, cluster errors).',
    'errors',
  ],
  [
    'ringkv_resp_commands_refused_total',
    'RESP commands refused unread because an argument or the command was too large.',
    'refused',
  ],
  [
    'ringkv_resp_protocol_errors_total',
    'RESP connections closed on a protocol error.',
    'protocolErrors',
  ],
  [
    'ringkv_resp_slow_readers_cut_off_total',
    'RESP clients cut off for not reading their replies (pending replies past the limit).',
    'slowReadersCutOff',
  ],
  [
    'ringkv_resp_idle_closed_total',
    'RESP connections closed after the idle timeout without a request.',
    'idleClosed',
  ],
];

/** Registers the ringkv_resp_* series of `resp` in `registry`. */
export function watchResp(registry: Registry, resp: RespSource): void {
  const registers = [registry];
  new Gauge({
    name: 'ringkv_resp_clients',
    help: 'RESP connections open now.',
    registers,
    collect() {
      this.set(resp.clients);
    },
  });
  for (const [name, help, field] of COUNTERS) {
    scrapedCounter(registry, name, help, () => resp.stats[field]);
  }
}
