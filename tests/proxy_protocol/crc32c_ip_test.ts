import assert from "node:assert/strict";
import { isIPv6 } from "node:net";
import fc from "fast-check";
import {
  crc32c,
  formatEndpoint,
  formatIPv4,
  formatIPv6,
  parseIPv4,
  parseIPv6,
} from "../../src/proxy_protocol/mod.ts";
import { ascii } from "./support.ts";

Deno.test("crc32c: known vectors (RFC 3720 B.4 and the check value)", () => {
  assert.equal(crc32c(ascii("123456789")), 0xe3069283);
  assert.equal(crc32c(new Uint8Array(0)), 0);
  assert.equal(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assert.equal(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assert.equal(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  assert.equal(crc32c(ascii("The quick brown fox jumps over the lazy dog")), 0x22620404);
});

Deno.test("IPv4: strict dotted quads", () => {
  assert.deepEqual(parseIPv4("192.168.0.1"), Uint8Array.of(192, 168, 0, 1));
  assert.deepEqual(parseIPv4("0.0.0.0"), new Uint8Array(4));
  assert.deepEqual(parseIPv4("255.255.255.255"), new Uint8Array(4).fill(255));
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "01.2.3.4",
      "1.2.3.04",
      "1.2.3.00",
      "256.1.1.1",
      "1.2.3.-4",
      "1..3.4",
      "1.2.3.4 ",
      " 1.2.3.4",
      "0x1.2.3.4",
      "1.2.3.4.",
      "1e2.1.1.1",
      "１.2.3.4",
    ]
  ) {
    assert.equal(parseIPv4(bad), undefined, bad);
  }
});

Deno.test("IPv6: RFC 4291 text forms parse, others do not", () => {
  const ok: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8:0:0:0:0:0:1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"],
    ["1:0:0:2:0:0:0:3", "1:0:0:2::3"], // longest run
    ["1:0:0:2:0:0:3:4", "1::2:0:0:3:4"], // first of equal runs
    ["1:0:2:3:4:5:6:7", "1:0:2:3:4:5:6:7"], // a single zero group is not compressed
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"], // "::" for one group is accepted on input
    ["::ffff:192.0.2.1", "::ffff:192.0.2.1"], // IPv4-mapped: mixed notation (RFC 5952 section 5)
    ["::FFFF:c000:0201", "::ffff:192.0.2.1"],
    ["0:0:0:0:0:ffff:192.0.2.1", "::ffff:192.0.2.1"],
    ["::192.0.2.1", "::c000:201"], // IPv4-compatible (deprecated): plain hex
    ["64:ff9b::192.0.2.1", "64:ff9b::c000:201"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
    ["fe80::1:2", "fe80::1:2"],
  ];
  for (const [text, canonical] of ok) {
    const bytes = parseIPv6(text);
    assert.ok(bytes, text);
    assert.equal(formatIPv6(bytes), canonical, text);
  }
  for (
    const bad of [
      "",
      ":",
      ":::",
      "1",
      "1.2.3.4",
      "1:2:3:4:5:6:7",
      "1:2:3:4:5:6:7:8:9",
      "1::2::3",
      "1:::2",
      ":1::2",
      "1::2:",
      "12345::",
      "g::1",
      "::1%eth0",
      "[::1]",
      "::ffff:1.2.3",
      "::ffff:01.2.3.4",
      "1:2:3:4:5:6:7:1.2.3.4",
      "::1.2.3.4:5",
      "1.2.3.4::",
      " ::1",
    ]
  ) {
    assert.equal(parseIPv6(bad), undefined, bad);
  }
});

Deno.test("IPv6: random addresses round-trip through the canonical form; agrees with node:net and URL", () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(7), fc.nat(7), (b, i, j) => {
      // Bias towards zero runs.
      b.fill(0, 2 * Math.min(i, j), 2 * Math.max(i, j));
      const text = formatIPv6(b);
      assert.deepEqual(parseIPv6(text), b);
      assert.ok(isIPv6(text), text);
      assert.equal(text, text.toLowerCase());
      if (!text.startsWith("::ffff:") || !text.includes(".")) {
        // The WHATWG URL serializer is RFC 5952 compression without the mixed IPv4 notation.
        assert.equal(new URL(`http://[${text}]/`).hostname, `[${text}]`);
      }
    }),
    { numRuns: 3000 },
  );
  fc.assert(
    fc.property(fc.ipV6(), (text) => {
      const b = parseIPv6(text);
      assert.ok(b, text);
      assert.deepEqual(parseIPv6(formatIPv6(b)), b);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(
      fc.string({ unit: fc.constantFrom(..."0123456789abcdefABCDEF:.%g"), maxLength: 46 }),
      (text) => {
        if (parseIPv6(text)) assert.ok(isIPv6(text), text);
      },
    ),
    { numRuns: 3000 },
  );
});

Deno.test("IPv4: random addresses round-trip; fc.ipV4() parses", () => {
  fc.assert(
    fc.property(fc.ipV4(), (text) => {
      const b = parseIPv4(text);
      assert.ok(b, text);
      assert.equal(formatIPv4(b), text);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("formatEndpoint renders ip:port and [ipv6]:port", () => {
  assert.equal(formatEndpoint({ address: "192.0.2.1", port: 443 }), "192.0.2.1:443");
  assert.equal(formatEndpoint({ address: "2001:db8::1", port: 9092 }), "[2001:db8::1]:9092");
  assert.equal(formatEndpoint({ address: "::ffff:192.0.2.1", port: 0 }), "[::ffff:192.0.2.1]:0");
});
