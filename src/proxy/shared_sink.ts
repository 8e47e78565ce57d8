/**
 * A byte sink several writers share without ever interleaving their frames: the pump of one
 * direction, and the session writing out of band (a locally answered request to the client, a
 * request of the gateway's own to the broker).
 *
 * @module
 */
import type { ByteSink } from "../lib/bytes_io.ts";
import type { SharedFrameSink } from "./pump.ts";

/** Thrown to writers still waiting when the sink is closed. */
export class SinkClosedError extends Error {
  /** A closing connection's error. */
  constructor() {
    super("the connection is closing");
    this.name = "SinkClosedError";
  }
}

/**
 * A first-come, first-served lock around a sink.
 *
 * @example
 * ```ts ignore
 * const upstream = new SharedSink(conn);
 * await upstream.claim();
 * try { await writeAll(upstream, frame); } finally { upstream.release(); }
 * ```
 */
export class SharedSink implements SharedFrameSink {
  readonly #sink: ByteSink;
  #held = false;
  #closed = false;
  readonly #waiting: { resolve: () => void; reject: (error: Error) => void }[] = [];

  /**
   * A shared sink, free.
   *
   * @param sink where the bytes go
   */
  constructor(sink: ByteSink) {
    this.#sink = sink;
  }

  /** Writes through to the sink (the caller holds it). */
  write(p: Uint8Array): Promise<number> {
    return this.#sink.write(p);
  }

  /** Takes the sink: undefined when taken at once, else a promise (rejected if the sink closes first). */
  claim(): Promise<void> | undefined {
    if (this.#closed) return Promise.reject(new SinkClosedError());
    if (!this.#held) {
      this.#held = true;
      return undefined;
    }
    return new Promise((resolve, reject) => this.#waiting.push({ resolve, reject }));
  }

  /** Gives the sink to the next waiting writer, or frees it. */
  release(): void {
    const next = this.#waiting.shift();
    if (next) next.resolve();
    else this.#held = false;
  }

  /** Fails every waiting and future claim (the connection is ending). */
  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter.reject(new SinkClosedError());
  }
}
