import assert from "node:assert/strict";
import {
  buildProxyV2,
  crc32c,
  parseProxyHeader,
  type ProxyTlvs,
  V2_SIGNATURE,
} from "../../src/proxy_protocol/mod.ts";
import { ascii, cat, expectError, expectHeader, hex } from "./support.ts";

const SIG = "0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a";
const KAFKA = hex("00 00 00 1f 00 12 00 03 00 00 00 01"); // the start of an ApiVersions request

/** The fixed 16 bytes + address block of a PROXY TCP/IPv4 127.0.0.1:12345 -> 192.0.2.1:54321 header. */
function inetHeader(extraLength: number, verCmd = "21", fam = "11"): Uint8Array {
  const len = 12 + extraLength;
  return hex(
    `${SIG} ${verCmd} ${fam} ${(len >> 8).toString(16).padStart(2, "0")} ${
      (len & 0xff).toString(16).padStart(2, "0")
    }
    7f 00 00 01 | c0 00 02 01 | 30 39 | d4 31`,
  );
}

/** A PROXY TCP/IPv4 header carrying the given TLV bytes; returns its tlvs. */
function tlvsOf(tlvBytes: Uint8Array): ProxyTlvs {
  return expectHeader(cat(inetHeader(tlvBytes.length), tlvBytes, KAFKA), 28 + tlvBytes.length).tlvs;
}

Deno.test("v2 signature matches the spec and the spec's detection prefix", () => {
  assert.deepEqual(V2_SIGNATURE, hex(SIG));
  assert.deepEqual(cat(V2_SIGNATURE, hex("20")), hex("0D0A0D0A000D0A515549540A20"));
});

Deno.test("v2 \\x11 TCP over IPv4 and \\x12 UDP over IPv4 (12-byte block)", () => {
  const h = expectHeader(cat(inetHeader(0), KAFKA), 28);
  assert.deepEqual(h, {
    version: 2,
    command: "PROXY",
    family: "INET",
    transport: "STREAM",
    source: { address: "127.0.0.1", port: 12345 },
    destination: { address: "192.0.2.1", port: 54321 },
    tlvs: { unknown: [] },
  });
  const udp = expectHeader(cat(inetHeader(0, "21", "12"), KAFKA), 28);
  assert.equal(udp.transport, "DGRAM");
  assert.deepEqual(udp.source, { address: "127.0.0.1", port: 12345 });
});

Deno.test("v2 \\x21 TCP over IPv6 and \\x22 UDP over IPv6 (36-byte block)", () => {
  const block =
    `20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01 | 00 00 00 00 00 00 00 00 00 00 ff ff c0 00 02 01
    | 01 bb | 23 84`;
  const h = expectHeader(cat(hex(`${SIG} 21 21 00 24 ${block}`), KAFKA), 52);
  assert.deepEqual(h, {
    version: 2,
    command: "PROXY",
    family: "INET6",
    transport: "STREAM",
    source: { address: "2001:db8::1", port: 443 },
    destination: { address: "::ffff:192.0.2.1", port: 9092 },
    tlvs: { unknown: [] },
  });
  assert.equal(expectHeader(hex(`${SIG} 21 22 00 24 ${block}`)).transport, "DGRAM");
});

Deno.test("v2 \\x31 UNIX stream and \\x32 UNIX datagram (216-byte block)", () => {
  const src = new Uint8Array(108);
  src.set(ascii("/var/run/client.sock"));
  const dst = new Uint8Array(108);
  dst.set(ascii("\0abstract")); // abstract socket: leading NUL
  const bytes = cat(hex(`${SIG} 21 31 00 d8`), src, dst, KAFKA);
  const h = expectHeader(bytes, 232);
  assert.equal(h.family, "UNIX");
  assert.equal(h.transport, "STREAM");
  assert.equal(h.source, undefined);
  assert.equal(h.unix?.source, "/var/run/client.sock");
  assert.equal(h.unix?.destination, "");
  assert.deepEqual(h.unix?.destinationRaw, dst);
  assert.equal(expectHeader(cat(hex(`${SIG} 21 32 00 d8`), src, dst)).transport, "DGRAM");
  const built = buildProxyV2({ unix: { source: "/a", destination: "/b" }, transport: "DGRAM" });
  assert.deepEqual(expectHeader(built).unix?.destination, "/b");
});

