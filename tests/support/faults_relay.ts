/**
 * Network fault helpers for lifecycle tests: a TCP relay in front of a real broker (start it late to
 * make a bootstrap server "come up"; drop its connections to cut them mid-stream) and a black hole
 * (accepts connections, never answers).
 *
 * ```ts
 * const relay = TcpRelay.start({ hostname: "127.0.0.1", port: 0 }, { hostname: "127.0.0.1", port: 29092 });
 * // KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:<relay.port>
 * await relay.close();
 * ```
 */

/** A `host:port` to listen on or connect to. */
export interface Address {
  hostname: string;
  port: number;
}

/** Forwards every accepted connection to `target`, byte for byte, both ways. */
export class TcpRelay {
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #tasks = new Set<Promise<void>>();
  #accepted = 0;
  #closed = false;

  private constructor(listener: Deno.TcpListener, readonly target: Address) {
    this.#listener = listener;
    this.#track(this.#acceptLoop());
  }

  /** Listens on `listen` (port 0 = any free port) and relays to `target`. */
  static start(listen: Address, target: Address): TcpRelay {
    return new TcpRelay(Deno.listen({ ...listen, transport: "tcp" }), target);
  }

  /** The port listened on. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Closes every relayed connection (both sides) but keeps listening. */
  dropAll(): void {
    for (const conn of this.#conns) closeQuietly(conn);
    this.#conns.clear();
  }

  /** Stops listening, closes every connection and waits for the relay tasks. */
  async close(): Promise<void> {
    this.#closed = true;
    closeQuietly(this.#listener);
    this.dropAll();
    await Promise.allSettled([...this.#tasks]);
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let client: Deno.TcpConn;
      try {
        client = await this.#listener.accept();
      } catch {
        return;
      }
      if (this.#closed) {
        closeQuietly(client);
        return;
      }
      this.#accepted++;
      this.#track(this.#relay(client));
    }
  }

  async #relay(client: Deno.TcpConn): Promise<void> {
    this.#conns.add(client);
    let upstream: Deno.TcpConn;
    try {
      upstream = await Deno.connect({ ...this.target, transport: "tcp" });
    } catch {
      this.#conns.delete(client);
      closeQuietly(client);
      return;
    }
    this.#conns.add(upstream);
    await Promise.race([pipe(client, upstream), pipe(upstream, client)]);
    closeQuietly(client);
    closeQuietly(upstream);
    this.#conns.delete(client);
    this.#conns.delete(upstream);
  }
}

/** Accepts connections and holds them open without ever sending a byte (a hung server). */
export class BlackHole {
  readonly #listener: Deno.TcpListener;
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #drains = new Set<Promise<void>>();
  readonly #loop: Promise<void>;
  #accepted = 0;

  private constructor(listener: Deno.TcpListener) {
    this.#listener = listener;
    this.#loop = this.#acceptLoop();
  }

  /** Listens on `listen` (port 0 = any free port). */
  static start(listen: Address): BlackHole {
    return new BlackHole(Deno.listen({ ...listen, transport: "tcp" }));
  }

  /** The port listened on. */
  get port(): number {
    return (this.#listener.addr as Deno.NetAddr).port;
  }

  /** Connections accepted so far. */
  get accepted(): number {
    return this.#accepted;
  }

  /** Stops listening and closes what it holds. */
  async close(): Promise<void> {
    closeQuietly(this.#listener);
    for (const conn of this.#conns) closeQuietly(conn);
    await this.#loop;
    await Promise.allSettled([...this.#drains]);
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      try {
        const conn = await this.#listener.accept();
        this.#accepted++;
        this.#conns.add(conn);
        // Read and discard, so the peer's writes never block; never answer.
        this.#drains.add((async () => {
          const sink = new Uint8Array(4096);
          try {
            while (await conn.read(sink) !== null) { /* discard */ }
          } catch { /* closed */ }
        })());
      } catch {
        return;
      }
    }
  }
}

async function pipe(from: Deno.TcpConn, to: Deno.TcpConn): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  try {
    for (;;) {
      const n = await from.read(buf);
      if (n === null) return;
      let written = 0;
      while (written < n) written += await to.write(buf.subarray(written, n));
    }
  } catch {
    // either side closed
  }
}

function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch { /* closed */ }
}
