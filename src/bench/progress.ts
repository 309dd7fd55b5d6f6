/**
 * A progress bar for long benchmark runs, on stderr so stdout stays clean for tables and JSON.
 * On a terminal it redraws one line in place (at most every `redrawMsMin`); elsewhere (a pipe, a
 * CI log) it prints only the lines passed to `log`, so logs stay readable.
 */

export interface ProgressStream {
  write(text: string): unknown;
  readonly isTTY?: boolean;
  readonly columns?: number;
}

export interface ProgressOptions {
  /** Total work, in any unit (the matrix uses planned milliseconds). */
  readonly total: number;
  /** @default process.stderr */
  readonly stream?: ProgressStream;
  /** Draw the bar even when the stream is not a terminal. @default false */
  readonly forceBar?: boolean;
  /** @default 100 */
  readonly redrawMsMin?: number;
  /** Clock, for tests. @default performance.now */
  readonly now?: () => number;
}

const BAR_WIDTH = 28;

/** `[#########.........]  42%` */
export function formatBar(fraction: number, width = BAR_WIDTH): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  const percent = `${Math.floor(f * 100)}`.padStart(3);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${percent}%`;
}

function formatSeconds(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export class ProgressBar {
  private readonly stream: ProgressStream;
  private readonly drawing: boolean;
  private readonly now: () => number;
  private readonly started: number;
  private lastDraw = Number.NEGATIVE_INFINITY;
  private shown = false;
  private done = 0;
  private detail = '';

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.drawing = options.forceBar === true || this.stream.isTTY === true;
    this.now = options.now ?? (() => performance.now());
    this.started = this.now();
  }

  /** Sets the work done so far and a short status; redraws when due. */
  update(done: number, detail = this.detail): void {
    this.done = Math.min(this.options.total, Math.max(this.done, done));
    this.detail = detail;
    const now = this.now();
    if (now - this.lastDraw < (this.options.redrawMsMin ?? 100)) return;
    this.lastDraw = now;
    this.draw();
  }

  /** Prints a line above the bar (the bar is redrawn below it). */
  log(line: string): void {
    this.clear();
    this.stream.write(`${line}\n`);
    if (this.drawing) this.draw();
  }

  /** Removes the bar. */
  finish(): void {
    this.clear();
  }

  private line(): string {
    const fraction = this.options.total > 0 ? this.done / this.options.total : 1;
    const elapsed = this.now() - this.started;
    const eta = fraction > 0.01 ? (elapsed / fraction) * (1 - fraction) : Number.NaN;
    const etaText = Number.isNaN(eta) ? '' : ` eta ${formatSeconds(eta)}`;
    const text = `${formatBar(fraction)} ${formatSeconds(elapsed)}${etaText}  ${this.detail}`;
    const columns = this.stream.columns ?? 120;
    return text.length > columns - 1 ? text.slice(0, columns - 1) : text;
  }

  private draw(): void {
    if (!this.drawing) return;
    this.stream.write(`\r\x1b[2K${this.line()}`);
    this.shown = true;
  }

  private clear(): void {
    if (!this.shown) return;
    this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}
