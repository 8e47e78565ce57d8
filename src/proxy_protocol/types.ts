/**
 * Result and error types of the PROXY protocol parser.
 *
 * @module
 */

/** Why a PROXY protocol header was rejected. */
export type ProxyProtocolErrorCode =
  /** The first bytes are neither a prefix of `PROXY ` (v1) nor of the 12-byte v2 signature. */
  | "bad-signature"
  /** v1: no CRLF within the first 107 bytes. */
  | "v1-too-long"
  /** v1: wrong token, wrong spacing, missing or extra fields, a lone CR or LF. */
  | "v1-syntax"
  /** v1: an address that is not a valid IPv4 (TCP4) / IPv6 (TCP6) address in the expected form. */
  | "v1-bad-address"
  /** v1: a port that is not a decimal 0..65535 without leading zeros. */
  | "v1-bad-port"
  /** v2: the version nibble is not 2. */
  | "bad-version"
  /** v2: the command nibble is neither LOCAL (0) nor PROXY (1). */
  | "bad-command"
  /** v2: the address family nibble is not UNSPEC/INET/INET6/UNIX (0..3). */
  | "bad-family"
  /** v2: the transport nibble is not UNSPEC/STREAM/DGRAM (0..2). */
  | "bad-transport"
  /** v2: the length field is smaller than the address block of the family (PROXY command). */
  | "bad-length"
  /** v2: a TLV (or an SSL sub-TLV) runs past the end of the header (or of the SSL TLV). */
  | "tlv-overrun"
  /** v2: a registered TLV with an invalid value (CRC32C not 4 bytes, UNIQUE_ID > 128 bytes, ...). */
  | "tlv-invalid"
  /** v2: a decoded TLV type (other than NOOP) appears twice, so its value would be ambiguous. */
  | "tlv-duplicate"
  /** v2: the CRC32C TLV does not match the checksum of the header. */
  | "crc-mismatch"
  /** A bug in the parser (an unexpected exception, reported instead of thrown). */
  | "internal-error";

/** A typed, non-thrown parse error: `code` for programs, `message` for humans. */
export class ProxyProtocolError extends Error {
  /** Machine-readable reason. */
  readonly code: ProxyProtocolErrorCode;
  /** Byte offset (from the start of the input) at which the problem was detected. */
  readonly offset: number;

  /** Creates an error; `message` should name what was wrong. */
  constructor(code: ProxyProtocolErrorCode, message: string, offset: number) {
    super(`PROXY protocol: ${message}`);
    this.name = "ProxyProtocolError";
    this.code = code;
    this.offset = offset;
  }
}

/** An IP address (IPv4 dotted quad, or IPv6 in RFC 5952 canonical form) and a port. */
export interface ProxyEndpoint {
  /** IPv4 dotted quad, or IPv6 in RFC 5952 canonical form (no brackets). */
  readonly address: string;
  /** TCP/UDP port, 0..65535. */
  readonly port: number;
}

/** The two AF_UNIX addresses of a v2 UNIX header. */
export interface ProxyUnixAddresses {
  /** Source path: the bytes up to the first NUL, decoded as UTF-8 (invalid sequences replaced). */
  readonly source: string;
  /** Destination path, like `source`. */
  readonly destination: string;
  /** The 108 raw source bytes (abstract socket names start with a NUL). */
  readonly sourceRaw: Uint8Array;
  /** The 108 raw destination bytes. */
  readonly destinationRaw: Uint8Array;
}

/** The PP2_TYPE_SSL TLV and its sub-TLVs. */
export interface ProxySslInfo {
  /** The `client` bit field (PP2_CLIENT_SSL 0x01, PP2_CLIENT_CERT_CONN 0x02, PP2_CLIENT_CERT_SESS 0x04). */
  readonly client: number;
  /** The `verify` field: 0 when the client presented a certificate that was verified. */
  readonly verify: number;
  /** PP2_SUBTYPE_SSL_VERSION (0x21), e.g. `TLSv1.3`. */
  readonly version?: string;
  /** PP2_SUBTYPE_SSL_CN (0x22): the client certificate's Common Name. */
  readonly cn?: string;
  /** PP2_SUBTYPE_SSL_CIPHER (0x23), e.g. `ECDHE-RSA-AES128-GCM-SHA256`. */
  readonly cipher?: string;
  /** PP2_SUBTYPE_SSL_SIG_ALG (0x24), e.g. `RSA-SHA256`. */
  readonly sigAlg?: string;
  /** PP2_SUBTYPE_SSL_KEY_ALG (0x25), e.g. `RSA2048`. */
  readonly keyAlg?: string;
  /** Other sub-TLVs, kept raw in order. */
  readonly unknown: readonly ProxyRawTlv[];
}

