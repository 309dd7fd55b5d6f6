/**
 * The command language of the golden scenarios (test/core/testdata/*.txt). One command per
 * line: a name, positional arguments, then `key=value` options. Every command returns the
 * trace lines it caused (see cluster.ts), or `ok` when it caused none.
 *
 *   cluster nodes=5 n=3 partitions=16 gossip=off [<limit>=<number> ...]
 *       limits: numeric CoreLimits fields, and with gossip=on the SWIM config's fields
 *   put <node> <key> <value> [w=2] [pw=0] [ctx=reqN] [rid=<id>] [supersede=local] [timeout=1000]
 *   delete <node> <key> [w=2] [pw=0] [ctx=reqN] [rid=<id>] [timeout=1000]
 *   get <node> <key> [r=2] [pr=0] [timeout=1000]
 *   add-node <new node> via=<node>           boot the node and ask `via` to join it
 *   remove-node <node> via=<node> [mode=leave|remove]
 *   ring-status <node>
 *   deliver|drop [from=<node>] [to=<node>] [type=<message type>] [count=<n>]
 *   persist [<node> ...]                     complete pending persists (all nodes by default)
 *   settle                                   deliver and persist until nothing is pending
 *   advance <ms> [settle]                    fire timers due in <ms>, settling after each
 *   tick [settle]                            advance to the next due timer
 *   crash <node> | restart <node>
 *   isolate <node> ... | heal [<node> ...]   drop every message to or from the node
 *   report <peer> up|down [to=<node>,...]    the runtime tells nodes a peer stopped/started
 *   stats <node|all> <field> ...             NodeStats fields
 *   read <node> <key>                        the node's local record (pending writes included)
 *   hints <node>                             the hints the node holds durably
 *   prefs <key> ... [via=<node>]             partition, preference list and stand-ins
 *   queue | status
 *   trace [hide=<category>,...] [show=<category>,...]   categories: message types, timer, persist
 */
import { coreLimits, DEFAULT_CONFIG } from '../../../src/config.js';
import type { ClientRequest } from '../../../src/core/messages.js';
import type { CoreLimits, NodeStats } from '../../../src/core/node.js';
import { Ring } from '../../../src/core/ring.js';
import { type NodeId, nodeId, type VersionVector } from '../../../src/core/types.js';
import { contextOf } from '../../../src/core/version.js';
import { type MessageFilter, TraceCluster } from './cluster.js';
import { describeHintKey, describeRecord } from './describe.js';

/** A parsed command line. Options are consumed as they are read; leftovers are an error. */
class Command {
  readonly name: string;
  readonly args: string[];
  private readonly options = new Map<string, string>();

  constructor(line: string) {
    const [name, ...tokens] = line.trim().split(/\s+/);
    this.name = name ?? '';
    this.args = [];
    for (const token of tokens) {
      const eq = token.indexOf('=');
      if (eq > 0) this.options.set(token.slice(0, eq), token.slice(eq + 1));
      else this.args.push(token);
    }
  }

  option(key: string): string | undefined {
    const value = this.options.get(key);
    this.options.delete(key);
    return value;
  }

  number(key: string, fallback: number): number;
  number(key: string, fallback?: number): number | undefined;
  number(key: string, fallback?: number): number | undefined {
    const raw = this.option(key);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value)) throw new Error(`${key}=${raw} is not a number`);
    return value;
  }

  arg(i: number, what: string): string {
    const value = this.args[i];
    if (value === undefined) throw new Error(`${this.name}: missing ${what}`);
    return value;
  }

  /** Every option left unread (a typo) fails the command. */
  done(): void {
    const left = [...this.options.keys()];
    if (left.length > 0) throw new Error(`${this.name}: unknown option(s) ${left.join(', ')}`);
  }

  /** Options still unread, for commands that pass them through (cluster limits). */
  rest(): Map<string, string> {
    const rest = new Map(this.options);
    this.options.clear();
    return rest;
  }
}

const encoder = new TextEncoder();

export class Scenario {
  private cluster: TraceCluster | null = null;

  /** Runs one command line and returns its output lines. */
  run(line: string): string[] {
    const command = new Command(line);
    const handler = this.handlers[command.name];
    if (handler === undefined) throw new Error(`unknown command ${command.name}`);
    const own = handler(command) ?? [];
    command.done();
    const lines = [...(this.cluster?.take() ?? []), ...own];
    return lines.length === 0 ? ['ok'] : lines;
  }

  private get net(): TraceCluster {
    if (this.cluster === null) throw new Error('no cluster yet: start with `cluster`');
    return this.cluster;
  }

  private node(name: string): NodeId {
    const id = nodeId(name);
    this.net.host(id); // throws for an unknown node
    return id;
  }

  private nodes(list: string | undefined): NodeId[] {
    if (list === undefined || list === '') return [];
    return list.split(',').map((name) => this.node(name));
  }

