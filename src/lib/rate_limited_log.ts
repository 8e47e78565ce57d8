/**
 * Log lines that outside parties can cause (a hostile or broken peer per connection) limited to the
 * first few per interval; the rest are counted and reported in one line when the interval is over,
 * so a flood of bad connections cannot flood the log.
 *
 * @module
 */

/** Writes one log line (a LogTape-style message template and its values). */
export type LogLineWriter = (message: string, values: Record<string, unknown>) => void;

/** Options of {@link RateLimitedLog}. */
export interface RateLimitedLogOptions {
  /** Lines written per interval before the rest are counted instead (default 5). */
  perInterval?: number;
  /** Length of an interval in milliseconds (default 10 000). */
  intervalMs?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
}

/**
 * A budget of log lines per interval, shared by every kind of line it is given.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const badPeers = new RateLimitedLog((message) => lines.push(message), { perInterval: 1 });
 * badPeers.log("frame", "closed {client}: bad frame", { client: "10.0.0.1:5000" });
 * badPeers.log("frame", "closed {client}: bad frame", { client: "10.0.0.2:5000" }); // counted, not written
 * ```
 */
export class RateLimitedLog {
  readonly #write: LogLineWriter;
  readonly #perInterval: number;
  readonly #intervalMs: number;
  readonly #now: () => number;
  #intervalStart = -Infinity;
  #written = 0;
  /** Lines not written in the current interval, by kind. */
  #suppressed = new Map<string, number>();
  #suppressedTotal = 0;

  /**
   * A rate-limited log writing through `write`.
   *
   * @param write writes one line (e.g. `(m, v) => log.warn(m, v)`)
   * @param options budget, interval and clock
   */
  constructor(write: LogLineWriter, options: RateLimitedLogOptions = {}) {
    this.#write = write;
    this.#perInterval = options.perInterval ?? 5;
    this.#intervalMs = options.intervalMs ?? 10_000;
    this.#now = options.now ?? (() => performance.now());
  }

  /**
   * Writes the line if the interval's budget allows, else counts it under `kind`. Returns whether it
   * was written.
   */
  log(kind: string, message: string, values: Record<string, unknown>): boolean {
    this.flush();
    if (this.#written < this.#perInterval) {
      this.#written++;
      this.#write(message, values);
      return true;
    }
    this.#suppressed.set(kind, (this.#suppressed.get(kind) ?? 0) + 1);
    this.#suppressedTotal++;
    return false;
  }

  /**
   * Ends the interval if it is over: writes one line with the count of lines suppressed in it (if
   * any). Called by {@link RateLimitedLog.log}, and periodically by the owner so the count is
   * reported even when no further line comes.
   */
  flush(): void {
    const now = this.#now();
    if (now - this.#intervalStart < this.#intervalMs) return;
    if (this.#suppressedTotal > 0) {
      const byKind = [...this.#suppressed].map(([kind, count]) => `${kind}: ${count}`).join(", ");
      this.#write("suppressed {count} more log lines about bad peers in the last {seconds} s ({byKind})", {
        count: this.#suppressedTotal,
        seconds: Math.round((now - this.#intervalStart) / 1000),
        byKind,
      });
      this.#suppressed = new Map();
      this.#suppressedTotal = 0;
    }
    this.#intervalStart = now;
    this.#written = 0;
  }
}
