/**
 * A real 3-broker Apache Kafka cluster (KRaft, combined broker+controller nodes) on 127.0.0.1 for tests.
 *
 * Node ids 1, 2, 3; racks rack-a, rack-b, rack-c. Per broker (with the default port base 19092):
 *   PLAINTEXT      19092, 19093, 19094   (inter-broker listener)
 *   SASL_PLAINTEXT 19192, 19193, 19194   (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; users admin/admin-secret,
 *                                         alice/alice-secret; no ACLs)
 *   CONTROLLER     19292, 19293, 19294
 *   SSL            19392, 19393, 19394   (TLS; certificate for localhost / 127.0.0.1 from a CA made at start)
 *   SASL_SSL       19492, 19493, 19494   (TLS + PLAIN, SCRAM-SHA-256, SCRAM-SHA-512 and OAUTHBEARER with
 *                                         Kafka's unsecured JWT validator; same users for every mechanism)
 *   MTLS           19592, 19593, 19594   (TLS that requires a client certificate: `info.clientCertFile`)
 * Env KGATE_KAFKA_PORT_BASE moves all of them (plain = base+i, SASL = base+100+i, controller = base+200+i,
 * SSL = base+300+i, SASL_SSL = base+400+i, MTLS = base+500+i). The CA certificate is `info.caFile`.
 *
 * All state lives in one temp dir (`info.dir`): broker configs, data, logs (`broker-<id>.log`), pidfiles
 * (`broker-<id>.pid`) and the java command lines (`broker-<id>.cmd.json`). Brokers run detached (own
 * session), so `stopBroker`/`startBroker` work from any process that has the `KafkaClusterInfo`
 * (`KafkaCluster.fromInfo`). A watchdog kills the brokers and removes the dir once the process that
 * started the cluster is gone, so a crashed test run leaves nothing behind.
 */
import { defaultKafkaVersion, ensureKafkaJars, kafkaMajor } from "./kafka_jars.ts";
import {
  createTopicsRequest,
  deleteTopicsRequest,
  ErrorCode,
  fetchMetadata,
  type Metadata,
} from "./kafka_wire.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";
import {
  pidAlive,
  pidCmdline,
  portFree,
  runCommand,
  type RunOptions,
  type RunResult,
  signalPid,
  sleep,
  waitPidExit,
} from "./process.ts";

export const HOST = "127.0.0.1";
export const DEFAULT_PORT_BASE = 19092;
export const BROKER_IDS = [1, 2, 3] as const;
export const RACKS = ["rack-a", "rack-b", "rack-c"] as const;
/** SASL/PLAIN users of the SASL_PLAINTEXT listener. */
export const SASL_USERS: Readonly<Record<string, string>> = Object.freeze({
  admin: "admin-secret",
  alice: "alice-secret",
});

/** SCRAM mechanisms whose credentials exist for every user of {@link SASL_USERS} (added at format time). */
export const SCRAM_MECHANISMS = ["SCRAM-SHA-256", "SCRAM-SHA-512"] as const;

/** Main classes of the Kafka command-line tools (some moved between 3.9 and 4.x). */
export interface KafkaToolClasses {
  consoleProducer: string;
  consoleConsumer: string;
  producerPerformance: string;
  consumerPerformance: string;
  topicCommand: string;
  consumerGroupCommand: string;
  metadataQuorumCommand: string;
}

export function kafkaToolClasses(version: string): KafkaToolClasses {
  return {
    consoleProducer: kafkaMajor(version) >= 4
      ? "org.apache.kafka.tools.ConsoleProducer"
      : "kafka.tools.ConsoleProducer",
    consoleConsumer: "org.apache.kafka.tools.consumer.ConsoleConsumer",
    producerPerformance: "org.apache.kafka.tools.ProducerPerformance",
    consumerPerformance: "org.apache.kafka.tools.ConsumerPerformance",
    topicCommand: "org.apache.kafka.tools.TopicCommand",
    consumerGroupCommand: "org.apache.kafka.tools.consumer.group.ConsumerGroupCommand",
    metadataQuorumCommand: "org.apache.kafka.tools.MetadataQuorumCommand",
  };
}

/** Java client properties for the SASL_PLAINTEXT listener (PLAIN) as `user`. */
export function saslClientProperties(user = "alice", password?: string): Record<string, string> {
  const pw = password ?? SASL_USERS[user] ?? "";
  return {
    "security.protocol": "SASL_PLAINTEXT",
    "sasl.mechanism": "PLAIN",
    "sasl.jaas.config":
      `org.apache.kafka.common.security.plain.PlainLoginModule required username="${user}" password="${pw}";`,
  };
}

export interface KafkaBrokerInfo {
  id: number;
  host: string;
  /** PLAINTEXT listener port. */
  port: number;
  /** SASL_PLAINTEXT (PLAIN) listener port. */
  saslPort: number;
  controllerPort: number;
  /** SSL listener port (absent in clusters started by an older harness). */
  sslPort?: number;
  /** SASL_SSL listener port (absent in clusters started by an older harness). */
  saslSslPort?: number;
  /** SSL listener that requires a client certificate (absent in clusters started by an older harness). */
  mtlsPort?: number;
  rack: string;
}

