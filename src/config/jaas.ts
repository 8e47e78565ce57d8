/**
 * The gateway's own SASL credentials, written as a Kafka JAAS line (`KAFKA_SASL_JAAS_CONFIG`), in the
 * three forms Kafka's own clients use:
 *
 * - `org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";`
 * - `org.apache.kafka.common.security.scram.ScramLoginModule required username="u" password="p";`
 * - `org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule required token="<jwt>";`, or
 *   `tokenFile="/path"` (re-read when it changes), or Kafka's unsecured test login
 *   `unsecuredLoginStringClaim_sub="name"` (an unsigned JWT, for brokers that accept them).
 *
 * @module
 */
import { z } from "zod";

/** The login modules kgate understands, by short name. */
export const LOGIN_MODULES = {
  plain: "org.apache.kafka.common.security.plain.PlainLoginModule",
  scram: "org.apache.kafka.common.security.scram.ScramLoginModule",
  oauthbearer: "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule",
} as const;

/** Short name of a login module. */
export type LoginModule = keyof typeof LOGIN_MODULES;

/** One parsed JAAS entry: its login module and options (values unquoted). */
export interface JaasEntry {
  /** Which login module. */
  module: LoginModule;
  /** `required`, `requisite`, `sufficient` or `optional`. */
  flag: string;
  /** Options as written, values without quotes. */
  options: Record<string, string>;
}

/** A JAAS line that cannot be used; the message never contains an option's value. */
export class JaasError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "JaasError";
  }
}

const ENTRY = /^\s*([A-Za-z_$][\w.$]*)\s+(required|requisite|sufficient|optional)\b([\s\S]*?);?\s*$/;
const OPTION = /\s*([A-Za-z_][\w.-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s";]+))/y;

/**
 * Parses one JAAS entry (`<LoginModule class> <flag> key="value" ...;`), as Kafka's `sasl.jaas.config`.
 * Throws {@link JaasError} (without any value in its message) when it is malformed or the module unknown.
 *
 * @example
 * ```ts
 * parseJaas('org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="p";');
 * // { module: "plain", flag: "required", options: { username: "u", password: "p" } }
 * ```
 */
export function parseJaas(text: string): JaasEntry {
  const entry = ENTRY.exec(text);
  if (!entry) throw new JaasError('not a JAAS entry (<LoginModule class> required key="value" ...;)');
  const [, className, flag, rest] = entry;
  const module = (Object.keys(LOGIN_MODULES) as LoginModule[]).find((m) => LOGIN_MODULES[m] === className);
  if (!module) {
    throw new JaasError(
      `unknown login module ${className} (allowed: ${Object.values(LOGIN_MODULES).join(", ")})`,
    );
  }
  const options: Record<string, string> = {};
  OPTION.lastIndex = 0;
  let at = 0;
  while (at < rest.length && rest.slice(at).trim() !== "") {
    OPTION.lastIndex = at;
    const m = OPTION.exec(rest);
    if (!m) throw new JaasError(`cannot read the options of ${className} (key="value" pairs)`);
    options[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, "$1") : m[3];
    at = OPTION.lastIndex;
  }
  return { module, flag, options };
}

/** SASL mechanisms of the gateway's own connections. */
export const SASL_MECHANISMS = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"] as const;
/** One of {@link SASL_MECHANISMS}. */
export type SaslMechanism = typeof SASL_MECHANISMS[number];

/** Where an OAUTHBEARER token comes from. */
export type OAuthTokenSpec =
  | { kind: "static"; token: string }
  | { kind: "file"; path: string }
  | { kind: "unsecured"; subject: string; lifetimeSeconds: number };

/** The gateway's own SASL credentials for one mechanism. */
export type SaslCredentials =
  | { mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"; username: string; password: string }
  | { mechanism: "OAUTHBEARER"; token: OAuthTokenSpec; extensions: Record<string, string> };

const MODULE_OF: Record<SaslMechanism, LoginModule> = {
  "PLAIN": "plain",
  "SCRAM-SHA-256": "scram",
  "SCRAM-SHA-512": "scram",
  "OAUTHBEARER": "oauthbearer",
};

/**
 * The credentials of `jaas` for `mechanism`; throws {@link JaasError} when the login module does not
 * fit the mechanism or an option is missing.
 *
 * @example
 * ```ts
 * saslCredentials("SCRAM-SHA-512", '...ScramLoginModule required username="u" password="p";');
 * // { mechanism: "SCRAM-SHA-512", username: "u", password: "p" }
 * ```
 */
export function saslCredentials(mechanism: SaslMechanism, jaas: string): SaslCredentials {
  const entry = parseJaas(jaas);
  const want = MODULE_OF[mechanism];
  if (entry.module !== want) {
    throw new JaasError(`${mechanism} needs ${LOGIN_MODULES[want]}, not ${LOGIN_MODULES[entry.module]}`);
  }
  const o = entry.options;
  if (mechanism !== "OAUTHBEARER") {
    if (o.username === undefined || o.password === undefined) {
      throw new JaasError(`${LOGIN_MODULES[want]} needs username="..." and password="..."`);
    }
    return { mechanism, username: o.username, password: o.password };
  }
  const sources = ["token", "tokenFile", "unsecuredLoginStringClaim_sub"].filter((k) => o[k] !== undefined);
  if (sources.length !== 1) {
    throw new JaasError(
      `${LOGIN_MODULES.oauthbearer} needs exactly one of token="...", tokenFile="..." or unsecuredLoginStringClaim_sub="..."`,
    );
  }
  // KIP-342 SASL extensions, written as Kafka's clients do: unsecuredLoginExtension_<name>="value".
  const extensions: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) {
    const m = /^unsecuredLoginExtension_(.+)$/.exec(k);
    if (m) extensions[m[1]] = v;
  }
  if (o.token !== undefined) return { mechanism, token: { kind: "static", token: o.token }, extensions };
  if (o.tokenFile !== undefined) return { mechanism, token: { kind: "file", path: o.tokenFile }, extensions };
  const lifetime = Number(o.unsecuredLoginLifetimeSeconds ?? "3600");
  if (!Number.isInteger(lifetime) || lifetime <= 0) {
    throw new JaasError("unsecuredLoginLifetimeSeconds must be a positive integer");
  }
  return {
    mechanism,
    token: { kind: "unsecured", subject: o.unsecuredLoginStringClaim_sub, lifetimeSeconds: lifetime },
    extensions,
  };
}

/** Any JAAS line of a known login module (the mechanism-specific checks are a rule between settings). */
export const jaasLine = {
  schema: z.string().refine((text) => {
    try {
      parseJaas(text);
      return true;
    } catch {
      return false;
    }
  }),
  allowed: "a JAAS line of Kafka's PlainLoginModule, ScramLoginModule or OAuthBearerLoginModule",
};
