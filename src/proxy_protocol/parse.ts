/**
 * Entry points of the PROXY protocol parser: version detection, the stateless parser and an
 * incremental reader.
 *
 * @module
 */

import { type ProxyParseResult, ProxyProtocolError } from "./types.ts";
import { parseV1, V1_PREFIX_LENGTH } from "./v1.ts";
import { parseV2, V2_SIGNATURE } from "./v2.ts";

const V1_PREFIX = new TextEncoder().encode("PROXY ");
const INCOMPLETE: ProxyParseResult = { kind: "incomplete" };

function describe(bytes: Uint8Array, n: number): string {
  return Array.from(bytes.subarray(0, n), (b) => b.toString(16).padStart(2, "0")).join(" ");
}

/** Returns the index of the first byte of `bytes` that differs from `expected`, or -1 (prefix match). */
function mismatch(bytes: Uint8Array, expected: Uint8Array): number {
  const n = Math.min(bytes.length, expected.length);
  for (let i = 0; i < n; i++) if (bytes[i] !== expected[i]) return i;
  return -1;
}

/**
 * Parses a PROXY protocol header (v1 text or v2 binary) at the start of `input`, the bytes received
 * so far on a connection. Stateless: call it again with all the bytes when more arrive.
 *
 * Answers `incomplete` while `input` is a proper prefix of a possibly valid header, a `header` with the
 * number of bytes it `consumed` (the rest are application bytes), or an `error` as soon as the bytes
 * cannot start a valid header (bytes that begin neither `PROXY ` nor the v2 signature are rejected from
 * the first differing byte). The verdict does not depend on how the bytes were split into reads. Never
 * throws.
 *
 * @example Parse a v1 header followed by a Kafka request
 * ```ts
 * import { parseProxyHeader } from "./mod.ts";
 *
 * const bytes = new TextEncoder().encode("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n\x00\x00\x00\x1f");
 * const result = parseProxyHeader(bytes);
 * if (result.kind === "header") {
 *   console.log(result.header.source); // { address: "192.168.0.1", port: 56324 }
 *   const kafkaBytes = bytes.subarray(result.consumed); // 00 00 00 1f
 * } else if (result.kind === "error") {
 *   console.log(result.error.code, result.error.message); // reject the connection
 * } // else "incomplete": read more bytes, then call again with all of them
 * ```
 */
export function parseProxyHeader(input: Uint8Array): ProxyParseResult {
  try {
    // A plain view: subclasses such as Node's Buffer have a `slice` that shares memory, and the
    // parser copies (and zeroes the CRC32C field of a copy) with `slice`. The input is never modified.
    const bytes = input.constructor === Uint8Array
      ? input
      : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    if (bytes.length === 0) return INCOMPLETE;
    if (bytes[0] === V1_PREFIX[0]) {
      const at = mismatch(bytes, V1_PREFIX);
      if (at >= 0) return badSignature(bytes, at);
      return bytes.length < V1_PREFIX_LENGTH ? INCOMPLETE : parseV1(bytes);
    }
    if (bytes[0] === V2_SIGNATURE[0]) {
      const at = mismatch(bytes, V2_SIGNATURE);
      if (at >= 0) return badSignature(bytes, at);
      return parseV2(bytes);
    }
    return badSignature(bytes, 0);
  } catch (e) {
    // Not expected; keeps the never-throws promise should a bug slip in.
    return {
      kind: "error",
      error: new ProxyProtocolError("internal-error", `internal parser error: ${String(e)}`, 0),
    };
  }
}

function badSignature(bytes: Uint8Array, at: number): ProxyParseResult {
  return {
    kind: "error",
    error: new ProxyProtocolError(
      "bad-signature",
      `no PROXY protocol header: the first bytes (${describe(bytes, Math.min(at + 1, 16))}) start neither ` +
        `"PROXY " (v1) nor the v2 signature 0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a (byte ${at} differs)`,
      at,
    ),
  };
}

/**
 * Incremental wrapper of {@link parseProxyHeader}: `push` each chunk as it arrives. Once the answer is
 * final (`header` or `error`) it no longer changes, and for a header {@link ProxyHeaderReader.rest}
 * holds the bytes after it (including bytes pushed later). Never throws.
 */
export class ProxyHeaderReader {
  #buffer = new Uint8Array(0);
  #length = 0;
  #result: ProxyParseResult = INCOMPLETE;

  /** Appends `chunk` and answers for all bytes received so far. */
  push(chunk: Uint8Array): ProxyParseResult {
    if (this.#result.kind === "error") return this.#result;
    if (this.#buffer.length - this.#length < chunk.length) {
      const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + chunk.length, 64));
      grown.set(this.#buffer.subarray(0, this.#length));
      this.#buffer = grown;
    }
    this.#buffer.set(chunk, this.#length);
    this.#length += chunk.length;
    if (this.#result.kind === "incomplete") this.#result = parseProxyHeader(this.bytes);
    return this.#result;
  }

  /** The latest answer (`incomplete` before the first push). */
  get result(): ProxyParseResult {
    return this.#result;
  }

  /** All bytes pushed so far. */
  get bytes(): Uint8Array {
    return this.#buffer.subarray(0, this.#length);
  }

  /** The bytes after the header (empty unless the answer is `header`). */
  get rest(): Uint8Array {
    return this.#result.kind === "header" ? this.bytes.slice(this.#result.consumed) : new Uint8Array(0);
  }
}