Deno.test("v2 \\x00 UNSPEC and LOCAL: the address block is ignored, the length is always skipped", () => {
  assert.deepEqual(expectHeader(cat(hex(`${SIG} 20 00 00 00`), KAFKA), 16), {
    version: 2,
    command: "LOCAL",
    family: "UNSPEC",
    transport: "UNSPEC",
    tlvs: { unknown: [] },
  });
  // LOCAL with an address block: accepted, addresses not reported (use the real endpoints).
  const local = expectHeader(cat(inetHeader(0, "20"), KAFKA), 28);
  assert.equal(local.command, "LOCAL");
  assert.equal(local.family, "INET");
  assert.equal(local.source, undefined);
  // LOCAL whose length does not cover the family's block: still valid, skipped by length.
  assert.equal(expectHeader(cat(hex(`${SIG} 20 11 00 03 aa bb cc`), KAFKA), 19).command, "LOCAL");
  assert.equal(expectHeader(cat(hex(`${SIG} 20 21 00 00`), KAFKA), 16).family, "INET6");
  // PROXY with UNSPEC family or UNSPEC transport: no addresses to use.
  const unspec = expectHeader(cat(hex(`${SIG} 21 00 00 00`), KAFKA), 16);
  assert.equal(unspec.command, "PROXY");
  assert.equal(unspec.source, undefined);
  const unspecTransport = expectHeader(cat(inetHeader(0, "21", "10"), KAFKA), 28);
  assert.equal(unspecTransport.transport, "UNSPEC");
  assert.equal(unspecTransport.source, undefined);
  // Unknown bytes beyond the address block: skipped by length (as TLVs here).
  const extra = hex("f7 00 02 de ad");
  const h = expectHeader(cat(inetHeader(5), extra, KAFKA), 33);
  assert.deepEqual(h.tlvs.unknown, [{ type: 0xf7, value: hex("de ad") }]);
});

Deno.test("v2 errors: version, command, family, transport", () => {
  for (const v of ["00", "10", "11", "31", "f1"]) expectError(hex(`${SIG} ${v}`), "bad-version", /version/);
  for (const c of ["22", "23", "2f"]) expectError(hex(`${SIG} ${c}`), "bad-command", /command 0x0[23f]/);
  for (const f of ["41", "51", "f1"]) expectError(hex(`${SIG} 21 ${f}`), "bad-family", /address family/);
  for (const t of ["13", "1f", "03"]) expectError(hex(`${SIG} 21 ${t}`), "bad-transport", /transport/);
  // Reported at once, before the rest of the header.
  expectError(hex(`${SIG} 11`), "bad-version");
  expectError(hex(`${SIG} 21 41`), "bad-family");
});

Deno.test("v2 errors: length shorter than the family's address block (detected from the 16 fixed bytes)", () => {
  expectError(hex(`${SIG} 21 11 00 0b`), "bad-length", /length 11 .* 12-byte INET/);
  expectError(hex(`${SIG} 21 12 00 00`), "bad-length");
  expectError(hex(`${SIG} 21 21 00 23`), "bad-length", /36-byte INET6/);
  expectError(hex(`${SIG} 21 31 00 d7`), "bad-length", /216-byte UNIX/);
  assert.equal(parseProxyHeader(hex(`${SIG} 21 11 00 0c`)).kind, "incomplete");
});

Deno.test("v2 TLVs: ALPN, AUTHORITY, NOOP, UNIQUE_ID, NETNS", () => {
  const tlvs = tlvsOf(cat(
    hex("01 00 02 68 32"), // ALPN h2
    hex("02 00 11"),
    ascii("kafka.example.com"),
    hex("04 00 00 | 04 00 03 00 00 00"), // NOOPs, may repeat
    hex("05 00 04 de ad be ef"),
    hex("30 00 04"),
    ascii("blue"),
  ));
  assert.deepEqual(tlvs, {
    unknown: [],
    alpn: "h2",
    authority: "kafka.example.com",
    uniqueId: { bytes: hex("de ad be ef"), hex: "deadbeef" },
    netns: "blue",
  });
  assert.equal(tlvsOf(cat(hex("02 00 06"), new TextEncoder().encode("kåfka"))).authority, "kåfka");
  assert.equal(tlvsOf(cat(hex("05 00 80"), new Uint8Array(128).fill(7))).uniqueId?.bytes.length, 128);
  assert.equal(tlvsOf(hex("05 00 00")).uniqueId?.hex, "");
});