/** Everything needed to use (or attach to) a running cluster; JSON-serialisable. */
export interface KafkaClusterInfo {
  version: string;
  clusterId: string;
  dir: string;
  /** "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094" */
  bootstrapServers: string;
  /** "127.0.0.1:19192,127.0.0.1:19193,127.0.0.1:19194" */
  saslBootstrapServers: string;
  /** SSL listeners, "127.0.0.1:19392,..." (absent in clusters started by an older harness). */
  sslBootstrapServers?: string;
  /** SASL_SSL listeners, "127.0.0.1:19492,..." (absent in clusters started by an older harness). */
  saslSslBootstrapServers?: string;
  /** SSL listeners requiring a client certificate, "127.0.0.1:19592,..." (absent in older clusters). */
  mtlsBootstrapServers?: string;
  /** PEM certificate of the CA that signed the brokers' certificates (and the client certificate). */
  caFile?: string;
  /** A client certificate (CN kgate-test-client) the brokers accept, and its key (PEM). */
  clientCertFile?: string;
  /** The key of `clientCertFile`. */
  clientKeyFile?: string;
  brokers: KafkaBrokerInfo[];
  /** java -cp value: "<tests/kafka/libs/<version>>/*" */
  classpath: string;
}

export interface KafkaClusterOptions {
  /** Default: env KAFKA_VERSION, else the pom.xml default. */
  version?: string;
  /** Default: env KGATE_KAFKA_PORT_BASE, else 19092. */
  portBase?: number;
  /** Default 120 s. */
  startTimeoutMs?: number;
  /** Extra / overriding broker properties. */
  config?: Record<string, string>;
}

export interface StopBrokerOptions {
  /** SIGKILL instead of SIGTERM (no controlled shutdown). */
  kill?: boolean;
  /** How long to wait for exit after SIGTERM before SIGKILL (default 60 s). */
  timeoutMs?: number;
}

export interface StartBrokerOptions {
  /** Default 120 s. */
  timeoutMs?: number;
}

export interface JavaOptions extends RunOptions {
  /** JVM flags replacing the harness defaults (heap, GC, JIT); classpath and logging are always set. */
  jvmArgs?: string[];
}

export interface CreateTopicOptions {
  configs?: Record<string, string>;
  /** Do not fail when the topic exists already. */
  ifNotExists?: boolean;
  /** Wait until every live broker knows all partition leaders (default 30 s). */
  timeoutMs?: number;
}

/** Light JVM flags: the test machine has 2 cores, so no C2 / parallel GC threads competing at startup. */
const BROKER_JVM = [
  "-Xms128m",
  "-Xmx512m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-XX:-UsePerfData",
  "-XX:+ExitOnOutOfMemoryError",
  "-Xshare:auto",
  "-Djava.awt.headless=true",
];
const TOOL_JVM = [
  "-Xmx256m",
  "-XX:+UseSerialGC",
  "-XX:TieredStopAtLevel=1",
  "-XX:-UsePerfData",
  "-Xshare:auto",
  "-Djava.awt.headless=true",
];

function javaBin(): string {
  const home = Deno.env.get("JAVA_HOME");
  return home ? `${home}/bin/java` : "java";
}

function tmpRoot(): string {
  return Deno.env.get("TMPDIR") || "/tmp";
}

function envPortBase(): number {
  const v = Deno.env.get("KGATE_KAFKA_PORT_BASE");
  return v ? parseInt(v, 10) : DEFAULT_PORT_BASE;
}

function lockPath(portBase: number): string {
  return `${tmpRoot()}/kgate-test-kafka-${portBase}.json`;
}

interface LockFile {
  ownerPid: number;
  dir: string;
  info?: KafkaClusterInfo;
}

/** Kafka's Uuid string form: 16 random bytes, base64url without padding, not starting with '-'. */
function randomKafkaUuid(): string {
  for (;;) {
    const b = crypto.getRandomValues(new Uint8Array(16));
    const s = btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    if (!s.startsWith("-") && !/^A{21}[AQ]$/.test(s)) return s;
  }
}

const LAUNCH_SH = `#!/bin/sh
# usage: launch.sh PIDFILE LOGFILE cmd args...  (run under setsid; becomes cmd via exec)
pidfile=$1; log=$2; shift 2
echo $$ > "$pidfile.tmp" && mv "$pidfile.tmp" "$pidfile"
exec "$@" >>"$log" 2>&1 </dev/null
`;

const WATCHDOG_SH = `#!/bin/sh
# usage: watchdog.sh OWNER_PID CLUSTER_DIR LOCKFILE
# Kills the cluster's brokers and removes its dir once the owner process is gone.
owner=$1; dir=$2; lock=$3
alive() { s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1); [ -n "$s" ] && [ "$s" != Z ]; }
while [ -d "$dir" ] && alive "$owner"; do sleep 1; done
[ -d "$dir" ] || exit 0
[ -f "$dir/.keep" ] && exit 0
for f in "$dir"/broker-*.pid; do
  [ -f "$f" ] || continue
  pid=$(cat "$f")
  if tr '\\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$dir"; then kill -9 "$pid" 2>/dev/null; fi
done
sleep 1
rm -rf "$dir"
if [ -f "$lock" ] && grep -qF -- "$dir" "$lock"; then rm -f "$lock"; fi
`;

