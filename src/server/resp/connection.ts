/**
 * One client connection: bytes in through the parser, commands run one at a time in order
 * (Redis semantics: a pipeline's SET then GET of one key sees the SET), replies written in
 * order. Bounded everywhere:
 *
 * - parsed commands waiting to run: at queuedCommandsMax the socket stops being read until the
 *   queue is half empty (TCP backpressure to the client);
 * - replies written but not flushed: past pendingRepliesMax of them, or past
 *   RESP_PENDING_REPLY_BYTES_MAX of their bytes (a count alone lets a pipeline of GETs of large values
 *   buffer pendingRepliesMax × the value limit), the client is one that does not read; it is
 *   cut off and counted;
 * - no request for idleTimeoutMs (and none running): closed and counted;
 * - a protocol error: answered `-ERR Protocol error: …`, then closed; a command too large to
 *   serve: answered with an error, the connection goes on.
 *
 * Nothing a client sends can throw out of a socket listener.
 */
import type { Socket } from 'node:net';
import type { KvClient } from '../../client/types.js';
import { RESP_PENDING_REPLY_BYTES_MAX, type RespConfig } from '../../config.js';
import { arityFits, type RespEnv, type ServerFacts } from './command.js';
import { errorReply } from './errors.js';
import { type ParseEvent, type ParserLimits, RespRequestParser } from './parser.js';
import { encodeReply, error, type Reply } from './reply.js';
import { Session } from './session.js';
import type { RespStats } from './stats.js';

export interface ConnectionSettings {
  readonly client: KvClient;
  readonly server: ServerFacts;
  readonly limits: RespConfig;
  readonly parser: ParserLimits;
  readonly stats: RespStats;
  readonly log: (line: string) => void;
  readonly onClose: (connection: RespConnection) => void;
}

/** Arguments of an unknown command quoted back in its error, each cut to this many characters. */
const ECHOED_ARGS_MAX = 4;
const ECHOED_CHARS_MAX = 64;

export class RespConnection {
  private readonly parser: RespRequestParser;
  private readonly queue: ParseEvent[] = [];
  private readonly env: RespEnv;
  private running = false;
  private paused = false;
  private closed = false;
  private pendingReplies = 0;

  constructor(
    private readonly socket: Socket,
    readonly id: number,
    private readonly settings: ConnectionSettings,
  ) {
    this.parser = new RespRequestParser(settings.parser);
    const session = new Session(id, settings.server.adminToken !== null);
    this.env = { client: settings.client, session, server: settings.server };
    socket.setNoDelay(true);
    socket.setTimeout(settings.limits.idleTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onIdle());
    socket.on('error', () => {}); // a reset or a write to a closed peer: 'close' follows
    socket.on('close', () => this.onClosed());
  }

  get session(): Session {
    return this.env.session;
  }

  /** Closes the connection now (server shutdown). */
  destroy(): void {
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    if (this.closed) return;
    this.parser.push(chunk);
    this.parseMore();
    this.runQueue();
  }

  /** Moves parsed events into the queue up to its bound; pauses reading at the bound. */
  private parseMore(): void {
    const max = this.settings.limits.queuedCommandsMax;
    while (this.queue.length < max) {
      const event = this.parser.next();
      if (event === null) break;
      this.queue.push(event);
      if (event.kind === 'fatal') break;
    }
    if (this.queue.length >= max && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private resumeIfDrained(): void {
    if (!this.paused || this.queue.length > this.settings.limits.queuedCommandsMax / 2) return;
    this.paused = false;
    this.socket.resume();
    this.parseMore();
  }

  private runQueue(): void {
    if (this.running || this.closed) return;
    this.running = true;
    this.drain().catch((thrown: unknown) => {
      // execute() answers every error itself: reaching here is a bug; do not leave a half state.
      this.settings.log(`ringkv resp: connection ${this.id} failed: ${describe(thrown)}`);
      this.socket.destroy();
    });
  }

  private async drain(): Promise<void> {
    try {
      while (!this.closed) {
        const event = this.queue.shift();
        if (event === undefined) break;
        this.resumeIfDrained();
        const reply = await this.execute(event);
        if (this.closed) return;
        this.write(reply);
        if (event.kind === 'fatal' || this.env.session.closing) {
          this.closed = true;
          this.socket.end();
          return;
        }
      }
    } finally {
      this.running = false;
    }
  }

  private async execute(event: ParseEvent): Promise<Reply> {
    const { stats } = this.settings;
    if (event.kind === 'fatal') {
      stats.protocolErrors++;
      return error('ERR', event.message);
    }
    stats.commands++;
    if (event.kind === 'refused') {
      stats.refused++;
      stats.errors++;
      return error('ERR', event.message);
    }
    const reply = await this.run(event.args);
    if (reply.t === 'error') stats.errors++;
    return reply;
  }

  private async run(args: readonly Buffer[]): Promise<Reply> {
    const name = args[0]!.toString('latin1').toLowerCase();
    const spec = this.settings.server.commands.get(name);
    if (spec === undefined) return unknownCommand(args);
    if (!arityFits(spec.arity, args.length)) {
      return error('ERR', `wrong number of arguments for '${name}' command`);
    }
    if (!this.env.session.authenticated && spec.noAuth !== true) {
      return error('NOAUTH', 'Authentication required.');
    }
    try {
      return await spec.handler(args, this.env);
    } catch (thrown) {
      const { reply, unexpected } = errorReply(thrown);
      if (unexpected) this.settings.log(`ringkv resp: ${name} failed: ${describe(thrown)}`);
      return reply;
    }
  }

  private write(reply: Reply): void {
    const bytes = encodeReply(reply, this.env.session.proto);
    this.pendingReplies++;
    this.socket.write(bytes, () => {
      this.pendingReplies--;
    });
    const { pendingRepliesMax } = this.settings.limits;
    const pendingBytes = this.socket.writableLength;
    if (this.pendingReplies > pendingRepliesMax || pendingBytes > RESP_PENDING_REPLY_BYTES_MAX) {
      this.settings.stats.slowReadersCutOff++;
      this.settings.log(
        `ringkv resp: connection ${this.id} cut off: ${this.pendingReplies} replies (${pendingBytes} bytes) not read (limits ${pendingRepliesMax} replies, ${RESP_PENDING_REPLY_BYTES_MAX} bytes)`,
      );
      this.closed = true;
      this.socket.destroy();
    }
  }

  private onIdle(): void {
    if (this.running || this.queue.length > 0 || this.closed) return;
    this.settings.stats.idleClosed++;
    this.closed = true;
    this.socket.destroy();
  }

  private onClosed(): void {
    this.closed = true;
    this.queue.length = 0;
    this.settings.onClose(this);
  }
}

/** Redis's `-ERR unknown command 'x', with args beginning with: 'a' 'b' `. */
function unknownCommand(args: readonly Buffer[]): Reply {
  const quote = (arg: Buffer) => `'${arg.toString('utf8').slice(0, ECHOED_CHARS_MAX)}'`;
  const rest = args
    .slice(1, 1 + ECHOED_ARGS_MAX)
    .map((arg) => `${quote(arg)} `)
    .join('');
  return error('ERR', `unknown command ${quote(args[0]!)}, with args beginning with: ${rest}`);
}

function describe(thrown: unknown): string {
  return thrown instanceof Error ? (thrown.stack ?? thrown.message) : String(thrown);
}
