/**
 * Value types of the settings: each parses one raw string (an environment variable or a flag) and says in
 * words what it allows, for `--help`, the README and error messages.
 *
 * @module
 */
import { z } from "zod";
import { parseCidr } from "../lib/cidr.ts";

/** A parser of a raw string and the text naming what it allows. */
export interface ValueType<S extends z.ZodType> {
  /** Parses the raw string; a failure means the value is not allowed. */
  schema: S;
  /** What values are allowed, e.g. "an integer from 1 to 65535". */
  allowed: string;
}

/**
 * An integer from `min` to `max`; `note` extends the allowed text.
 *
 * @example
 * ```ts
 * integer(1, 65535).schema.parse("6969"); // 6969
 * ```
 */
export function integer(min: number, max: number, note = "") {
  return {
    schema: z.coerce.number().int().min(min).max(max),
    allowed: `an integer from ${min} to ${max}${note}`,
  };
}

/**
 * A number (fractions allowed) from `min` to `max`.
 *
 * @example
 * ```ts
 * decimal(0, 1000000).schema.parse("0.5"); // 0.5
 * ```
 */
export function decimal(min: number, max: number) {
  return {
    schema: z.coerce.number().min(min).max(max),
    allowed: `a number from ${min} to ${max}`,
  };
}

/** A TCP port. */
export const port = integer(1, 65535);

/** Replication factor of a topic the gateway creates: -1 = the cluster's default. */
export const replicationFactor = {
  schema: z.coerce.number().int().min(-1).max(32767).refine((n) => n !== 0),
  allowed: "-1 or an integer from 1 to 32767",
};

/** `true` or `false`. */
export const bool = {
  schema: z.enum(["true", "false"]).transform((v) => v === "true"),
  allowed: "true or false",
};

/**
 * One of `values`; the allowed text lists them ("a, b or c").
 *
 * @example
 * ```ts
 * oneOf(["text", "json"]).allowed; // "text or json"
 * ```
 */
export function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  const last = values[values.length - 1];
  const allowed = values.length === 1 ? last : `${values.slice(0, -1).join(", ")} or ${last}`;
  return { schema: z.enum(values), allowed };
}

/** A string matching `pattern`. */
export function matching(pattern: RegExp, allowed: string): ValueType<z.ZodString> {
  return { schema: z.string().regex(pattern), allowed };
}

/** Any non-empty string. */
export function nonEmpty(allowed: string): ValueType<z.ZodString> {
  return { schema: z.string().min(1), allowed };
}

/** A Kafka topic or group name. */
export const KAFKA_NAME = /^[A-Za-z0-9._-]{1,249}$/;

/** Comma-separated entries, empty ones skipped; at least one, each accepted by `valid`. */
function commaList<T>(valid: (entry: string) => T | undefined, message: string) {
  return z.string().transform((raw, ctx) => {
    const entries = raw.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
    const parsed: T[] = [];
    for (const entry of entries) {
      const value = valid(entry);
      if (value === undefined) break;
      parsed.push(value);
    }
    if (entries.length === 0 || parsed.length !== entries.length) {
      ctx.addIssue({ code: "custom", message });
      return z.NEVER;
    }
    return parsed;
  });
}

const HOST_PORT = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** Parses `host:port` (`[v6]:port` too); undefined when invalid. */
function parseHostPort(entry: string): { host: string; port: number } | undefined {
  const m = HOST_PORT.exec(entry);
  if (!m) return undefined;
  const portNumber = Number(m[2]);
  if (portNumber < 1 || portNumber > 65535) return undefined;
  return { host: m[1].replace(/^\[|\]$/g, ""), port: portNumber };
}

/** A comma-separated list of `host:port`. */
export const hostPortList = {
  schema: commaList(parseHostPort, "bad host:port list"),
  allowed: "a comma-separated list of host:port",
};

/** A comma-separated list of CIDRs or addresses, kept as written. */
export const cidrList = {
  schema: commaList((entry) => parseCidr(entry) === undefined ? undefined : entry, "bad CIDR list"),
  allowed: "a comma-separated list of IPv4/IPv6 CIDRs or addresses, e.g. 10.0.0.0/8,::1",
};

const users = z.array(z.object({ username: z.string().min(1), password: z.string().min(1) })).min(1);

/** A JSON list of `{username, password}`, at least one. */
export const userList = {
  schema: z.string().transform((raw, ctx) => {
    try {
      const parsed = users.safeParse(JSON.parse(raw));
      if (parsed.success) return parsed.data;
    } catch {
      // not JSON
    }
    ctx.addIssue({ code: "custom", message: "bad user list" });
    return z.NEVER;
  }),
  allowed: 'a JSON list like [{"username":"admin","password":"secret"}] with at least one user',
};
