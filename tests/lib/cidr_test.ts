import assert from "node:assert/strict";
import { inCidrs, parseCidr, parseIp } from "../../src/lib/cidr.ts";

Deno.test("parseIp reads IPv4, IPv6 and IPv4-mapped IPv6", () => {
  assert.deepEqual(parseIp("10.1.2.3"), new Uint8Array([10, 1, 2, 3]));
  assert.deepEqual(parseIp("::ffff:10.1.2.3"), new Uint8Array([10, 1, 2, 3]));
  assert.deepEqual(parseIp("::1"), new Uint8Array([...Array(15).fill(0), 1]));
  assert.deepEqual(
    parseIp("2001:db8::8:800:200c:417a")?.slice(0, 4),
    new Uint8Array([0x20, 0x01, 0x0d, 0xb8]),
  );
  for (const bad of ["256.1.1.1", "1.2.3", "1::2::3", "1:2:3:4:5:6:7:8:9", "abc", "", "12345::"]) {
    assert.equal(parseIp(bad), undefined, bad);
  }
});

Deno.test("inCidrs matches prefixes of the same family only", () => {
  const cidrs = ["10.0.0.0/8", "192.168.1.7", "fd00::/8"].map((c) => parseCidr(c)!);
  assert.ok(inCidrs("10.200.3.4", cidrs));
  assert.ok(inCidrs("192.168.1.7", cidrs));
  assert.ok(!inCidrs("192.168.1.8", cidrs));
  assert.ok(inCidrs("fd12::1", cidrs));
  assert.ok(!inCidrs("fe80::1", cidrs));
  assert.ok(!inCidrs("11.0.0.1", cidrs));
  assert.ok(inCidrs("::ffff:10.0.0.1", cidrs));
  assert.ok(inCidrs("127.0.0.5", [parseCidr("127.0.0.0/24")!]));
  assert.ok(inCidrs("8.8.8.8", [parseCidr("0.0.0.0/0")!]));
  assert.equal(parseCidr("10.0.0.0/33"), undefined);
  assert.equal(parseCidr("10.0.0.0/8/1"), undefined);
});