const BROKER_LOG4J2 = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDOUT" target="SYSTEM_OUT"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers>
    <Root level="INFO"><AppenderRef ref="STDOUT"/></Root>
    <Logger name="kafka.request.logger" level="WARN"/>
    <Logger name="state.change.logger" level="WARN"/>
    <Logger name="org.apache.kafka.clients" level="WARN"/>
    <Logger name="org.apache.kafka.common.utils.AppInfoParser" level="WARN"/>
  </Loggers>
</Configuration>
`;
const TOOLS_LOG4J2 = `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="STDERR" target="SYSTEM_ERR"><PatternLayout pattern="[%d] %p %m (%c)%n"/></Console>
  </Appenders>
  <Loggers><Root level="WARN"><AppenderRef ref="STDERR"/></Root></Loggers>
</Configuration>
`;
const BROKER_LOG4J = `log4j.rootLogger=INFO, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.org.apache.kafka.clients=WARN
`;
const TOOLS_LOG4J = `log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
`;

/** The broker-side TLS files: CA certificate, and a key-store file (key, then certificate). */
interface BrokerTlsFiles {
  caFile: string;
  keyStoreFile: string;
}

/** Makes the test CA and one broker certificate (SANs localhost, 127.0.0.1) in `dir`/tls. */
async function makeBrokerTls(dir: string): Promise<BrokerTlsFiles> {
  const ca = await makeTestCa(`${dir}/tls`, "kgate test Kafka CA");
  const leaf = await makeLeafCert(ca, {
    commonName: "localhost",
    subjectAltNames: ["DNS:localhost", "IP:127.0.0.1"],
    name: "broker",
  });
  await makeLeafCert(ca, { commonName: "kgate-test-client", usage: "client", name: "client" });
  const keyStoreFile = `${ca.dir}/broker-keystore.pem`;
  await Deno.writeTextFile(
    keyStoreFile,
    (await Deno.readTextFile(leaf.keyFile)) + (await Deno.readTextFile(leaf.certFile)),
  );
  return { caFile: ca.certFile, keyStoreFile };
}

const PLAIN_MODULE = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM_MODULE = "org.apache.kafka.common.security.scram.ScramLoginModule";
const OAUTH_MODULE = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

function plainServerJaas(): string {
  return `${PLAIN_MODULE} required username="admin" password="admin-secret"` +
    Object.entries(SASL_USERS).map(([u, p]) => ` user_${u}="${p}"`).join("") + ";";
}

function brokerProperties(
  b: KafkaBrokerInfo,
  all: KafkaBrokerInfo[],
  dir: string,
  version: string,
  extra: Record<string, string>,
  tls?: BrokerTlsFiles,
): string {
  const tlsListeners = tls && b.sslPort && b.saslSslPort && b.mtlsPort
    ? `,SSL://${HOST}:${b.sslPort},SASL_SSL://${HOST}:${b.saslSslPort},MTLS://${HOST}:${b.mtlsPort}`
    : "";
  const props: Record<string, string> = {
    "process.roles": "broker,controller",
    "node.id": String(b.id),
    "controller.quorum.voters": all.map((x) => `${x.id}@${HOST}:${x.controllerPort}`).join(","),
    "listeners":
      `PLAINTEXT://${HOST}:${b.port},SASL_PLAINTEXT://${HOST}:${b.saslPort},CONTROLLER://${HOST}:${b.controllerPort}` +
      tlsListeners,
    "advertised.listeners": `PLAINTEXT://${HOST}:${b.port},SASL_PLAINTEXT://${HOST}:${b.saslPort}` +
      tlsListeners,
    "listener.security.protocol.map":
      "PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT,SSL:SSL,SASL_SSL:SASL_SSL,MTLS:SSL",
    "controller.listener.names": "CONTROLLER",
    "inter.broker.listener.name": "PLAINTEXT",
    "sasl.enabled.mechanisms": "PLAIN",
    "listener.name.sasl_plaintext.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
    "listener.name.sasl_plaintext.plain.sasl.jaas.config": plainServerJaas(),
    "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config": `${SCRAM_MODULE} required;`,
    "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config": `${SCRAM_MODULE} required;`,
    "broker.rack": b.rack,
    "log.dirs": `${dir}/data-${b.id}`,
    "auto.create.topics.enable": "true",
    "num.partitions": "1",
    "default.replication.factor": "3",
    "min.insync.replicas": "1",
    "offsets.topic.replication.factor": "3",
    "offsets.topic.num.partitions": "3",
    "transaction.state.log.replication.factor": "3",
    "transaction.state.log.min.isr": "2",
    "transaction.state.log.num.partitions": "3",
    "group.initial.rebalance.delay.ms": "0",
    // quicker unfencing after (re)start and quicker fencing of a killed broker
    "broker.heartbeat.interval.ms": "500",
    "broker.session.timeout.ms": "4000",
    // fewer threads and buffers: 3 JVMs share 2 cores
    "num.network.threads": "2",
    "num.io.threads": "4",
    "background.threads": "2",
    "num.recovery.threads.per.data.dir": "1",
    "num.replica.fetchers": "1",
    "log.cleaner.threads": "1",
    "log.cleaner.dedupe.buffer.size": "8388608",
    "log.segment.bytes": "67108864",
  };
  if (kafkaMajor(version) >= 4) {
    props["share.coordinator.state.topic.replication.factor"] = "3";
    props["share.coordinator.state.topic.min.isr"] = "2";
    props["share.coordinator.state.topic.num.partitions"] = "3";
  }
  if (tls) {
    Object.assign(props, {
      "ssl.keystore.type": "PEM",
      "ssl.keystore.location": tls.keyStoreFile,
      "ssl.truststore.type": "PEM",
      "ssl.truststore.location": tls.caFile,
      // Clients may present a certificate; only the MTLS listener requires one.
      "ssl.client.auth": "requested",
      "listener.name.mtls.ssl.client.auth": "required",
      "listener.name.sasl_ssl.sasl.enabled.mechanisms": "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512,OAUTHBEARER",
      "listener.name.sasl_ssl.plain.sasl.jaas.config": plainServerJaas(),
      "listener.name.sasl_ssl.scram-sha-256.sasl.jaas.config": `${SCRAM_MODULE} required;`,
      "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": `${SCRAM_MODULE} required;`,
      // No JWKS / callback handler configured: Kafka validates unsecured JWTs (alg "none"), whose `sub`
      // becomes the principal.
      "listener.name.sasl_ssl.oauthbearer.sasl.jaas.config":
        `${OAUTH_MODULE} required unsecuredLoginStringClaim_sub="admin";`,
    });
  }
  Object.assign(props, extra);
  return Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
}

