/**
 * Deadlines on `AbortSignal.timeout` / `AbortSignal.any`: one way to bound how long something may take.
 *
 * @module
 */

/** Thrown by {@link withDeadline} when the deadline passed first. */
export class DeadlineError extends Error {
  /** @param message what timed out */
  constructor(message: string) {
    super(message);
    this.name = "DeadlineError";
  }
}

/**
 * A signal that aborts after `ms` milliseconds or when any of `signals` aborts.
 *
 * @example
 * ```ts
 * const signal = deadline(1000, shutdown.signal);
 * ```
 */
export function deadline(ms: number, ...signals: (AbortSignal | undefined)[]): AbortSignal {
  const all = [AbortSignal.timeout(ms), ...signals.filter((s): s is AbortSignal => s !== undefined)];
  return all.length === 1 ? all[0] : AbortSignal.any(all);
}

/**
 * Resolves when `signal` aborts (never rejects); resolves at once when it already has.
 *
 * @example
 * ```ts
 * await Promise.race([work, aborted(AbortSignal.timeout(3000))]);
 * ```
 */
export function aborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
}

/**
 * Waits for `work` at most until `signal` aborts: returns the work's value, or `undefined` when the
 * signal won (the work keeps running; its rejection is then ignored).
 *
 * @example
 * ```ts
 * await settleWithin(directory.refreshIfOlderThan(1000), AbortSignal.timeout(2000));
 * ```
 */
export async function settleWithin<T>(work: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  work.catch(() => {});
  return await Promise.race([work, aborted(signal).then(() => undefined)]);
}

/**
 * Like {@link settleWithin} but rejects with a {@link DeadlineError} carrying `message` when the signal
 * aborts first (the work's own rejection passes through).
 *
 * @example
 * ```ts
 * const conn = await withDeadline(Deno.connect(addr), AbortSignal.timeout(10_000), "connect timed out");
 * ```
 */
export async function withDeadline<T>(work: Promise<T>, signal: AbortSignal, message: string): Promise<T> {
  work.catch(() => {});
  const timedOut = aborted(signal).then(() => {
    throw new DeadlineError(message);
  });
  return await Promise.race([work, timedOut]);
}

/**
 * {@link withDeadline} with a deadline `ms` from now whose timer is cleared as soon as the work settles,
 * so nothing of it outlives the work. (An `AbortSignal.timeout` keeps its timer, and all that waits on
 * it, until it fires: for a connection's handshake, long after the handshake is done.)
 *
 * @example
 * ```ts
 * const conn = await withTimeout(Deno.connect({ hostname: "127.0.0.1", port: 9092 }), 10_000, "connect timed out");
 * ```
 */
export function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineError(message)), ms);
    // Like AbortSignal.timeout's: the deadline alone does not keep the process alive.
    Deno.unrefTimer(timer);
    work.then((value) => {
      clearTimeout(timer);
      resolve(value);
    }, (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts (resolving, not rejecting: the
 * caller checks why it woke up).
 *
 * @example
 * ```ts
 * await sleep(500, AbortSignal.timeout(100)); // returns after ~100 ms
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}
