/**
 * The Kafka listeners of a node: each with its bind address, ports, advertised host, routing (by port or
 * by TLS server name) and client-side security. The single-listener settings (`GATEWAY_PORT_START`, …)
 * make one listener named `DEFAULT`; `GATEWAY_LISTENER_<NAME>_<SUFFIX>` variables (Conduktor Gateway
 * 3.20's scheme) make several. Mixing the two is refused.
 *
 * @module
 */
import type { z } from "zod";
import { nonEmpty, oneOf, port } from "./values.ts";

/** How a listener finds the broker of a connection. */
export type RoutingMechanism = "port" | "host";

/** Client certificates on a TLS listener. */
export type ListenerClientAuth = "none" | "requested" | "required";

/** The TLS files of a listener. */
export interface ListenerTls {
  /** PEM certificate chain, leaf first. */
  readonly certFile: string;
  /** PEM private key. */
  readonly keyFile: string;
  /** PEM CA of client certificates. */
  readonly caFile?: string;
  /** Whether client certificates are asked for. */
  readonly clientAuth: ListenerClientAuth;
  /** The variables these came from, for error messages (`GATEWAY_SSL_CERT_FILE`, …). */
  readonly variables: { readonly certFile: string; readonly keyFile: string; readonly caFile: string };
}

/** One Kafka listener of a node. */
export interface ListenerConfig {
  /** `DEFAULT` for the single-listener settings, else the `<NAME>` of its variables. */
  readonly name: string;
  /** Address its ports bind to. */
  readonly bindHost: string;
  /** First port (host routing: its only port). */
  readonly portStart: number;
  /** Port routing: how many ports (undefined = computed from the brokers); host routing: 1. */
  readonly portCount: number | undefined;
  /** Host advertised to clients on this listener. */
  readonly advertisedHost: string;
  /** `port`: one port per broker; `host`: one TLS port, the server name picks the broker. */
  readonly routing: RoutingMechanism;
  /** Host routing: the port put in responses. */
  readonly advertisedSniPort: number;
  /** Host routing: broker b is `<prefix><b>.<advertised host>`. */
  readonly advertisedHostPrefix: string;
  /** TLS of its clients; undefined = PLAINTEXT. */
  readonly tls?: ListenerTls;
}

/** A listener variable that is missing, not allowed, or not allowed with the others. */
export interface ListenerIssue {
  /** The variable at fault. */
  readonly variable: string;
  /** Its value (undefined = missing). */
  readonly value: string | undefined;
  /** What is allowed. */
  readonly allowed: string;
}

/** The prefix of every listener variable. */
export const LISTENER_PREFIX = "GATEWAY_LISTENER_";

/** The suffixes of `GATEWAY_LISTENER_<NAME>_<SUFFIX>`, as Conduktor names them where it has the concept. */
export const LISTENER_SUFFIXES = [
  "BIND_ADDRESS",
  "PORTS",
  "ADVERTISED_HOST",
  "ROUTING",
  "ADVERTISED_HOST_PREFIX",
  "SECURITY_PROTOCOL",
  "SSL_CERT_FILE",
  "SSL_KEY_FILE",
  "SSL_CA_FILE",
  "SSL_CLIENT_AUTH",
] as const;

/** The single-listener variables that listener variables replace (setting both is refused). */
export const SINGLE_LISTENER_VARIABLES = [
  "GATEWAY_PORT_START",
  "GATEWAY_PORT_COUNT",
  "GATEWAY_ADVERTISED_HOST",
  "GATEWAY_ROUTING_MECHANISM",
  "GATEWAY_ADVERTISED_SNI_PORT",
  "GATEWAY_ADVERTISED_HOST_PREFIX",
  "GATEWAY_SECURITY_PROTOCOL",
  "GATEWAY_SSL_CERT_FILE",
  "GATEWAY_SSL_KEY_FILE",
  "GATEWAY_SSL_CA_FILE",
  "GATEWAY_SSL_CLIENT_AUTH",
] as const;

const VARIABLE = new RegExp(`^${LISTENER_PREFIX}([A-Z0-9]+)_(${LISTENER_SUFFIXES.join("|")})$`);
const PORT_RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;
const SNI_PORTS = /^(\d{1,5})(?::(\d{1,5}))?$/;
const HOST = /^[^\s:]+$|^[0-9a-fA-F:]+$/;
const PREFIX = /^[A-Za-z0-9-]{1,50}$/;

/** Whether `raw` has any listener variable (a non-empty `GATEWAY_LISTENER_*`). */
export function hasListenerVariables(raw: Record<string, string | undefined>): boolean {
  return Object.entries(raw).some(([key, value]) => key.startsWith(LISTENER_PREFIX) && value);
}

