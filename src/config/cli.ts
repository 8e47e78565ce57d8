/**
 * The command line: `kgate [--flag value ...]`. Every setting is an environment variable and an equal flag
 * ({@link flagName}); a flag wins over the variable. `--help` and `--version` print and stop.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { helpText } from "./docs.ts";
import { LISTENER_PREFIX } from "./listeners.ts";
import { ConfigError, parseConfig } from "./parse.ts";
import { type GatewayConfig, SETTINGS } from "./schema.ts";
import { flagName } from "./setting.ts";

/**
 * Reads the raw settings from the environment, then lets CLI flag values override them.
 *
 * @example
 * ```ts
 * rawSettings({ GATEWAY_DRAIN_MS: "5000" }, { "drain-ms": "0" }).GATEWAY_DRAIN_MS; // "0"
 * ```
 * @param env environment variables (e.g. `Deno.env.toObject()`)
 * @param flags values of CLI flags keyed by flag name (without `--`)
 */
export function rawSettings(
  env: Record<string, string>,
  flags: Record<string, string | undefined>,
): Record<string, string | undefined> {
  const raw: Record<string, string | undefined> = {};
  for (const setting of SETTINGS) {
    raw[setting.env] = flags[flagName(setting.env)] ?? env[setting.env];
  }
  // Listener variables have names chosen by the operator: read from the environment only.
  for (const [name, value] of Object.entries(env)) {
    if (name.startsWith(LISTENER_PREFIX)) raw[name] = value;
  }
  return raw;
}

/** What the command line asks for. */
export type Command =
  /** Print `text` on stdout and exit 0 (`--help`, `--version`). */
  | { kind: "print"; text: string }
  /** Print `kgate: <message>` on stderr and exit 2 (a bad flag or setting). */
  | { kind: "refuse"; message: string }
  /** Run a node with this configuration. */
  | { kind: "run"; config: GatewayConfig };

/**
 * Reads the command line; the environment is read only when a node is to run.
 *
 * @example
 * ```ts
 * const command = readCommandLine(["--port-start", "7000"], () => Deno.env.toObject(), "1.0.0");
 * if (command.kind === "run") console.log(command.config.portStart); // 7000
 * ```
 * @throws anything but a {@link ConfigError} from parsing the settings (a bug)
 */
export function readCommandLine(args: string[], env: () => Record<string, string>, version: string): Command {
  const options: Record<string, { type: "string" | "boolean" }> = {
    help: { type: "boolean" },
    version: { type: "boolean" },
  };
  for (const setting of SETTINGS) options[flagName(setting.env)] = { type: "string" };
  let values;
  try {
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    return { kind: "refuse", message: `${(error as Error).message} (see --help)` };
  }
  if (values.help) return { kind: "print", text: helpText(version) };
  if (values.version) return { kind: "print", text: `kgate ${version}` };
  const flags: Record<string, string | undefined> = {};
  for (const [name, value] of Object.entries(values)) if (typeof value === "string") flags[name] = value;
  try {
    return { kind: "run", config: parseConfig(rawSettings(env(), flags)) };
  } catch (error) {
    if (error instanceof ConfigError) return { kind: "refuse", message: error.message };
    throw error;
  }
}
