/**
 * Defaults that are fine on a laptop and risky in production get one warning each at start.
 *
 * @module
 */
import type { GatewayConfig } from "../config/mod.ts";
import { logger } from "../log.ts";

const log = logger("gateway");

/**
 * Logs one warning per risky default in `config`.
 *
 * @example
 * ```ts
 * warnAboutRiskyDefaults(config); // "the HTTP API accepts the default user admin/kgate: ..."
 * ```
 */
export function warnAboutRiskyDefaults(config: GatewayConfig): void {
  if (config.adminApiUsers.some((u) => u.username === "admin" && u.password === "kgate")) {
    log.warn("the HTTP API accepts the default user admin/kgate: set GATEWAY_ADMIN_API_USERS");
  }
  if (config.haproxyProtocol && config.proxyProtocolTrustedCidrs === undefined) {
    log.warn(
      "PROXY protocol headers are believed from any peer: set GATEWAY_PROXY_PROTOCOL_TRUSTED_CIDRS to your load balancers",
    );
  }
  if (config.kafkaSecurityProtocol.endsWith("SSL") && config.kafkaSslEndpointIdentificationAlgorithm === "") {
    log.warn(
      "the brokers' certificates are not checked against their host names (KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM is empty): set it to https",
    );
  }
}
