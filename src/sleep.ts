/**
 * A timer as a promise that an abort signal ends early (resolving, not rejecting: the caller checks
 * why it woke up).
 *
 * @module
 */

/**
 * Resolves after `ms` milliseconds, or as soon as `signal` aborts.
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
