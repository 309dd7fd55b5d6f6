/**
 * A local cluster whose nodes are OS processes (`ringkv up --processes`): each node is a
 * `ringkv node` child (child-node.ts) on loopback, talking to its peers over TCP with mutual TLS
 * and serving HTTP on its own port. This is the process runtime's counterpart of
 * local-cluster.ts: it satisfies the client's ClusterControl shape (kill is a real SIGKILL,
 * restart runs the same command again with the same data dir, partitions, delay, jitter, loss
 * and message delays go to each node's transport through its control route) and gives the
 * client's process link (client/process-link.ts) a directory of who runs where. It does not
 * import client/: how a control route is called is passed in (`ControlCall`).
 *
 * Its data dir holds `tls/` (the cluster CA and one certificate per node, made on first start
 * with the certs code), one data dir per node (`<id>/`, the node's own lock, identity and data)
 * and the membership file; the supervisor locks the root. Without a data dir (`--memory`) the
 * root is a fresh temporary directory, removed on close: the nodes still keep their files, but
 * nothing outlives the run.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type LogLevel,
  PROCESS_CONTROL_TIMEOUT_MS,
  PROCESS_KILL_TIMEOUT_MS,
  PROCESS_PORT_ATTEMPTS_MAX,
  PROCESS_START_TIMEOUT_MS,
  PROCESS_STOP_TIMEOUT_MS,
  type StorageEngineName,
} from '../config.js';
import type { RingState } from '../core/ring-state.js';
import { UnavailableError, ValidationError } from '../errors.js';
import { CA_CERT_FILE, createCerts, nodeCertFile, nodeKeyFile } from './certs.js';
import { ChildNode, ChildStartError } from './child-node.js';
import type { MessageDelays } from './control.js';
import { DataDirLock } from './data-dir-lock.js';
import { freePorts } from './free-ports.js';
import { createLogger, type Logger } from './log.js';
import { type MembershipRecord, writeMembership } from './membership-file.js';
import { type NetworkSettings, NetworkState, type NetworkView } from './network-state.js';

const LOOPBACK = '127.0.0.1';
const TLS_DIR = 'tls';

export interface ProcessClusterOptions {
  /** The nodes to run, in order of creation. */
  readonly nodeIds: readonly string[];
  /**
   * The nodes the cluster was first formed with: they start with `--initial-cluster` of these
   * (the list their data dirs were formed with); the others joined later and start with `--join`.
   */
  readonly initial: readonly string[];
  /** How long a node added with `--join` may take until its join committed, in ms. */
  readonly joinTimeoutMs: number;
  readonly n: number;
  readonly r: number;
  readonly w: number;
  /** A get asks R replicas, and the rest after this many ms (0: all at once). */
  readonly readSpeculateMs: number;
  /** Where the cluster lives between runs; null: a temporary directory removed on close. */
  readonly dataDir: string | null;
  /** The engine of a new node's directory (`ringkv node --engine`). @default 'log' */
  readonly storageEngine?: StorageEngineName;
  /** Bytes of records each node may hold (`ringkv node --storage-max`). @default 0: no bound */
  readonly storageBytesMax?: number;
  readonly logLevel: LogLevel;
  /** Every node serves its control routes with this token (passed in its environment). */
  readonly controlToken: string;
  /** Called once every node has stopped (the caller's own resources: its HTTP pool). */
  readonly onClosed?: () => void;
  /** How `count` loopback ports are picked. @default freePorts (free-ports.ts) */
  readonly pickPorts?: (count: number) => Promise<number[]>;
  /** Where the supervisor's own lines go (a file path or descriptor). @default stderr */
  readonly logDestination?: string | number;
}

/** POSTs `body` to a node's control route at `url`; rejects on failure or past `timeoutMs`. */
export type ControlCall = (
  url: string,
  route: 'faults',
  body: unknown,
  timeoutMs: number,
) => Promise<unknown>;

interface NodeSlot {
  readonly peerPort: number;
  readonly httpPort: number;
  /** The node's command line, fixed at its first start: a restart runs the same one. */
  args: readonly string[] | null;
  child: ChildNode | null;
}