Deno.test("v2 TLV: SSL with every sub-TLV", () => {
  const sub = (type: number, s: string) => cat(Uint8Array.of(type, 0, s.length), ascii(s));
  const value = cat(
    hex("07 | 00 00 00 00"),
    sub(0x21, "TLSv1.3"),
    sub(0x22, "client.example.com"),
    sub(0x23, "ECDHE-RSA-AES128-GCM-SHA256"),
    sub(0x24, "RSA-SHA256"),
    sub(0x25, "RSA2048"),
    hex("26 00 01 ff"), // unknown sub-TLV: kept
  );
  const tlvs = tlvsOf(cat(Uint8Array.of(0x20, 0, value.length), value));
  assert.deepEqual(tlvs.ssl, {
    client: 7,
    verify: 0,
    version: "TLSv1.3",
    cn: "client.example.com",
    cipher: "ECDHE-RSA-AES128-GCM-SHA256",
    sigAlg: "RSA-SHA256",
    keyAlg: "RSA2048",
    unknown: [{ type: 0x26, value: hex("ff") }],
  });
  // verify is an unsigned big-endian u32; no sub-TLVs is fine.
  assert.deepEqual(tlvsOf(hex("20 00 05 01 80 00 00 01")).ssl, {
    client: 1,
    verify: 0x80000001,
    unknown: [],
  });
  const built = buildProxyV2({
    source: { address: "10.0.0.1", port: 1 },
    destination: { address: "10.0.0.2", port: 2 },
    tlvs: {
      ssl: { client: 5, verify: 1, version: "TLSv1.2", cn: "ü", cipher: "c", sigAlg: "s", keyAlg: "k" },
    },
  });
  assert.deepEqual(expectHeader(built).tlvs.ssl, {
    client: 5,
    verify: 1,
    version: "TLSv1.2",
    cn: "ü",
    cipher: "c",
    sigAlg: "s",
    keyAlg: "k",
    unknown: [],
  });
});

Deno.test("v2 TLVs: AWS (0xEA), Azure (0xEE, little-endian), GCP (0xE0, u64 big-endian)", () => {
  const aws = tlvsOf(cat(hex("ea 00 17 01"), ascii("vpce-08d2bf15fac5001c9")));
  assert.deepEqual(aws.aws, { vpcEndpointId: "vpce-08d2bf15fac5001c9" });
  const azure = tlvsOf(hex("ee 00 05 01 78 56 34 12"));
  assert.deepEqual(azure.azure, { privateLinkId: 0x12345678 });
  assert.deepEqual(tlvsOf(hex("ee 00 05 01 ff ff ff ff")).azure, { privateLinkId: 0xffffffff });
  const gcp = tlvsOf(hex("e0 00 08 00 00 00 00 00 00 30 39"));
  assert.deepEqual(gcp.gcp, { pscConnectionId: 12345n, pscConnectionIdText: "12345" });
  assert.deepEqual(tlvsOf(hex("e0 00 08 ff ff ff ff ff ff ff ff")).gcp, {
    pscConnectionId: 0xffffffffffffffffn,
    pscConnectionIdText: "18446744073709551615",
  });
  // Values without the vendor layout (custom range, not registered): kept raw, not rejected.
  assert.deepEqual(tlvsOf(hex("ea 00 02 02 41")), { unknown: [{ type: 0xea, value: hex("02 41") }] });
  assert.deepEqual(tlvsOf(hex("ee 00 04 01 00 00 00")), {
    unknown: [{ type: 0xee, value: hex("01 00 00 00") }],
  });
  assert.deepEqual(tlvsOf(hex("e0 00 04 00 00 00 01")), {
    unknown: [{ type: 0xe0, value: hex("00 00 00 01") }],
  });
  // Builder round trip.
  const built = buildProxyV2({
    source: { address: "::1", port: 1 },
    destination: { address: "::2", port: 2 },
    tlvs: {
      aws: { vpcEndpointId: "vpce-abc" },
      azure: { privateLinkId: 0x01020304 },
      gcp: { pscConnectionId: 0x0102030405060708n },
    },
  });
  assert.deepEqual(expectHeader(built).tlvs, {
    unknown: [],
    aws: { vpcEndpointId: "vpce-abc" },
    azure: { privateLinkId: 0x01020304 },
    gcp: { pscConnectionId: 0x0102030405060708n, pscConnectionIdText: "72623859790382856" },
  });
  const wire = Array.from(built, (x) => x.toString(16).padStart(2, "0")).join(" ");
  assert.ok(wire.includes("ee 00 05 01 04 03 02 01"), "Azure id little-endian");
  assert.ok(wire.includes("e0 00 08 01 02 03 04 05 06 07 08"), "GCP id big-endian");
  assert.ok(wire.includes("ea 00 09 01 76 70 63 65 2d 61 62 63"), "AWS subtype 1 + id");
});

