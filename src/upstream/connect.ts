/**
 * Connecting to a broker with a deadline (both the listeners' upstream transport and the gateway's
 * own discovery client use it).
 *
 * @module
 */
import { withTimeout } from "../lib/deadline.ts";

/**
 * Opens a TCP connection, or rejects after `timeoutMs` (a connection that completes late is closed).
 *
 * @example
 * ```ts ignore
 * const conn = await connectWithTimeout("127.0.0.1", 9092, 10_000);
 * ```
 */
export async function connectWithTimeout(
  host: string,
  port: number,
  timeoutMs: number,
): Promise<Deno.TcpConn> {
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  try {
    return await withTimeout(attempt, timeoutMs, `connect timed out after ${timeoutMs} ms`);
  } catch (error) {
    attempt.then((conn) => conn.close(), () => {});
    throw error;
  }
}