/** `--add-scram` arguments of `StorageTool format`: every SASL user, for each SCRAM mechanism. */
function scramFormatArgs(): string[] {
  return SCRAM_MECHANISMS.flatMap((m) =>
    Object.entries(SASL_USERS).flatMap(([name, password]) => [
      "--add-scram",
      `${m}=[name=${name},password=${password}]`,
    ])
  );
}

/** Reads the new bytes of a growing log file and looks for a pattern (robust to chunk boundaries). */
class LogWatcher {
  private carry = "";
  constructor(private path: string, private offset: number) {}
  async sawPattern(re: RegExp): Promise<boolean> {
    let f: Deno.FsFile;
    try {
      f = await Deno.open(this.path, { read: true });
    } catch {
      return false;
    }
    try {
      await f.seek(this.offset, Deno.SeekMode.Start);
      const buf = new Uint8Array(256 * 1024);
      for (;;) {
        const n = await f.read(buf);
        if (n === null || n === 0) break;
        this.offset += n;
        const text = this.carry + new TextDecoder().decode(buf.subarray(0, n));
        if (re.test(text)) return true;
        this.carry = text.slice(-400);
      }
      return false;
    } finally {
      f.close();
    }
  }
}

function fileSize(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
  }
}

export class KafkaCluster {
  readonly info: KafkaClusterInfo;

  private constructor(info: KafkaClusterInfo) {
    this.info = info;
  }

  /** Attaches to a cluster started elsewhere (any process). */
  static fromInfo(info: KafkaClusterInfo): KafkaCluster {
    return new KafkaCluster(info);
  }

