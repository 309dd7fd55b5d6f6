/**
 * CONFIG, read-only: what tools ask a Redis server about itself, answered from ringkv's facts.
 * redis-benchmark asks `CONFIG GET save` and `appendonly` before every run, and client libraries
 * and dashboards read `maxmemory-policy`, `databases` or `timeout`; an error there was the only
 * error reply of a whole benchmark run. ringkv's settings are its command-line flags, so
 * CONFIG SET, RESETSTAT and REWRITE are refused with an error that says where they live.
 *
 *   CONFIG GET pattern [pattern …]   name/value pairs of the parameters matching any pattern
 *                                    (Redis globs, glob.ts, case-insensitive; an unknown
 *                                    name matches nothing, as in Redis)
 */
import { word } from './args.js';
import type { Handler, ServerFacts } from './command.js';
import { globMatcher } from './glob.js';
import { bulk, map, RespError } from './reply.js';

/** The Redis parameters ringkv answers, in the order CONFIG GET lists them. */
export function redisParameters(facts: {
  readonly durable: boolean;
  readonly clientsMax: number;
  readonly idleTimeoutMs: number;
  readonly bulkBytesMax: number;
  /** Each node's bound on the bytes of records it holds (storageBytesMax); 0: none. */
  readonly storageBytesMax?: number;
}): ReadonlyArray<readonly [name: string, value: string]> {
  return [
    // Durable ringkv fsyncs every write before it acknowledges it: Redis's AOF with fsync always.
    ['appendonly', facts.durable ? 'yes' : 'no'],
    ['appendfsync', facts.durable ? 'always' : 'no'],
    ['save', ''], // no RDB snapshots
    ['databases', '1'],
    // Per node; past it writes get -OOM and nothing is evicted, as Redis's noeviction does.
    ['maxmemory', String(facts.storageBytesMax ?? 0)],
    ['maxmemory-policy', 'noeviction'],
    ['maxclients', String(facts.clientsMax)],
    ['timeout', String(Math.floor(facts.idleTimeoutMs / 1000))],
    ['proto-max-bulk-len', String(facts.bulkBytesMax)],
  ];
}

export const config: Handler = (args, env) => {
  const sub = word(args[1]);
  if (sub === 'GET') {
    if (args.length < 3) {
      throw new RespError('ERR', "wrong number of arguments for 'config|get' command");
    }
    const patterns = args.slice(2).map((arg) => globMatcher(arg.toString('latin1')));
    return map(matching(env.server, patterns).map(([name, value]) => [name, bulk(value)]));
  }
  throw new RespError(
    'ERR',
    `CONFIG ${args[1]!.toString('latin1').slice(0, 32)} is not supported: ringkv's settings are its command-line flags (ringkv up --help); per-connection quorums: RINGKV.CONFIG SET`,
  );
};

function matching(server: ServerFacts, patterns: readonly ((name: string) => boolean)[]) {
  return server.redisParameters.filter(([name]) => patterns.some((matches) => matches(name)));
}
