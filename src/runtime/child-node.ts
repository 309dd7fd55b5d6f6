/**
 * One `ringkv node` child process of `ringkv up --processes`: spawned with a fixed command line
 * (so a restart is the same command), in its own process group (a terminal's Ctrl-C reaches the
 * supervisor alone, which then stops its nodes in order), with its stdin a pipe it watches
 * (`--exit-with-stdin`: when the supervisor dies, even by SIGKILL, the pipe closes and the node
 * drains and exits). Its log goes to the supervisor's stderr; its stdout gives the banner whose
 * first line names the URL it serves. Every wait is bounded.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { PROCESS_BANNER_BYTES_MAX } from '../config.js';
import { withTimeout } from '../util/deadline.js';

export interface ChildCommand {
  readonly args: readonly string[];
  /** Added to the supervisor's environment (the control token travels here, not in argv). */
  readonly env: Readonly<Record<string, string>>;
}

/** How a child ended, for logs and errors: `exited with code 1`, `killed by SIGKILL`. */
export type ExitReason = string;

/**
 * The exit code of a `ringkv node` (or `ringkv up`) that could not listen because its address
 * was in use: the supervisor's cue to pick other ports and start again (cli/exit-codes.ts).
 */
export const ADDRESS_IN_USE_EXIT_CODE = 5;

/** A child that did not come up; `exitCode` is its exit code when it exited by itself first. */
export class ChildStartError extends Error {
  override name = 'ChildStartError';
  constructor(
    message: string,
    readonly exitCode: number | null,
  ) {
    super(message);
  }

  /** Whether the child exited because an address it was to listen on was taken. */
  get addressInUse(): boolean {
    return this.exitCode === ADDRESS_IN_USE_EXIT_CODE;
  }
}

export class ChildNode {
  private constructor(
    readonly id: string,
    private readonly child: ChildProcess,
    /** The node's own HTTP URL, from its banner. */
    readonly url: string,
    /** Resolves once the process has exited, with why. */
    readonly exited: Promise<ExitReason>,
  ) {}

  /**
   * Spawns the node and resolves once its banner names its URL. A node that exits first, prints
   * no banner within `startTimeoutMs` or floods stdout is killed and the start rejects.
   */
  static start(
    id: string,
    command: ChildCommand,
    startTimeoutMs: number,
    onExit: (reason: ExitReason) => void,
  ): Promise<ChildNode> {
    const child = spawn(process.execPath, command.args, {
      stdio: ['pipe', 'pipe', 'inherit'],
      detached: true,
      env: { ...process.env, ...command.env },
    });
    // The pipe breaks when the child dies: nothing is ever written, so ignore its errors.
    child.stdin?.on('error', () => {});
    const exited = new Promise<ExitReason>((resolve) => {
      child.once('exit', (code, signal) => {
        const reason = signal === null ? `exited with code ${code}` : `killed by ${signal}`;
        resolve(reason);
        onExit(reason);
      });
    });
    return new Promise<ChildNode>((resolve, reject) => {
      let banner = '';
      const fail = (why: string): void => {
        clearTimeout(timer);
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume();
        const exitCode = child.exitCode;
        if (exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        reject(new ChildStartError(`node ${id} did not start: ${why}`, exitCode));
      };
      const timer = setTimeout(() => fail(`no banner within ${startTimeoutMs} ms`), startTimeoutMs);
      child.once('error', (error) => fail(error.message));
      void exited.then((reason) => fail(`it ${reason} (its log is above)`));
      child.stdout?.on('data', (chunk: Buffer) => {
        banner += chunk.toString('utf8');
        const url = /^ringkv node \S+ is up at (https?:\/\/\S+)$/m.exec(banner)?.[1];
        if (url !== undefined) {
          clearTimeout(timer);
          child.stdout?.removeAllListeners('data');
          child.stdout?.resume(); // the rest is discarded, never buffered
          resolve(new ChildNode(id, child, url, exited));
        } else if (banner.length > PROCESS_BANNER_BYTES_MAX) {
          fail(`more than ${PROCESS_BANNER_BYTES_MAX} bytes on stdout and no banner`);
        }
      });
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  get isRunning(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGKILL, as a crash; resolves once the process is gone (or rejects past `timeoutMs`). */
  async kill(timeoutMs: number): Promise<ExitReason> {
    if (this.isRunning) this.child.kill('SIGKILL');
    return withTimeout(
      this.exited,
      timeoutMs,
      () => new Error(`node ${this.id} survived SIGKILL for ${timeoutMs} ms`),
    );
  }

  /** SIGTERM (the node drains and exits 0); SIGKILL past `graceMs`. */
  async stop(graceMs: number, killTimeoutMs: number): Promise<ExitReason> {
    if (!this.isRunning) return this.exited;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), graceMs);
    });
    const first = await Promise.race([this.exited, late]);
    clearTimeout(timer);
    if (first !== 'late') return first;
    return this.kill(killTimeoutMs);
  }
}
