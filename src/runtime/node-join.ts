/**
 * How a process node gets into a running cluster, both ends of it (the messages themselves are
 * join-protocol.ts):
 * - the joiner: `planStart` picks the ring its core starts from — the ring of --initial-cluster,
 *   the ring it stored if it is already in it (a restart: it does not join twice), or a
 *   member's, asked over the ask lane, with a join still to ask for — and `joinCluster` asks
 *   the member for the join and waits, bounded, until the change committed with it in the ring;
 * - a member: `answerAsk` answers `info` (its ring, the members' addresses, the ids that may
 *   never come back) and `join` (records the joiner's address, runs the `join` ring change).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  NODE_ASK_TIMEOUT_MS,
  NODE_JOIN_RETRY_MS,
  NODE_JOIN_TIMEOUT_MS_DEFAULT,
  NODE_MEMBERSHIP_POLL_MS,
} from '../config.js';
import type { ClientRequest, ClientResult } from '../core/messages.js';
import { type NodeCore, RING_META } from '../core/node.js';
import { Ring } from '../core/ring.js';
import { isRingState, nodesOf, type RingState } from '../core/ring-state.js';
import { type NodeId, nodeId } from '../core/types.js';
import { TimeoutError, UnavailableError, ValidationError } from '../errors.js';
import type { StorageEngine } from '../storage/index.js';
import type { PeerAddress, TcpTransport } from '../transport/tcp.js';
import {
  type InfoAnswer,
  isInfoAnswer,
  isJoinAnswer,
  type JoinAnswer,
  parseJoinAsk,
  refusalOf,
} from './join-protocol.js';
import type { Logger } from './log.js';
import { formatHostPort } from './node-identity.js';
import type { PeerBook } from './peer-book.js';

/** What joining needs of a node's options (ProcessNodeOptions has them all). */
export interface JoinOptions {
  readonly id: string;
  /**
   * Every node of the first cluster, this one included: the first ring is made from its ids.
   * Empty when the node joins a running cluster (`join`).
   */
  readonly initialCluster: ReadonlyMap<string, PeerAddress>;
  /** A member's peer address: ask it to add this node (excludes initialCluster). */
  readonly join?: PeerAddress;
  /** How long a join may take, from the first ask to owning its partitions. */
  readonly joinTimeoutMs?: number;
  readonly n: number;
  readonly partitionCount: number;
}

/** How the core starts: from which ring, and whether it must still ask to join. */
export interface StartPlan {
  readonly ring: Ring;
  readonly state?: RingState;
  readonly mustJoin: boolean;
}

export interface PlanInputs {
  readonly tcp: TcpTransport;
  readonly storage: StorageEngine;
  readonly book: PeerBook;
  /** node.json was written just now: this data dir never ran before. */
  readonly created: boolean;
  readonly log: Logger;
  readonly address: string | null;
}

/**
 * The ring the core starts from. --initial-cluster: the ring of its ids. --join: the ring this
 * node stored if it is in it (a restart: it is itself again and does not join twice), else the
 * member's, with a join still to ask for — unless the member's ring already has this node,
 * which is an error for a fresh data dir (the id is taken) and, for this node's own data dir,
 * a join asked for before a crash: it goes on.
 */
