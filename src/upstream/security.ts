/**
 * The gateway's own upstream security, from the settings: TLS (see ./tls.ts) and its SASL login (see
 * ./sasl.ts), made once per configuration.
 *
 * @module
 */
import { type GatewayConfig, saslCredentials } from "../config/mod.ts";
import { OAuthToken } from "./oauth_token.ts";
import type { UpstreamSasl } from "./sasl.ts";
import { type UpstreamTls, upstreamTls } from "./tls.ts";

/** TLS and SASL of the gateway's own upstream connections. */
export interface UpstreamSecurity {
  /** TLS settings; undefined = plaintext. */
  readonly tls?: UpstreamTls;
  /** SASL login; undefined = none. */
  readonly sasl?: UpstreamSasl;
}

const cache = new WeakMap<GatewayConfig, UpstreamSecurity>();

/**
 * The upstream security of `config`, made once per configuration (files read, token source shared).
 *
 * @example
 * ```ts ignore
 * const { tls, sasl } = upstreamSecurity(config);
 * ```
 */
export function upstreamSecurity(config: GatewayConfig): UpstreamSecurity {
  let security = cache.get(config);
  if (!security) {
    security = { tls: upstreamTls(config), sasl: upstreamSasl(config) };
    cache.set(config, security);
  }
  return security;
}

function upstreamSasl(config: GatewayConfig): UpstreamSasl | undefined {
  if (!config.kafkaSecurityProtocol.startsWith("SASL_")) return undefined;
  if (config.kafkaSaslJaasConfig === undefined) {
    // As before: PLAIN without a JAAS line logs in with empty credentials (the broker says no).
    return { mechanism: "PLAIN", username: "", password: "" };
  }
  const credentials = saslCredentials(config.kafkaSaslMechanism, config.kafkaSaslJaasConfig);
  if (credentials.mechanism === "OAUTHBEARER") {
    return {
      mechanism: "OAUTHBEARER",
      token: new OAuthToken(credentials.token),
      extensions: credentials.extensions,
    };
  }
  return credentials;
}
