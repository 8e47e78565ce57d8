/**
 * Kafka wire primitives: a bounds-checked {@link ByteReader} over a `Uint8Array` and a growable
 * {@link ByteWriter}. All multi-byte integers are big-endian. Reading past the end always throws
 * {@link ProtocolError}. Byte fields are returned as subarray views (no copy).
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";

const utf8Decoder = new TextDecoder("utf-8", { fatal: true });
const utf8Encoder = new TextEncoder();

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const UINT64_MAX = 2n ** 64n - 1n;

/** The all-zero Kafka UUID (`Uuid.ZERO_UUID`), in Kafka's string form. */
export const ZERO_UUID = "AAAAAAAAAAAAAAAAAAAAAA";

const B64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
const B64URL_INDEX = new Int8Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_INDEX[B64URL.charCodeAt(i)] = i;

/**
 * Render 16 UUID bytes the way Kafka's `Uuid.toString()` does: URL-safe base64 without padding
 * (22 characters).
 */
export function uuidToString(bytes: Uint8Array, offset = 0): string {
  if (offset + 16 > bytes.length) throw new ProtocolError("uuid needs 16 bytes");
  let out = "";
  let i = offset;
  const end = offset + 15;
  for (; i < end; i += 3) {
    const n = (bytes[i] << 16) | (bytes[i + 1] << 8) | bytes[i + 2];
    out += B64URL[(n >> 18) & 63] + B64URL[(n >> 12) & 63] + B64URL[(n >> 6) & 63] + B64URL[n & 63];
  }
  const last = bytes[end];
  out += B64URL[last >> 2] + B64URL[(last & 3) << 4];
  return out;
}

/** Parse a Kafka UUID string (22 characters of URL-safe base64) into 16 bytes. */
export function uuidFromString(s: string): Uint8Array {
  if (typeof s !== "string" || s.length !== 22) throw new ProtocolError(`invalid uuid string: ${String(s)}`);
  const out = new Uint8Array(16);
  const digit = (k: number): number => {
    const c = s.charCodeAt(k);
    const d = c < 128 ? B64URL_INDEX[c] : -1;
    if (d < 0) throw new ProtocolError(`invalid uuid string: ${s}`);
    return d;
  };
  let o = 0;
  for (let k = 0; k < 20; k += 4) {
    const n = (digit(k) << 18) | (digit(k + 1) << 12) | (digit(k + 2) << 6) | digit(k + 3);
    out[o++] = (n >> 16) & 255;
    out[o++] = (n >> 8) & 255;
    out[o++] = n & 255;
  }
  const a = digit(20);
  const b = digit(21);
  if ((b & 15) !== 0) throw new ProtocolError(`invalid uuid string: ${s}`);
  out[15] = (a << 2) | (b >> 4);
  return out;
}

/**
 * The big-endian signed 32-bit integer at `offset` (a frame's size prefix, a correlation id), read
 * without a DataView.
 *
 * @example
 * ```ts
 * int32At(new Uint8Array([0, 0, 1, 0]), 0); // 256
 * ```
 */
export function int32At(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
}

/**
 * The big-endian signed 16-bit integer at `offset` (a request's API key or version).
 *
 * @example
 * ```ts
 * int16At(new Uint8Array([0xff, 0xff]), 0); // -1
 * ```
 */
export function int16At(bytes: Uint8Array, offset: number): number {
  return (bytes[offset] << 24 >> 16) | bytes[offset + 1];
}

/** Bounds-checked big-endian reader over a byte range of a `Uint8Array`. */
export class ByteReader {
  /** The underlying buffer. */
  readonly buf: Uint8Array;
  /** Current read position (absolute index into {@link buf}). */
  offset: number;
  /** Exclusive end of the readable range (absolute index into {@link buf}). */
  readonly end: number;
  #view: DataView | undefined;

  /** Read `buf` from `offset` (default 0) up to `end` (default `buf.length`). */
  constructor(buf: Uint8Array, offset = 0, end: number = buf.length) {
    if (
      !Number.isInteger(offset) || !Number.isInteger(end) || offset < 0 || end > buf.length || offset > end
    ) {
      throw new ProtocolError(`invalid read range ${offset}..${end} of ${buf.length} bytes`);
    }
    this.buf = buf;
    this.offset = offset;
    this.end = end;
  }

