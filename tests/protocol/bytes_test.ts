import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ByteReader,
  ByteWriter,
  ProtocolError,
  uuidFromString,
  uuidToString,
  ZERO_UUID,
} from "../../src/protocol/mod.ts";
import { hex, toHex } from "./hex.ts";

function written(f: (w: ByteWriter) => void): string {
  const w = new ByteWriter(1);
  f(w);
  return toHex(w.finish());
}

Deno.test("unsigned varint known encodings", () => {
  const cases: Array<[number, string]> = [
    [0, "00"],
    [1, "01"],
    [127, "7f"],
    [128, "80 01"],
    [300, "ac 02"],
    [16383, "ff 7f"],
    [16384, "80 80 01"],
    [2 ** 31 - 1, "ff ff ff ff 07"],
    [2 ** 32 - 1, "ff ff ff ff 0f"],
  ];
  for (const [v, h] of cases) {
    assert.equal(written((w) => w.uvarint(v)), h, `uvarint ${v}`);
    const r = new ByteReader(hex(h));
    assert.equal(r.uvarint(), v);
    assert.equal(r.remaining, 0);
  }
});

Deno.test("signed (zigzag) varint and varlong known encodings", () => {
  const cases: Array<[number, string]> = [
    [0, "00"],
    [-1, "01"],
    [1, "02"],
    [-64, "7f"],
    [64, "80 01"],
    [150, "ac 02"],
    [2147483647, "fe ff ff ff 0f"],
    [-2147483648, "ff ff ff ff 0f"],
  ];
  for (const [v, h] of cases) {
    assert.equal(written((w) => w.varint(v)), h, `varint ${v}`);
    assert.equal(new ByteReader(hex(h)).varint(), v);
    assert.equal(written((w) => w.varlong(BigInt(v))), h, `varlong ${v}`);
    assert.equal(new ByteReader(hex(h)).varlong(), BigInt(v));
  }
  assert.equal(written((w) => w.varlong(2n ** 63n - 1n)), "fe ff ff ff ff ff ff ff ff 01");
  assert.equal(written((w) => w.varlong(-(2n ** 63n))), "ff ff ff ff ff ff ff ff ff 01");
  assert.equal(new ByteReader(hex("ff ff ff ff ff ff ff ff ff 01")).varlong(), -(2n ** 63n));
});

Deno.test("fixed-width integers, bool and float64 are big-endian", () => {
  assert.equal(written((w) => w.int8(-2)), "fe");
  assert.equal(written((w) => w.int16(-2)), "ff fe");
  assert.equal(written((w) => w.uint16(65534)), "ff fe");
  assert.equal(written((w) => w.int32(0x01020304)), "01 02 03 04");
  assert.equal(written((w) => w.int32(-1)), "ff ff ff ff");
  assert.equal(written((w) => w.uint32(0xfffffffe)), "ff ff ff fe");
  assert.equal(written((w) => w.int64(-2n)), "ff ff ff ff ff ff ff fe");
  assert.equal(written((w) => w.int64(0x0102030405060708n)), "01 02 03 04 05 06 07 08");
  assert.equal(written((w) => w.bool(true)), "01");
  assert.equal(written((w) => w.float64(1)), "3f f0 00 00 00 00 00 00");
  const r = new ByteReader(
    hex("fe | ff fe | ff fe | 80 00 00 00 | ff ff ff fe | 80 00 00 00 00 00 00 00 | 02"),
  );
  assert.equal(r.int8(), -2);
  assert.equal(r.int16(), -2);
  assert.equal(r.uint16(), 65534);
  assert.equal(r.int32(), -2147483648);
  assert.equal(r.uint32(), 0xfffffffe);
  assert.equal(r.int64(), -(2n ** 63n));
  assert.equal(r.bool(), true, "any non-zero byte is true");
  assert.equal(r.remaining, 0);
});

Deno.test("strings: classic and compact, nullable", () => {
  assert.equal(written((w) => w.compactNullableString(null)), "00");
  assert.equal(written((w) => w.compactString("")), "01");
  assert.equal(written((w) => w.compactString("abc")), "04 61 62 63");
  assert.equal(written((w) => w.nullableString(null)), "ff ff");
  assert.equal(written((w) => w.string("abc")), "00 03 61 62 63");
  assert.equal(written((w) => w.string("é")), "00 02 c3 a9");
  assert.equal(new ByteReader(hex("00")).compactNullableString(), null);
  assert.equal(new ByteReader(hex("ff ff")).nullableString(), null);
  assert.equal(new ByteReader(hex("04 61 62 63")).compactString(), "abc");
  assert.equal(new ByteReader(hex("00 02 c3 a9")).string(), "é");
  assert.throws(() => new ByteReader(hex("00")).compactString(), ProtocolError);
  assert.throws(() => new ByteReader(hex("ff ff")).string(), ProtocolError);
  assert.throws(() => new ByteReader(hex("ff fe")).nullableString(), ProtocolError);
  assert.throws(() => new ByteReader(hex("00 01 ff")).string(), ProtocolError, "invalid UTF-8");
  assert.throws(() => new ByteWriter().string("x".repeat(32768)), ProtocolError);
});

