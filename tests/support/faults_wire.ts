/**
 * Raw Kafka wire helpers for fault-injection tests: hand-built request frames (independent of kgate's
 * codec on purpose) and a raw TCP client whose every wait is bounded.
 *
 * ```ts
 * const client = await RawClient.connect("127.0.0.21", 6969);
 * await client.roundTrip(apiVersionsV0(1), 1);
 * await client.sendTolerant(int32(-1));
 * assert.equal(await client.closedByPeer(5_000), "eof");
 * ```
 */

const encoder = new TextEncoder();

/** A big-endian int32. */
export function int32(n: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setInt32(0, n);
  return b;
}

/** Concatenates byte arrays. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Minimal big-endian writer for request bodies. */
export class Bytes {
  readonly #parts: number[] = [];
  int8(v: number): this {
    this.#parts.push(v & 0xff);
    return this;
  }
  int16(v: number): this {
    return this.int8(v >> 8).int8(v);
  }
  int32(v: number): this {
    return this.int8(v >>> 24).int8(v >>> 16).int8(v >>> 8).int8(v);
  }
  int64(v: bigint): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigInt64(0, v);
    return this.raw(b);
  }
  /** STRING / NULLABLE_STRING (int16 length, -1 = null). */
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const b = encoder.encode(s);
    return this.int16(b.length).raw(b);
  }
  raw(b: Uint8Array): this {
    for (const x of b) this.#parts.push(x);
    return this;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.#parts);
  }
}

/** A request header. */
export interface RequestHeaderFields {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId?: string | null;
  /** Header v2: append an empty tagged-field section (flexible request versions). */
  flexible?: boolean;
}

/** A whole request frame: size prefix, header v1 (or v2 when `flexible`), then `body`. */
export function requestFrame(header: RequestHeaderFields, body: Uint8Array = new Uint8Array()): Uint8Array {
  const h = new Bytes().int16(header.apiKey).int16(header.apiVersion).int32(header.correlationId)
    .string(header.clientId === undefined ? "kgate-faults" : header.clientId);
  if (header.flexible) h.int8(0);
  const head = h.finish();
  return concat(int32(head.length + body.length), head, body);
}

/** ApiVersions v0 (empty body): every broker answers it. */
export function apiVersionsV0(correlationId: number): Uint8Array {
  return requestFrame({ apiKey: 18, apiVersion: 0, correlationId });
}

/** Metadata v1 for `topics` (null = all topics). */
export function metadataV1(correlationId: number, topics: string[] | null = []): Uint8Array {
  const body = new Bytes();
  if (topics === null) body.int32(-1);
  else {
    body.int32(topics.length);
    for (const t of topics) body.string(t);
  }
  return requestFrame({ apiKey: 3, apiVersion: 1, correlationId }, body.finish());
}

/** Fetch v4 of one partition: a long poll when `minBytes` is not reached before `maxWaitMs`. */
export function fetchV4(
  correlationId: number,
  topic: string,
  partition: number,
  offset: bigint,
  maxWaitMs: number,
  minBytes: number,
): Uint8Array {
  const body = new Bytes()
    .int32(-1) // replica id
    .int32(maxWaitMs)
    .int32(minBytes)
    .int32(1 << 20) // max bytes
    .int8(0) // isolation level
    .int32(1)
    .string(topic)
    .int32(1)
    .int32(partition)
    .int64(offset)
    .int32(1 << 20)
    .finish();
  return requestFrame({ apiKey: 1, apiVersion: 4, correlationId }, body);
}

/** SaslHandshake (v0 or v1, never flexible) asking for `mechanism`. */
export function saslHandshake(version: number, correlationId: number, mechanism = "PLAIN"): Uint8Array {
  return requestFrame(
    { apiKey: 17, apiVersion: version, correlationId },
    new Bytes().string(mechanism).finish(),
  );
}

