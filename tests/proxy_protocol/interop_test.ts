/** Interoperability with the npm package proxy-protocol-js (an independent implementation). */
import assert from "node:assert/strict";
import fc from "fast-check";
// deno.json (a shared import map) is not ours to edit, so this test-only dependency is inline.
import * as ppjs from "proxy-protocol-js";
import { buildProxyV1, buildProxyV2, formatIPv6, parseProxyHeader } from "../../src/proxy_protocol/mod.ts";
import { ascii, expectHeader, hex } from "./support.ts";

const {
  Command,
  INETProtocol,
  IPv4Address,
  IPv4ProxyAddress,
  IPv6Address,
  IPv6ProxyAddress,
  Peer,
  TransportProtocol,
  UnixAddress,
  UnixProxyAddress,
  V1BinaryProxyProtocol,
  V1ProxyProtocol,
  V2ProxyProtocol,
} = ppjs;

const KAFKA = hex("00 00 00 1f 00 12 00 03 00 00 00 01");
const port = fc.integer({ min: 0, max: 65535 });
const v4Bytes = fc.uint8Array({ minLength: 4, maxLength: 4 });
const v6Bytes = fc.uint8Array({ minLength: 16, maxLength: 16 }).chain((b) =>
  fc.tuple(fc.nat(8), fc.nat(8)).map(([i, j]) => {
    const out = b.slice();
    out.fill(0, 2 * Math.min(i, j), 2 * Math.max(i, j));
    return out;
  })
);
const dotted = (b: Uint8Array) => Array.from(b).join(".");
/** Fully expanded, upper case: a spelling the canonical form does not use. */
const expanded = (b: Uint8Array) =>
  Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16).padStart(4, "0"))
    .join(":").toUpperCase();

