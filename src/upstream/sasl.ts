/**
 * The SASL exchanges of the gateway's own connections (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER), as the
 * discovery client runs them. Kept free of the configuration module: the test harness's wire client
 * uses the discovery client too.
 *
 * @module
 */
import type { OAuthToken } from "./oauth_token.ts";
import { ScramClient } from "./scram.ts";

/** The gateway's own SASL login. */
export type UpstreamSasl =
  | { mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"; username: string; password: string }
  | { mechanism: "OAUTHBEARER"; token: OAuthToken; extensions: Record<string, string> };

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
