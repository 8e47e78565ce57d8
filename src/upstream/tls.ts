/**
 * TLS towards the brokers (`KAFKA_SECURITY_PROTOCOL` SSL or SASL_SSL): the trust anchors, the optional
 * client certificate and the host name check, read once from the settings; a connector with a deadline;
 * and failures described in words (unknown CA, host name mismatch, expired) naming the broker.
 *
 * Both the data path's upstream connections and the gateway's own (discovery) use it.
 *
 * @module
 */
import type { GatewayConfig } from "../config/mod.ts";
import { withTimeout } from "../lib/deadline.ts";

/** How to speak TLS to the brokers. */
export interface UpstreamTls {
  /** PEM CA certificates trusted in addition to the default roots; undefined = the default roots only. */
  readonly caCerts?: string[];
  /** PEM client certificate chain (mTLS). */
  readonly cert?: string;
  /** PEM private key of `cert`. */
  readonly key?: string;
  /** Check that the certificate names the host connected to (`https`). */
  readonly verifyHostname: boolean;
}

/**
 * The TLS settings of `config`, with the files read; undefined when the upstream security protocol has
 * no TLS. Throws when a file cannot be read (at start: better than failing every connection later).
 *
 * @example
 * ```ts ignore
 * const tls = upstreamTls(config); // { caCerts: ["-----BEGIN CERTIFICATE-----..."], verifyHostname: true }
 * ```
 */
export function upstreamTls(config: GatewayConfig): UpstreamTls | undefined {
  if (config.kafkaSecurityProtocol !== "SSL" && config.kafkaSecurityProtocol !== "SASL_SSL") return undefined;
  const read = (path: string, what: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch (error) {
      throw new Error(`cannot read ${what} ${path}: ${(error as Error).message}`);
    }
  };
  return {
    caCerts: config.kafkaSslCaFile ? [read(config.kafkaSslCaFile, "KAFKA_SSL_CA_FILE")] : undefined,
    cert: config.kafkaSslCertFile ? read(config.kafkaSslCertFile, "KAFKA_SSL_CERT_FILE") : undefined,
    key: config.kafkaSslKeyFile ? read(config.kafkaSslKeyFile, "KAFKA_SSL_KEY_FILE") : undefined,
    verifyHostname: config.kafkaSslEndpointIdentificationAlgorithm === "https",
  };
}

/** A TLS connection to a broker that could not be made; the message says why and names the broker. */
export class UpstreamTlsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamTlsError";
  }
}

/**
 * Why a handshake failed, in words, from the TLS library's message.
 *
 * @example
 * ```ts
 * tlsFailureReason("invalid peer certificate: UnknownIssuer"); // "certificate from an unknown CA"
 * ```
 */
export function tlsFailureReason(message: string): string {
  if (/UnknownIssuer|unknown issuer|unknown ca/i.test(message)) return "certificate from an unknown CA";
  // A trusted CA with the issuer's name did not sign it: another CA of the same name.
  if (/BadSignature/i.test(message)) {
    return "certificate from an unknown CA (a trusted CA's name, not its key)";
  }
  if (/NotValidForName|not valid for name|hostname|subject ?alt/i.test(message)) {
    return "host name mismatch: the certificate does not name the host connected to";
  }
  if (/expired|not valid after/i.test(message)) return "certificate expired";
  if (/NotValidYet|not valid before/i.test(message)) return "certificate not valid yet";
  if (/certificate required|CertificateRequired|alert: ?BadCertificate|bad certificate/i.test(message)) {
    return "the broker requires a client certificate it accepts (KAFKA_SSL_CERT_FILE, KAFKA_SSL_KEY_FILE)";
  }
  return "TLS handshake failed";
}

/**
 * Opens a TLS connection to `host:port` and completes the handshake within `timeoutMs`; rejects with an
 * {@link UpstreamTlsError} naming the broker and the reason.
 *
 * @example
 * ```ts ignore
 * const conn = await connectTlsWithTimeout("broker-1", 9093, 10_000, { verifyHostname: true });
 * ```
 */
export async function connectTlsWithTimeout(
  host: string,
  port: number,
  timeoutMs: number,
  tls: UpstreamTls,
): Promise<Deno.TlsConn> {
  const common = {
    hostname: host,
    port,
    caCerts: tls.caCerts,
    unsafelyDisableHostnameVerification: !tls.verifyHostname,
  };
  const attempt = tls.cert && tls.key
    ? Deno.connectTls({ ...common, cert: tls.cert, key: tls.key })
    : Deno.connectTls(common);
  const handshake = attempt.then(async (conn) => {
    try {
      await conn.handshake();
      return conn;
    } catch (error) {
      conn.close();
      throw error;
    }
  });
  try {
    return await withTimeout(
      handshake,
      timeoutMs,
      `TLS connect to broker ${host}:${port} timed out after ${timeoutMs} ms`,
    );
  } catch (error) {
    handshake.then((conn) => conn.close(), () => {});
    const message = (error as Error).message;
    if (error instanceof Deno.errors.ConnectionRefused || /timed out/.test(message)) throw error;
    throw new UpstreamTlsError(
      `TLS handshake with broker ${host}:${port} failed: ${tlsFailureReason(message)} (${message})`,
    );
  }
}