Deno.test("bytes and arrays: lengths and null markers", () => {
  assert.equal(written((w) => w.compactNullableBytes(null)), "00");
  assert.equal(written((w) => w.compactBytes(hex("aa bb"))), "03 aa bb");
  assert.equal(written((w) => w.nullableBytes(null)), "ff ff ff ff");
  assert.equal(written((w) => w.bytes(hex("aa"))), "00 00 00 01 aa");
  assert.equal(written((w) => w.compactArrayLength(-1)), "00");
  assert.equal(written((w) => w.compactArrayLength(0)), "01");
  assert.equal(written((w) => w.arrayLength(-1)), "ff ff ff ff");
  assert.equal(new ByteReader(hex("00")).compactArrayLength(), -1);
  assert.equal(new ByteReader(hex("ff ff ff ff")).arrayLength(), -1);
  assert.equal(new ByteReader(hex("00 00 00 01 aa")).arrayLength(), 1);
});

Deno.test("bytes are returned as views of the input (no copy)", () => {
  const src = hex("ff 04 aa bb cc 00 00 00 02 dd ee");
  const r = new ByteReader(src, 1);
  const a = r.compactBytes();
  const b = r.bytes();
  assert.equal(a.buffer, src.buffer);
  assert.equal(a.byteOffset, 2);
  assert.deepEqual(Array.from(a), [0xaa, 0xbb, 0xcc]);
  assert.equal(b.buffer, src.buffer);
  assert.deepEqual(Array.from(b), [0xdd, 0xee]);
});

Deno.test("uuid: Kafka base64url form", () => {
  assert.equal(uuidToString(new Uint8Array(16)), ZERO_UUID);
  const bytes = hex("00 01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f");
  const s = uuidToString(bytes);
  assert.equal(s, "AAECAwQFBgcICQoLDA0ODw");
  assert.deepEqual(uuidFromString(s), bytes);
  assert.equal(new ByteReader(bytes).uuid(), s);
  assert.equal(written((w) => w.uuid(s)), toHex(bytes));
  assert.throws(() => uuidFromString("too-short"), ProtocolError);
  assert.throws(() => uuidFromString("AAECAwQFBgcICQoLDA0OD/"), ProtocolError);
  assert.throws(() => uuidFromString("AAECAwQFBgcICQoLDA0ODx"), ProtocolError, "non-zero padding bits");
  fc.assert(fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
    assert.deepEqual(uuidFromString(uuidToString(b)), b);
  }));
});

Deno.test("reading past the end throws ProtocolError, never RangeError", () => {
  const reads: Array<[string, (r: ByteReader) => unknown]> = [
    ["", (r) => r.int8()],
    ["00", (r) => r.int16()],
    ["00 00 00", (r) => r.int32()],
    ["00 00 00 00 00 00 00", (r) => r.int64()],
    ["00 00 00 00 00 00 00", (r) => r.float64()],
    ["", (r) => r.bool()],
    ["80", (r) => r.uvarint()],
    ["80 80 80 80 80 01", (r) => r.uvarint()], // longer than 5 bytes
    ["80 80 80 80 10", (r) => r.uvarint()], // above 2^32 - 1
    ["80 80 80 80 80 80 80 80 80 80 01", (r) => r.uvarlong()],
    ["00 05 61 62", (r) => r.string()],
    ["06 61 62", (r) => r.compactString()],
    ["00 00 00 05 01", (r) => r.bytes()],
    ["ff ff ff fe", (r) => r.nullableBytes()],
    ["00 01 02", (r) => r.uuid()],
    ["7f ff ff ff 00", (r) => r.arrayLength()],
    ["ff ff ff ff 0f", (r) => r.compactArrayLength()],
    ["ff ff ff fe", (r) => r.arrayLength()],
    ["05 00 00", (r) => r.skipTaggedFields()],
    ["01 00 05 00", (r) => r.skipTaggedFields()],
  ];
  for (const [h, read] of reads) {
    assert.throws(() => read(new ByteReader(hex(h))), ProtocolError, h);
  }
  assert.throws(() => new ByteReader(new Uint8Array(4), 2, 8), ProtocolError);
  const r = new ByteReader(hex("01 02 03 04"), 0, 2);
  assert.equal(r.int16(), 0x0102);
  assert.throws(() => r.int8(), ProtocolError, "the end bound is honoured");
});

Deno.test("writer rejects out-of-range values with ProtocolError", () => {
  const w = new ByteWriter();
  assert.throws(() => w.int8(128), ProtocolError);
  assert.throws(() => w.int16(1.5), ProtocolError);
  assert.throws(() => w.int32(2 ** 31), ProtocolError);
  assert.throws(() => w.uint32(-1), ProtocolError);
  assert.throws(() => w.int64(2n ** 63n), ProtocolError);
  assert.throws(() => w.uvarint(2 ** 32), ProtocolError);
  assert.throws(() => w.bool(1 as unknown as boolean), ProtocolError);
});

Deno.test("writer grows and round-trips mixed primitives", () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.integer({ min: -2147483648, max: 2147483647 }),
          fc.string(),
          fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
        ),
        { maxLength: 50 },
      ),
      (items) => {
        const w = new ByteWriter(1);
        for (const [i, s, l] of items) {
          w.int32(i);
          w.varint(i);
          w.compactString(s);
          w.int64(l);
          w.varlong(l);
        }
        const r = new ByteReader(w.finish());
        for (const [i, s, l] of items) {
          assert.equal(r.int32(), i);
          assert.equal(r.varint(), i);
          assert.equal(r.compactString(), s);
          assert.equal(r.int64(), l);
          assert.equal(r.varlong(), l);
        }
        assert.equal(r.remaining, 0);
      },
    ),
    { numRuns: 50 },
  );
});