Deno.test("v2 TLVs: unknown types kept raw, in order", () => {
  const tlvs = tlvsOf(hex("f0 00 01 aa | 21 00 00 | e5 00 02 bb cc | ff 00 00"));
  assert.deepEqual(tlvs.unknown, [
    { type: 0xf0, value: hex("aa") },
    { type: 0x21, value: new Uint8Array(0) },
    { type: 0xe5, value: hex("bb cc") },
    { type: 0xff, value: new Uint8Array(0) },
  ]);
});

Deno.test("v2 TLV: CRC32C valid, mismatching, malformed", () => {
  // Hand-built: TCP4 header + CRC32C TLV computed with the field zeroed.
  const h = cat(inetHeader(7), hex("03 00 04 00 00 00 00"));
  new DataView(h.buffer).setUint32(h.length - 4, crc32c(h));
  const ok = expectHeader(cat(h, KAFKA), h.length);
  assert.deepEqual(ok.tlvs.crc32c, { valid: true, value: new DataView(h.buffer).getUint32(h.length - 4) });

  // Any changed bit in the header, or in the checksum, is a mismatch.
  for (const at of [12 + 1, 16, 20, 27, h.length - 1, h.length - 4]) {
    const bad = h.slice();
    bad[at] ^= 0x10;
    if (at === 13) bad[at] = 0x12; // keep a valid family/transport byte
    expectError(cat(bad, KAFKA), "crc-mismatch", /CRC32C TLV is 0x[0-9a-f]{8} but the header checksums to/);
  }
  // Builder with other TLVs, CRC placed last; IPv6.
  const built = buildProxyV2({
    source: { address: "2001:db8::7", port: 40000 },
    destination: { address: "2001:db8::8", port: 9092 },
    tlvs: { authority: "broker-1", uniqueId: hex("01 02"), noop: 5, crc32c: true },
  });
  const b = expectHeader(built);
  assert.equal(b.tlvs.crc32c?.valid, true);
  assert.equal(b.tlvs.authority, "broker-1");
  const tampered = built.slice();
  tampered[20] ^= 1;
  expectError(tampered, "crc-mismatch");
  // CRC32C TLV of the wrong length.
  expectError(cat(inetHeader(6), hex("03 00 03 00 00 00")), "tlv-invalid", /CRC32C TLV has length 3/);
});

