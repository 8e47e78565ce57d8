/** Valid PROXY protocol headers (spec examples and builder output), shared by several tests. */
import { buildProxyV2 } from "../../src/proxy_protocol/mod.ts";
import { ascii, cat, hex } from "./support.ts";

const SIG = "0d 0a 0d 0a 00 0d 0a 51 55 49 54 0a";
const F4 = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";

function unixBlock(): Uint8Array {
  const block = new Uint8Array(216);
  block.set(ascii("/var/run/haproxy.sock"), 0);
  block.set(ascii("/var/run/kgate.sock"), 108);
  return block;
}

/** [name, complete header bytes]. */
export const VALID_HEADERS: readonly [string, Uint8Array][] = [
  ["v1 TCP4 spec example", ascii("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n")],
  ["v1 TCP4 longest", ascii("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n")],
  ["v1 TCP6 longest", ascii(`PROXY TCP6 ${F4} ${F4} 65535 65535\r\n`)],
  ["v1 TCP6 mixed", ascii("PROXY TCP6 ::ffff:10.0.0.1 2001:db8::1 0 9092\r\n")],
  ["v1 UNKNOWN short", ascii("PROXY UNKNOWN\r\n")],
  ["v1 UNKNOWN worst case", ascii(`PROXY UNKNOWN ${F4} ${F4} 65535 65535\r\n`)],
  ["v1 UNKNOWN junk", ascii("PROXY UNKNOWN \r\r\n")],
  ["v2 LOCAL UNSPEC", hex(`${SIG} 20 00 00 00`)],
  ["v2 LOCAL INET", hex(`${SIG} 20 11 00 0c 7f 00 00 01 7f 00 00 01 00 50 00 51`)],
  ["v2 PROXY UNSPEC", hex(`${SIG} 21 00 00 00`)],
  ["v2 TCP4", hex(`${SIG} 21 11 00 0c 7f 00 00 01 c0 00 02 01 30 39 d4 31`)],
  ["v2 UDP4", hex(`${SIG} 21 12 00 0c 7f 00 00 01 c0 00 02 01 30 39 d4 31`)],
  [
    "v2 TCP6",
    hex(`${SIG} 21 21 00 24 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 01 bb 23 84`),
  ],
  [
    "v2 UDP6",
    hex(`${SIG} 21 22 00 24 20 01 0d b8 00 00 00 00 00 00 00 00 00 00 00 01
      00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 01 01 bb 23 84`),
  ],
  ["v2 UNIX stream", cat(hex(`${SIG} 21 31 00 d8`), unixBlock())],
  ["v2 UNIX dgram", cat(hex(`${SIG} 21 32 00 d8`), unixBlock())],
  [
    "v2 TCP4 every TLV + CRC32C",
    buildProxyV2({
      source: { address: "203.0.113.9", port: 51000 },
      destination: { address: "10.0.0.5", port: 9092 },
      tlvs: {
        alpn: "kafka",
        authority: "broker-0.kafka.example.com",
        uniqueId: hex("00 11 22 33 44 55 66 77 88 99 aa bb cc dd ee ff"),
        ssl: {
          client: 0x07,
          verify: 0,
          version: "TLSv1.3",
          cn: "client-1",
          cipher: "TLS_AES_256_GCM_SHA384",
          sigAlg: "RSA-SHA256",
          keyAlg: "RSA2048",
        },
        netns: "ns-blue",
        aws: { vpcEndpointId: "vpce-08d2bf15fac5001c9" },
        azure: { privateLinkId: 0x2a000001 },
        gcp: { pscConnectionId: 0x1234567890abcdefn },
        unknown: [{ type: 0xf1, value: hex("01 02 03") }],
        noop: 4,
        crc32c: true,
      },
    }),
  ],
  [
    "v2 TCP6 SSL + CRC32C",
    buildProxyV2({
      source: { address: "2001:db8::42", port: 40000 },
      destination: { address: "2001:db8::1", port: 9093 },
      tlvs: { ssl: { client: 1, verify: 0, version: "TLSv1.2" }, crc32c: true },
    }),
  ],
];
