/**
 * The gateway's own upstream security, from the settings: TLS (see ./tls.ts) and its SASL credentials,
 * and the SASL exchanges (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER) its discovery client runs.
 *
 * @module
 */
import { type GatewayConfig, saslCredentials } from "../config/mod.ts";
import { OAuthToken } from "./oauth_token.ts";
import { ScramClient } from "./scram.ts";
import { type UpstreamTls, upstreamTls } from "./tls.ts";

/** The gateway's own SASL login. */
export type UpstreamSasl =
  | { mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"; username: string; password: string }
  | { mechanism: "OAUTHBEARER"; token: OAuthToken; extensions: Record<string, string> };

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

/** One client-side SASL exchange: the first message, then an answer to each server message until done. */
export interface SaslExchange {
  /** The mechanism name sent in SaslHandshake. */
  readonly mechanism: string;
  /** The first client message. */
  start(): Promise<Uint8Array>;
  /** The next client message for a server message; null when the exchange is complete. */
  next(server: Uint8Array): Promise<Uint8Array | null>;
}

const utf8 = new TextEncoder();
const text = new TextDecoder();

/**
 * A new exchange for `sasl` (a SCRAM exchange has state: make one per connection).
 *
 * @example
 * ```ts ignore
 * const exchange = saslExchange({ mechanism: "PLAIN", username: "u", password: "p" });
 * const first = await exchange.start(); // "\0u\0p"
 * ```
 */
export function saslExchange(sasl: UpstreamSasl): SaslExchange {
  switch (sasl.mechanism) {
    case "PLAIN":
      return {
        mechanism: "PLAIN",
        start: () => Promise.resolve(utf8.encode(`\0${sasl.username}\0${sasl.password}`)),
        next: () => Promise.resolve(null),
      };
    case "SCRAM-SHA-256":
    case "SCRAM-SHA-512": {
      const scram = new ScramClient(sasl.mechanism, sasl.username, sasl.password);
      let step = 0;
      return {
        mechanism: sasl.mechanism,
        start: () => Promise.resolve(utf8.encode(scram.first())),
        next: async (server) => {
          step++;
          if (step === 1) return utf8.encode(await scram.final(text.decode(server)));
          scram.verify(text.decode(server));
          return null;
        },
      };
    }
    case "OAUTHBEARER":
      return {
        mechanism: "OAUTHBEARER",
        // KIP-255 (RFC 7628) client-first message, with KIP-342 extensions.
        start: async () => {
          const extensions = Object.entries(sasl.extensions).map(([k, v]) => `${k}=${v}\x01`).join("");
          return utf8.encode(`n,,\x01auth=Bearer ${await sasl.token.current()}\x01${extensions}\x01`);
        },
        next: () => Promise.resolve(null),
      };
  }
}