  /** Formats and starts a fresh 3-broker cluster and waits until all brokers serve. */
  static async start(opts: KafkaClusterOptions = {}): Promise<KafkaCluster> {
    const version = opts.version ?? defaultKafkaVersion();
    const portBase = opts.portBase ?? envPortBase();
    const timeoutMs = opts.startTimeoutMs ?? 120_000;
    const libDir = await ensureKafkaJars(version);

    const attached = await KafkaCluster.checkLock(portBase);
    if (attached) return attached;

    const brokers: KafkaBrokerInfo[] = BROKER_IDS.map((id, i) => ({
      id,
      host: HOST,
      port: portBase + i,
      saslPort: portBase + 100 + i,
      controllerPort: portBase + 200 + i,
      sslPort: portBase + 300 + i,
      saslSslPort: portBase + 400 + i,
      mtlsPort: portBase + 500 + i,
      rack: RACKS[i],
    }));
    const busy = brokers.flatMap((
      b,
    ) => [b.port, b.saslPort, b.controllerPort, b.sslPort!, b.saslSslPort!, b.mtlsPort!])
      .filter((p) => !portFree(p));
    if (busy.length) {
      throw new Error(
        `Kafka test cluster: ports ${busy.join(", ")} on ${HOST} are in use. ` +
          `Stop whatever uses them, or set KGATE_KAFKA_PORT_BASE (e.g. 29092) to use other ports.`,
      );
    }

    const dir = await Deno.makeTempDir({ prefix: "kgate-kafka-" });
    const info: KafkaClusterInfo = {
      version,
      clusterId: randomKafkaUuid(),
      dir,
      bootstrapServers: brokers.map((b) => `${HOST}:${b.port}`).join(","),
      saslBootstrapServers: brokers.map((b) => `${HOST}:${b.saslPort}`).join(","),
      sslBootstrapServers: brokers.map((b) => `${HOST}:${b.sslPort}`).join(","),
      saslSslBootstrapServers: brokers.map((b) => `${HOST}:${b.saslSslPort}`).join(","),
      mtlsBootstrapServers: brokers.map((b) => `${HOST}:${b.mtlsPort}`).join(","),
      caFile: `${dir}/tls/ca.pem`,
      clientCertFile: `${dir}/tls/client.pem`,
      clientKeyFile: `${dir}/tls/client.key`,
      brokers,
      classpath: `${libDir}/*`,
    };
    const cluster = new KafkaCluster(info);
    const lock = lockPath(portBase);
    await Deno.writeTextFile(lock, JSON.stringify({ ownerPid: Deno.pid, dir, info } satisfies LockFile));
    try {
      await Deno.writeTextFile(`${dir}/launch.sh`, LAUNCH_SH);
      await Deno.writeTextFile(`${dir}/watchdog.sh`, WATCHDOG_SH);
      await Deno.writeTextFile(`${dir}/log4j2.xml`, BROKER_LOG4J2);
      await Deno.writeTextFile(`${dir}/tools-log4j2.xml`, TOOLS_LOG4J2);
      await Deno.writeTextFile(`${dir}/log4j.properties`, BROKER_LOG4J);
      await Deno.writeTextFile(`${dir}/tools-log4j.properties`, TOOLS_LOG4J);
      await Deno.writeTextFile(`${dir}/cluster.json`, JSON.stringify(info, null, 2));
      // The watchdog outlives us: it cleans up if this process dies without calling stop().
      await runCommand("sh", [
        "-c",
        'setsid sh "$@" </dev/null >/dev/null 2>&1 &',
        "sh",
        `${dir}/watchdog.sh`,
        String(Deno.pid),
        dir,
        lock,
      ], { timeoutMs: 10_000 });

      const tls = await makeBrokerTls(dir);
      for (const b of brokers) {
        const props = `${dir}/broker-${b.id}.properties`;
        await Deno.writeTextFile(props, brokerProperties(b, brokers, dir, version, opts.config ?? {}, tls));
        const argv = [
          javaBin(),
          ...(Deno.env.get("KGATE_KAFKA_JVM_OPTS")?.trim().split(/\s+/) ?? BROKER_JVM),
          ...cluster.loggingFlags(false),
          `-Dkgate.cluster.dir=${dir}`,
          "-cp",
          info.classpath,
          "kafka.Kafka",
          props,
        ];
        await Deno.writeTextFile(`${dir}/broker-${b.id}.cmd.json`, JSON.stringify({ argv }, null, 2));
      }

      // Format all storage dirs (in parallel) with the same cluster id.
      const formats = await Promise.all(brokers.map((b) =>
        cluster.runJava(
          "kafka.tools.StorageTool",
          ["format", "-t", info.clusterId, "-c", `${dir}/broker-${b.id}.properties`, ...scramFormatArgs()],
          { timeoutMs: 90_000 },
        )
      ));
      formats.forEach((r, i) => {
        if (!r.success) {
          throw new Error(
            `kafka.tools.StorageTool format for broker ${brokers[i].id} failed (code ${r.code}${
              r.timedOut ? ", timed out" : ""
            }):\n${r.stdout}\n${r.stderr}`,
          );
        }
      });

      const offsets = new Map<number, number>();
      for (const b of brokers) {
        offsets.set(b.id, fileSize(cluster.brokerLogPath(b.id)));
        await cluster.spawnBroker(b.id);
      }
      await cluster.waitReady(offsets, timeoutMs);
      return cluster;
    } catch (e) {
      cluster.stopSync();
      throw e;
    }
  }

  /**
   * Handles the lock file of a port base: attaches when this very process owns a running cluster there,
   * cleans up after a dead owner, refuses when another live process owns it.
   */
  private static async checkLock(portBase: number): Promise<KafkaCluster | null> {
    const path = lockPath(portBase);
    let lock: LockFile;
    try {
      lock = JSON.parse(await Deno.readTextFile(path));
    } catch {
      return null;
    }
    const ownerIsDeno = pidAlive(lock.ownerPid) && (pidCmdline(lock.ownerPid) ?? "").includes("deno");
    if (ownerIsDeno && lock.ownerPid === Deno.pid && lock.info) return KafkaCluster.fromInfo(lock.info);
    if (ownerIsDeno) {
      throw new Error(
        `Kafka test cluster ports ${portBase}.. belong to the cluster of running process ${lock.ownerPid} ` +
          `(${lock.dir}). Let it finish, or set KGATE_KAFKA_PORT_BASE (e.g. 29092) to use other ports.`,
      );
    }
    // Stale: its owner died. Kill its brokers and remove its dir.
    if (lock.info) KafkaCluster.fromInfo(lock.info).stopSync();
    else {
      try {
        Deno.removeSync(lock.dir, { recursive: true });
      } catch { /* gone */ }
    }
    try {
      Deno.removeSync(path);
    } catch { /* gone */ }
    await sleep(500);
    return null;
  }

