/**
 * HAProxy PROXY protocol (versions 1 and 2) header parser, as specified by HAProxy's
 * `doc/proxy-protocol.txt`: pure functions, no I/O.
 *
 * - {@link parseProxyHeader} (stateless) or {@link ProxyHeaderReader} (incremental) answer
 *   `incomplete`, a `header` with the bytes it `consumed`, or a typed `error`; they never throw.
 * - v1: `PROXY TCP4|TCP6|UNKNOWN ...\r\n`, at most 107 bytes, strict syntax.
 * - v2: signature, version 2, LOCAL/PROXY, UNSPEC/INET/INET6/UNIX over UNSPEC/STREAM/DGRAM, TLVs
 *   (ALPN, AUTHORITY, CRC32C (verified), NOOP, UNIQUE_ID, SSL with sub-TLVs, NETNS, AWS, Azure, GCP;
 *   others kept raw).
 * - {@link buildProxyV1} / {@link buildProxyV2} build headers (with CRC32C) for tests and senders.
 *
 * A listener must either require the header or never read one (never guess), process nothing before
 * the whole header is valid, time out (at least 3 s) and accept headers only from trusted peers.
 *
 * @example Read the header of an accepted connection
 * ```ts
 * import { formatEndpoint, ProxyHeaderReader } from "./mod.ts";
 *
 * async function readProxyHeader(conn: Deno.Conn) {
 *   const reader = new ProxyHeaderReader();
 *   const buf = new Uint8Array(4096);
 *   while (true) { // (with a timeout of at least 3 s around this loop)
 *     const n = await conn.read(buf);
 *     if (n === null) throw new Error("closed before a complete PROXY protocol header");
 *     const result = reader.push(buf.subarray(0, n));
 *     if (result.kind === "error") throw result.error; // a ProxyProtocolError: close the connection
 *     if (result.kind === "header") {
 *       const { source } = result.header; // absent (LOCAL, UNKNOWN, UNSPEC): use the real peer
 *       console.log("client", source ? formatEndpoint(source) : conn.remoteAddr);
 *       return { header: result.header, firstKafkaBytes: reader.rest };
 *     }
 *   }
 * }
 * ```
 *
 * @module
 */

export { parseProxyHeader, ProxyHeaderReader } from "./parse.ts";
export {
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParseResult,
  ProxyProtocolError,
  type ProxyProtocolErrorCode,
  type ProxyRawTlv,
  type ProxySslInfo,
  type ProxyTlvs,
  type ProxyUnixAddresses,
} from "./types.ts";
export { formatEndpoint, formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./ip.ts";
export { crc32c } from "./crc32c.ts";
export { V1_MAX_LENGTH } from "./v1.ts";
export { PP2_SUBTYPE_SSL, PP2_TYPE, UNIQUE_ID_MAX_LENGTH, V2_ADDRESS_LENGTH, V2_SIGNATURE } from "./v2.ts";
export {
  buildProxyV1,
  buildProxyV2,
  type ProxySslInput,
  type ProxyTlvsInput,
  type ProxyV1Input,
  type ProxyV2Input,
} from "./build.ts";
