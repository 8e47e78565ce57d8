/**
 * The gateway's OAUTHBEARER token: a static one, one read from a file (re-read whenever the file
 * changes, so a sidecar can rotate it), or Kafka's unsecured test token (an unsigned JWT, re-made
 * before it expires).
 *
 * @module
 */
import type { OAuthTokenSpec } from "../config/mod.ts";

function base64url(text: string): string {
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * An unsigned JWT (`alg: none`) as Kafka's `unsecuredLoginStringClaim_sub` login makes it.
 *
 * @example
 * ```ts
 * unsecuredJwt("admin", 3600, 0); // "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiIsImlhdCI6MCwiZXhwIjozNjAwfQ."
 * ```
 */
export function unsecuredJwt(subject: string, lifetimeSeconds: number, nowSeconds: number): string {
  const header = base64url(JSON.stringify({ alg: "none" }));
  const payload = base64url(
    JSON.stringify({ sub: subject, iat: nowSeconds, exp: nowSeconds + lifetimeSeconds }),
  );
  return `${header}.${payload}.`;
}

/**
 * Hands out the current token; errors name the token file, never the token.
 *
 * @example
 * ```ts ignore
 * const token = new OAuthToken({ kind: "file", path: "/run/secrets/kafka-token" });
 * const jwt = await token.current();
 * ```
 */
export class OAuthToken {
  #value: string | undefined;
  #fileStamp = "";
  #expiresAt = 0;

  constructor(private readonly spec: OAuthTokenSpec) {}

  /** The token to send now. */
  async current(): Promise<string> {
    const spec = this.spec;
    if (spec.kind === "static") return spec.token;
    if (spec.kind === "unsecured") {
      const now = Math.floor(Date.now() / 1000);
      // Re-made when less than a tenth of its lifetime is left.
      if (this.#value === undefined || now >= this.#expiresAt - spec.lifetimeSeconds / 10) {
        this.#value = unsecuredJwt(spec.subject, spec.lifetimeSeconds, now);
        this.#expiresAt = now + spec.lifetimeSeconds;
      }
      return this.#value;
    }
    let stamp: string;
    try {
      const info = await Deno.stat(spec.path);
      stamp = `${info.mtime?.getTime()}:${info.size}:${info.ino}`;
    } catch (error) {
      if (this.#value !== undefined) return this.#value;
      throw new Error(`cannot read the OAUTHBEARER token file ${spec.path}: ${(error as Error).message}`);
    }
    if (stamp !== this.#fileStamp || this.#value === undefined) {
      let text: string;
      try {
        text = (await Deno.readTextFile(spec.path)).trim();
      } catch (error) {
        if (this.#value !== undefined) return this.#value;
        throw new Error(`cannot read the OAUTHBEARER token file ${spec.path}: ${(error as Error).message}`);
      }
      if (text === "") {
        if (this.#value !== undefined) return this.#value;
        throw new Error(`the OAUTHBEARER token file ${spec.path} is empty`);
      }
      this.#value = text;
      this.#fileStamp = stamp;
    }
    return this.#value;
  }
}
