/** Helpers for the PROXY protocol tests. */
import assert from "node:assert/strict";
import {
  parseProxyHeader,
  type ProxyHeader,
  ProxyHeaderReader,
  type ProxyParseResult,
  ProxyProtocolError,
  type ProxyProtocolErrorCode,
} from "../../src/proxy_protocol/mod.ts";

/** Every error code the parser may answer with (internal-error never should). */
export const ERROR_CODES: readonly ProxyProtocolErrorCode[] = [
  "bad-signature",
  "v1-too-long",
  "v1-syntax",
  "v1-bad-address",
  "v1-bad-port",
  "bad-version",
  "bad-command",
  "bad-family",
  "bad-transport",
  "bad-length",
  "tlv-overrun",
  "tlv-invalid",
  "tlv-duplicate",
  "crc-mismatch",
];

/** Annotated hex (whitespace, `|`, `#` comments ignored) to bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/#[^\n]*/g, "").replace(/[\s|]/g, "");
  if (clean.length % 2 !== 0 || /[^0-9a-fA-F]/.test(clean)) throw new Error(`bad hex: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Text (one byte per char) to bytes. */
export function ascii(s: string): Uint8Array {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** Concatenates byte arrays. */
export function cat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Parses `bytes` and asserts a header of exactly `consumed` bytes (default: all); returns it. */
export function expectHeader(bytes: Uint8Array, consumed = bytes.length): ProxyHeader {
  const r = parseProxyHeader(bytes);
  if (r.kind !== "header") {
    assert.fail(
      `expected a header, got ${r.kind === "error" ? `${r.error.code}: ${r.error.message}` : r.kind}`,
    );
  }
  assert.equal(r.consumed, consumed);
  return r.header;
}

/** Parses `bytes` and asserts a typed error with `code` (and a message matching `message`). */
export function expectError(
  bytes: Uint8Array,
  code: ProxyProtocolErrorCode,
  message?: RegExp,
): ProxyProtocolError {
  const r = parseProxyHeader(bytes);
  if (r.kind !== "error") assert.fail(`expected error ${code}, got ${r.kind}`);
  assert.ok(r.error instanceof ProxyProtocolError);
  assert.equal(r.error.code, code, r.error.message);
  if (message) assert.match(r.error.message, message);
  return r.error;
}

/** A comparable summary of a result (errors by code, offset and message). */
export function summary(r: ProxyParseResult): unknown {
  if (r.kind === "error") {
    return { kind: "error", code: r.error.code, offset: r.error.offset, msg: r.error.message };
  }
  return r;
}

/**
 * Feeds `bytes` one byte at a time to the stateless parser (every prefix) and to a
 * {@link ProxyHeaderReader}; asserts both agree at each step, and returns the first non-incomplete
 * answer with the number of bytes fed when it came (or `incomplete` with `bytes.length`).
 */
export function feedByteByByte(bytes: Uint8Array): { result: ProxyParseResult; fed: number } {
  const reader = new ProxyHeaderReader();
  for (let i = 1; i <= bytes.length; i++) {
    const viaReader = reader.push(bytes.subarray(i - 1, i));
    const stateless = parseProxyHeader(bytes.subarray(0, i));
    assert.deepStrictEqual(summary(viaReader), summary(stateless), `after ${i} byte(s)`);
    if (stateless.kind !== "incomplete") return { result: stateless, fed: i };
  }
  return { result: { kind: "incomplete" }, fed: bytes.length };
}