Deno.test("v2 TLV errors: overrun, invalid values, duplicates", () => {
  const tlv = (b: Uint8Array) => cat(inetHeader(b.length), b);
  expectError(tlv(hex("02 00 05 61 62")), "tlv-overrun", /length 5 but only 2 byte\(s\) remain/);
  expectError(tlv(hex("02")), "tlv-overrun", /1 byte\(s\) left/);
  expectError(tlv(hex("02 00")), "tlv-overrun");
  expectError(tlv(hex("04 00 00 | 02 ff ff")), "tlv-overrun");
  // A TLV running past the header is an overrun even when more bytes follow the header.
  expectError(cat(tlv(hex("02 00 03 61")), hex("62 63")), "tlv-overrun");
  // SSL sub-TLV overrunning the SSL TLV.
  expectError(tlv(hex("20 00 08 01 00 00 00 00 21 00 09")), "tlv-overrun", /SSL TLV/);
  expectError(tlv(hex("20 00 07 01 00 00 00 00 21 00")), "tlv-overrun");
  expectError(tlv(hex("20 00 04 01 00 00 00")), "tlv-invalid", /SSL TLV has length 4/);
  expectError(tlv(cat(hex("05 00 81"), new Uint8Array(129))), "tlv-invalid", /UNIQUE_ID TLV has length 129/);
  expectError(tlv(hex("02 00 02 c3 28")), "tlv-invalid", /AUTHORITY TLV is not valid UTF-8/);
  expectError(tlv(hex("20 00 09 01 00 00 00 00 22 00 01 ff")), "tlv-invalid", /SSL CN/);
  expectError(tlv(hex("02 00 01 61 | 02 00 01 62")), "tlv-duplicate", /AUTHORITY/);
  expectError(tlv(hex("03 00 04 00 00 00 00 | 03 00 04 00 00 00 00")), "tlv-duplicate", /CRC32C/);
  expectError(
    tlv(hex("20 00 0d 01 00 00 00 00 21 00 01 61 21 00 01 62")),
    "tlv-duplicate",
    /SSL VERSION/,
  );
  // Never more than the header: bytes after it are not read as TLVs.
  assert.equal(expectHeader(cat(inetHeader(0), hex("02 00 ff")), 28).tlvs.authority, undefined);
});

Deno.test("non-header first bytes are rejected from the first byte(s)", () => {
  const apiVersions = hex(
    "00 00 00 1f 00 12 00 03 00 00 00 01 00 09 6b 61 66 6b 61 2d 63 6c 69 00 0a 6b 61 66 6b 61 2d 63 6c 69 04 32 2e 30 00",
  );
  expectError(apiVersions.subarray(0, 1), "bad-signature", /byte 0 differs/);
  expectError(apiVersions, "bad-signature");
  expectError(ascii("G"), "bad-signature");
  expectError(ascii("GET / HTTP/1.1\r\n\r\n"), "bad-signature");
  expectError(ascii("PO"), "bad-signature", /byte 1 differs/);
  expectError(ascii("POST / HTTP/1.1\r\n"), "bad-signature");
  expectError(ascii("PROXZ"), "bad-signature", /byte 4 differs/);
  expectError(ascii("PROXY\r\n"), "bad-signature", /byte 5 differs/);
  expectError(ascii("\r\n\r\nGET"), "bad-signature", /byte 4 differs/);
  expectError(hex("0d 0a 0d 0a 00 0d 0a 51 55 49 54 0d"), "bad-signature", /byte 11 differs/);
  expectError(hex("16 03 01 02 00 01"), "bad-signature"); // TLS ClientHello
  expectError(ascii("SSH-2.0-OpenSSH\r\n"), "bad-signature");
  expectError(new Uint8Array(1), "bad-signature");
  // Prefixes of a signature wait for more bytes.
  for (const prefix of [ascii(""), ascii("P"), ascii("PROXY"), hex(SIG).subarray(0, 11), hex(SIG)]) {
    assert.equal(parseProxyHeader(prefix).kind, "incomplete");
  }
});

Deno.test("the input is never modified, also for a Node Buffer (whose slice shares memory)", async () => {
  const { Buffer } = await import("node:buffer");
  const built = buildProxyV2({
    source: { address: "10.0.0.1", port: 1 },
    destination: { address: "10.0.0.2", port: 2 },
    tlvs: { authority: "a", crc32c: true },
  });
  const buffer = Buffer.from(cat(built, KAFKA));
  const before = Uint8Array.from(buffer);
  const r = parseProxyHeader(buffer);
  assert.equal(r.kind, "header");
  if (r.kind === "header") assert.equal(r.header.tlvs.crc32c?.valid, true);
  assert.deepEqual(Uint8Array.from(buffer), before);
  assert.equal(parseProxyHeader(buffer.subarray(0, 20)).kind, "incomplete");
});

Deno.test("never throws, even for a non-Uint8Array from untyped callers", () => {
  const r = parseProxyHeader(undefined as unknown as Uint8Array);
  assert.equal(r.kind, "error");
});