  private readonly handlers: Record<string, (c: Command) => string[] | undefined> = {
    cluster: (c) => this.createCluster(c),
    put: (c) => this.put(c, c.arg(2, 'value')),
    delete: (c) => this.put(c, null),
    get: (c) => {
      const pr = c.number('pr');
      this.net.request(this.node(c.arg(0, 'node')), {
        op: 'get',
        key: c.arg(1, 'key'),
        r: c.number('r', 2),
        ...(pr === undefined ? {} : { pr }),
        timeoutMs: c.number('timeout', 1000),
      });
      return undefined;
    },
    'add-node': (c) => {
      const via = this.node(c.option('via') ?? 'n1');
      const joiner = nodeId(c.arg(0, 'node'));
      this.net.boot(joiner, this.net.durableRingState(via));
      this.ringChange(via, 'join', joiner);
      return undefined;
    },
    'remove-node': (c) => {
      const via = this.node(c.option('via') ?? 'n1');
      const mode = c.option('mode') ?? 'leave';
      if (mode !== 'leave' && mode !== 'remove') throw new Error(`mode=${mode}: leave or remove`);
      this.ringChange(via, mode, this.node(c.arg(0, 'node')));
      return undefined;
    },
    'ring-status': (c) => {
      this.net.request(this.node(c.arg(0, 'node')), { op: 'ring-status', timeoutMs: 1000 });
      return undefined;
    },
    deliver: (c) => {
      this.net.deliver(this.filter(c), c.number('count', Number.POSITIVE_INFINITY));
      return undefined;
    },
    drop: (c) => {
      this.net.drop(this.filter(c), c.number('count', Number.POSITIVE_INFINITY));
      return undefined;
    },
    persist: (c) => {
      this.net.persist(c.args.map((name) => this.node(name)));
      return undefined;
    },
    settle: () => {
      this.net.settle();
      return undefined;
    },
    advance: (c) => {
      this.net.advance(Number(c.arg(0, 'ms')), c.args[1] === 'settle');
      return [`now ${this.net.nowMs}ms`];
    },
    tick: (c) => {
      const next = this.net.nextTimer(Number.POSITIVE_INFINITY);
      if (next === undefined) return ['no timer pending'];
      this.net.advance(next.dueMs - this.net.nowMs, c.args[0] === 'settle');
      return [`now ${this.net.nowMs}ms`];
    },
    crash: (c) => {
      this.net.crash(this.node(c.arg(0, 'node')));
      return undefined;
    },
    restart: (c) => {
      this.net.restart(this.node(c.arg(0, 'node')));
      return undefined;
    },
    isolate: (c) => {
      for (const name of c.args) this.net.isolated.add(this.node(name));
      return [`isolated ${[...this.net.isolated].sort().join(' ')}`];
    },
    heal: (c) => {
      const healed = c.args.length === 0 ? [...this.net.isolated] : c.args.map((n) => this.node(n));
      for (const id of healed) this.net.isolated.delete(id);
      return [`isolated ${[...this.net.isolated].sort().join(' ') || '-'}`];
    },
    report: (c) => {
      const status = c.arg(1, 'up|down');
      if (status !== 'up' && status !== 'down') throw new Error(`report: ${status}: up or down`);
      this.net.report(this.node(c.arg(0, 'peer')), status === 'up', this.nodes(c.option('to')));
      return undefined;
    },
    stats: (c) => this.stats(c),
    read: (c) => {
      const id = this.node(c.arg(0, 'node'));
      const key = c.arg(1, 'key');
      return [`${id} ${key}=${describeRecord(this.net.core(id).read(key))}`];
    },
    hints: (c) => {
      const id = this.node(c.arg(0, 'node'));
      const entries = [...this.net.host(id).store.entries({ ns: 'hints' })];
      if (entries.length === 0) return [`${id} holds no hints`];
      return entries.map(
        ([key, record]) => `${id} ${describeHintKey(key)}=${describeRecord(record)}`,
      );
    },
    prefs: (c) => this.prefs(c),
    queue: () => {
      if (this.net.queue.length === 0) return ['queue empty'];
      return this.net.queue.map((e) => `${e.from}->${e.to} ${e.message.type}`);
    },
    status: () => this.status(),
    trace: (c) => {
      for (const category of (c.option('hide') ?? '').split(',').filter(Boolean))
        this.net.hidden.add(category);
      for (const category of (c.option('show') ?? '').split(',').filter(Boolean))
        this.net.hidden.delete(category);
      return [`hidden ${[...this.net.hidden].sort().join(' ') || '-'}`];
    },
  };

  private createCluster(c: Command): string[] | undefined {
    const nodes = c.number('nodes', 5);
    const n = c.number('n', 3);
    const partitionCount = c.number('partitions', 16);
    const gossip = c.option('gossip') === 'on';
    const defaults = coreLimits(DEFAULT_CONFIG).swim;
    const limits: Record<string, number> = {};
    const swim: Record<string, number> = {};
    for (const [key, raw] of c.rest()) {
      if (Number.isNaN(Number(raw))) throw new Error(`cluster: ${key}=${raw} is not a number`);
      if (LIMIT_NAMES.has(key)) limits[key] = Number(raw);
      else if (key in defaults) swim[key] = Number(raw);
      else throw new Error(`cluster: unknown option ${key}`);
    }
    const gossipLimits = gossip ? { swim: { ...defaults, ...swim } } : {};
    const options = {
      nodes,
      n,
      partitionCount,
      gossip,
      limits: { ...limits, ...gossipLimits } as Partial<CoreLimits>,
    };
    this.cluster = new TraceCluster(options);
    return undefined;
  }