export class ProcessCluster {
  /** A node addNode starts joins by itself (`ringkv node --join`) before it serves. */
  readonly joinsItself = true;
  /** Who runs and where, for the client's process link. */
  readonly directory: {
    isUp(node: string): boolean;
    endpoint(node: string): { url: string; pid: number } | null;
  };
  private readonly faults: NetworkState;
  private readonly log: Logger;
  private closing = false;
  /** Nodes being killed or stopped on purpose: their exit is expected, not an error. */
  private readonly stopping = new Set<string>();
  /** Nodes whose spawn() waits for their start: their exits are start failures. */
  private readonly starting = new Set<string>();

  private constructor(
    private readonly options: ProcessClusterOptions,
    private readonly root: string,
    private readonly lock: DataDirLock,
    private readonly slots: Map<string, NodeSlot>,
    private readonly call: ControlCall,
  ) {
    this.faults = new NetworkState(options.nodeIds);
    this.log = createLogger({
      level: options.logLevel,
      name: 'processes',
      ...(options.logDestination === undefined ? {} : { destination: options.logDestination }),
    });
    this.directory = {
      isUp: (node) => this.running(node) !== null,
      endpoint: (node) => {
        const child = this.running(node);
        return child === null ? null : { url: child.url, pid: child.pid };
      },
    };
  }

  /**
   * Takes the data dir, makes the certificates that are missing, and starts every node on free
   * loopback ports. A port can be taken between its check and the node's bind (by anything on
   * the machine): a node that exits for that makes the whole start begin again on new ports, up
   * to PROCESS_PORT_ATTEMPTS_MAX times. Fails (stopping what started, removing what it created)
   * if any node fails otherwise.
   */
  static async start(options: ProcessClusterOptions, call: ControlCall): Promise<ProcessCluster> {
    const temporary = options.dataDir === null;
    const root = options.dataDir ?? mkdtempSync(path.join(tmpdir(), 'ringkv-up-'));
    const created = temporary || !existsSync(root);
    mkdirSync(root, { recursive: true });
    const lock = DataDirLock.acquire(root);
    try {
      await ensureCerts(path.join(root, TLS_DIR), options.nodeIds);
      for (let attempt = 1; ; attempt++) {
        const cluster = await ProcessCluster.startOnce(options, root, lock, call);
        if (cluster instanceof ProcessCluster) return cluster;
        if (attempt >= PROCESS_PORT_ATTEMPTS_MAX) throw cluster.error;
        cluster.log.warn(
          { reason: cluster.error.message, attempt },
          'a port was taken before its node bound it: starting again on other ports',
        );
      }
    } catch (error) {
      lock.release();
      if (created) rmSync(root, { recursive: true, force: true });
      throw error;
    }
  }

  /**
   * One start on freshly picked ports: the cluster, or (every node stopped again) the start
   * error of a node whose port was taken. Any other failure stops what started and throws.
   */
  private static async startOnce(
    options: ProcessClusterOptions,
    root: string,
    lock: DataDirLock,
    call: ControlCall,
  ): Promise<ProcessCluster | { error: ChildStartError; log: Logger }> {
    // Initial nodes that left keep a slot: --initial-cluster must list every initial id.
    const all = [...new Set([...options.initial, ...options.nodeIds])];
    const ports = await pickPorts(options, all.length * 2);
    const slots = new Map<string, NodeSlot>(
      all.map((id, i) => [id, slotOn(ports[2 * i] as number, ports[2 * i + 1] as number)]),
    );
    const cluster = new ProcessCluster(options, root, lock, slots, call);
    try {
      const startedAt = Date.now();
      const spawn = (ids: readonly string[]) =>
        Promise.allSettled(ids.map((id) => cluster.spawn(id, PROCESS_START_TIMEOUT_MS)));
      const initial = options.nodeIds.filter((id) => options.initial.includes(id));
      const joined = options.nodeIds.filter((id) => !options.initial.includes(id));
      // Nodes that joined later start once the initial ones run: their --join names one of them.
      const spawning = [...(await spawn(initial)), ...(await spawn(joined))];
      const failure = spawning.find((s) => s.status === 'rejected');
      if (failure !== undefined) throw failure.reason;
      cluster.log.info(
        { nodes: options.nodeIds, n: options.n, root, ms: Date.now() - startedAt },
        'cluster of node processes started',
      );
      return cluster;
    } catch (error) {
      await cluster.stopAll();
      if (error instanceof ChildStartError && error.addressInUse)
        return { error, log: cluster.log };
      throw error;
    }
  }

