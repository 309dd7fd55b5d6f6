/**
 * ringkv's own commands, for what Redis has no words for:
 *
 *   RINGKV.CONFIG SET r|w|pr|pw <n>|default   this connection's quorum for later commands
 *   RINGKV.CONFIG GET r|w|pr|pw|*             the quorum in force (the cluster default if unset)
 *   RINGKV.SIBLINGS key                       every live sibling and the causal context
 *   RINGKV.PUT key value context              a write that supersedes exactly what `context` saw
 */
import { keyOf, word } from './args.js';
import type { Handler, RespEnv } from './command.js';
import { array, bulk, int, map, NULL, OK, type Reply, RespError } from './reply.js';
import { QUORUM_NAMES, type QuorumName } from './session.js';

export const config: Handler = (args, env) => {
  const sub = word(args[1]);
  if (sub === 'GET' && args.length === 3) {
    const asked = args[2]!.toString('latin1').toLowerCase();
    const names = asked === '*' ? QUORUM_NAMES : QUORUM_NAMES.filter((name) => name === asked);
    return map(names.map((name) => [name, bulk(String(quorumInForce(env, name)))] as const));
  }
  if (sub === 'SET' && args.length === 4) {
    const name = args[2]!.toString('latin1').toLowerCase() as QuorumName;
    if (!QUORUM_NAMES.includes(name)) {
      throw new RespError(
        'ERR',
        `unknown parameter '${args[2]!.toString('utf8')}'; use r, w, pr or pw`,
      );
    }
    env.session.setQuorum(name, quorumValue(env, name, args[3]!.toString('latin1')));
    return OK;
  }
  throw new RespError(
    'ERR',
    "unknown subcommand or wrong number of arguments for 'RINGKV.CONFIG'; use RINGKV.CONFIG GET <name> or RINGKV.CONFIG SET <name> <value>",
  );
};

function quorumInForce(env: RespEnv, name: QuorumName): number {
  const set = env.session.quorumOf(name);
  if (set !== null) return set;
  const { r, w } = env.server.defaults;
  return name === 'r' ? r : name === 'w' ? w : 0;
}

/** `default` (unset), or 1..n for r and w, 0..n for pr and pw (checked against r/w per request). */
function quorumValue(env: RespEnv, name: QuorumName, text: string): number | null {
  if (text.toLowerCase() === 'default') return null;
  const { n } = env.server.defaults;
  const min = name === 'r' || name === 'w' ? 1 : 0;
  const value = /^[0-9]{1,3}$/.test(text) ? Number(text) : Number.NaN;
  if (!(value >= min && value <= n)) {
    throw new RespError(
      'ERR',
      `${name} must be an integer between ${min} and n=${n}, or 'default'`,
    );
  }
  return value;
}

/**
 * RINGKV.SIBLINGS key → {context, values, expires_at_ms} (a flat array in RESP2): every live
 * sibling in dot order (GET answers with the last), each one's expiry (null: none) and the
 * context to pass to RINGKV.PUT.
 */
export const siblings: Handler = async (args, env) => {
  const result = await env.client.get(keyOf(args[1]!), env.session.readOptions());
  const expires: Reply[] = result.values.map((_, i) => {
    const at = result.expiresAtMs[i] ?? null;
    return at === null ? NULL : int(at);
  });
  return map([
    ['context', bulk(result.context)],
    ['values', array(result.values.map((value) => bulk(value)))],
    ['expires_at_ms', array(expires)],
  ]);
};

/** RINGKV.PUT key value context: supersedes exactly the versions `context` covers ("" for none). */
export const put: Handler = async (args, env) => {
  const context = args[3]!.toString('latin1');
  await env.client.put(keyOf(args[1]!), args[2]!, {
    ...env.session.writeOptions(),
    ...(context === '' ? {} : { context }),
  });
  return OK;
};