export async function planStart(options: JoinOptions, inputs: PlanInputs): Promise<StartPlan> {
  if (options.join === undefined) {
    const ids = [...options.initialCluster.keys()].sort();
    // The sorted ids, so the order the list was written in does not matter.
    return { ring: Ring.create(ids.map(nodeId), options.partitionCount), mustJoin: false };
  }
  const self = nodeId(options.id);
  const where = formatHostPort(options.join);
  const stored = inputs.storage.getMeta(RING_META);
  const mine = isRingState(stored, options.partitionCount) ? stored : null;
  const member = mine !== null && nodesOf(mine).includes(self);
  let info: InfoAnswer | null = null;
  try {
    info = await askInfo(options, inputs);
  } catch (error) {
    if (!member || error instanceof ValidationError) throw error;
    inputs.log.warn({ seed: where, reason: (error as Error).message }, 'join seed unreachable');
  }
  if (member) {
    inputs.log.info({ ringVersion: mine.version }, 'a member already: not joining again');
    const state = info?.state;
    return { ring: Ring.fromOwners(mine.owners), ...(state ? { state } : {}), mustJoin: false };
  }
  const state = (info as InfoAnswer).state;
  const ring = Ring.fromOwners(state.owners);
  if (nodesOf(state).includes(self)) {
    if (inputs.created) {
      throw new ValidationError(
        `node ${options.id} is already in the ring of the cluster at ${where}: a node joins ` +
          `once; restart it with its own --data-dir, or remove it first and join with a fresh id`,
      );
    }
    return { ring, state, mustJoin: false };
  }
  if ((info as InfoAnswer).gone.includes(self)) {
    throw new ValidationError(
      `node ${options.id} was removed from the cluster at ${where}: an id is never reused; ` +
        'join with a fresh --id and --data-dir',
    );
  }
  return { ring, state, mustJoin: true };
}

/** The member's ring and addresses; the addresses go into the book and the transport. */
async function askInfo(options: JoinOptions, inputs: PlanInputs): Promise<InfoAnswer> {
  const where = formatHostPort(options.join as PeerAddress);
  const { tcp, book, log } = inputs;
  const { node, answer } = await tcp
    .ask(options.join as PeerAddress, { op: 'info' })
    .catch((error: Error) => {
      throw new UnavailableError(`--join ${where}: cannot ask the member: ${error.message}`);
    });
  const refusal = refusalOf(answer);
  if (refusal !== null) throw new ValidationError(`--join ${where} refused: ${refusal}`);
  if (!isInfoAnswer(answer)) {
    throw new UnavailableError(`--join ${where}: ${node} gave an answer this node cannot read`);
  }
  if (answer.state.owners.length !== options.partitionCount) {
    throw new ValidationError(
      `--join ${where}: the cluster has ${answer.state.owners.length} partitions, this node ${options.partitionCount}`,
    );
  }
  if (answer.n !== options.n) {
    throw new ValidationError(
      `--join ${where}: the cluster runs n=${answer.n}; pass --n ${answer.n}`,
    );
  }
  for (const [id, text] of Object.entries(answer.members)) {
    try {
      const address = book.set(id, text);
      if (address !== null) tcp.setPeerAddress(nodeId(id), address);
    } catch (error) {
      log.warn({ peer: id, reason: (error as Error).message }, 'member address refused');
    }
  }
  book.saveOrWarn(log);
  return answer;
}

/** What the joining node's side needs. */
export interface Joiner {
  readonly options: JoinOptions;
  readonly tcp: TcpTransport;
  readonly core: NodeCore;
  /** The address this node gossips (null: it listens on a wildcard and advertises nothing). */
  readonly address: string | null;
  readonly log: Logger;
}

/**
 * Asks the member at `seed` to add this node, again while another change runs, then waits
 * until the change committed with this node in the ring (its partitions have arrived: the
 * claimant commits only once every sender is done). Bounded by joinTimeoutMs.
 */