/** Deterministic pseudo-random bytes (xorshift32), so a failing case can be replayed. */
export function pseudoRandomBytes(seed: number, length: number): Uint8Array {
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/** The start of a TLS 1.2 ClientHello record, as a TLS client sends it to a plaintext port. */
export function tlsClientHello(): Uint8Array {
  const random = pseudoRandomBytes(7, 32);
  const hello = new Bytes()
    .int16(0x0303) // client version TLS 1.2
    .raw(random)
    .int8(0) // session id
    .int16(4).int16(0x1301).int16(0xc02f) // cipher suites
    .int8(1).int8(0) // compression: null
    .int16(0) // no extensions
    .finish();
  const handshake = concat(Uint8Array.of(0x01, 0, (hello.length >> 8) & 0xff, hello.length & 0xff), hello);
  return concat(Uint8Array.of(0x16, 0x03, 0x01, handshake.length >> 8, handshake.length & 0xff), handshake);
}

/** Races `promise` against a timer; on expiry calls `onTimeout` and rejects. */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout: () => void = () => {},
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`${what}: no outcome within ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function isResetError(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted;
}

/** A raw TCP client of a gateway port. */
export class RawClient {
  #buf: Uint8Array = new Uint8Array(0);
  #closed = false;

  private constructor(readonly conn: Deno.TcpConn) {}

  /** Connects within `timeoutMs`. */
  static async connect(hostname: string, port: number, timeoutMs = 5_000): Promise<RawClient> {
    const attempt = Deno.connect({ hostname, port, transport: "tcp" });
    const conn = await withDeadline(attempt, timeoutMs, `connect to ${hostname}:${port}`, () => {
      attempt.then((c) => c.close(), () => {});
    });
    return new RawClient(conn);
  }

  /** The client's address as the gateway sees and logs it (`host:port`). */
  get address(): string {
    const a = this.conn.localAddr as Deno.NetAddr;
    return `${a.hostname}:${a.port}`;
  }

  /** Writes all of `bytes` (bounded). */
  async send(bytes: Uint8Array, timeoutMs = 5_000): Promise<void> {
    const write = async () => {
      let n = 0;
      while (n < bytes.length) n += await this.conn.write(bytes.subarray(n));
    };
    await withDeadline(write(), timeoutMs, `write of ${bytes.length} bytes`, () => this.close());
  }

  /** Like {@link send}, but a connection the gateway already reset is fine (it may close first). */
  async sendTolerant(bytes: Uint8Array, timeoutMs = 5_000): Promise<void> {
    try {
      await this.send(bytes, timeoutMs);
    } catch (error) {
      if (!isResetError(error)) throw error;
    }
  }

  /** Reads one response frame; returns its body (correlation id first). */
  async readFrame(timeoutMs = 10_000): Promise<Uint8Array> {
    const read = async () => {
      for (;;) {
        if (this.#buf.length >= 4) {
          const size = new DataView(this.#buf.buffer, this.#buf.byteOffset, 4).getInt32(0);
          if (this.#buf.length >= 4 + size) {
            const body = this.#buf.slice(4, 4 + size);
            this.#buf = this.#buf.slice(4 + size);
            return body;
          }
        }
        const chunk = new Uint8Array(64 * 1024);
        const n = await this.conn.read(chunk);
        if (n === null) throw new Error("the connection was closed before a whole response arrived");
        this.#buf = concat(this.#buf, chunk.subarray(0, n));
      }
    };
    return await withDeadline(read(), timeoutMs, "response", () => this.close());
  }

  /** Sends `frame` and reads its response, checking the correlation id. */
  async roundTrip(frame: Uint8Array, correlationId: number, timeoutMs = 10_000): Promise<Uint8Array> {
    await this.send(frame, timeoutMs);
    const body = await this.readFrame(timeoutMs);
    const got = new DataView(body.buffer, body.byteOffset, 4).getInt32(0);
    if (got !== correlationId) throw new Error(`response correlation id ${got}, expected ${correlationId}`);
    return body;
  }

  /** Half-closes: the gateway reads end of stream, the client can still read. */
  async closeWrite(): Promise<void> {
    try {
      await this.conn.closeWrite();
    } catch (error) {
      if (!isResetError(error) && !(error instanceof Deno.errors.NotConnected)) throw error;
    }
  }

  /**
   * Waits until the peer closes the connection: "eof" (orderly close) or "reset". Fails when data
   * arrives instead, or when the connection is still open after `timeoutMs`.
   */
  async closedByPeer(timeoutMs = 5_000): Promise<"eof" | "reset"> {
    if (this.#buf.length > 0) throw new Error(`${this.#buf.length} unread byte(s) from the gateway`);
    const wait = async (): Promise<"eof" | "reset"> => {
      const chunk = new Uint8Array(4096);
      try {
        const n = await this.conn.read(chunk);
        if (n === null) return "eof";
        throw new Error(`expected the gateway to close the connection, got ${n} byte(s) of data`);
      } catch (error) {
        if (isResetError(error)) return "reset";
        throw error;
      }
    };
    try {
      return await withDeadline(
        wait(),
        timeoutMs,
        "close of the connection by the gateway",
        () => this.close(),
      );
    } finally {
      this.close();
    }
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}
