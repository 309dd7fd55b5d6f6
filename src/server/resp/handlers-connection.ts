/**
 * Connection and server commands: PING, ECHO, HELLO, AUTH, SELECT, CLIENT, COMMAND, INFO, QUIT.
 * Enough of each for redis-cli, ioredis and redis-benchmark to connect and run unchanged.
 */
import { tokenMatches } from '../../util/token.js';
import { integerOf, word } from './args.js';
import type { CommandSpec, Handler, RespEnv } from './command.js';
import { array, bulk, int, map, NULL, OK, type Reply, RespError, simple } from './reply.js';

/** The Redis version whose commands and replies this front end follows (HELLO, INFO). */
export const REDIS_COMPAT_VERSION = '7.2.0';

export const ping: Handler = (args) => (args.length === 2 ? bulk(args[1]!) : simple('PONG'));

export const echo: Handler = (args) => bulk(args[1]!);

export const quit: Handler = (_args, env) => {
  env.session.closing = true;
  return OK;
};

export const select: Handler = (args) => {
  if (integerOf(args[1]!) !== 0) throw new RespError('ERR', 'DB index is out of range');
  return OK;
};

/** AUTH [username] password: the admin token; the only user is `default`. */
export const auth: Handler = (args, env) => {
  const [user, password] = args.length === 3 ? [args[1]!, args[2]!] : [null, args[1]!];
  authenticate(env, user === null ? 'default' : user.toString('utf8'), password.toString('utf8'));
  return OK;
};

function authenticate(env: RespEnv, user: string, password: string): void {
  const token = env.server.adminToken;
  if (token === null) {
    throw new RespError(
      'ERR',
      'AUTH <password> called without any password configured for the default user (ringkv: no admin token is set)',
    );
  }
  if (user !== 'default' || !tokenMatches(password, token)) {
    throw new RespError('WRONGPASS', 'invalid username-password pair or user is disabled.');
  }
  env.session.authenticated = true;
}

