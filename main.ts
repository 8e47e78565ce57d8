/**
 * kgate command line: `kgate [--flag value ...]`; every flag has an equal environment variable.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { ConfigError, flagName, helpText, parseConfig, rawSettings, SETTINGS } from "./src/config.ts";
import { startGateway } from "./src/node/start.ts";
import { logger, setUpLogging } from "./src/log.ts";
import { StartAborted } from "./src/upstream/broker_directory.ts";
import { KGATE_VERSION } from "./src/version.ts";

async function main(args: string[]): Promise<number> {
  const options: Record<string, { type: "string" | "boolean" }> = {
    help: { type: "boolean" },
    version: { type: "boolean" },
  };
  for (const setting of SETTINGS) options[flagName(setting.env)] = { type: "string" };
  let parsed;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (error) {
    console.error(`kgate: ${(error as Error).message} (see --help)`);
    return 2;
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values.help) {
    console.log(helpText(KGATE_VERSION));
    return 0;
  }
  if (values.version) {
    console.log(`kgate ${KGATE_VERSION}`);
    return 0;
  }
  let config;
  try {
    config = parseConfig(rawSettings(Deno.env.toObject(), values as Record<string, string | undefined>));
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(`kgate: ${error.message}`);
      return 2;
    }
    throw error;
  }
  await setUpLogging(config.logLevel, config.logFormat);
  const log = logger("main");
  routeNodeWarnings(log);
  const abort = new AbortController();
  const stopped = new Promise<string>((resolve) => {
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      Deno.addSignalListener(signal, () => {
        abort.abort();
        resolve(signal);
      });
    }
  });
  let gateway;
  try {
    gateway = await startGateway(config, { signal: abort.signal });
  } catch (error) {
    if (error instanceof StartAborted) {
      log.info("stopped before the upstream cluster was reachable");
      return 0;
    }
    log.fatal("cannot start: {error}", { error: (error as Error).message });
    return 1;
  }
  const signal = await stopped;
  log.info("{signal} received: shutting down (a second signal skips the drain)", { signal });
  const again = new AbortController();
  for (const name of ["SIGTERM", "SIGINT"] as const) Deno.addSignalListener(name, () => again.abort());
  await gateway.close({ signal: again.signal });
  log.info("stopped");
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}

/**
 * Node-compat warnings go to the log instead of raw stderr. kafkajs 2.2.4 (the gateway's own
 * membership and audit client) arms a negative timer when idle; Node calls that a
 * TimeoutNegativeWarning and it is harmless, so it is dropped.
 */
function routeNodeWarnings(log: ReturnType<typeof logger>): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning: Error) => {
    if (warning.name === "TimeoutNegativeWarning") return;
    log.warn("{name}: {message}", { name: warning.name, message: warning.message });
  });
}
