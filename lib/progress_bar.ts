/**
 * A progress display for long loops (populate's `displayProgress`): on a terminal, one bar that
 * redraws in place (`Analysis |██████░░░░| 60/100 60% [00:12<00:08, 5.0/s]`); otherwise — a log
 * file, a CI job, a pipe — plain lines, one per tenth of the work and one at the end, so logs stay
 * readable. Writes to stderr unless told otherwise.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./progress_bar.ts";
 * const bar = new ProgressBar(3, { label: "Analysis" });
 * for (let i = 0; i < 3; i++) bar.tick();
 * bar.finish();
 * ```
 *
 * @module
 */

/** Where the display goes: stderr, or anything with the same two methods. */
export interface ProgressOutput {
  /** Writes bytes (synchronously). */
  writeSync(bytes: Uint8Array): number;
  /** Whether this is a terminal (then the bar redraws in place). */
  isTerminal(): boolean;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** Text in front of the bar (the table class's name in populate). */
  label?: string;
  /** Where to write (default `Deno.stderr`). */
  output?: ProgressOutput;
  /** Characters of the bar itself (default 30). */
  width?: number;
  /** Milliseconds between redraws on a terminal (default 100). */
  redrawInterval?: number;
  /** The clock, in milliseconds (default `Date.now`). */
  now?: () => number;
}

const encoder = new TextEncoder();

/**
 * `m:ss`, or `h:mm:ss` from an hour on.
 *
 * @example
 * ```ts
 * import { formatDuration } from "./progress_bar.ts";
 * console.log(formatDuration(75), formatDuration(3725)); // 01:15 1:02:05
 * ```
 */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "?";
  const s = Math.round(seconds);
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${two(m)}:${two(s % 60)}`;
}

/**
 * A progress bar over a known number of steps.
 *
 * @example
 * ```ts
 * import { ProgressBar } from "./progress_bar.ts";
 * const bar = new ProgressBar(10, { label: "keys" });
 * bar.tick(5);
 * bar.finish();
 * ```
 */
export class ProgressBar {
  /** Steps in all. */
  readonly total: number;
  /** Whether the output is a terminal. */
  readonly tty: boolean;
  #done = 0;
  #label: string;
  #out: ProgressOutput;
  #width: number;
  #interval: number;
  #now: () => number;
  #start: number;
  #lastDraw = -Infinity;
  #lastTenth = -1;
  #lastPrinted = -1;
  #finished = false;

  /** A bar over `total` steps; draws its first state at once. */
  constructor(total: number, options: ProgressBarOptions = {}) {
    this.total = Math.max(0, Math.floor(total));
    this.#label = options.label ?? "";
    this.#out = options.output ?? Deno.stderr;
    this.#width = options.width ?? 30;
    this.#interval = options.redrawInterval ?? 100;
    this.#now = options.now ?? Date.now;
    this.#start = this.#now();
    let tty = false;
    try {
      tty = this.#out.isTerminal();
    } catch {
      // Not knowing means plain lines, which work everywhere.
    }
    this.tty = tty;
    this.#draw(true);
  }

  /** Steps done so far. */
  get done(): number {
    return this.#done;
  }

  /** Counts `n` more steps done (default 1). */
  tick(n = 1): void {
    this.update(this.#done + n);
  }

  /** Sets the number of steps done. */
  update(done: number): void {
    if (this.#finished) return;
    this.#done = Math.min(Math.max(0, done), this.total);
    this.#draw(false);
  }

  /** Draws the final state (and ends the terminal line). Idempotent. */
  finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#draw(true);
    if (this.tty) this.#write("\n");
  }

  /** The current state as one line of text, without control characters. */
  line(): string {
    const elapsed = (this.#now() - this.#start) / 1000;
    const rate = elapsed > 0 ? this.#done / elapsed : 0;
    const left = rate > 0 ? (this.total - this.#done) / rate : NaN;
    const pct = this.total === 0 ? 100 : Math.floor((100 * this.#done) / this.total);
    const head = this.#label ? `${this.#label} ` : "";
    const counts = `${this.#done}/${this.total} ${pct}%`;
    const times = `[${formatDuration(elapsed)}<${
      this.#done === this.total ? "00:00" : formatDuration(left)
    }, ${rate.toFixed(rate >= 10 ? 0 : 1)}/s]`;
    if (!this.tty) return `${head}${counts} ${times}`;
    const filled = this.total === 0
      ? this.#width
      : Math.floor((this.#width * this.#done) / this.total);
    const bar = "█".repeat(filled) + "░".repeat(this.#width - filled);
    return `${head}|${bar}| ${counts} ${times}`;
  }

  #draw(force: boolean): void {
    if (this.tty) {
      const t = this.#now();
      if (!force && t - this.#lastDraw < this.#interval && this.#done < this.total) return;
      this.#lastDraw = t;
      this.#write(`\r\x1b[2K${this.line()}`);
      return;
    }
    // Plain lines: the start, each tenth of the way, and the end (unless just printed).
    const tenth = this.total === 0 ? 10 : Math.floor((10 * this.#done) / this.total);
    const due = this.#finished
      ? this.#done !== this.#lastPrinted
      : force || tenth > this.#lastTenth;
    if (!due) return;
    this.#lastTenth = tenth;
    this.#lastPrinted = this.#done;
    this.#write(`${this.line()}\n`);
  }

  #write(text: string): void {
    try {
      const bytes = encoder.encode(text);
      let off = 0;
      while (off < bytes.length) off += this.#out.writeSync(bytes.subarray(off));
    } catch {
      // A closed stderr must not break the computation it reports on.
    }
  }
}