export async function joinCluster(joiner: Joiner, seed: PeerAddress): Promise<void> {
  const { options, tcp, address, core, log } = joiner;
  const where = formatHostPort(seed);
  const deadline = Date.now() + (options.joinTimeoutMs ?? NODE_JOIN_TIMEOUT_MS_DEFAULT);
  const self = nodeId(options.id);
  let accepted: RingState | null = null;
  for (let attempt = 1; accepted === null; attempt++) {
    const { answer } = await tcp.ask(seed, { op: 'join', address }).catch((error: Error) => {
      throw new UnavailableError(`join: ${where} did not answer: ${error.message}`);
    });
    if (!isJoinAnswer(answer, options.partitionCount)) {
      throw new UnavailableError(`join: ${where} gave an answer this node does not understand`);
    }
    if (answer.ok) accepted = answer.state;
    else if (answer.error !== 'busy') {
      throw new ValidationError(`join refused by ${where}: ${answer.message}`);
    } else if (Date.now() + NODE_JOIN_RETRY_MS >= deadline) {
      throw new TimeoutError(`join: ${where} stayed busy (${answer.message})`);
    } else {
      log.info({ attempt, reason: answer.message }, 'join: another change runs, asking again');
      await sleep(NODE_JOIN_RETRY_MS);
    }
  }
  log.info({ version: accepted.version, claimant: accepted.claimant }, 'join accepted');
  for (;;) {
    const state = core.ringState;
    if (state.next === null && state.owners.includes(self)) return;
    if (state.version > accepted.version && !nodesOf(state).includes(self)) {
      throw new UnavailableError(`join: the cluster called the join off (ring ${state.version})`);
    }
    if (Date.now() >= deadline) {
      const running =
        state.next === null ? 'no change running' : `change ${state.version} still running`;
      throw new TimeoutError(
        `join did not commit in time: ring version ${state.version} (${running}, claimant ` +
          `${state.claimant}); restart with the same command to keep waiting`,
      );
    }
    await sleep(NODE_MEMBERSHIP_POLL_MS);
  }
}

/** What a member needs to answer a joiner's asks. */
export interface Member extends Joiner {
  readonly book: PeerBook;
  readonly isRunning: () => boolean;
  /** An operator request to this node's own core (a ring change), bounded in time. */
  readonly ask: (request: ClientRequest) => Promise<ClientResult>;
}

/** A peer asks over the ask lane (join-protocol.ts): the ring, or to be let in. */
export async function answerAsk(
  member: Member,
  from: NodeId,
  request: unknown,
): Promise<InfoAnswer | JoinAnswer> {
  const ask = parseJoinAsk(request);
  const refuse = (error: string, message: string) => ({ ok: false, error, message }) as const;
  if (ask === null) return refuse('invalid', 'malformed ask');
  const { options, core, book, address, log, tcp } = member;
  if (!member.isRunning()) return refuse('unavailable', `node ${options.id} is shutting down`);
  const state = core.ringState;
  if (ask.op === 'info') {
    const members: Record<string, string> = {};
    for (const [id, peer] of book.entries()) members[id] = formatHostPort(peer);
    if (address !== null) members[options.id] = address;
    return { ok: true, state, members, gone: goneIds(core), n: options.n };
  }
  // Refused before its address is taken: a stray process with a member's id (a wiped data dir
  // on another machine) must not re-point the member's links.
  if (nodesOf(state).includes(from)) {
    return refuse('invalid', `node ${from} is already in the ring`);
  }
  if (goneIds(core).includes(from)) {
    return refuse('invalid', `node ${from} left or was removed: an id is never reused`);
  }
  let peer: PeerAddress | null;
  try {
    peer = book.set(from, ask.address);
  } catch (error) {
    return refuse('invalid', (error as Error).message);
  }
  if (peer !== null) {
    tcp.setPeerAddress(from, peer);
    book.saveOrWarn(log);
  }
  log.info({ joiner: from, address: ask.address }, 'a node asks to join');
  const change = { kind: 'join', node: from } as const;
  const result = await member.ask({ op: 'ring-change', change, timeoutMs: NODE_ASK_TIMEOUT_MS });
  if (!result.ok) return refuse(result.error, 'message' in result ? result.message : result.error);
  if (result.op !== 'ring-change') return refuse('internal', `answered ${result.op}`);
  return { ok: true, state: result.state };
}

/** Ids membership holds left or dead that are out of the ring: never to be taken again. */
function goneIds(core: NodeCore): NodeId[] {
  const inRing = new Set(nodesOf(core.ringState));
  return core
    .members()
    .filter((r) => (r.status === 'left' || r.status === 'dead') && !inRing.has(r.id))
    .map((r) => r.id);
}
