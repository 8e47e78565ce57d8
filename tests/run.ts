/**
 * `deno task test` = `deno run --allow-all tests/run.ts [deno test args...]`
 *
 * Starts the shared 3-broker Kafka test cluster ONCE, runs `deno test --allow-all <args, or tests/>` with
 * env KGATE_TEST_KAFKA = JSON KafkaClusterInfo (read by `testKafka()` in tests/harness/mod.ts), stops the
 * cluster (also on SIGINT/SIGTERM or failure) and exits with deno test's exit code.
 *
 * First it checks the tools the suite needs besides Deno (tests/preflight.ts): when any is missing it prints
 * one line naming them all with the command that installs them, and exits 3 before starting anything.
 *
 * Env: KAFKA_VERSION (e.g. 3.9.1), KGATE_KAFKA_PORT_BASE (default 19092), KGATE_KAFKA_KEEP=1 (keep the
 * cluster dir with its logs), KGATE_TEST_KAFKA (already set: reuse that cluster, neither start nor stop it).
 */
import { KafkaCluster } from "./harness/kafka_cluster.ts";
import { defaultKafkaVersion, ensureKafkaJars } from "./harness/kafka_jars.ts";
import { KAFKA_ENV } from "./harness/mod.ts";
import { missingTools, missingToolsLine } from "./preflight.ts";

const testsDir = decodeURIComponent(new URL(".", import.meta.url).pathname);
const defaultTarget = Deno.cwd() + "/tests/" === testsDir ? "tests/" : testsDir;

let child: Deno.ChildProcess | undefined;
let cluster: KafkaCluster | undefined;
let ownCluster = false;

function log(msg: string) {
  console.error(`tests/run.ts: ${msg}`);
}

function onSignal(sig: Deno.Signal) {
  return () => {
    if (child) {
      // deno test gets terminal SIGINTs itself; forwarding makes `kill <run.ts pid>` work too.
      try {
        child.kill(sig);
      } catch { /* exited */ }
      return;
    }
    // Still starting the cluster: stop what exists; the cluster watchdog removes the rest.
    if (ownCluster) cluster?.stopSync();
    Deno.exit(sig === "SIGINT" ? 130 : 143);
  };
}
Deno.addSignalListener("SIGINT", onSignal("SIGINT"));
Deno.addSignalListener("SIGTERM", onSignal("SIGTERM"));

async function main(): Promise<number> {
  const missing = await missingTools();
  if (missing.length > 0) {
    log(missingToolsLine(missing));
    return 3;
  }
  const existing = Deno.env.get(KAFKA_ENV);
  if (existing) {
    cluster = KafkaCluster.fromInfo(JSON.parse(existing));
    log(`reusing the Kafka cluster from ${KAFKA_ENV} (${cluster.bootstrapServers})`);
  } else {
    const version = defaultKafkaVersion();
    await ensureKafkaJars(version);
    const t0 = performance.now();
    ownCluster = true;
    cluster = await KafkaCluster.start({ version });
    log(
      `Kafka ${cluster.version} cluster (3 brokers) ready at ${cluster.bootstrapServers} ` +
        `(SASL ${cluster.saslBootstrapServers}, SSL ${cluster.sslBootstrapServers}, ` +
        `SASL_SSL ${cluster.saslSslBootstrapServers}) in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
    );
  }

  const args = ["test", "--allow-all", ...(Deno.args.length ? Deno.args : [defaultTarget])];
  child = new Deno.Command(Deno.execPath(), {
    args,
    env: { [KAFKA_ENV]: JSON.stringify(cluster.info) },
    stdin: "inherit",
    stdout: "inherit",
    stderr: "inherit",
  }).spawn();
  const status = await child.status;
  return status.code;
}

let code = 1;
try {
  code = await main();
} catch (e) {
  log(`ERROR: ${e instanceof Error ? e.stack ?? e.message : e}`);
  code = 1;
} finally {
  if (ownCluster && cluster) {
    try {
      await cluster.stop();
      if (Deno.env.get("KGATE_KAFKA_KEEP") === "1") log(`kept cluster dir ${cluster.dir}`);
    } catch (e) {
      log(`stopping the Kafka cluster failed: ${e instanceof Error ? e.message : e}`);
    }
  }
}
Deno.exit(code);