  get version(): string {
    return this.info.version;
  }
  get dir(): string {
    return this.info.dir;
  }
  get bootstrapServers(): string {
    return this.info.bootstrapServers;
  }
  get saslBootstrapServers(): string {
    return this.info.saslBootstrapServers;
  }
  /** SSL listeners (throws for a cluster started by an older harness). */
  get sslBootstrapServers(): string {
    if (!this.info.sslBootstrapServers) throw new Error("this test cluster has no SSL listeners");
    return this.info.sslBootstrapServers;
  }
  /** SASL_SSL listeners (throws for a cluster started by an older harness). */
  get saslSslBootstrapServers(): string {
    if (!this.info.saslSslBootstrapServers) throw new Error("this test cluster has no SASL_SSL listeners");
    return this.info.saslSslBootstrapServers;
  }
  /** The CA certificate of the brokers' TLS listeners. */
  get caFile(): string {
    if (!this.info.caFile) throw new Error("this test cluster has no TLS listeners");
    return this.info.caFile;
  }
  get brokers(): KafkaBrokerInfo[] {
    return this.info.brokers;
  }

  /** Main classes of the Kafka tools for this cluster's version. */
  get tools(): KafkaToolClasses {
    return kafkaToolClasses(this.info.version);
  }

  /**
   * Writes Java client properties to a file in the cluster dir (for --producer.config,
   * --consumer.config, --command-config, ...) and returns its path.
   */
  async writeClientProperties(props: Record<string, string>): Promise<string> {
    const text = Object.entries(props).map(([k, v]) => `${k}=${v}`).join("\n") + "\n";
    const path = `${this.info.dir}/client-${crypto.randomUUID()}.properties`;
    await Deno.writeTextFile(path, text);
    return path;
  }

  broker(id: number): KafkaBrokerInfo {
    const b = this.info.brokers.find((x) => x.id === id);
    if (!b) throw new Error(`no broker ${id} (have ${this.info.brokers.map((x) => x.id).join(", ")})`);
    return b;
  }

  brokerLogPath(id: number): string {
    return `${this.info.dir}/broker-${id}.log`;
  }

  private pidPath(id: number): string {
    return `${this.info.dir}/broker-${id}.pid`;
  }

  /** The pid of a running broker, or null. */
  brokerPid(id: number): number | null {
    let pid: number;
    try {
      pid = parseInt(Deno.readTextFileSync(this.pidPath(id)).trim(), 10);
    } catch {
      return null;
    }
    if (!pid || !pidAlive(pid)) return null;
    return (pidCmdline(pid) ?? "").includes(this.info.dir) ? pid : null;
  }

  isBrokerRunning(id: number): boolean {
    return this.brokerPid(id) !== null;
  }

  /** Ids of the brokers whose process is running. */
  runningBrokers(): number[] {
    return this.info.brokers.map((b) => b.id).filter((id) => this.isBrokerRunning(id));
  }

  /** The last `lines` lines of a broker's log. */
  logTail(id: number, lines = 40): string {
    try {
      const path = this.brokerLogPath(id);
      const size = fileSize(path);
      const f = Deno.openSync(path, { read: true });
      try {
        const start = Math.max(0, size - 64 * 1024);
        f.seekSync(start, Deno.SeekMode.Start);
        const buf = new Uint8Array(size - start);
        let got = 0;
        while (got < buf.length) {
          const n = f.readSync(buf.subarray(got));
          if (!n) break;
          got += n;
        }
        return new TextDecoder().decode(buf.subarray(0, got)).split("\n").slice(-lines - 1).join("\n");
      } finally {
        f.close();
      }
    } catch (e) {
      return `(no log: ${e instanceof Error ? e.message : e})`;
    }
  }

  private logTails(ids: number[], lines = 25): string {
    return ids.map((id) =>
      `--- broker ${id} log tail (${this.brokerLogPath(id)}) ---\n${this.logTail(id, lines)}`
    )
      .join("\n");
  }

  private loggingFlags(tools: boolean): string[] {
    const d = this.info.dir;
    return tools
      ? [
        `-Dlog4j2.configurationFile=${d}/tools-log4j2.xml`,
        `-Dlog4j.configuration=file:${d}/tools-log4j.properties`,
      ]
      : [`-Dlog4j2.configurationFile=${d}/log4j2.xml`, `-Dlog4j.configuration=file:${d}/log4j.properties`];
  }