  /** Number of bytes left before {@link end}. */
  get remaining(): number {
    return this.end - this.offset;
  }

  /** Advance by `n` bytes and return the position before advancing; throws if fewer remain. */
  take(n: number): number {
    const o = this.offset;
    if (n > this.end - o || n < 0) {
      throw new ProtocolError(`truncated input: need ${n} byte(s) at offset ${o}, ${this.end - o} left`);
    }
    this.offset = o + n;
    return o;
  }

  /** Skip `n` bytes. */
  skip(n: number): void {
    this.take(n);
  }

  #dv(): DataView {
    return this.#view ??= new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  /** Signed 8-bit integer. */
  int8(): number {
    return (this.buf[this.take(1)] << 24) >> 24;
  }

  /** Unsigned 8-bit integer. */
  uint8(): number {
    return this.buf[this.take(1)];
  }

  /** Signed 16-bit integer. */
  int16(): number {
    return int16At(this.buf, this.take(2));
  }

  /** Unsigned 16-bit integer. */
  uint16(): number {
    const o = this.take(2);
    return (this.buf[o] << 8) | this.buf[o + 1];
  }

  /** Signed 32-bit integer. */
  int32(): number {
    return int32At(this.buf, this.take(4));
  }

  /** Unsigned 32-bit integer. */
  uint32(): number {
    return this.int32() >>> 0;
  }

  /** Signed 64-bit integer as a bigint. */
  int64(): bigint {
    return this.#dv().getBigInt64(this.take(8));
  }

  /** IEEE-754 double. */
  float64(): number {
    return this.#dv().getFloat64(this.take(8));
  }

  /** Boolean (any non-zero byte is true, as in Kafka). */
  bool(): boolean {
    return this.buf[this.take(1)] !== 0;
  }

