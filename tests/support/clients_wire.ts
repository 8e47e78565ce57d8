/**
 * Raw Kafka wire access for tests: one TCP connection, requests encoded with kgate's codec, responses
 * returned both decoded and as the exact bytes received (to scan them for leaked addresses). Also a
 * minimal RecordBatch v2 builder (with CRC32C) for Produce requests.
 */
import {
  ApiVersionsRequest,
  type ApiVersionsResponseData,
  decodeApiVersionsResponse,
  decodeResponseFrame,
  encodeRequestFrame,
  type MessageSpec,
  responseHeaderVersion,
} from "../../src/protocol/mod.ts";

/** A response: the frame body as received (no size prefix) and its decoded message. */
export interface RawResponse<T> {
  bytes: Uint8Array;
  body: T;
}

/** One plaintext Kafka connection; every read is bounded by a timeout. */
export class RawKafkaConnection {
  #correlationId = 1;
  #buffer = new Uint8Array(0);

  private constructor(readonly conn: Deno.TcpConn, readonly address: string, readonly timeoutMs: number) {}

  /** Connects to `host:port` (bounded by `timeoutMs`, also used for every response). */
  static async connect(host: string, port: number, timeoutMs = 10_000): Promise<RawKafkaConnection> {
    const connecting = Deno.connect({ hostname: host, port });
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`connect to ${host}:${port} timed out`)), timeoutMs);
    });
    try {
      const conn = await Promise.race([connecting, timeout]);
      return new RawKafkaConnection(conn, `${host}:${port}`, timeoutMs);
    } catch (error) {
      connecting.then((c) => c.close(), () => {});
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Sends one request and returns its response, decoded with `responseSchema` at the same version. */
  async request<Req, Res>(
    requestSchema: MessageSpec<Req>,
    responseSchema: MessageSpec<Res>,
    version: number,
    body: Req,
  ): Promise<RawResponse<Res>> {
    const correlationId = this.#correlationId++;
    const frame = encodeRequestFrame(
      { correlationId, clientId: "kgate-wire-test" },
      requestSchema,
      version,
      body,
    );
    await this.#writeAll(frame);
    const bytes = await this.#readFrame();
    const apiKey = requestSchema.apiKey!;
    const decoded = decodeResponseFrame(
      bytes,
      responseHeaderVersion(apiKey, version),
      responseSchema,
      version,
    );
    if (decoded.correlationId !== correlationId) {
      throw new Error(`${this.address}: correlation id ${decoded.correlationId}, expected ${correlationId}`);
    }
    return { bytes, body: decoded.body };
  }

  /** ApiVersions v3: the supported version range of every API key. */
  async apiVersions(): Promise<Map<number, { min: number; max: number }>> {
    const correlationId = this.#correlationId++;
    const frame = encodeRequestFrame({ correlationId, clientId: "kgate-wire-test" }, ApiVersionsRequest, 3, {
      clientSoftwareName: "kgate-wire-test",
      clientSoftwareVersion: "1.0",
    });
    await this.#writeAll(frame);
    const bytes = await this.#readFrame();
    const { value } = decodeApiVersionsResponse(3, bytes.subarray(4)) as { value: ApiVersionsResponseData };
    if (value.errorCode !== 0) throw new Error(`${this.address}: ApiVersions error ${value.errorCode}`);
    return new Map(value.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }

  async #writeAll(bytes: Uint8Array): Promise<void> {
    let written = 0;
    while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
  }

  async #readFrame(): Promise<Uint8Array> {
    const deadline = Date.now() + this.timeoutMs;
    for (;;) {
      if (this.#buffer.length >= 4) {
        const size = new DataView(this.#buffer.buffer, this.#buffer.byteOffset, 4).getInt32(0);
        if (this.#buffer.length >= 4 + size) {
          const body = this.#buffer.slice(4, 4 + size);
          this.#buffer = this.#buffer.slice(4 + size);
          return body;
        }
      }
      const chunk = new Uint8Array(64 * 1024);
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`${this.address}: no response within ${this.timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const n = await Promise.race([
        this.conn.read(chunk),
        new Promise<"timeout">((resolve) => timer = setTimeout(() => resolve("timeout"), remaining)),
      ]).finally(() => clearTimeout(timer));
      if (n === "timeout") throw new Error(`${this.address}: no response within ${this.timeoutMs} ms`);
      if (n === null) throw new Error(`${this.address}: connection closed while waiting for a response`);
      const next = new Uint8Array(this.#buffer.length + n);
      next.set(this.#buffer);
      next.set(chunk.subarray(0, n), this.#buffer.length);
      this.#buffer = next;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// RecordBatch v2
// ------------------------------------------------------------------------------------------------

const CRC32C_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    table[i] = c >>> 0;
  }
  return table;
})();

/** CRC-32C (Castagnoli), as used by RecordBatch v2. */
export function crc32c(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) crc = CRC32C_TABLE[(crc ^ b) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

class Bytes {
  parts: number[] = [];
  int8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  int16(v: number): this {
    return this.int8(v >> 8).int8(v);
  }
  int32(v: number): this {
    return this.int8(v >>> 24).int8(v >>> 16).int8(v >>> 8).int8(v);
  }
  int64(v: bigint): this {
    const u = BigInt.asUintN(64, v);
    return this.int32(Number(u >> 32n)).int32(Number(u & 0xffffffffn));
  }
  /** Zigzag varint (Kafka record fields). */
  varint(v: number): this {
    let z = BigInt.asUintN(64, (BigInt(v) << 1n) ^ (BigInt(v) >> 63n));
    while (z >= 0x80n) {
      this.int8(Number(z & 0x7fn) | 0x80);
      z >>= 7n;
    }
    return this.int8(Number(z));
  }
  raw(bytes: Uint8Array): this {
    for (const b of bytes) this.parts.push(b);
    return this;
  }
  get length(): number {
    return this.parts.length;
  }
  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A RecordBatch v2 (magic 2, no compression, no producer id) holding one record per value. */
export function recordBatch(values: string[], timestamp = Date.now()): Uint8Array {
  const records = new Bytes();
  values.forEach((value, i) => {
    const v = new TextEncoder().encode(value);
    const record = new Bytes()
      .int8(0) // attributes
      .varint(0) // timestamp delta
      .varint(i) // offset delta
      .varint(-1) // null key
      .varint(v.length)
      .raw(v)
      .varint(0); // no headers
    records.varint(record.length).raw(record.finish());
  });
  const ts = BigInt(timestamp);
  // From attributes to the end: the part covered by the CRC.
  const crcPart = new Bytes()
    .int16(0) // attributes
    .int32(values.length - 1) // last offset delta
    .int64(ts) // base timestamp
    .int64(ts) // max timestamp
    .int64(-1n) // producer id
    .int16(-1) // producer epoch
    .int32(-1) // base sequence
    .int32(values.length)
    .raw(records.finish())
    .finish();
  const batch = new Bytes()
    .int64(0n) // base offset
    .int32(4 + 1 + 4 + crcPart.length) // batch length: from partition leader epoch to the end
    .int32(-1) // partition leader epoch
    .int8(2) // magic
    .int32(crc32c(crcPart))
    .raw(crcPart);
  return batch.finish();
}
