/**
 * TLS of the node's Kafka listeners: the credentials from the `GATEWAY_SSL_*` files, checked at start,
 * reloaded when the files change and on SIGHUP.
 *
 * @module
 */
import type { GatewayConfig, ListenerConfig, ListenerTls } from "../config/mod.ts";
import { logger } from "../log.ts";
import type { TlsServerOptions } from "../proxy/transport/tls.ts";
import { subjectLine } from "../proxy/transport/tls.ts";
import { ReloadingTlsCredentials, TlsFileError } from "../proxy/transport/tls_credentials.ts";

const log = logger("tls");

/** The listeners' TLS options, and what stops the reloads. */
export interface ClientTls extends Disposable {
  /** What the listeners' TLS stage needs. */
  readonly options: TlsServerOptions;
  /** The credentials (for an explicit reload). */
  readonly credentials: ReloadingTlsCredentials;
}

/**
 * A listener's TLS, when its security protocol is SSL (`listener` defaults to the first listener):
 * files loaded and checked now, watched, and reloaded on SIGHUP (when the platform has it). Undefined
 * for PLAINTEXT.
 *
 * @example
 * ```ts ignore
 * using tls = await clientTls(config);
 * new ProxyServer({ ...options, tls: tls?.options });
 * ```
 * @throws {import("../proxy/transport/tls_credentials.ts").TlsFileError} naming the setting of a file
 *   that cannot be used
 */
export async function clientTls(
  config: GatewayConfig,
  listener: ListenerConfig = config.listeners[0],
): Promise<ClientTls | undefined> {
  const files = listener.tls;
  if (files === undefined) return undefined;
  let credentials: ReloadingTlsCredentials;
  try {
    credentials = await ReloadingTlsCredentials.load(files);
  } catch (error) {
    throw namedForListener(error, files);
  }
  const certificate = credentials.current.certificate;
  log.info(
    "Kafka listener {listener} serves TLS as {subject} (valid until {validTo}); client certificates: {clientAuth}",
    {
      listener: listener.name,
      subject: subjectLine(certificate),
      validTo: certificate.validTo,
      clientAuth: files.clientAuth,
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
      clientAuth: files.clientAuth,
      handshakeTimeoutMs: config.gatewaySslHandshakeTimeoutMs,
    },
    [Symbol.dispose]() {
      if (hangup) Deno.removeSignalListener("SIGHUP", onHangup);
      credentials.close();
    },
  };
}

/** A file error of a listener's TLS, named by the listener's own variable (`GATEWAY_LISTENER_<NAME>_…`). */
function namedForListener(error: unknown, files: ListenerTls): unknown {
  if (!(error instanceof TlsFileError)) return error;
  const byLegacy: Record<string, string> = {
    GATEWAY_SSL_CERT_FILE: files.variables.certFile,
    GATEWAY_SSL_KEY_FILE: files.variables.keyFile,
    GATEWAY_SSL_CA_FILE: files.variables.caFile,
  };
  const variable = byLegacy[error.setting] ?? error.setting;
  if (variable === error.setting) return error;
  const problem = error.message.slice(error.message.indexOf(": ") + 2);
  return new TlsFileError(variable, error.file, problem);
}