  /** The node's child while it runs, else null. */
  private running(id: string): ChildNode | null {
    const child = this.slots.get(id)?.child ?? null;
    return child?.isRunning ? child : null;
  }

  /** SIGKILLs a running node; false when it was not running. */
  async kill(id: string): Promise<boolean> {
    const child = this.running(id);
    if (child === null) return false;
    this.log.info({ node: id, pid: child.pid }, 'killing node process (SIGKILL)');
    this.stopping.add(id);
    await child.kill(PROCESS_KILL_TIMEOUT_MS);
    return true;
  }

  /** Starts a stopped node again with the same command; false when it runs already. */
  async restart(id: string): Promise<boolean> {
    if (this.closing) throw new UnavailableError('the cluster is closing');
    const slot = this.slots.get(id);
    if (slot === undefined || slot.args === null || this.running(id) !== null) return false;
    await this.spawn(id, PROCESS_START_TIMEOUT_MS);
    this.log.info({ node: id, pid: slot.child?.pid }, 'node process restarted');
    return true;
  }

  async partition(groups: readonly (readonly string[])[]): Promise<NetworkView> {
    this.faults.partition(groups);
    return this.applyFaults();
  }

  async heal(): Promise<NetworkView> {
    this.faults.heal();
    return this.applyFaults();
  }

  async setNetwork(patch: Partial<NetworkSettings>): Promise<NetworkView> {
    this.faults.setNetwork(patch);
    return this.applyFaults();
  }

  async setMessageDelays(delays: MessageDelays | null, seed?: number): Promise<void> {
    this.faults.setMessageDelays(delays, seed);
    await this.applyFaults();
  }

  network(): NetworkView {
    return this.faults.view();
  }

  partitionGroupOf(id: string): number | null {
    return this.faults.groupOf(id);
  }

  /**
   * Starts node `id` with `--join` naming a running member of `ringState`, and resolves once its
   * join committed (it serves HTTP only then). Its certificate is made with the cluster's CA.
   * A start that fails leaves no slot and no data dir behind.
   */
  async addNode(id: string, ringState: RingState): Promise<void> {
    if (this.closing) throw new UnavailableError('the cluster is closing');
    if (this.slots.has(id)) throw new ValidationError(`node ${id} exists already`);
    const seed = ringState.owners.find((owner) => this.running(owner) !== null);
    if (seed === undefined) throw new UnavailableError('no running member to join through');
    await ensureCerts(path.join(this.root, TLS_DIR), [id]);
    try {
      await this.spawnJoiner(id, seed);
    } catch (error) {
      rmSync(path.join(this.root, id), { recursive: true, force: true });
      throw error;
    }
    this.log.info({ node: id, seed, pid: this.running(id)?.pid }, 'node process joined');
  }

