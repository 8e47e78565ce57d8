/**
 * HTTP basic authentication (RFC 7617) with constant-time credential checks.
 *
 * Usernames and passwords are never compared directly: each is reduced to an HMAC-SHA-256 digest under a
 * random per-process key, and the fixed-length digests are compared with a loop that always visits every
 * byte. Every configured user is checked, whatever matched first, and the username and password checks
 * are combined without short-circuit, so response time does not reveal which part was wrong.
 *
 * @module
 */
import type { MiddlewareHandler } from "hono";
import { sendError } from "./errors.ts";
import { logger } from "../log.ts";

/** One user of the HTTP API. */
export interface BasicAuthUser {
  /** User name. */
  username: string;
  /** Password. */
  password: string;
}

/** Realm announced in `WWW-Authenticate`. */
export const AUTH_REALM = "kgate";
/** Longest `Authorization` header considered; longer ones are refused without decoding. */
const MAX_AUTHORIZATION_LENGTH = 8192;

const encoder = new TextEncoder();
const log = logger("http");

/**
 * Compares two byte arrays in time that depends only on their lengths (never on where they differ).
 * Arrays of different lengths are unequal; callers compare fixed-length digests.
 */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const length = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < length; i++) diff |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return diff === 0;
}

/**
 * Parses an `Authorization: Basic <base64(user:password)>` header. Anything else (another scheme, bad
 * base64, no colon, too long) is undefined, never an exception.
 */
export function parseBasicAuthorization(header: string | undefined | null): BasicAuthUser | undefined {
  if (!header || header.length > MAX_AUTHORIZATION_LENGTH) return undefined;
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header);
  if (!match) return undefined;
  let binary: string;
  try {
    binary = atob(match[1]);
  } catch {
    return undefined;
  }
  const bytes = Uint8Array.from(binary, (ch) => ch.charCodeAt(0));
  const text = new TextDecoder().decode(bytes);
  const colon = text.indexOf(":");
  if (colon < 0) return undefined;
  return { username: text.slice(0, colon), password: text.slice(colon + 1) };
}

/** Checks credentials against a fixed list of users in constant time. */
export type CredentialVerifier = (username: string, password: string) => Promise<boolean>;

/** Builds a {@link CredentialVerifier} for these users (an empty list refuses everyone). */
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

/**
 * Hono middleware requiring HTTP basic auth: missing, malformed or wrong credentials answer 401 JSON with
 * `WWW-Authenticate: Basic realm="kgate"`.
 */
export function basicAuth(users: readonly BasicAuthUser[]): MiddlewareHandler {
  const verify = credentialVerifier(users);
  return async (c, next) => {
    const header = c.req.header("Authorization");
    const credentials = parseBasicAuthorization(header);
    const ok = credentials !== undefined && await verify(credentials.username, credentials.password);
    if (!ok) {
      const reason = header === undefined ? "missing" : credentials === undefined ? "malformed" : "wrong";
      log.info("refused {method} {path}: {reason} credentials", {
        method: c.req.method,
        path: c.req.path,
        reason,
      });
      return sendError(c, 401, {
        error: "unauthorized",
        message: "valid HTTP basic credentials are required",
      }, { "WWW-Authenticate": `Basic realm="${AUTH_REALM}"` });
    }
    await next();
  };
}
