/**
 * Connections to brokers: plain TCP ({@link tcpUpstream}) or TLS ({@link tlsUpstream}), chosen by the
 * upstream security protocol; nothing above the {@link UpstreamConnector} knows which.
 *
 * @module
 */
import { connectWithTimeout } from "../../upstream/connect.ts";
import { connectTlsWithTimeout, type UpstreamTls } from "../../upstream/tls.ts";
import type { ByteStream } from "./stream.ts";
import { tcpStream } from "./tcp.ts";

/** Where to connect. */
export interface UpstreamAddress {
  /** Host name or IP. */
  readonly host: string;
  /** Port. */
  readonly port: number;
}

/** Opens a stream to a broker within `timeoutMs`; rejects with a message naming what failed. */
export type UpstreamConnector = (address: UpstreamAddress, timeoutMs: number) => Promise<ByteStream>;

/**
 * Plain TCP to the broker.
 *
 * @example
 * ```ts ignore
 * const upstream = await tcpUpstream({ host: "10.0.0.1", port: 9092 }, 10_000);
 * ```
 */
export async function tcpUpstream(address: UpstreamAddress, timeoutMs: number): Promise<ByteStream> {
  return tcpStream(await connectWithTimeout(address.host, address.port, timeoutMs));
}

/**
 * TLS to the broker (`KAFKA_SECURITY_PROTOCOL` SSL or SASL_SSL): the handshake completes before the
 * stream is handed over, so a refused certificate is reported as a failed connect naming the broker.
 * A client's own SASL then runs inside this TLS stream, untouched.
 *
 * @example
 * ```ts ignore
 * const connect = tlsUpstream({ caCerts: [caPem], verifyHostname: true });
 * const upstream = await connect({ host: "broker-1", port: 9093 }, 10_000);
 * ```
 */
export function tlsUpstream(tls: UpstreamTls): UpstreamConnector {
  return async (address, timeoutMs) => {
    const conn = await connectTlsWithTimeout(address.host, address.port, timeoutMs, tls);
    const remote = conn.remoteAddr;
    const local = conn.localAddr;
    return {
      remote: { hostname: remote.hostname, port: remote.port },
      local: { hostname: local.hostname, port: local.port },
      read: (p) => conn.read(p),
      write: (p) => conn.write(p),
      close: () => conn.close(),
    };
  };
}

/**
 * The connector `tls` asks for: TLS when given, else plain TCP.
 *
 * @example
 * ```ts ignore
 * const connectUpstream = upstreamConnector(upstreamTls(config));
 * ```
 */
export function upstreamConnector(tls: UpstreamTls | undefined): UpstreamConnector {
  return tls ? tlsUpstream(tls) : tcpUpstream;
}