  /**
   * addNode's start on freshly picked ports, again on new ones (its data dir kept: a node takes
   * a changed address) while its port was taken before it bound it. A failure leaves no slot.
   */
  private async spawnJoiner(id: string, seed: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const [peerPort, httpPort] = (await pickPorts(this.options, 2)) as [number, number];
      this.slots.set(id, slotOn(peerPort, httpPort));
      this.faults.addNode(id);
      try {
        // Under a partition the peers' blocked lists now name the new node: in force before it runs.
        if (this.faults.view().groups !== null) await this.applyFaults();
        await this.spawn(id, this.options.joinTimeoutMs + PROCESS_START_TIMEOUT_MS, seed);
        return;
      } catch (error) {
        this.slots.delete(id);
        this.faults.removeNode(id);
        const again = error instanceof ChildStartError && error.addressInUse;
        if (!again || attempt >= PROCESS_PORT_ATTEMPTS_MAX || this.closing) throw error;
        this.log.warn(
          { node: id, reason: error.message, attempt },
          'a port was taken before the node bound it: starting it again on other ports',
        );
      }
    }
  }

  /**
   * Stops a node for good: it is never restarted (a leaver exits by itself once it handed its
   * data over; one still running gets SIGTERM). Its data dir stays, as with threads.
   */
  async forget(id: string): Promise<void> {
    const slot = this.slots.get(id);
    if (slot === undefined) return;
    this.stopping.add(id);
    await slot.child?.stop(PROCESS_STOP_TIMEOUT_MS, PROCESS_KILL_TIMEOUT_MS).catch(() => {});
    // An initial node keeps its slot (its address stays in --initial-cluster), without a command.
    if (this.options.initial.includes(id)) slot.args = null;
    else this.slots.delete(id);
    this.faults.removeNode(id);
    if (this.faults.view().groups !== null) await this.applyFaults();
    this.log.info({ node: id }, 'node forgotten');
  }

  /** Each node process keeps its ring state in its own storage: nothing to remember here. */
  noteRingState(): void {}

  saveMembership(record: MembershipRecord): void {
    if (this.options.dataDir !== null) writeMembership(this.root, record);
  }

  /** SIGTERMs every node (SIGKILL past the bound), releases the data dir, removes a temporary one. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.stopAll();
      this.log.info({ nodes: [...this.slots.keys()] }, 'cluster of node processes closed');
    } finally {
      this.lock.release();
      this.options.onClosed?.();
      if (this.options.dataDir === null) rmSync(this.root, { recursive: true, force: true });
    }
  }

  private async stopAll(): Promise<void> {
    this.closing = true;
    const children = [...this.slots.entries()].filter(([, slot]) => slot.child?.isRunning);
    for (const [id] of children) this.stopping.add(id);
    await Promise.all(
      children.map(([, slot]) =>
        slot.child?.stop(PROCESS_STOP_TIMEOUT_MS, PROCESS_KILL_TIMEOUT_MS).catch(() => {}),
      ),
    );
  }

  /** Sends every running node its faults and waits (bounded) until each has them in force. */
  private async applyFaults(): Promise<NetworkView> {
    const ids = [...this.slots.keys()].filter((id) => this.running(id) !== null);
    await Promise.all(ids.map((id) => this.sendFaults(id)));
    return this.faults.view();
  }

  private async sendFaults(id: string): Promise<void> {
    const child = this.running(id);
    if (child === null) return;
    try {
      await this.call(child.url, 'faults', this.faults.faultsFor(id), PROCESS_CONTROL_TIMEOUT_MS);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new UnavailableError(`node ${id} did not take the network faults: ${reason}`);
    }
  }

  /**
   * Starts node `id` and waits until it serves, with the faults in force. Its first start fixes
   * its command: with `--join` through `seed` when given, else with `--initial-cluster`.
   */
  private async spawn(id: string, timeoutMs: number, seed?: string): Promise<void> {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new Error(`no node ${id}`);
    slot.args ??= this.argsOf(id, seed ?? this.seedFor(id));
    this.starting.add(id);
    const child = await ChildNode.start(
      id,
      { args: slot.args, env: { RINGKV_CONTROL_TOKEN: this.options.controlToken } },
      timeoutMs,
      (reason) => this.onExit(id, reason),
    ).finally(() => this.starting.delete(id));
    this.stopping.delete(id);
    slot.child = child;
    try {
      await this.sendFaults(id);
    } catch (error) {
      this.stopping.add(id);
      await child.kill(PROCESS_KILL_TIMEOUT_MS).catch(() => {});
      throw error;
    }
  }

  private onExit(id: string, reason: string): void {
    // A node that exits while starting fails its start, and whoever started it reports that
    // (or, for a taken port, retries on other ports): an error line here would say it twice.
    if (this.starting.has(id)) this.log.debug({ node: id, reason }, 'node exited while starting');
    else if (this.closing || this.stopping.delete(id))
      this.log.info({ node: id, reason }, 'node stopped');
    else if (reason === 'exited with code 0') this.log.info({ node: id }, 'node exited by itself');
    else this.log.error({ node: id, reason }, 'node process stopped unexpectedly');
  }

  /** For a node that joined in an earlier run: a running initial node to join through. */
  private seedFor(id: string): string | null {
    if (this.options.initial.includes(id)) return null;
    // A running member if there is one; else any other member (a node already in its stored
    // ring does not join again: the seed only refreshes the peer addresses it knows).
    const others = this.options.nodeIds.filter((other) => other !== id && this.slots.has(other));
    const seed = others.find((other) => this.running(other) !== null) ?? others[0];
    if (seed === undefined) throw new UnavailableError(`no other node for ${id} to join through`);
    return seed;
  }

  /** The node's command line: the same on every start, so a restart is the operator's restart. */
  private argsOf(id: string, seed: string | null): string[] {
    const { n, r, w, readSpeculateMs, logLevel } = this.options;
    const slot = this.slots.get(id) as NodeSlot;
    const peerAddress = (peer: string) => `${LOOPBACK}:${this.slots.get(peer)?.peerPort}`;
    const initial = this.options.initial.map((peer) => `${peer}=${peerAddress(peer)}`).join(',');
    // --join-timeout takes 1000 ms at least; the supervisor's own wait is what bounds it then.
    const joinTimeoutMs = String(Math.max(1_000, this.options.joinTimeoutMs));
    const cluster =
      seed === null
        ? ['--initial-cluster', initial]
        : ['--join', peerAddress(seed), '--join-timeout', joinTimeoutMs];
    return [
      binPath(),
      'node',
      '--id',
      id,
      '--listen',
      `${LOOPBACK}:${slot.peerPort}`,
      '--http',
      `${LOOPBACK}:${slot.httpPort}`,
      '--data-dir',
      path.join(this.root, id),
      '--engine',
      this.options.storageEngine ?? 'log',
      '--storage-max',
      String(this.options.storageBytesMax ?? 0),
      '--tls-dir',
      path.join(this.root, TLS_DIR),
      ...cluster,
      '--n',
      String(n),
      '--r',
      String(r),
      '--w',
      String(w),
      '--read-speculate-ms',
      String(readSpeculateMs),
      '--log-level',
      logLevel,
      '--exit-with-stdin',
    ];
  }
}

