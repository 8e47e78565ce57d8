/**
 * kgate command line: `kgate [--flag value ...]`; every flag has an equal environment variable.
 *
 * @module
 */
import process from "node:process";
import { readCommandLine } from "./src/config/mod.ts";
import { startGateway } from "./src/node/start.ts";
import { logger, setUpLogging } from "./src/log.ts";
import { StartAborted } from "./src/upstream/broker_directory.ts";
import { KGATE_VERSION } from "./src/version.ts";

async function main(args: string[]): Promise<number> {
  const command = readCommandLine(args, () => Deno.env.toObject(), KGATE_VERSION);
  if (command.kind === "refuse") {
    console.error(`kgate: ${command.message}`);
    return 2;
  }
  if (command.kind === "print") {
    console.log(command.text);
    return 0;
  }
  const { config } = command;
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
