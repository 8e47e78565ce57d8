import assert from "node:assert/strict";
import { parseProxyHeader, ProxyHeaderReader } from "../../src/proxy_protocol/mod.ts";
import { VALID_HEADERS } from "./examples.ts";
import { ascii, cat, feedByteByByte, hex, summary } from "./support.ts";

const KAFKA = hex("00 00 00 1f 00 12 00 03 00 00 00 01 00 09 6b 61 66 6b 61 2d 63 6c 69");

for (const [name, header] of VALID_HEADERS) {
  Deno.test(`incremental: ${name} fed one byte at a time`, () => {
    const whole = parseProxyHeader(header);
    assert.equal(whole.kind, "header");
    // Every proper prefix is incomplete; the last byte gives the same header.
    for (let i = 0; i < header.length; i++) {
      assert.equal(parseProxyHeader(header.subarray(0, i)).kind, "incomplete", `prefix of ${i} bytes`);
    }
    const { result, fed } = feedByteByByte(header);
    assert.equal(fed, header.length);
    assert.deepStrictEqual(result, whole);

    // With trailing Kafka bytes, consumed is exact and the reader hands back the rest.
    const withKafka = cat(header, KAFKA);
    const r = feedByteByByte(withKafka);
    assert.equal(r.fed, header.length);
    assert.deepStrictEqual(r.result, { ...whole, consumed: header.length });
    const reader = new ProxyHeaderReader();
    for (const b of withKafka) reader.push(Uint8Array.of(b));
    assert.deepStrictEqual(reader.result, whole);
    assert.deepStrictEqual(reader.rest, KAFKA);
    assert.deepStrictEqual(reader.bytes, withKafka);
  });
}

Deno.test("incremental: errors come at the same byte and with the same error however the bytes are split", () => {
  const bad = [
    ascii("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
    ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
    ascii(`PROXY UNKNOWN ${"x".repeat(120)}`),
    ascii("GET / HTTP/1.1\r\n"),
    hex("0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a 21 11 00 0b"),
    hex("0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a 21 11 00 0f 7f 00 00 01 c0 00 02 01 30 39 d4 31 02 00 05"),
  ];
  for (const bytes of bad) {
    const whole = parseProxyHeader(bytes);
    assert.equal(whole.kind, "error");
    const { result, fed } = feedByteByByte(bytes);
    assert.deepStrictEqual(summary(result), summary(whole));
    assert.ok(fed <= bytes.length);
  }
  // The v1 too-long error needs exactly 107 bytes.
  assert.equal(feedByteByByte(ascii(`PROXY UNKNOWN ${"x".repeat(120)}`)).fed, 107);
  // Non-header bytes: the very first byte.
  assert.equal(feedByteByByte(ascii("GET / HTTP/1.1\r\n")).fed, 1);
  assert.equal(feedByteByByte(hex("00 00 00 1f 00 12")).fed, 1);
});

Deno.test("ProxyHeaderReader: chunks of any size, bytes after the answer, errors stick", () => {
  const [, header] = VALID_HEADERS.find(([n]) => n.includes("every TLV"))!;
  const withKafka = cat(header, KAFKA);
  for (const size of [1, 2, 3, 7, 16, 17, 64, withKafka.length]) {
    const reader = new ProxyHeaderReader();
    assert.equal(reader.result.kind, "incomplete");
    for (let i = 0; i < withKafka.length; i += size) reader.push(withKafka.subarray(i, i + size));
    assert.equal(reader.result.kind, "header");
    assert.deepStrictEqual(reader.rest, KAFKA, `chunk size ${size}`);
  }
  const reader = new ProxyHeaderReader();
  reader.push(header);
  const later = reader.push(KAFKA);
  assert.equal(later.kind, "header");
  assert.deepStrictEqual(reader.rest, KAFKA);

  const bad = new ProxyHeaderReader();
  assert.equal(bad.push(ascii("GE")).kind, "error");
  assert.equal(bad.push(ascii("PROXY UNKNOWN\r\n")).kind, "error");
  assert.equal(bad.rest.length, 0);
});
