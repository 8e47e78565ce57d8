/**
 * Bounded polling for integration tests: one loop instead of a hand-written one per file.
 *
 * ```ts
 * await waitUntil(() => consumer.lines.length >= 10, 20_000, "ten lines consumed");
 * ```
 */
import { sleep } from "../../src/lib/deadline.ts";

/**
 * Polls `check` (every `intervalMs`) until it returns a truthy value, which it returns; an error thrown
 * by `check` counts as "not yet" (the last one is named when the wait times out after `timeoutMs`).
 *
 * @example
 * ```ts
 * const leader = await waitUntil(async () => (await leaderOf(topic)) ?? undefined, 30_000, "a leader");
 * ```
 */
export async function waitUntil<T>(
  check: () => T | Promise<T>,
  timeoutMs: number,
  what: string,
  intervalMs = 100,
): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${lastError ? `: ${lastError}` : ""}`,
      );
    }
    await sleep(intervalMs);
  }
}
