/**
 * TLS of the node's Kafka listeners: the credentials from the `GATEWAY_SSL_*` files, checked at start,
 * reloaded when the files change and on SIGHUP.
 *
 * @module
 */
import type { GatewayConfig } from "../config/mod.ts";
import { logger } from "../log.ts";
import type { TlsServerOptions } from "../proxy/transport/tls.ts";
import { subjectLine } from "../proxy/transport/tls.ts";
import { ReloadingTlsCredentials } from "../proxy/transport/tls_credentials.ts";

const log = logger("tls");

/** The listeners' TLS options, and what stops the reloads. */
export interface ClientTls extends Disposable {
  /** What the listeners' TLS stage needs. */
  readonly options: TlsServerOptions;
  /** The credentials (for an explicit reload). */
  readonly credentials: ReloadingTlsCredentials;
}

/**
 * The listeners' TLS, when `GATEWAY_SECURITY_PROTOCOL=SSL`: files loaded and checked now, watched,
 * and reloaded on SIGHUP (when the platform has it). Undefined for PLAINTEXT.
 *
 * @example
 * ```ts ignore
 * using tls = await clientTls(config);
 * new ProxyServer({ ...options, tls: tls?.options });
 * ```
 * @throws {import("../proxy/transport/tls_credentials.ts").TlsFileError} naming the setting of a file
 *   that cannot be used
 */
export async function clientTls(config: GatewayConfig): Promise<ClientTls | undefined> {
  if (config.gatewaySecurityProtocol !== "SSL") return undefined;
  const credentials = await ReloadingTlsCredentials.load({
    certFile: config.gatewaySslCertFile!,
    keyFile: config.gatewaySslKeyFile!,
    caFile: config.gatewaySslCaFile,
  });
  const certificate = credentials.current.certificate;
  log.info(
    "Kafka listeners serve TLS as {subject} (valid until {validTo}); client certificates: {clientAuth}",
    {
      subject: subjectLine(certificate),
      validTo: certificate.validTo,
      clientAuth: config.gatewaySslClientAuth,
    },
  );
  credentials.watch();
  const onHangup = () => {
    log.info("SIGHUP received: reloading the TLS credentials");
    void credentials.reload();
  };
  let hangup = false;
  try {
    Deno.addSignalListener("SIGHUP", onHangup);
    hangup = true;
  } catch {
    // No SIGHUP on this platform: the file watcher alone reloads.
  }
  return {
    credentials,
    options: {
      credentials: () => credentials.current,
      clientAuth: config.gatewaySslClientAuth,
      handshakeTimeoutMs: config.gatewaySslHandshakeTimeoutMs,
    },
    [Symbol.dispose]() {
      if (hangup) Deno.removeSignalListener("SIGHUP", onHangup);
      credentials.close();
    },
  };
}