  /** Spawns the broker process detached (own session) and waits for its pidfile. */
  private async spawnBroker(id: number): Promise<number> {
    const { argv } = JSON.parse(await Deno.readTextFile(`${this.info.dir}/broker-${id}.cmd.json`)) as {
      argv: string[];
    };
    const pidFile = this.pidPath(id);
    await Deno.remove(pidFile).catch(() => {});
    const r = await runCommand("sh", [
      "-c",
      'setsid sh "$@" </dev/null >/dev/null 2>&1 &',
      "sh",
      `${this.info.dir}/launch.sh`,
      pidFile,
      this.brokerLogPath(id),
      ...argv,
    ], { timeoutMs: 10_000 });
    if (!r.success) throw new Error(`spawning broker ${id} failed: ${r.stderr}`);
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const pid = this.brokerPid(id);
      if (pid) return pid;
      await sleep(50);
    }
    throw new Error(`broker ${id} did not start (no live pid in ${pidFile})\n${this.logTails([id])}`);
  }

  /**
   * Waits until every broker in `offsets` logged "Kafka Server started" after its offset, and every
   * running broker's Metadata lists all running brokers.
   */
  private async waitReady(offsets: Map<number, number>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const watchers = new Map(
      [...offsets].map(([id, off]) => [id, new LogWatcher(this.brokerLogPath(id), off)]),
    );
    const started = new Set<number>();
    let lastProblem = "";
    while (Date.now() < deadline) {
      for (const [id, w] of watchers) {
        if (started.has(id)) continue;
        if (await w.sawPattern(/Kafka Server started/)) started.add(id);
        else if (!this.isBrokerRunning(id)) {
          throw new Error(`Kafka broker ${id} exited during startup\n${this.logTails([id], 60)}`);
        }
      }
      if (started.size === watchers.size) {
        const running = this.runningBrokers();
        const problems: string[] = [];
        for (const id of running) {
          try {
            const md = await fetchMetadata(`${HOST}:${this.broker(id).port}`, [], 5_000);
            const seen = md.brokers.map((b) => b.nodeId).sort();
            if (running.some((r) => !seen.includes(r))) {
              problems.push(`broker ${id} lists [${seen}], want [${running}]`);
            }
          } catch (e) {
            problems.push(e instanceof Error ? e.message : String(e));
          }
        }
        if (!problems.length) return;
        lastProblem = problems.join("; ");
      } else {
        lastProblem = `waiting for "Kafka Server started" from broker(s) ${
          [...watchers.keys()].filter((id) => !started.has(id)).join(", ")
        }`;
      }
      await sleep(200);
    }
    throw new Error(
      `Kafka cluster not ready after ${timeoutMs} ms (${lastProblem})\n${this.logTails([...offsets.keys()])}`,
    );
  }

  /** Waits until every running broker's Metadata lists exactly `ids` (e.g. after a stop). */
  async waitForBrokers(ids: number[], timeoutMs = 30_000): Promise<void> {
    const want = [...ids].sort().join(",");
    const deadline = Date.now() + timeoutMs;
    let last = "";
    while (Date.now() < deadline) {
      let ok = true;
      for (const id of this.runningBrokers()) {
        try {
          const md = await fetchMetadata(`${HOST}:${this.broker(id).port}`, [], 5_000);
          const got = md.brokers.map((b) => b.nodeId).sort().join(",");
          if (got !== want) {
            ok = false;
            last = `broker ${id} lists [${got}]`;
          }
        } catch (e) {
          ok = false;
          last = e instanceof Error ? e.message : String(e);
        }
      }
      if (ok) return;
      await sleep(200);
    }
    throw new Error(`brokers [${want}] not seen in Metadata after ${timeoutMs} ms: ${last}`);
  }

  /** Stops one broker (SIGTERM = controlled shutdown, or SIGKILL) and waits for the process to exit. */
  async stopBroker(id: number, opts: StopBrokerOptions = {}): Promise<void> {
    this.broker(id);
    const pid = this.brokerPid(id);
    if (pid === null) return;
    signalPid(pid, opts.kill ? "SIGKILL" : "SIGTERM");
    if (!await waitPidExit(pid, opts.timeoutMs ?? 60_000)) {
      signalPid(pid, "SIGKILL");
      if (!await waitPidExit(pid, 15_000)) throw new Error(`broker ${id} (pid ${pid}) does not exit`);
    }
    await Deno.remove(this.pidPath(id)).catch(() => {});
  }

  /** Starts a stopped broker with its original command line and waits until it serves again. */
  async startBroker(id: number, opts: StartBrokerOptions = {}): Promise<void> {
    this.broker(id);
    if (this.isBrokerRunning(id)) return;
    const offset = fileSize(this.brokerLogPath(id));
    await this.spawnBroker(id);
    await this.waitReady(new Map([[id, offset]]), opts.timeoutMs ?? 120_000);
  }

  /** Starts every stopped broker (e.g. in a test's `finally`) and waits until all serve. */
  async startAllBrokers(opts: StartBrokerOptions = {}): Promise<void> {
    const stopped = this.info.brokers.map((b) => b.id).filter((id) => !this.isBrokerRunning(id));
    if (!stopped.length) return;
    const offsets = new Map(stopped.map((id) => [id, fileSize(this.brokerLogPath(id))]));
    for (const id of stopped) await this.spawnBroker(id);
    await this.waitReady(offsets, opts.timeoutMs ?? 120_000);
  }

  /** Kills all brokers and removes the cluster dir (env KGATE_KAFKA_KEEP=1 keeps the dir). */
  async stop(): Promise<void> {
    const pids = this.info.brokers.map((b) => this.brokerPid(b.id)).filter((p): p is number => p !== null);
    for (const pid of pids) signalPid(pid, "SIGKILL");
    await Promise.all(pids.map((pid) => waitPidExit(pid, 15_000)));
    this.cleanupFiles();
  }

  /** Synchronous `stop()` for unload handlers (does not wait for the processes to exit). */
  stopSync(): void {
    for (const b of this.info.brokers) {
      const pid = this.brokerPid(b.id);
      if (pid !== null) signalPid(pid, "SIGKILL");
    }
    this.cleanupFiles();
  }

  private cleanupFiles(): void {
    if (Deno.env.get("KGATE_KAFKA_KEEP") === "1") {
      try {
        Deno.writeTextFileSync(`${this.info.dir}/.keep`, "");
      } catch { /* gone */ }
    } else {
      for (let i = 0; i < 3; i++) {
        try {
          Deno.removeSync(this.info.dir, { recursive: true });
          break;
        } catch (e) {
          if (e instanceof Deno.errors.NotFound) break;
        }
      }
    }
    const port = this.info.brokers[0]?.port;
    if (port === undefined) return;
    try {
      const lock = JSON.parse(Deno.readTextFileSync(lockPath(port))) as LockFile;
      if (lock.dir === this.info.dir) Deno.removeSync(lockPath(port));
    } catch { /* none */ }
  }

  /** Metadata (v4) from one broker (default: the first running one); `topics` null = all. */
  async metadata(topics: string[] | null = null, brokerId?: number): Promise<Metadata> {
    const id = brokerId ?? this.runningBrokers()[0];
    if (id === undefined) throw new Error("no running broker");
    return await fetchMetadata(`${HOST}:${this.broker(id).port}`, topics);
  }

  /**
   * Creates a topic (CreateTopics via a running broker) and waits until every running broker knows
   * a leader for every partition.
   */
  async createTopic(name: string, partitions = 1, replicationFactor = 3, opts: CreateTopicOptions = {}) {
    const id = this.runningBrokers()[0];
    if (id === undefined) throw new Error("no running broker");
    const [res] = await createTopicsRequest(`${HOST}:${this.broker(id).port}`, [
      { name, partitions, replicationFactor, configs: opts.configs },
    ]);
    if (
      res.errorCode !== ErrorCode.NONE &&
      !(opts.ifNotExists && res.errorCode === ErrorCode.TOPIC_ALREADY_EXISTS)
    ) {
      throw new Error(`CreateTopics ${name} failed: error ${res.errorCode} ${res.errorMessage ?? ""}`);
    }
    const deadline = Date.now() + (opts.timeoutMs ?? 30_000);
    let last = "";
    while (Date.now() < deadline) {
      let ok = true;
      for (const bid of this.runningBrokers()) {
        try {
          const md = await fetchMetadata(`${HOST}:${this.broker(bid).port}`, [name], 5_000);
          const t = md.topics.find((x) => x.name === name);
          if (
            !t || t.errorCode !== 0 || t.partitions.length < partitions ||
            t.partitions.some((p) => p.leader < 0)
          ) {
            ok = false;
            last = `broker ${bid}: ${JSON.stringify(t)}`;
          }
        } catch (e) {
          ok = false;
          last = e instanceof Error ? e.message : String(e);
        }
      }
      if (ok) return;
      await sleep(100);
    }
    throw new Error(`topic ${name} not ready: ${last}`);
  }

  /** Deletes topics; unknown topics are ignored. */
  async deleteTopic(...names: string[]): Promise<void> {
    const id = this.runningBrokers()[0];
    if (id === undefined) throw new Error("no running broker");
    const res = await deleteTopicsRequest(`${HOST}:${this.broker(id).port}`, names);
    const bad = res.filter((r) => r.errorCode !== 0 && r.errorCode !== ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    if (bad.length) throw new Error(`DeleteTopics failed: ${JSON.stringify(bad)}`);
  }

  /**
   * Runs a Java main class from the Kafka jars (e.g. org.apache.kafka.tools.ProducerPerformance) with
   * quiet logging (WARN to stderr). Default timeout 120 s; the JVM is killed on timeout.
   */
  async runJava(mainClass: string, args: string[], opts: JavaOptions = {}): Promise<RunResult> {
    const argv = [
      ...(opts.jvmArgs ?? TOOL_JVM),
      ...this.loggingFlags(true),
      "-cp",
      this.info.classpath,
      mainClass,
      ...args,
    ];
    return await runCommand(javaBin(), argv, { timeoutMs: 120_000, ...opts });
  }
}