  private put(c: Command, value: string | null): undefined {
    const node = this.node(c.arg(0, 'node'));
    const pw = c.number('pw');
    const rid = c.option('rid');
    const supersede = c.option('supersede');
    if (supersede !== undefined && supersede !== 'local') throw new Error('supersede=local only');
    const request: ClientRequest = {
      op: 'put',
      key: c.arg(1, 'key'),
      value: value === null ? null : encoder.encode(value),
      context: this.context(c.option('ctx')),
      w: c.number('w', 2),
      ...(pw === undefined ? {} : { pw }),
      ...(rid === undefined ? {} : { rid }),
      ...(supersede === undefined ? {} : { supersede }),
      timeoutMs: c.number('timeout', 1000),
    };
    this.net.request(node, request);
    return undefined;
  }

  /** `ctx=reqN`: the context of the record get request N returned. */
  private context(ref: string | undefined): VersionVector {
    if (ref === undefined) return [];
    const result = this.net.replies.get(Number(ref.replace(/^req/, '')));
    if (result?.ok !== true || result.op !== 'get')
      throw new Error(`ctx=${ref}: not a get's answer`);
    return result.record === null ? [] : contextOf(result.record);
  }

  private ringChange(via: NodeId, kind: 'join' | 'leave' | 'remove', node: NodeId): void {
    this.net.request(via, { op: 'ring-change', change: { kind, node }, timeoutMs: 1000 });
  }

  private filter(c: Command): MessageFilter {
    const from = c.option('from');
    const to = c.option('to');
    const type = c.option('type');
    return {
      ...(from === undefined ? {} : { from: this.node(from) }),
      ...(to === undefined ? {} : { to: this.node(to) }),
      ...(type === undefined ? {} : { type }),
    };
  }

  private stats(c: Command): string[] {
    const which = c.arg(0, 'node|all');
    const ids =
      which === 'all' ? this.net.ids.filter((id) => this.net.isRunning(id)) : [this.node(which)];
    const fields = c.args.slice(1) as Array<keyof NodeStats>;
    if (fields.length === 0) throw new Error('stats: name the fields to show');
    return ids.map((id) => {
      const stats = this.net.core(id).stats();
      const shown = fields.map((field) => {
        if (!(field in stats)) throw new Error(`stats: no field ${field}`);
        return `${field}=${stats[field]}`;
      });
      return `${id} ${shown.join(' ')}`;
    });
  }

  private prefs(c: Command): string[] {
    const via = c.option('via');
    const state = via === undefined ? undefined : this.net.durableRingState(this.node(via));
    const ring = state === undefined ? this.net.ring : Ring.fromOwners(state.owners);
    const n = this.net.opts.n;
    return c.args.map((key) => {
      const partition = ring.partitionOf(key);
      const walk = ring.preferenceListForPartition(partition, ring.nodes().length);
      return `${key} p${partition}: ${walk.slice(0, n).join(' ')} | ${walk.slice(n).join(' ') || '-'}`;
    });
  }

  private status(): string[] {
    const net = this.net;
    const unanswered = net.requested.filter((reqId) => !net.replies.has(reqId));
    const waiting = unanswered.map((reqId) => `req${reqId}`).join(' ') || '-';
    const lines = [`now=${net.nowMs}ms queue=${net.queue.length} unanswered=${waiting}`];
    for (const id of net.ids) {
      if (!net.isRunning(id)) {
        lines.push(`${id} crashed`);
        continue;
      }
      const s = net.core(id).stats();
      const flags = net.isolated.has(id) ? ' isolated' : '';
      const persists = net.persists.filter((p) => p.node === id).length;
      const timers = net.timers.filter((t) => t.node === id).length;
      lines.push(
        `${id} up${flags} ring=v${s.ringVersion} inFlight=${s.inFlight} persists=${persists} ` +
          `timers=${timers} hints=${s.hintsPending} suspected=${s.suspected} ` +
          `unhealthy=${s.membersUnhealthy}`,
      );
    }
    return lines;
  }
}

/** The numeric CoreLimits a scenario may override on `cluster`. */
const LIMIT_NAMES: ReadonlySet<string> = new Set([
  'inFlightMax',
  'readSpeculateMs',
  'hintsPerTargetMax',
  'tickIntervalMs',
  'handoffBatchKeysMax',
  'tombstoneGraceMs',
  'changeSenderWaitMs',
  'siblingsMax',
  'vvEntriesMax',
  'antiEntropyIntervalMs',
  'antiEntropyPartitionsMax',
  'antiEntropyKeysMax',
  'transferBatchKeysMax',
  'transferBatchesMax',
] satisfies Array<keyof CoreLimits>);
