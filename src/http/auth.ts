/**
 * HTTP basic authentication (RFC 7617): Hono's `basicAuth` middleware, with kgate's own credential check.
 *
 * Hono's built-in check compares users one by one and returns at the first match, and compares the raw
 * strings in time that grows with the longer one (so with the secret's length). kgate's verifier instead
 * reduces every username and password to an HMAC-SHA-256 digest under a random per-process key, compares
 * the fixed-length digests with a loop that visits every byte, checks every configured user whatever
 * matched, and combines the username and password checks without short-circuit: response time reveals
 * neither which part was wrong nor which user matched.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { basicAuth as honoBasicAuth } from "hono/basic-auth";
import { auth as parseAuthorization } from "hono/utils/basic-auth";
import { AUTH_REALM } from "./route.ts";
import type { ErrorBody } from "./schemas.ts";
import { logger } from "../log.ts";

/** One user of the HTTP API. */
export interface BasicAuthUser {
  /** User name. */
  username: string;
  /** Password. */
  password: string;
}

const encoder = new TextEncoder();
const log = logger("http");

/**
 * Compares two byte arrays in time that depends only on their lengths (never on where they differ).
 * Arrays of different lengths are unequal; callers compare fixed-length digests.
 *
 * @example
 * ```ts
 * timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2])); // true
 * ```
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/** Checks credentials against a fixed list of users in constant time. */
export type CredentialVerifier = (username: string, password: string) => Promise<boolean>;

/**
 * Builds a {@link CredentialVerifier} for these users (an empty list refuses everyone).
 *
 * @example
 * ```ts
 * const verify = credentialVerifier([{ username: "admin", password: "kgate" }]);
 * await verify("admin", "kgate"); // true
 * ```
 */
export function credentialVerifier(users: readonly BasicAuthUser[]): CredentialVerifier {
  const keyPromise = crypto.subtle.generateKey({ name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const digest = async (value: string) =>
    new Uint8Array(await crypto.subtle.sign("HMAC", await keyPromise, encoder.encode(value)));
  const known = Promise.all(
    users.map(async (u) => ({ username: await digest(u.username), password: await digest(u.password) })),
  );
  return async (username, password) => {
    const [user, pass, list] = await Promise.all([digest(username), digest(password), known]);
    let matched = 0;
    for (const candidate of list) {
      // Bitwise & and |: both comparisons always run, for every user.
      matched |= Number(timingSafeEqual(user, candidate.username)) &
        Number(timingSafeEqual(pass, candidate.password));
    }
    return matched === 1;
  };
}

const UNAUTHORIZED: ErrorBody = {
  error: "unauthorized",
  message: "valid HTTP basic credentials are required",
};

/**
 * Middleware requiring HTTP basic auth of one of `users`: missing, malformed or wrong credentials answer
 * 401 JSON with `WWW-Authenticate: Basic realm="kgate"` (and an info log line without the credentials).
 *
 * @example
 * ```ts ignore
 * app.use("/api/*", basicAuth([{ username: "admin", password: "kgate" }]));
 * ```
 */
export function basicAuth(users: readonly BasicAuthUser[]): MiddlewareHandler {
  return honoBasicAuth({
    verifyUser: credentialVerifier(users),
    realm: AUTH_REALM,
    invalidUserMessage: (c) => {
      const header = c.req.header("Authorization");
      const reason = header === undefined
        ? "missing"
        : parseAuthorization(c.req.raw) === undefined
        ? "malformed"
        : "wrong";
      log.info("refused {method} {path}: {reason} credentials", {
        method: c.req.method,
        path: c.req.path,
        reason,
      });
      return UNAUTHORIZED;
    },
  });
}
