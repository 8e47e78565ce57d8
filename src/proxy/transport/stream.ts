/**
 * A connection's byte stream as everything above the transports sees it: bytes in, bytes out, close,
 * and the two ends. Whether the bytes travel over TCP or TLS, or came after a PROXY header, is the
 * transport's business alone.
 *
 * @module
 */
import type { ByteSink, ByteSource } from "../../lib/bytes_io.ts";

/** One end of a connection. */
export interface NetEndpoint {
  /** IP address (or host name). */
  readonly hostname: string;
  /** Port. */
  readonly port: number;
}

/** A bidirectional byte stream. */
export interface ByteStream extends ByteSource, ByteSink {
  /** The peer's end. */
  readonly remote: NetEndpoint;
  /** This node's end. */
  readonly local: NetEndpoint;
  /** Closes the stream (ends a pending read); throws when already closed. */
  close(): void;
}

/** Accepts streams on one port. */
export interface StreamListener {
  /** The port listened on. */
  readonly port: number;
  /** The next connection; rejects with `Deno.errors.BadResource` once closed. */
  accept(): Promise<ByteStream>;
  /** Stops listening. */
  close(): void;
}

/**
 * Formats an endpoint as `host:port` (`[v6]:port` for IPv6).
 *
 * @example
 * ```ts
 * formatAddress({ hostname: "::1", port: 9092 }); // "[::1]:9092"
 * ```
 */
export function formatAddress(addr: NetEndpoint | Deno.Addr): string {
  if (!("hostname" in addr)) return "unix";
  if ("transport" in addr && addr.transport !== "tcp" && addr.transport !== "udp") return "unix";
  return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
}

/**
 * A stream that yields `first` before reading from `stream` (the bytes a transport stage read past
 * what it consumed, e.g. after a PROXY header).
 *
 * @example
 * ```ts ignore
 * const rest = prefixedStream(leftover, tcp);
 * ```
 */
export function prefixedStream(first: Uint8Array, stream: ByteStream): ByteStream {
  return first.length === 0 ? stream : new PrefixedStream(first, stream);
}

/** {@link prefixedStream}'s stream: a class, so a connection holds no closures for it. */
class PrefixedStream implements ByteStream {
  readonly remote: NetEndpoint;
  readonly local: NetEndpoint;
  #pending: Uint8Array | null;
  readonly #stream: ByteStream;

  constructor(first: Uint8Array, stream: ByteStream) {
    this.remote = stream.remote;
    this.local = stream.local;
    this.#pending = first;
    this.#stream = stream;
  }

  read(p: Uint8Array): Promise<number | null> {
    const pending = this.#pending;
    if (pending === null) return this.#stream.read(p);
    const n = Math.min(p.length, pending.length);
    p.set(pending.subarray(0, n));
    this.#pending = n < pending.length ? pending.subarray(n) : null;
    return Promise.resolve(n);
  }

  write(p: Uint8Array): Promise<number> {
    return this.#stream.write(p);
  }

  close(): void {
    this.#stream.close();
  }
}