  /** Unsigned varint (at most 5 bytes, value fits in 32 bits). */
  uvarint(): number {
    const b = this.buf;
    let o = this.offset;
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      if (o >= this.end) {
        throw new ProtocolError(`truncated input: unterminated varint at offset ${this.offset}`);
      }
      const byte = b[o++];
      if (shift === 28 && byte > 0x0f) throw new ProtocolError(`varint too large at offset ${this.offset}`);
      result += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        return result;
      }
    }
    throw new ProtocolError(`varint longer than 5 bytes at offset ${this.offset}`);
  }

  /** Signed (zigzag) varint, 32-bit. */
  varint(): number {
    const u = this.uvarint();
    return (u >>> 1) ^ -(u & 1);
  }

  /** Unsigned varlong (at most 10 bytes) as a bigint. */
  uvarlong(): bigint {
    const b = this.buf;
    let o = this.offset;
    let result = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (o >= this.end) {
        throw new ProtocolError(`truncated input: unterminated varlong at offset ${this.offset}`);
      }
      const byte = b[o++];
      if (shift === 63n && byte > 1) throw new ProtocolError(`varlong too large at offset ${this.offset}`);
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) {
        this.offset = o;
        return result;
      }
    }
    throw new ProtocolError(`varlong longer than 10 bytes at offset ${this.offset}`);
  }

  /** Signed (zigzag) varlong as a bigint. */
  varlong(): bigint {
    const u = this.uvarlong();
    return BigInt.asIntN(64, (u >> 1n) ^ -(u & 1n));
  }

  /** UUID (16 bytes), rendered as Kafka's 22-character URL-safe base64 string. */
  uuid(): string {
    return uuidToString(this.buf, this.take(16));
  }

  /** `n` raw bytes as a subarray view (no copy). */
  raw(n: number): Uint8Array {
    const o = this.take(n);
    return this.buf.subarray(o, o + n);
  }

  #utf8(n: number): string {
    const o = this.take(n);
    if (n <= 64) {
      // Fast path for short ASCII (client ids, topic names, hosts): avoids TextDecoder call overhead.
      const b = this.buf;
      const end = o + n;
      let s = "";
      let i = o;
      for (; i < end; i++) {
        const c = b[i];
        if (c >= 0x80) break;
        s += String.fromCharCode(c);
      }
      if (i === end) return s;
    }
    try {
      return utf8Decoder.decode(this.buf.subarray(o, o + n));
    } catch (e) {
      throw new ProtocolError(`invalid UTF-8 string at offset ${o}`, { cause: e });
    }
  }

  /** STRING: int16 length then UTF-8 bytes; null is rejected. */
  string(): string {
    const n = this.int16();
    if (n < 0) throw new ProtocolError(`non-nullable string has length ${n} at offset ${this.offset - 2}`);
    return this.#utf8(n);
  }

  /** NULLABLE_STRING: int16 length (-1 = null) then UTF-8 bytes. */
  nullableString(): string | null {
    const n = this.int16();
    if (n === -1) return null;
    if (n < 0) throw new ProtocolError(`invalid string length ${n} at offset ${this.offset - 2}`);
    return this.#utf8(n);
  }

  /** COMPACT_STRING: uvarint length+1 then UTF-8 bytes; null is rejected. */
  compactString(): string {
    const at = this.offset;
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError(`non-nullable compact string is null at offset ${at}`);
    return this.#utf8(n - 1);
  }

  /** COMPACT_NULLABLE_STRING: uvarint length+1 (0 = null) then UTF-8 bytes. */
  compactNullableString(): string | null {
    const n = this.uvarint();
    return n === 0 ? null : this.#utf8(n - 1);
  }

  /** BYTES: int32 length then bytes (subarray view); null is rejected. */
  bytes(): Uint8Array {
    const n = this.int32();
    if (n < 0) throw new ProtocolError(`non-nullable bytes have length ${n} at offset ${this.offset - 4}`);
    return this.raw(n);
  }

  /** NULLABLE_BYTES: int32 length (-1 = null) then bytes (subarray view). */
  nullableBytes(): Uint8Array | null {
    const n = this.int32();
    if (n === -1) return null;
    if (n < 0) throw new ProtocolError(`invalid bytes length ${n} at offset ${this.offset - 4}`);
    return this.raw(n);
  }

  /** COMPACT_BYTES: uvarint length+1 then bytes (subarray view); null is rejected. */
  compactBytes(): Uint8Array {
    const at = this.offset;
    const n = this.uvarint();
    if (n === 0) throw new ProtocolError(`non-nullable compact bytes are null at offset ${at}`);
    return this.raw(n - 1);
  }

  /** COMPACT_NULLABLE_BYTES: uvarint length+1 (0 = null) then bytes (subarray view). */
  compactNullableBytes(): Uint8Array | null {
    const n = this.uvarint();
    return n === 0 ? null : this.raw(n - 1);
  }

  /**
   * ARRAY length: int32 count, -1 = null (returned as -1). Counts larger than the remaining byte count
   * are rejected before anything is allocated (every element takes at least one byte, as in Kafka).
   */
  arrayLength(): number {
    const at = this.offset;
    const n = this.int32();
    if (n === -1) return -1;
    if (n < 0) throw new ProtocolError(`invalid array length ${n} at offset ${at}`);
    if (n > this.end - this.offset) {
      throw new ProtocolError(
        `array length ${n} exceeds the ${this.end - this.offset} remaining bytes at ${at}`,
      );
    }
    return n;
  }

  /** Skip a tagged section (uvarint count, then uvarint tag, uvarint size and data per field). */
  skipTaggedFields(): void {
    const count = this.uvarint();
    if (count * 2 > this.end - this.offset) {
      throw new ProtocolError(
        `${count} tagged fields cannot fit in ${this.end - this.offset} remaining bytes`,
      );
    }
    for (let i = 0; i < count; i++) {
      this.uvarint();
      this.skip(this.uvarint());
    }
  }

  /** COMPACT_ARRAY length: uvarint count+1, 0 = null (returned as -1); checked against remaining bytes. */
  compactArrayLength(): number {
    const at = this.offset;
    const n = this.uvarint() - 1;
    if (n > this.end - this.offset) {
      throw new ProtocolError(
        `array length ${n} exceeds the ${this.end - this.offset} remaining bytes at ${at}`,
      );
    }
    return n;
  }
}