/** A TLV kept as it was received. */
export interface ProxyRawTlv {
  /** The type byte. */
  readonly type: number;
  /** The value bytes (a copy). */
  readonly value: Uint8Array;
}

/** The decoded v2 TLVs (always empty, apart from `unknown: []`, for v1). */
export interface ProxyTlvs {
  /** PP2_TYPE_ALPN (0x01): the bytes as a string, one character per byte (latin1). */
  alpn?: string;
  /** PP2_TYPE_AUTHORITY (0x02): the host name (SNI), UTF-8. */
  authority?: string;
  /** PP2_TYPE_CRC32C (0x03): present only when the checksum was verified (a mismatch is an error). */
  crc32c?: { readonly valid: true; readonly value: number };
  /** PP2_TYPE_UNIQUE_ID (0x05): up to 128 opaque bytes. */
  uniqueId?: { readonly bytes: Uint8Array; readonly hex: string };
  /** PP2_TYPE_SSL (0x20). */
  ssl?: ProxySslInfo;
  /** PP2_TYPE_NETNS (0x30): the network namespace name. */
  netns?: string;
  /** AWS (0xEA, subtype 0x01): the VPC endpoint id. */
  aws?: { readonly vpcEndpointId: string };
  /** Azure (0xEE, subtype 0x01): the private link id (u32 little-endian on the wire). */
  azure?: { readonly privateLinkId: number };
  /** GCP (0xE0): the Private Service Connect connection id (u64 big-endian on the wire). */
  gcp?: { readonly pscConnectionId: bigint; readonly pscConnectionIdText: string };
  /**
   * TLVs of other types, in order, including custom-range types (0xE0..0xEF) whose value does not
   * have the AWS/Azure/GCP layout (that range is not registered, so another vendor may use it).
   * NOOP (0x04) TLVs are skipped.
   */
  unknown: ProxyRawTlv[];
}

/** A valid PROXY protocol header. */
export interface ProxyHeader {
  /** 1 for the text header, 2 for the binary one. */
  readonly version: 1 | 2;
  /**
   * `LOCAL` (v2 only): the connection was made by the proxy itself (e.g. a health check): use the
   * real connection endpoints. v1 headers are always `PROXY`.
   */
  readonly command: "PROXY" | "LOCAL";
  /** v1: TCP4 / TCP6 / UNKNOWN. v2: UNSPEC / INET / INET6 / UNIX. */
  readonly family: "TCP4" | "TCP6" | "UNKNOWN" | "UNSPEC" | "INET" | "INET6" | "UNIX";
  /** v2 only. */
  readonly transport?: "STREAM" | "DGRAM" | "UNSPEC";
  /**
   * The original client. Present only when the receiver must use it: v1 TCP4/TCP6, or v2 PROXY with
   * INET/INET6 and a STREAM/DGRAM transport. Absent means: use the real connection endpoints.
   */
  readonly source?: ProxyEndpoint;
  /** The original destination; present exactly when `source` is. */
  readonly destination?: ProxyEndpoint;
  /** v2 PROXY with UNIX and a STREAM/DGRAM transport. */
  readonly unix?: ProxyUnixAddresses;
  /** v2 TLVs. */
  readonly tlvs: ProxyTlvs;
}

/** The answer of the parser for the bytes received so far. */
export type ProxyParseResult =
  /** A prefix of a possible header: read more bytes and parse again. */
  | { readonly kind: "incomplete" }
  /** A complete header of `consumed` bytes; the bytes after it are the first application bytes. */
  | { readonly kind: "header"; readonly header: ProxyHeader; readonly consumed: number }
  /** Not a valid header: reject the connection. */
  | { readonly kind: "error"; readonly error: ProxyProtocolError };
