/**
 * Connecting to a broker with a deadline (both the listeners' upstream connections and the gateway's
 * own discovery client use it).
 *
 * @module
 */

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
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (error) {
    attempt.then((conn) => conn.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}
