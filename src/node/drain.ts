/**
 * The drain of a stopping node: after it has left its gateway group, it keeps serving the clients
 * already connected (they move to the other nodes at their next metadata refresh).
 *
 * @module
 */
import { sleep } from "../lib/deadline.ts";
import { logger } from "../log.ts";
import type { StopRequest } from "./node_state.ts";

const log = logger("gateway");

/**
 * Waits `stop.drainMs` (cut short when `stop.signal` aborts); returns at once when the node was not
 * asked to stop (a failed start) or the drain is 0.
 *
 * @example
 * ```ts
 * await drainConnectedClients({ drainMs: 10_000, signal: secondSignal });
 * ```
 */
export async function drainConnectedClients(stop: StopRequest | null): Promise<void> {
  if (!stop || stop.drainMs <= 0 || stop.signal?.aborted) return;
  log.info("left the gateway cluster; serving connected clients for {ms} ms", { ms: stop.drainMs });
  await sleep(stop.drainMs, stop.signal);
}
