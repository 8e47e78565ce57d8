import assert from "node:assert/strict";
import { buildProxyV1, parseProxyHeader, V1_MAX_LENGTH } from "../../src/proxy_protocol/mod.ts";
import { ascii, cat, expectError, expectHeader } from "./support.ts";

const F4 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

Deno.test("v1 spec example: the header before an HTTP request; consumed stops at CRLF", () => {
  const line = "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
  const http = "GET / HTTP/1.1\r\nHost: 192.168.0.11\r\n\r\n";
  const header = expectHeader(ascii(line + http), line.length);
  assert.deepEqual(header, {
    version: 1,
    command: "PROXY",
    family: "TCP4",
    source: { address: "192.168.0.1", port: 56324 },
    destination: { address: "192.168.0.11", port: 443 },
    tlvs: { unknown: [] },
  });
});

Deno.test("v1 spec maximum line lengths: 56 (TCP4), 104 (TCP6), 15 (UNKNOWN short), 107 (worst case)", () => {
  const tcp4 = "PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n";
  assert.equal(tcp4.length, 56);
  assert.deepEqual(expectHeader(ascii(tcp4)).source, { address: "255.255.255.255", port: 65535 });

  const tcp6 = `PROXY TCP6 ${F4} ${F4} 65535 65535\r\n`;
  assert.equal(tcp6.length, 104);
  const h6 = expectHeader(ascii(tcp6));
  assert.equal(h6.family, "TCP6");
  assert.deepEqual(h6.destination, { address: F4, port: 65535 });

  const unknownShort = "PROXY UNKNOWN\r\n";
  assert.equal(unknownShort.length, 15);
  assert.deepEqual(expectHeader(ascii(unknownShort)), {
    version: 1,
    command: "PROXY",
    family: "UNKNOWN",
    tlvs: { unknown: [] },
  });

  const worst = `PROXY UNKNOWN ${F4} ${F4} 65535 65535\r\n`;
  assert.equal(worst.length, V1_MAX_LENGTH);
  const hw = expectHeader(ascii(worst + "kafka"), 107);
  assert.equal(hw.family, "UNKNOWN");
  assert.equal(hw.source, undefined, "UNKNOWN: use the real connection endpoints");
});

Deno.test("v1 TCP6: addresses are reported in canonical form", () => {
  const h = expectHeader(ascii("PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:192.0.2.1 0 9092\r\n"));
  assert.deepEqual(h.source, { address: "2001:db8::1", port: 0 });
  assert.deepEqual(h.destination, { address: "::ffff:192.0.2.1", port: 9092 });
  assert.deepEqual(expectHeader(ascii("PROXY TCP6 :: ::1 1 2\r\n")).source, { address: "::", port: 1 });
});

Deno.test("v1 UNKNOWN: anything up to the first CRLF is ignored", () => {
  const line = "PROXY UNKNOWN whatever \x00 \xff \r junk\n\r\r\n";
  assert.equal(expectHeader(ascii(line + "KAFKA"), line.length).family, "UNKNOWN");
  assert.equal(expectHeader(ascii("PROXY UNKNOWN \r\n")).family, "UNKNOWN");
  const rest = "x".repeat(V1_MAX_LENGTH - "PROXY UNKNOWN \r\n".length);
  assert.equal(expectHeader(ascii(`PROXY UNKNOWN ${rest}\r\n`)).family, "UNKNOWN");
});

Deno.test("v1: no CRLF within 107 bytes is v1-too-long, detected as soon as 107 bytes are in", () => {
  const rest = "x".repeat(V1_MAX_LENGTH - "PROXY UNKNOWN \r\n".length + 1);
  expectError(ascii(`PROXY UNKNOWN ${rest}\r\n`), "v1-too-long", /107/);
  const noCrlf = ascii(`PROXY UNKNOWN ${"y".repeat(200)}`);
  assert.equal(parseProxyHeader(noCrlf.subarray(0, 106)).kind, "incomplete");
  expectError(noCrlf.subarray(0, 107), "v1-too-long");
  // A line whose CR is the 107th byte (LF the 108th) is too long too.
  expectError(ascii(`PROXY UNKNOWN ${"z".repeat(92)}\r\n`), "v1-too-long");
  // Syntactically fine TCP6 fields that make a line longer than 107 bytes.
  const mixed = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255";
  expectError(ascii(`PROXY TCP6 ${mixed} ${mixed} 65535 65535\r\n`), "v1-too-long");
});

