/**
 * "Explain this key": every node's view of one key (core/explain.ts) put together — partition,
 * preference list, stand-ins in use — and a plain-language verdict. `verdictOf` is pure and
 * table-tested; the rules, in order:
 *
 * - nobody holds the key: never written, or deleted and reaped;
 * - the reconciled record (every copy and hint merged) has several live siblings: concurrent
 *   writes, named by the node whose actor issued each dot;
 * - only tombstones: deleted, and whether a reap waits;
 * - each primary either holds the newest version, or misses it — then who will bring it: a hint
 *   on a stand-in, a coordinator's pending read repair, or anti-entropy (when it last compared);
 * - a primary that is down or silent: its copy is unknown;
 * - every primary holding the newest version: "N replicas agree".
 */
import type { NodeKeyView } from '../core/explain.js';
import type { KeyRecord, Sibling } from '../core/types.js';
import { isDeleted, reconcile, sameDots, sync } from '../core/version.js';

/** One sibling as JSON shows it. */
export interface SiblingView {
  readonly dot: readonly [string, number];
  /** The node whose actor issued the dot (the actor id is `node.epoch`). */
  readonly writtenThrough: string;
  readonly tombstone: boolean;
  readonly bytes: number;
  /** The value as UTF-8 when it is printable text of at most 200 bytes, else null. */
  readonly text: string | null;
  /** When the version expires (ms since the epoch), when the store gives versions a TTL. */
  readonly expiresAtMs?: number;
}

export interface NodeExplanation {
  readonly node: string;
  readonly primary: boolean;
  /** `silent`: up, but it did not answer within the deadline. */
  readonly state: 'up' | 'down' | 'silent';
  readonly replicates: boolean | null;
  readonly siblings: readonly SiblingView[] | null;
  readonly writePending: boolean;
  readonly hints: ReadonlyArray<{
    readonly for: string;
    readonly siblings: readonly SiblingView[];
  }>;
  readonly coordinating: boolean;
  readonly reapPending: boolean;
  readonly downPeers: readonly string[];
  readonly antiEntropy: NodeKeyView['antiEntropy'];
}

export interface KeyExplanation {
  readonly key: string;
  readonly partition: number;
  readonly n: number;
  readonly preferenceList: readonly string[];
  /** Stand-ins a coordinator would use now, each for a down primary. */
  readonly fallbacks: ReadonlyArray<{ readonly for: string; readonly node: string }>;
  readonly nodes: readonly NodeExplanation[];
  readonly verdict: readonly string[];
}

/** What the assembly needs about the cluster, for one key. */
export interface ExplainInput {
  readonly key: string;
  readonly partition: number;
  readonly n: number;
  readonly preferenceList: readonly string[];
  /** The partition's whole walk (preference list first), for stand-ins. */
  readonly walk: readonly string[];
  /**
   * Every node this client reaches: its view, or `down` / `silent`. A node left out runs in
   * another process (a `ringkv node` reaches only its own data): its copy is not known here.
   */
  readonly views: ReadonlyMap<string, NodeKeyView | 'down' | 'silent'>;
}

const TEXT_BYTES_MAX = 200;

export function writtenThrough(actor: string): string {
  const dot = actor.lastIndexOf('.');
  return dot <= 0 ? actor : actor.slice(0, dot);
}

function siblingView(sibling: Sibling): SiblingView {
  const value = sibling.value;
  const expires = (sibling as { readonly expiresAtMs?: unknown }).expiresAtMs;
  return {
    dot: [sibling.dot[0], sibling.dot[1]],
    writtenThrough: writtenThrough(sibling.dot[0]),
    tombstone: value === null,
    bytes: value?.byteLength ?? 0,
    text: value === null ? null : printable(value),
    ...(typeof expires === 'number' ? { expiresAtMs: expires } : {}),
  };
}

function printable(value: Uint8Array): string | null {
  if (value.byteLength > TEXT_BYTES_MAX) return null;
  try {
    const text = new TextDecoder('utf-8', { fatal: true }).decode(value);
    return /^[\P{Cc}\n\t]*$/u.test(text) ? text : null;
  } catch {
    return null;
  }
}

/** Stand-ins for down primaries, as a coordinator picks them (core/handoff.ts targetsFor). */
export function fallbacksOf(
  preferenceList: readonly string[],
  walk: readonly string[],
  isDown: (node: string) => boolean,
): Array<{ for: string; node: string }> {
  const standIns = walk.slice(preferenceList.length).filter((node) => !isDown(node));
  const found: Array<{ for: string; node: string }> = [];
  for (const node of preferenceList) {
    if (!isDown(node)) continue;
    const standIn = standIns.shift();
    if (standIn !== undefined) found.push({ for: node, node: standIn });
  }
  return found;
}

export function explainFrom(input: ExplainInput): KeyExplanation {
  const { views, preferenceList } = input;
  const downNow = (node: string) => views.get(node) === 'down';
  const nodes = [...views.entries()].map(([node, view]) => nodeExplanation(node, view, input));
  return {
    key: input.key,
    partition: input.partition,
    n: input.n,
    preferenceList,
    fallbacks: fallbacksOf(preferenceList, input.walk, downNow),
    nodes,
    verdict: verdictOf(input),
  };
}

