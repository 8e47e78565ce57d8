/**
 * Plain TCP: the listeners' accepted connections and the streams over them. The only module of the
 * data path that knows `Deno.TcpConn`.
 *
 * @module
 */
import type { ByteStream, NetEndpoint, StreamListener } from "./stream.ts";

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
  try {
    conn.setNoDelay(true);
  } catch {
    // Already reset: the first read says so.
  }
  return new TcpStream(conn);
}

/** Methods on the prototype, not closures per connection: an idle connection holds two of these. */
class TcpStream implements ByteStream {
  readonly #conn: Deno.TcpConn;

  constructor(conn: Deno.TcpConn) {
    this.#conn = conn;
  }

  // Deno keeps both addresses on the connection: read them there rather than copy them per stream.
  get remote(): NetEndpoint {
    return this.#conn.remoteAddr;
  }

  get local(): NetEndpoint {
    return this.#conn.localAddr;
  }

  read(p: Uint8Array): Promise<number | null> {
    return this.#conn.read(p);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#conn.write(p);
  }

  close(): void {
    this.#conn.close();
  }
}