Deno.test("v1: bad tokens, spacing and line endings are v1-syntax", () => {
  const cases = [
    "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY TCP 1.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY UNKNOWNX\r\n",
    "PROXY UNKNOWN\rX\r\n",
    "PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
    "PROXY TCP4 1.2.3.4\r\n",
    "PROXY TCP4\r\n",
    "PROXY TCP4 \r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
    "PROXY UNKNOWN\n",
    "PROXY \r\n",
    "PROXY\tTCP4 1.2.3.4 5.6.7.8 1 2\r\n",
  ];
  for (const c of cases) {
    const r = parseProxyHeader(ascii(c));
    assert.equal(r.kind, "error", JSON.stringify(c));
    if (r.kind === "error") {
      assert.ok(
        ["v1-syntax", "bad-signature"].includes(r.error.code),
        `${JSON.stringify(c)}: ${r.error.code} ${r.error.message}`,
      );
      assert.match(r.error.message, /v1 header|PROXY/);
    }
  }
  expectError(ascii("PROXY TCP5"), "v1-syntax", /unsupported protocol/);
  expectError(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "v1-syntax", /LF without a preceding CR/);
  expectError(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"), "v1-syntax", /CR followed by 'X'/);
  expectError(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"), "v1-syntax", /after the destination port/);
  expectError(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"), "v1-syntax", /fields missing/);
  expectError(ascii("PROXY\tTCP4"), "bad-signature");
});

Deno.test("v1: leading zeros, out-of-range numbers and malformed addresses", () => {
  const addr: string[] = [
    "PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.08 1 2\r\n",
    "PROXY TCP4 1.2.3.00 5.6.7.8 1 2\r\n",
    "PROXY TCP4 256.2.3.4 5.6.7.8 1 2\r\n",
    "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n",
    "PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n",
    "PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n",
    "PROXY TCP4 .1.2.3 5.6.7.8 1 2\r\n",
    "PROXY TCP4 1.2.3.4. 5.6.7.8 1 2\r\n",
    "PROXY TCP6 1::2::3 ::1 1 2\r\n",
    "PROXY TCP6 ::1%eth0 ::1 1 2\r\n",
    "PROXY TCP6 [::1] ::1 1 2\r\n",
    "PROXY TCP6 12345::1 ::1 1 2\r\n",
  ];
  for (const c of addr) expectError(ascii(c), "v1-bad-address");
  const port: string[] = [
    "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 00\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 99999\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 1 123456\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n",
    "PROXY TCP4 1.2.3.4 5.6.7.8 0x10 2\r\n",
  ];
  for (const c of port) expectError(ascii(c), "v1-bad-port", /port/);
  expectError(ascii("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n"), "v1-bad-address", /source address/);
  expectError(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n"), "v1-bad-port", /destination port "0" then '8'/);
  // 0 itself is fine.
  assert.deepEqual(expectHeader(ascii("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n")).source, {
    address: "0.0.0.0",
    port: 0,
  });
});

Deno.test("v1: the address kind must match TCP4 / TCP6", () => {
  expectError(ascii("PROXY TCP4 ::1 ::1 1 2\r\n"), "v1-bad-address", /IPv4 address \(family TCP4\)/);
  expectError(ascii("PROXY TCP4 1.2.3.4 ::1 1 2\r\n"), "v1-bad-address", /destination address/);
  expectError(ascii("PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"), "v1-bad-address", /IPv6 address \(family TCP6\)/);
  expectError(ascii("PROXY TCP6 ::1 5.6.7.8 1 2\r\n"), "v1-bad-address", /destination address "5.6.7.8"/);
});

Deno.test("v1: errors are detected early, before the CRLF", () => {
  expectError(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 01"), "v1-bad-port");
  expectError(ascii("PROXY TCP4 1.2.3.4:"), "v1-bad-address");
  expectError(ascii("PROXY TCP4 300"), "v1-bad-address");
  expectError(ascii("PROXY TCP6 ::g"), "v1-bad-address");
  expectError(ascii("PROXY X"), "v1-syntax");
  expectError(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 "), "v1-syntax");
  assert.equal(parseProxyHeader(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2")).kind, "incomplete");
  assert.equal(parseProxyHeader(ascii("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r")).kind, "incomplete");
  assert.equal(parseProxyHeader(ascii("PROXY TCP6 1:2:3:4:5:6:7:")).kind, "incomplete");
});

Deno.test("buildProxyV1 writes canonical lines", () => {
  assert.deepEqual(
    buildProxyV1({
      source: { address: "192.0.2.1", port: 56324 },
      destination: { address: "198.51.100.7", port: 9092 },
    }),
    ascii("PROXY TCP4 192.0.2.1 198.51.100.7 56324 9092\r\n"),
  );
  assert.deepEqual(
    buildProxyV1({ source: { address: "2001:DB8::0:1", port: 1 }, destination: { address: "::1", port: 2 } }),
    ascii("PROXY TCP6 2001:db8::1 ::1 1 2\r\n"),
  );
  assert.deepEqual(buildProxyV1({ family: "UNKNOWN" }), ascii("PROXY UNKNOWN\r\n"));
  assert.deepEqual(buildProxyV1({}), ascii("PROXY UNKNOWN\r\n"));
  assert.throws(
    () =>
      buildProxyV1({
        family: "TCP4",
        source: { address: "::1", port: 1 },
        destination: { address: "::1", port: 1 },
      }),
    RangeError,
  );
  assert.throws(
    () =>
      buildProxyV1({
        source: { address: "1.2.3.4", port: 65536 },
        destination: { address: "1.2.3.4", port: 1 },
      }),
    RangeError,
  );
  const h = expectHeader(
    cat(
      buildProxyV1({
        source: { address: "10.1.2.3", port: 5 },
        destination: { address: "10.3.2.1", port: 6 },
      }),
      ascii("rest"),
    ),
    34,
  );
  assert.deepEqual(h.destination, { address: "10.3.2.1", port: 6 });
});
