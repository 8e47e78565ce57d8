/**
 * Raw settings (keyed by environment variable) to a validated {@link GatewayConfig}, or a
 * {@link ConfigError} naming the first setting at fault.
 *
 * @module
 */
import type { z } from "zod";
import { hasListenerVariables, mixedVariables, parseListenerVariables } from "./listeners.ts";
import {
  defaultHostname,
  defaultNodeId,
  type GatewayConfig,
  GatewayConfigSchema,
  NODE_ID,
  NODE_ID_CHARS,
  type RuleParams,
  SETTINGS,
  type SettingSpec,
} from "./schema.ts";

/** A configuration value that is missing or not allowed. */
export class ConfigError extends Error {
  /**
   * An error naming the setting at fault.
   *
   * @param variable the environment variable at fault
   * @param value the raw value given (undefined when missing; secrets are masked)
   * @param allowed what is allowed
   */
  constructor(readonly variable: string, readonly value: string | undefined, readonly allowed: string) {
    super(
      value === undefined
        ? `${variable} is required: ${allowed}`
        : `invalid ${variable}=${JSON.stringify(value)}: expected ${allowed}`,
    );
    this.name = "ConfigError";
  }
}

/**
 * Builds a validated configuration from raw values keyed by environment variable name; an empty value is
 * an absent one.
 *
 * @example
 * ```ts
 * const config = parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" });
 * console.log(config.portStart); // 6969
 * ```
 * @throws {ConfigError} naming the first variable (in `--help` order) that is missing or not allowed,
 *   else the first rule between settings that is broken
 */
export function parseConfig(raw: Record<string, string | undefined>): GatewayConfig {
  const input = Object.fromEntries(
    SETTINGS.map((s) => [s.key, s.emptyIsValue && raw[s.env] === "" ? "" : raw[s.env] || undefined]),
  );
  // Mixed settings first: the single-listener ones would otherwise be judged as if they applied.
  const mixed = mixedVariables(raw);
  if (mixed) throw new ConfigError(mixed.variable, mixed.value, mixed.allowed);
  const result = GatewayConfigSchema.safeParse(input);
  if (!result.success) throw configError(firstIssue(result.error.issues), raw);
  return hasListenerVariables(raw) ? withListenerVariables(result.data, raw) : result.data;
}

/**
 * The configuration with the listeners of the `GATEWAY_LISTENER_*` variables; the first listener's
 * advertised host and port start stand for the node where one host is needed (the HTTP API's advertised
 * URL, the membership); the default node id joins every listener's `<advertised host>:<port start>` with
 * `_` (external load balancing: `<hostname>:<first port>`).
 */
function withListenerVariables(
  config: GatewayConfig,
  raw: Record<string, string | undefined>,
): GatewayConfig {
  const parsed = parseListenerVariables(raw, {
    bindHost: config.bindHost,
    advertisedHost: defaultHostname(),
  });
  if ("issue" in parsed) {
    const { variable, value, allowed } = parsed.issue;
    throw new ConfigError(variable, value, allowed);
  }
  const first = parsed.listeners[0];
  const primary = { ...config, advertisedHost: first.advertisedHost, portStart: first.portStart };
  // Every listener's host and port: one listener may advertise a host all nodes share (a load balancer).
  const nodeId = config.internalLoadBalancing
    ? parsed.listeners.map((l) => `${l.advertisedHost}:${l.portStart}`).join("_")
    : defaultNodeId(primary);
  if (!raw.GATEWAY_NODE_ID && !NODE_ID.test(nodeId)) {
    throw new ConfigError(
      "GATEWAY_NODE_ID",
      undefined,
      `${NODE_ID_CHARS} (the default ${JSON.stringify(nodeId)} has others)`,
    );
  }
  return { ...primary, nodeId: raw.GATEWAY_NODE_ID ? config.nodeId : nodeId, listeners: parsed.listeners };
}

/**
 * The earliest setting in `--help` order whose value is not allowed; when every value is, the first broken
 * rule between settings. (zod may run the rules after a value failed a check: such issues are ignored.)
 */
function firstIssue(issues: z.core.$ZodIssue[]): z.core.$ZodIssue {
  const values = issues.filter((issue) => ruleParams(issue) === undefined);
  if (values.length === 0) return issues[0];
  const position = (issue: z.core.$ZodIssue) => SETTINGS.findIndex((s) => s.key === issue.path[0]);
  return values.reduce((first, issue) => position(issue) < position(first) ? issue : first);
}

function configError(issue: z.core.$ZodIssue, raw: Record<string, string | undefined>): ConfigError {
  const setting = SETTINGS.find((s) => s.key === issue.path[0]);
  if (!setting) throw new Error(`configuration issue outside the settings: ${issue.message}`);
  const rule = ruleParams(issue);
  if (rule) return new ConfigError(setting.env, masked(setting, rule.value), rule.allowed);
  return new ConfigError(setting.env, masked(setting, raw[setting.env] || undefined), setting.allowed);
}

function ruleParams(issue: z.core.$ZodIssue): RuleParams | undefined {
  if (issue.code !== "custom" || typeof issue.params?.allowed !== "string") return undefined;
  const { allowed, value } = issue.params;
  return { allowed, value: typeof value === "string" ? value : undefined };
}

function masked(setting: SettingSpec, value: string | undefined): string | undefined {
  return setting.secret && value !== undefined ? "<redacted>" : value;
}