function checkInt(v: unknown, min: number, max: number, what: string): number {
  if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
    throw new ProtocolError(`${what}: ${String(v)} is not an integer in [${min}, ${max}]`);
  }
  return v;
}

/** Growable big-endian writer. {@link finish} returns a view of the written bytes. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #len = 0;

  /** Create a writer with the given initial capacity in bytes. */
  constructor(initialCapacity = 256) {
    this.#buf = new Uint8Array(Math.max(16, initialCapacity));
    this.#view = new DataView(this.#buf.buffer);
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.#len;
  }

  /** One byte. (Reserve before touching #buf: reserving may replace it.) */
  #put(byte: number): void {
    const at = this.#reserve(1);
    this.#buf[at] = byte;
  }

  #reserve(n: number): number {
    const at = this.#len;
    const need = at + n;
    if (need > this.#buf.length) {
      let cap = this.#buf.length * 2;
      while (cap < need) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.#buf.subarray(0, at));
      this.#buf = next;
      this.#view = new DataView(next.buffer);
    }
    this.#len = need;
    return at;
  }

  /** Signed 8-bit integer. */
  int8(v: number): void {
    const at = this.#reserve(1);
    this.#view.setInt8(at, checkInt(v, -128, 127, "int8"));
  }

  /** Unsigned 8-bit integer. */
  uint8(v: number): void {
    this.#put(checkInt(v, 0, 255, "uint8"));
  }

  /** Signed 16-bit integer. */
  int16(v: number): void {
    const at = this.#reserve(2);
    this.#view.setInt16(at, checkInt(v, -32768, 32767, "int16"));
  }

  /** Unsigned 16-bit integer. */
  uint16(v: number): void {
    const at = this.#reserve(2);
    this.#view.setUint16(at, checkInt(v, 0, 65535, "uint16"));
  }

  /** Signed 32-bit integer. */
  int32(v: number): void {
    const at = this.#reserve(4);
    this.#view.setInt32(at, checkInt(v, -2147483648, 2147483647, "int32"));
  }

  /** Unsigned 32-bit integer. */
  uint32(v: number): void {
    const at = this.#reserve(4);
    this.#view.setUint32(at, checkInt(v, 0, 4294967295, "uint32"));
  }

  /** Overwrite a signed 32-bit integer at an absolute position already written (e.g. a size prefix). */
  setInt32At(pos: number, v: number): void {
    if (pos < 0 || pos + 4 > this.#len) throw new ProtocolError(`setInt32At(${pos}) outside written range`);
    this.#view.setInt32(pos, checkInt(v, -2147483648, 2147483647, "int32"));
  }

  /** Signed 64-bit integer. */
  int64(v: bigint): void {
    if (typeof v !== "bigint" || v < INT64_MIN || v > INT64_MAX) {
      throw new ProtocolError(`int64: ${String(v)} is not a bigint in int64 range`);
    }
    const at = this.#reserve(8);
    this.#view.setBigInt64(at, v);
  }

  /** IEEE-754 double. */
  float64(v: number): void {
    if (typeof v !== "number") throw new ProtocolError(`float64: ${String(v)} is not a number`);
    const at = this.#reserve(8);
    this.#view.setFloat64(at, v);
  }

  /** Boolean as one byte (0/1). */
  bool(v: boolean): void {
    if (typeof v !== "boolean") throw new ProtocolError(`bool: ${String(v)} is not a boolean`);
    this.#put(v ? 1 : 0);
  }

  /** Unsigned varint, value in [0, 2^32 - 1]. */
  uvarint(v: number): void {
    checkInt(v, 0, 4294967295, "uvarint");
    while (v >= 0x80) {
      this.#put((v & 0x7f) | 0x80);
      v = Math.floor(v / 128);
    }
    this.#put(v);
  }

  /** Signed (zigzag) varint, value in int32 range. */
  varint(v: number): void {
    checkInt(v, -2147483648, 2147483647, "varint");
    this.uvarint(((v << 1) ^ (v >> 31)) >>> 0);
  }

  /** Unsigned varlong, value in [0, 2^64 - 1]. */
  uvarlong(v: bigint): void {
    if (typeof v !== "bigint" || v < 0n || v > UINT64_MAX) {
      throw new ProtocolError(`uvarlong: ${String(v)} out of range`);
    }
    while (v >= 0x80n) {
      this.#put(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.#put(Number(v));
  }

  /** Signed (zigzag) varlong, value in int64 range. */
  varlong(v: bigint): void {
    if (typeof v !== "bigint" || v < INT64_MIN || v > INT64_MAX) {
      throw new ProtocolError(`varlong: ${String(v)} out of range`);
    }
    this.uvarlong(BigInt.asUintN(64, (v << 1n) ^ (v >> 63n)));
  }

  /** UUID from Kafka's 22-character string form. */
  uuid(v: string): void {
    this.raw(uuidFromString(v));
  }

  /** Raw bytes, copied into the buffer. */
  raw(bytes: Uint8Array): void {
    if (!(bytes instanceof Uint8Array)) throw new ProtocolError("expected a Uint8Array");
    const at = this.#reserve(bytes.length);
    this.#buf.set(bytes, at);
  }

  #utf8(v: unknown): Uint8Array {
    if (typeof v !== "string") throw new ProtocolError(`string: ${String(v)} is not a string`);
    return utf8Encoder.encode(v);
  }

  /** STRING (int16 length). */
  string(v: string): void {
    const b = this.#utf8(v);
    if (b.length > 32767) throw new ProtocolError(`string of ${b.length} bytes exceeds 32767`);
    this.int16(b.length);
    this.raw(b);
  }

  /** NULLABLE_STRING (int16 length, -1 = null). */
  nullableString(v: string | null): void {
    if (v === null) this.int16(-1);
    else this.string(v);
  }

  /** COMPACT_STRING (uvarint length+1). */
  compactString(v: string): void {
    const b = this.#utf8(v);
    if (b.length > 32767) throw new ProtocolError(`string of ${b.length} bytes exceeds 32767`);
    this.uvarint(b.length + 1);
    this.raw(b);
  }

  /** COMPACT_NULLABLE_STRING (uvarint length+1, 0 = null). */
  compactNullableString(v: string | null): void {
    if (v === null) this.uvarint(0);
    else this.compactString(v);
  }

  /** BYTES (int32 length). */
  bytes(v: Uint8Array): void {
    if (!(v instanceof Uint8Array)) throw new ProtocolError("bytes: expected a Uint8Array");
    this.int32(v.length);
    this.raw(v);
  }

  /** NULLABLE_BYTES (int32 length, -1 = null). */
  nullableBytes(v: Uint8Array | null): void {
    if (v === null) this.int32(-1);
    else this.bytes(v);
  }

  /** COMPACT_BYTES (uvarint length+1). */
  compactBytes(v: Uint8Array): void {
    if (!(v instanceof Uint8Array)) throw new ProtocolError("bytes: expected a Uint8Array");
    this.uvarint(v.length + 1);
    this.raw(v);
  }

  /** COMPACT_NULLABLE_BYTES (uvarint length+1, 0 = null). */
  compactNullableBytes(v: Uint8Array | null): void {
    if (v === null) this.uvarint(0);
    else this.compactBytes(v);
  }

  /** ARRAY length (int32 count, -1 = null). */
  arrayLength(n: number): void {
    this.int32(n < 0 ? -1 : n);
  }

  /** COMPACT_ARRAY length (uvarint count+1, 0 = null). */
  compactArrayLength(n: number): void {
    this.uvarint(n < 0 ? 0 : n + 1);
  }

  /** The bytes written so far, as a view of the internal buffer (no copy). */
  finish(): Uint8Array {
    return this.#buf.subarray(0, this.#len);
  }
}