/**
 * The first single-listener variable set in `raw` when listener variables are set too (refused: the
 * listener variables replace them), else undefined.
 *
 * @example
 * ```ts
 * mixedVariables({ GATEWAY_PORT_START: "7000", GATEWAY_LISTENER_A_PORTS: "7000" })?.variable; // "GATEWAY_PORT_START"
 * ```
 */
export function mixedVariables(raw: Record<string, string | undefined>): ListenerIssue | undefined {
  if (!hasListenerVariables(raw)) return undefined;
  const mixed = SINGLE_LISTENER_VARIABLES.find((name) => raw[name]);
  if (mixed === undefined) return undefined;
  return {
    variable: mixed,
    value: raw[mixed],
    allowed:
      "unset when GATEWAY_LISTENER_<NAME>_* variables are set (they replace the single-listener settings)",
  };
}

/** What `GATEWAY_LISTENER_*` defaults to when a suffix is unset. */
export interface ListenerDefaults {
  /** `GATEWAY_BIND_HOST`. */
  readonly bindHost: string;
  /** The machine's hostname. */
  readonly advertisedHost: string;
}

/**
 * The listeners that `GATEWAY_LISTENER_<NAME>_<SUFFIX>` variables in `raw` describe, sorted by name; or
 * the first issue found (an unknown variable, a bad or missing value, a rule broken).
 *
 * @example
 * ```ts
 * const result = parseListenerVariables({
 *   GATEWAY_LISTENER_INTERNAL_PORTS: "6969-6974",
 *   GATEWAY_LISTENER_INTERNAL_ADVERTISED_HOST: "kgate-0.kgate",
 * }, { bindHost: "0.0.0.0", advertisedHost: "localhost" });
 * // { listeners: [{ name: "INTERNAL", portStart: 6969, portCount: 6, routing: "port", ... }] }
 * ```
 */
export function parseListenerVariables(
  raw: Record<string, string | undefined>,
  defaults: ListenerDefaults,
): { listeners: ListenerConfig[] } | { issue: ListenerIssue } {
  const mixed = mixedVariables(raw);
  if (mixed) return { issue: mixed };
  const byName = new Map<string, Map<string, string>>();
  for (const [key, value] of Object.entries(raw)) {
    if (!key.startsWith(LISTENER_PREFIX) || !value) continue;
    const match = VARIABLE.exec(key);
    if (!match) {
      return {
        issue: {
          variable: key,
          value,
          allowed:
            `a variable GATEWAY_LISTENER_<NAME>_<SUFFIX>: NAME of upper-case letters and digits, SUFFIX one of ${
              LISTENER_SUFFIXES.join(", ")
            }`,
        },
      };
    }
    const [, name, suffix] = match;
    if (!byName.has(name)) byName.set(name, new Map());
    byName.get(name)!.set(suffix, value);
  }
  const listeners: ListenerConfig[] = [];
  for (const name of [...byName.keys()].sort()) {
    const result = oneListener(name, byName.get(name)!, defaults);
    if ("issue" in result) return result;
    listeners.push(result.listener);
  }
  const overlap = overlappingPorts(listeners);
  if (overlap) return { issue: overlap };
  return { listeners };
}

