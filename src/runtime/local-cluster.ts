/**
 * A local cluster of worker-thread nodes, as the rest of the program drives it: the link the
 * client sends requests through (isUp, send, stats, inspect), and the cluster's control — kill,
 * restart, partition, heal, network delay and loss, starting and stopping nodes for membership
 * changes, and the membership file of a durable cluster. It satisfies the client's NodeLink and
 * ClusterControl shapes without importing them (runtime/ sits below client/); src/index.ts
 * plugs it in.
 *
 * Built in dependency order: the request table first, then the launcher that feeds it answers.
 */

import { existsSync, mkdirSync, rmSync } from 'node:fs';
import type { RingState } from '../core/ring-state.js';
import type { MessageDelays } from './control.js';
import { DataDirLock } from './data-dir-lock.js';
import { Launcher, type LauncherOptions } from './launcher.js';
import { type MembershipRecord, writeMembership } from './membership-file.js';
import type { NetworkSettings, NetworkView } from './network-state.js';
import { type RuntimeLink, WorkerRequests } from './worker-requests.js';

export class LocalCluster {
  /** What the client sends through: one request to one named node, and who is up. */
  readonly link: RuntimeLink;

  private constructor(
    private readonly launcher: Launcher,
    requests: WorkerRequests,
    /** Where a durable cluster keeps its membership file; null in memory. */
    private readonly dataDir: string | null,
    /** The data directory's lock, held until close. */
    private readonly lock: DataDirLock | null,
  ) {
    this.link = {
      isUp: (node) => launcher.isUp(node),
      send: (node, request) => requests.send(node, launcher.node(node), request),
      serviceTime: () => requests.serviceTime(),
      stats: async (node) => (await launcher.node(node)?.stats()) ?? null,
      inspect: async (node, key) => (await launcher.node(node)?.inspect(key)) ?? null,
      explain: async (node, key) => (await launcher.node(node)?.explain(key)) ?? null,
    };
  }

  /**
   * Starts every node and wires them; fails (stopping what started) if any node fails. A
   * durable cluster first takes its data directory's lock: a second cluster or node process on
   * the same directory would run the same nodes twice and issue the same dots. A start that
   * fails leaves no data directory it created behind.
   */
  static async start(options: LauncherOptions): Promise<LocalCluster> {
    const { dataDir } = options;
    const created = dataDir !== null && !existsSync(dataDir);
    const lock = dataDir === null ? null : lockDataDir(dataDir);
    try {
      const requests = new WorkerRequests();
      const launcher = await Launcher.start(options, requests);
      return new LocalCluster(launcher, requests, dataDir, lock);
    } catch (error) {
      lock?.release();
      if (created) rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  kill(id: string): Promise<boolean> {
    return this.launcher.kill(id);
  }

  restart(id: string): Promise<boolean> {
    return this.launcher.restart(id);
  }

  partition(groups: readonly (readonly string[])[]): Promise<NetworkView> {
    return this.launcher.partition(groups);
  }

  heal(): Promise<NetworkView> {
    return this.launcher.heal();
  }

  setNetwork(patch: Partial<NetworkSettings>): Promise<NetworkView> {
    return this.launcher.setNetwork(patch);
  }

  setMessageDelays(delays: MessageDelays | null, seed?: number): Promise<void> {
    return this.launcher.setMessageDelays(delays, seed);
  }

  network(): NetworkView {
    return this.launcher.networkView();
  }

  partitionGroupOf(id: string): number | null {
    return this.launcher.partitionGroupOf(id);
  }

  addNode(id: string, ringState: RingState): Promise<void> {
    return this.launcher.addNode(id, ringState);
  }

  forget(id: string): Promise<void> {
    return this.launcher.forget(id);
  }

  noteRingState(state: RingState): void {
    this.launcher.noteRingState(state);
  }

  /** Keeps the node list of a durable cluster for its next start; nothing in memory. */
  saveMembership(record: MembershipRecord): void {
    if (this.dataDir !== null) writeMembership(this.dataDir, record);
  }

  async close(): Promise<void> {
    try {
      await this.launcher.close();
    } finally {
      this.lock?.release();
    }
  }
}

/** The directory's lock (made if missing: durable data lives there anyway). */
function lockDataDir(dir: string): DataDirLock {
  mkdirSync(dir, { recursive: true });
  return DataDirLock.acquire(dir);
}