function pickPorts(options: ProcessClusterOptions, count: number): Promise<number[]> {
  return options.pickPorts?.(count) ?? freePorts(count, LOOPBACK);
}

function slotOn(peerPort: number, httpPort: number): NodeSlot {
  return { peerPort, httpPort, args: null, child: null };
}

/** Makes the CA (if missing) and the certificates of nodes that have none yet. */
async function ensureCerts(dir: string, ids: readonly string[]): Promise<void> {
  const has = (name: string) => existsSync(path.join(dir, name));
  const missing = has(CA_CERT_FILE)
    ? ids.filter((id) => !has(nodeCertFile(id)) || !has(nodeKeyFile(id)))
    : [...ids];
  if (missing.length > 0) await createCerts({ dir, nodes: missing, force: !has(CA_CERT_FILE) });
}

/**
 * The script a node process runs: this build's own CLI when running compiled (an installed
 * package, or a checkout's dist/ as `npm start` runs it), so node processes run the same code
 * as their supervisor; from the sources, bin/ringkv.mjs (which runs them through tsx).
 */
function binPath(): string {
  const compiled = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  if (import.meta.url.endsWith('.js') && existsSync(compiled)) return compiled;
  for (const relative of ['../../bin/ringkv.mjs', '../../../bin/ringkv.mjs']) {
    const file = fileURLToPath(new URL(relative, import.meta.url));
    if (existsSync(file)) return file;
  }
  throw new Error('cannot find bin/ringkv.mjs to start node processes');
}