function oneListener(
  name: string,
  values: Map<string, string>,
  defaults: ListenerDefaults,
): { listener: ListenerConfig } | { issue: ListenerIssue } {
  const variable = (suffix: (typeof LISTENER_SUFFIXES)[number]) => `${LISTENER_PREFIX}${name}_${suffix}`;
  const bad = (suffix: (typeof LISTENER_SUFFIXES)[number], allowed: string) => ({
    issue: { variable: variable(suffix), value: values.get(suffix), allowed },
  });
  const pick = <S extends z.ZodType>(
    suffix: (typeof LISTENER_SUFFIXES)[number],
    type: { schema: S; allowed: string },
    fallback: z.output<S>,
  ): { value: z.output<S> } | { issue: ListenerIssue } => {
    const given = values.get(suffix);
    if (given === undefined) return { value: fallback };
    const parsed = type.schema.safeParse(given);
    return parsed.success ? { value: parsed.data } : bad(suffix, type.allowed);
  };

  const routingValue = pick("ROUTING", oneOf(["port", "sni", "host"]), "port");
  if ("issue" in routingValue) return routingValue;
  const routing: RoutingMechanism = routingValue.value === "port" ? "port" : "host";
  const protocol = pick("SECURITY_PROTOCOL", oneOf(["PLAINTEXT", "SSL"]), "PLAINTEXT");
  if ("issue" in protocol) return protocol;
  const bindHost = pick("BIND_ADDRESS", nonEmpty("an IP address or host name"), defaults.bindHost);
  if ("issue" in bindHost) return bindHost;
  const advertisedHost = values.get("ADVERTISED_HOST") ?? defaults.advertisedHost;
  if (!HOST.test(advertisedHost)) return bad("ADVERTISED_HOST", "a host name or IP address");
  const prefix = values.get("ADVERTISED_HOST_PREFIX") ?? "broker";
  if (!PREFIX.test(prefix)) {
    return bad("ADVERTISED_HOST_PREFIX", "letters, digits and '-' (a DNS label start)");
  }

  const portsText = values.get("PORTS");
  const portsAllowed = routing === "port"
    ? "<first>-<last> (one port per broker) or <first> (as many ports as the brokers need)"
    : "<port> or <advertised port>:<listening port> (host routing listens on one port)";
  if (portsText === undefined) return bad("PORTS", portsAllowed);
  const ports = routing === "port" ? portRange(portsText) : sniPorts(portsText);
  if (ports === undefined) return bad("PORTS", portsAllowed);

  let tls: ListenerTls | undefined;
  if (protocol.value === "SSL") {
    const certFile = values.get("SSL_CERT_FILE");
    const keyFile = values.get("SSL_KEY_FILE");
    if (certFile === undefined) {
      return bad(
        "SSL_CERT_FILE",
        `a file path (${variable("SECURITY_PROTOCOL")}=SSL needs a certificate and its key)`,
      );
    }
    if (keyFile === undefined) {
      return bad(
        "SSL_KEY_FILE",
        `a file path (${variable("SECURITY_PROTOCOL")}=SSL needs a certificate and its key)`,
      );
    }
    const clientAuth = pick("SSL_CLIENT_AUTH", oneOf(["none", "requested", "required"]), "none");
    if ("issue" in clientAuth) return clientAuth;
    const caFile = values.get("SSL_CA_FILE");
    if (clientAuth.value !== "none" && caFile === undefined) {
      return bad(
        "SSL_CA_FILE",
        `a file path (${
          variable("SSL_CLIENT_AUTH")
        }=${clientAuth.value} verifies client certificates against it)`,
      );
    }
    tls = {
      certFile,
      keyFile,
      caFile,
      clientAuth: clientAuth.value,
      variables: {
        certFile: variable("SSL_CERT_FILE"),
        keyFile: variable("SSL_KEY_FILE"),
        caFile: variable("SSL_CA_FILE"),
      },
    };
  } else if (routing === "host") {
    return {
      issue: {
        variable: variable("SECURITY_PROTOCOL"),
        value: values.get("SECURITY_PROTOCOL"),
        allowed: `SSL (${variable("ROUTING")}=${routingValue.value} reads the TLS server name)`,
      },
    };
  }
  return {
    listener: {
      name,
      bindHost: bindHost.value,
      portStart: ports.start,
      portCount: ports.count,
      advertisedHost,
      routing,
      advertisedSniPort: ports.advertised,
      advertisedHostPrefix: prefix,
      tls,
    },
  };
}

function validPort(text: string | undefined): number | undefined {
  const parsed = port.schema.safeParse(text);
  return parsed.success ? parsed.data : undefined;
}

function portRange(
  text: string,
): { start: number; count: number | undefined; advertised: number } | undefined {
  const m = PORT_RANGE.exec(text.trim());
  if (!m) return undefined;
  const start = validPort(m[1]);
  if (start === undefined) return undefined;
  if (m[2] === undefined) return { start, count: undefined, advertised: start };
  const last = validPort(m[2]);
  if (last === undefined || last < start) return undefined;
  return { start, count: last - start + 1, advertised: start };
}

function sniPorts(text: string): { start: number; count: number; advertised: number } | undefined {
  const m = SNI_PORTS.exec(text.trim());
  if (!m) return undefined;
  const first = validPort(m[1]);
  const second = m[2] === undefined ? first : validPort(m[2]);
  if (first === undefined || second === undefined) return undefined;
  // `<advertised>:<listening>`, as Conduktor's PORTS.
  return { start: second, count: 1, advertised: first };
}

const WILDCARD_BINDS = new Set(["0.0.0.0", "::", "[::]"]);

/** Two listeners whose ports overlap on the same (or a wildcard) address. */
function overlappingPorts(listeners: readonly ListenerConfig[]): ListenerIssue | undefined {
  for (let i = 0; i < listeners.length; i++) {
    for (let j = i + 1; j < listeners.length; j++) {
      const a = listeners[i];
      const b = listeners[j];
      const sameAddress = a.bindHost === b.bindHost || WILDCARD_BINDS.has(a.bindHost) ||
        WILDCARD_BINDS.has(b.bindHost);
      // An unknown port count (computed later) counts as at least one port.
      const lastOf = (l: ListenerConfig) => l.portStart + (l.portCount ?? 1) - 1;
      if (sameAddress && a.portStart <= lastOf(b) && b.portStart <= lastOf(a)) {
        return {
          variable: `${LISTENER_PREFIX}${b.name}_PORTS`,
          value: String(b.portStart),
          allowed: `ports apart from listener ${a.name}'s (${a.portStart}-${lastOf(a)})`,
        };
      }
    }
  }
  return undefined;
}
