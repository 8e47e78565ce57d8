/**
 * Plain TCP: the listeners' accepted connections and the streams over them. The only module of the
 * data path that knows `Deno.TcpConn`.
 *
 * @module
 */
import type { ByteStream, StreamListener } from "./stream.ts";

/**
 * Listens on `hostname:port`.
 *
 * @example
 * ```ts ignore
 * const listener = listenTcp("0.0.0.0", 6969);
 * const stream = await listener.accept();
 * ```
 * @throws when the port cannot be bound
 */
export function listenTcp(hostname: string, port: number): StreamListener {
  const listener = Deno.listen({ hostname, port, transport: "tcp" });
  return {
    port: (listener.addr as Deno.NetAddr).port,
    accept: async () => tcpStream(await listener.accept()),
    close: () => listener.close(),
  };
}

/**
 * A stream over a TCP connection, with Nagle's algorithm off (Kafka frames are latency sensitive and
 * written whole).
 *
 * @example
 * ```ts ignore
 * const stream = tcpStream(await Deno.connect({ hostname: "127.0.0.1", port: 9092 }));
 * ```
 */
export function tcpStream(conn: Deno.TcpConn): ByteStream {
  const remote = conn.remoteAddr as Deno.NetAddr;
  const local = conn.localAddr as Deno.NetAddr;
  try {
    conn.setNoDelay(true);
  } catch {
    // Already reset: the first read says so.
  }
  return {
    remote: { hostname: remote.hostname, port: remote.port },
    local: { hostname: local.hostname, port: local.port },
    read: (p) => conn.read(p),
    write: (p) => conn.write(p),
    close: () => conn.close(),
  };
}