function nodeExplanation(
  node: string,
  view: NodeKeyView | 'down' | 'silent',
  input: ExplainInput,
): NodeExplanation {
  const primary = input.preferenceList.includes(node);
  if (view === 'down' || view === 'silent') {
    return {
      node,
      primary,
      state: view,
      replicates: null,
      siblings: null,
      writePending: false,
      hints: [],
      coordinating: false,
      reapPending: false,
      downPeers: [],
      antiEntropy: [],
    };
  }
  return {
    node,
    primary,
    state: 'up',
    replicates: view.replicates,
    siblings: view.record?.siblings.map(siblingView) ?? null,
    writePending: view.writePending,
    hints: view.hints.map((h) => ({ for: h.for, siblings: h.record.siblings.map(siblingView) })),
    coordinating: view.coordinating,
    reapPending: view.reapPending,
    downPeers: view.downPeers,
    antiEntropy: view.antiEntropy,
  };
}

/** The plain-language verdict, one sentence per finding (see the rules at the top). */
export function verdictOf(input: ExplainInput): string[] {
  const { views, preferenceList } = input;
  const answered = [...views.entries()].filter(
    (entry): entry is [string, NodeKeyView] => typeof entry[1] !== 'string',
  );
  const copies: KeyRecord[] = [];
  for (const [, view] of answered) {
    if (view.record !== null) copies.push(view.record);
    for (const hint of view.hints) copies.push(hint.record);
  }
  const newest = reconcile(copies);
  if (newest === null || newest.siblings.length === 0) {
    return ['No node holds this key: never written, or deleted and reaped.'];
  }
  const lines: string[] = [];
  const live = newest.siblings.filter((s) => s.value !== null);
  if (live.length > 1) {
    const through = [...new Set(live.map((s) => writtenThrough(s.dot[0])))];
    lines.push(
      `${live.length} siblings: concurrent writes through ${listed(through)}; ` +
        'read it and write back with its context to resolve them.',
    );
  }
  if (isDeleted(newest)) {
    const reaping = answered.some(([, v]) => v.reapPending);
    lines.push(`Deleted: only tombstones remain${reaping ? '; a reap of them is pending' : ''}.`);
  }
  let agree = 0;
  for (const node of preferenceList) {
    const view = views.get(node);
    if (view === undefined) {
      lines.push(`${node} runs in another process: ask its own /explain for its copy.`);
      continue;
    }
    if (view === 'down' || view === 'silent') {
      lines.push(primaryUnknown(node, view, answered, newest));
      continue;
    }
    if (view.record !== null && sameDots(sync(view.record, newest), view.record)) {
      agree++;
      continue;
    }
    lines.push(missing(node, view, answered, newest));
  }
  const reachable = preferenceList.filter((node) => views.has(node)).length;
  if (agree === preferenceList.length) lines.push(`${agree} replicas agree.`);
  else if (reachable < preferenceList.length) {
    lines.push(
      `${agree} of the ${reachable} replica(s) seen from here hold the newest version known here.`,
    );
  } else if (agree > 0)
    lines.push(`${agree} of ${preferenceList.length} replicas hold the newest version.`);
  for (const [node, view] of answered) {
    if (view.writePending) lines.push(`${node} has a write of the key not yet durable.`);
  }
  return lines;
}

function listed(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** Stand-ins holding a hint for `owner` that covers the newest version. */
function hintHolders(
  owner: string,
  answered: ReadonlyArray<[string, NodeKeyView]>,
  newest: KeyRecord,
): string[] {
  return answered
    .filter(([, view]) =>
      view.hints.some((h) => h.for === owner && sameDots(sync(h.record, newest), h.record)),
    )
    .map(([node]) => node);
}

function primaryUnknown(
  node: string,
  state: 'down' | 'silent',
  answered: ReadonlyArray<[string, NodeKeyView]>,
  newest: KeyRecord,
): string {
  const what = state === 'down' ? 'is down' : 'did not answer in time';
  const holders = hintHolders(node, answered, newest);
  if (holders.length === 0) return `${node} ${what}: its copy is unknown.`;
  return `${node} ${what}: a hint on ${listed(holders)} will deliver the newest write when it is back.`;
}

function missing(
  node: string,
  view: NodeKeyView,
  answered: ReadonlyArray<[string, NodeKeyView]>,
  newest: KeyRecord,
): string {
  const what = view.record === null ? 'holds no copy' : 'is missing the newest write';
  const holders = hintHolders(node, answered, newest);
  if (holders.length > 0) return `${node} ${what}: a hint on ${listed(holders)} will deliver it.`;
  const repairing = answered.filter(([, v]) => v.coordinating).map(([n]) => n);
  if (repairing.length > 0) {
    return `${node} ${what}: ${listed(repairing)} is coordinating an operation on the key and may repair it.`;
  }
  const compared =
    view.antiEntropy.length === 0
      ? 'no exchange of its partition remembered yet'
      : `its partition was last compared ${Math.min(...view.antiEntropy.map((c) => c.msAgo))} ms ago`;
  return `${node} ${what}: anti-entropy or the next read will repair it (${compared}).`;
}