/** HELLO [protover [AUTH username password] [SETNAME clientname]] */
export const hello: Handler = (args, env) => {
  const { session } = env;
  let proto = session.proto;
  let i = 1;
  if (args.length > 1) {
    const asked = args[1]!.toString('latin1');
    if (asked !== '2' && asked !== '3') {
      throw new RespError('NOPROTO', 'unsupported protocol version');
    }
    proto = asked === '3' ? 3 : 2;
    i = 2;
  }
  let name: string | null = null;
  while (i < args.length) {
    const option = word(args[i]);
    if (option === 'AUTH' && i + 2 < args.length) {
      if (env.server.adminToken !== null) {
        authenticate(env, args[i + 1]!.toString('utf8'), args[i + 2]!.toString('utf8'));
      }
      i += 3;
    } else if (option === 'SETNAME' && i + 1 < args.length) {
      name = clientName(args[i + 1]!);
      i += 2;
    } else {
      throw new RespError('ERR', `Syntax error in HELLO option '${args[i]!.toString('utf8')}'`);
    }
  }
  if (!session.authenticated) {
    throw new RespError(
      'NOAUTH',
      'HELLO must be called with the client already authenticated, otherwise the HELLO <proto> AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  session.proto = proto;
  if (name !== null) session.name = name;
  return map([
    ['server', bulk('ringkv')],
    ['version', bulk(REDIS_COMPAT_VERSION)],
    ['proto', int(proto)],
    ['id', int(session.id)],
    ['mode', bulk('standalone')],
    ['role', bulk('master')],
    ['modules', array([])],
  ]);
};

function clientName(arg: Buffer): string | null {
  const name = arg.toString('utf8');
  if (/[\s]/.test(name)) {
    throw new RespError(
      'ERR',
      'Client names cannot contain spaces, newlines or special characters.',
    );
  }
  return name === '' ? null : name;
}

/** CLIENT ID | GETNAME | SETNAME name | SETINFO LIB-NAME|LIB-VER value */
export const client: Handler = (args, env) => {
  const { session } = env;
  const sub = word(args[1]);
  if (sub === 'ID' && args.length === 2) return int(session.id);
  if (sub === 'GETNAME' && args.length === 2) {
    return session.name === null ? NULL : bulk(session.name);
  }
  if (sub === 'SETNAME' && args.length === 3) {
    session.name = clientName(args[2]!);
    return OK;
  }
  if (sub === 'SETINFO' && args.length === 4) {
    const attribute = word(args[2]);
    const value = args[3]!.toString('utf8');
    if (attribute === 'LIB-NAME') session.libName = value;
    else if (attribute === 'LIB-VER') session.libVersion = value;
    else throw new RespError('ERR', `Unrecognized option '${args[2]!.toString('utf8')}'`);
    return OK;
  }
  throw new RespError(
    'ERR',
    `unknown subcommand or wrong number of arguments for 'CLIENT|${args[1]?.toString('utf8') ?? ''}'; ringkv supports CLIENT ID, GETNAME, SETNAME, SETINFO`,
  );
};

/** COMMAND | COMMAND COUNT | COMMAND INFO name… | COMMAND DOCS [name…] */
export const command: Handler = (args, env) => {
  const table = env.server.commands;
  const sub = word(args[1]);
  if (args.length === 1) return array([...table.values()].map(commandInfo));
  if (sub === 'COUNT' && args.length === 2) return int(table.size);
  if (sub === 'INFO') {
    const names = args.slice(2).map((a) => a.toString('utf8').toLowerCase());
    const specs = names.length === 0 ? [...table.values()] : names.map((n) => table.get(n));
    return array(specs.map((spec) => (spec === undefined ? NULL : commandInfo(spec))));
  }
  if (sub === 'DOCS') {
    const names = args.slice(2).map((a) => a.toString('utf8').toLowerCase());
    const specs =
      names.length === 0 ? [...table.values()] : names.flatMap((n) => table.get(n) ?? []);
    return map(specs.map((spec) => [spec.name, commandDocs(spec)] as const));
  }
  throw new RespError(
    'ERR',
    `unknown subcommand '${args[1]!.toString('utf8')}'; ringkv supports COMMAND, COMMAND COUNT, COMMAND INFO, COMMAND DOCS`,
  );
};

/** Redis 7's COMMAND entry: name, arity, flags, keys, then ACL categories, tips, key specs, subcommands. */
function commandInfo(spec: CommandSpec): Reply {
  return array([
    bulk(spec.name),
    int(spec.arity),
    array(spec.flags.map(simple)),
    int(spec.firstKey),
    int(spec.lastKey),
    int(spec.step),
    array([]),
    array([]),
    array([]),
    array([]),
  ]);
}

function commandDocs(spec: CommandSpec): Reply {
  return map([
    ['summary', bulk(spec.summary)],
    ['since', bulk('1.0.0')],
    ['group', bulk(spec.firstKey > 0 ? 'string' : 'connection')],
  ]);
}

/** INFO [section…]: what clients look for (ioredis's ready check reads `loading`). */
export const info: Handler = (args, env) => {
  const asked = new Set(args.slice(1).map((a) => a.toString('latin1').toLowerCase()));
  const all =
    asked.size === 0 || asked.has('all') || asked.has('everything') || asked.has('default');
  const uptimeS = Math.floor((Date.now() - env.server.startedAtMs) / 1000);
  const sections: Array<[string, string[]]> = [
    [
      'server',
      [
        `redis_version:${REDIS_COMPAT_VERSION}`,
        `ringkv_version:${env.server.version}`,
        'redis_mode:standalone',
        `process_id:${process.pid}`,
        `uptime_in_seconds:${uptimeS}`,
      ],
    ],
    ['clients', [`connected_clients:${env.server.clients()}`]],
    ['persistence', ['loading:0']],
    ['stats', statsLines(env)],
    ['replication', ['role:master', 'connected_slaves:0']],
    [
      'ringkv',
      [
        `ringkv_n:${env.server.defaults.n}`,
        `ringkv_r:${env.server.defaults.r}`,
        `ringkv_w:${env.server.defaults.w}`,
      ],
    ],
  ];
  const text = sections
    .filter(([name]) => all || asked.has(name))
    .map(
      ([name, lines]) => `# ${name[0]!.toUpperCase()}${name.slice(1)}\r\n${lines.join('\r\n')}\r\n`,
    )
    .join('\r\n');
  return bulk(text);
};

function statsLines(env: RespEnv): string[] {
  const stats = env.server.stats;
  return [
    `total_connections_received:${stats.connectionsAccepted}`,
    `total_commands_processed:${stats.commands}`,
    `rejected_connections:${stats.connectionsRejected}`,
    `total_error_replies:${stats.errors}`,
    `ringkv_refused_commands:${stats.refused}`,
    `ringkv_protocol_errors:${stats.protocolErrors}`,
    `client_output_buffer_limit_disconnections:${stats.slowReadersCutOff}`,
    `ringkv_idle_closed:${stats.idleClosed}`,
  ];
}