Deno.test("proxy-protocol-js v1 (text and binary builders) parses to the same addresses and ports", () => {
  const tcp4 = new V1ProxyProtocol(
    INETProtocol.TCP4,
    new Peer("127.0.0.1", 12345),
    new Peer("192.0.2.1", 54321),
  ).build();
  assert.equal(tcp4, "PROXY TCP4 127.0.0.1 192.0.2.1 12345 54321\r\n");
  const h4 = expectHeader(ascii(tcp4));
  assert.deepEqual([h4.source, h4.destination], [
    { address: "127.0.0.1", port: 12345 },
    { address: "192.0.2.1", port: 54321 },
  ]);
  const bin = new V1BinaryProxyProtocol(
    INETProtocol.TCP6,
    new Peer("2001:DB8:0:0:0:0:0:1", 443),
    new Peer("::1", 9092),
    KAFKA,
  ).build();
  const h6 = expectHeader(bin, bin.length - KAFKA.length);
  assert.deepEqual([h6.family, h6.source, h6.destination], [
    "TCP6",
    { address: "2001:db8::1", port: 443 },
    { address: "::1", port: 9092 },
  ]);

  fc.assert(
    fc.property(fc.boolean(), v4Bytes, v4Bytes, v6Bytes, v6Bytes, port, port, (six, a, b, c, d, sp, dp) => {
      const [src, dst] = six ? [expanded(c), expanded(d)] : [dotted(a), dotted(b)];
      const line = new V1ProxyProtocol(
        six ? INETProtocol.TCP6 : INETProtocol.TCP4,
        new Peer(src, sp),
        new Peer(dst, dp),
      ).build();
      const h = expectHeader(ascii(line));
      assert.deepEqual(h.source, { address: six ? formatIPv6(c) : src, port: sp });
      assert.deepEqual(h.destination, { address: six ? formatIPv6(d) : dst, port: dp });
      // And the other way round: their parser reads our line.
      const ours = buildProxyV1({
        source: { address: src, port: sp },
        destination: { address: dst, port: dp },
      });
      const theirs = V1ProxyProtocol.parse(new TextDecoder().decode(ours));
      assert.equal(theirs.source.port, sp);
      assert.equal(theirs.destination.port, dp);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("proxy-protocol-js v2 (IPv4, IPv6, LOCAL, UNIX) parses to the same addresses and ports", () => {
  // Their `data` is the payload after the header (not counted in the length field).
  const v4 = new V2ProxyProtocol(
    Command.PROXY,
    TransportProtocol.STREAM,
    new IPv4ProxyAddress(
      IPv4Address.createFrom([127, 0, 0, 1]),
      12345,
      IPv4Address.createFrom([192, 0, 2, 1]),
      54321,
    ),
    KAFKA,
  ).build();
  const h4 = expectHeader(v4, 28);
  assert.deepEqual([h4.command, h4.family, h4.transport, h4.source, h4.destination], [
    "PROXY",
    "INET",
    "STREAM",
    { address: "127.0.0.1", port: 12345 },
    { address: "192.0.2.1", port: 54321 },
  ]);
  const local = new V2ProxyProtocol(
    Command.LOCAL,
    TransportProtocol.DGRAM,
    new IPv4ProxyAddress(
      IPv4Address.createFrom([127, 0, 0, 1]),
      1,
      IPv4Address.createFrom([192, 0, 2, 1]),
      2,
    ),
  ).build();
  const hl = expectHeader(local);
  assert.equal(hl.command, "LOCAL");
  assert.equal(hl.source, undefined);
  const unixPath = (s: string) => UnixAddress.createFrom(Array.from(ascii(s)));
  const unix = new V2ProxyProtocol(
    Command.PROXY,
    TransportProtocol.STREAM,
    new UnixProxyAddress(unixPath("/tmp/a.sock"), unixPath("/tmp/b.sock")),
  ).build();
  assert.deepEqual(
    [expectHeader(unix).unix?.source, expectHeader(unix).unix?.destination],
    ["/tmp/a.sock", "/tmp/b.sock"],
  );

  fc.assert(
    fc.property(
      fc.boolean(),
      fc.boolean(),
      v4Bytes,
      v4Bytes,
      v6Bytes,
      v6Bytes,
      port,
      port,
      (six, dgram, a, b, c, d, sp, dp) => {
        const transport = dgram ? TransportProtocol.DGRAM : TransportProtocol.STREAM;
        const address = six
          ? new IPv6ProxyAddress(
            IPv6Address.createFrom(Array.from(c)),
            sp,
            IPv6Address.createFrom(Array.from(d)),
            dp,
          )
          : new IPv4ProxyAddress(
            IPv4Address.createFrom(Array.from(a)),
            sp,
            IPv4Address.createFrom(Array.from(b)),
            dp,
          );
        const bytes = new V2ProxyProtocol(Command.PROXY, transport, address, KAFKA).build();
        const r = parseProxyHeader(bytes);
        assert.equal(r.kind, "header");
        if (r.kind !== "header") return;
        assert.equal(r.consumed, six ? 52 : 28);
        assert.equal(r.header.transport, dgram ? "DGRAM" : "STREAM");
        assert.deepEqual(r.header.source, { address: six ? formatIPv6(c) : dotted(a), port: sp });
        assert.deepEqual(r.header.destination, { address: six ? formatIPv6(d) : dotted(b), port: dp });
        if (six && !formatIPv6(c).includes(".")) {
          assert.equal(new URL(`http://[${r.header.source?.address}]/`).hostname, `[${formatIPv6(c)}]`);
        }
        // Their parser reads ours (with a CRC32C TLV after the addresses).
        const ours = buildProxyV2({
          source: { address: six ? expanded(c) : dotted(a), port: sp },
          destination: { address: six ? expanded(d) : dotted(b), port: dp },
          transport: dgram ? "DGRAM" : "STREAM",
          tlvs: { crc32c: true },
        });
        const theirs = V2ProxyProtocol.parse(ours);
        const addr = theirs.proxyAddress as ppjs.IPv4ProxyAddress | ppjs.IPv6ProxyAddress;
        assert.deepEqual(addr.sourceAddress.address, Array.from(six ? c : a));
        assert.deepEqual(addr.destinationAddress.address, Array.from(six ? d : b));
        assert.equal(addr.sourcePort, sp);
        assert.equal(addr.destinationPort, dp);
        assert.equal(theirs.data?.length, 7, "their parser sees our CRC32C TLV as the extra bytes");
      },
    ),
    { numRuns: 2000 },
  );
});
