/**
 * kgate in front of TLS brokers (the harness's SSL and SASL_SSL listeners), through real gateway
 * processes: the gateway's own connections with each of its SASL mechanisms (discovery, membership, the
 * audit topic), clients' own SASL passed through inside upstream TLS (kcat PLAIN, kafkajs
 * SCRAM-SHA-512, a wrong password), plaintext clients with KAFKA_SECURITY_PROTOCOL=SSL, and refused
 * upstream certificates (unknown CA, host name mismatch) named in the log.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import {
  createTopic,
  type KafkaCluster,
  kafkaMajor,
  kcatSaslArgs,
  runKcat,
  testKafka,
  uniqueTopic,
} from "../harness/mod.ts";
import { makeLeafCert, makeTestCa, type TestCa } from "../support/certs.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { quietKafkajsTimerWarnings } from "../support/kafkajs.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";
import { closeQuietly } from "../../src/lib/close.ts";

quietKafkajsTimerWarnings();

const [
  PLAIN_HOST,
  SCRAM256_HOST,
  SCRAM512_A,
  SCRAM512_B,
  OAUTH_HOST,
  SSL_HOST,
  BAD_CA_HOST,
  MISMATCH_HOST,
  RELAY_HOST,
  MTLS_HOST,
  SASL_PLAINTEXT_HOST,
] = loopbackHosts("upstream_security", 11);

const PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule";
const OAUTH = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";
const AUTH = { Authorization: `Basic ${btoa("admin:kgate")}` };

function tlsKafka(kafka: KafkaCluster): Required<Pick<KafkaCluster["info"], "caFile">> {
  if (!kafka.info.caFile || !kafka.info.saslSslBootstrapServers) {
    throw new Error(
      "this test cluster has no TLS listeners (started by an older harness): run with your own cluster",
    );
  }
  return { caFile: kafka.info.caFile };
}

/** Env of a node whose own connections log in to the SASL_SSL listeners with `mechanism`. */
function saslSslEnv(kafka: KafkaCluster, mechanism: string, jaas: string): Record<string, string> {
  return {
    KAFKA_BOOTSTRAP_SERVERS: kafka.saslSslBootstrapServers,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SSL_CA_FILE: tlsKafka(kafka).caFile,
    KAFKA_SASL_MECHANISM: mechanism,
    KAFKA_SASL_JAAS_CONFIG: jaas,
  };
}

async function api<T>(gateway: GatewayProcess, path: string): Promise<T> {
  const res = await fetch(`${gateway.httpUrl}${path}`, { headers: AUTH });
  assert.equal(res.status, 200, path);
  return await res.json() as T;
}

/** The node discovered every broker at its SASL_SSL port, and hides its JAAS line. */
async function assertDiscovered(gateway: GatewayProcess, kafka: KafkaCluster): Promise<void> {
  const { brokers } = await api<{ brokers: { id: number; port: number }[] }>(gateway, "/api/v1/brokers");
  assert.deepEqual(
    brokers.map((b) => `${b.id}:${b.port}`).sort(),
    kafka.brokers.map((b) => `${b.id}:${b.saslSslPort}`).sort(),
  );
  const config = await api<Record<string, unknown>>(gateway, "/api/v1/config");
  assert.equal(config.KAFKA_SASL_JAAS_CONFIG, "<redacted>");
}

/** Waits until `gateway` sees exactly `ids` in its gateway cluster. */
async function assertMembers(gateway: GatewayProcess, ids: string[]): Promise<void> {
  await waitUntil(
    async () => {
      const view = await api<{ members: { id: string }[] }>(gateway, "/api/v1/cluster");
      const seen = view.members.map((m) => m.id).sort();
      return seen.join(",") === [...ids].sort().join(",") ? seen : undefined;
    },
    30_000,
    `gateway members ${ids}`,
    500,
  );
}

/** The node wrote CONNECTION entries to its audit topic (read back over the SSL listener). */
async function assertAuditWritten(gateway: GatewayProcess, kafka: KafkaCluster): Promise<void> {
  // A client connection through the node makes CONNECTION entries.
  const listed = await runKcat(["-L", "-b", gateway.bootstrap, ...kcatSaslArgs()]);
  assert.equal(listed.code, 0, listed.stderr);
  const config = await api<Record<string, string>>(gateway, "/api/v1/config");
  const topic = `_kgate_${config.GATEWAY_CLUSTER_ID}_auditlogs`;
  await waitUntil(
    async () => {
      const read = await runKcat([
        "-C",
        "-b",
        kafka.sslBootstrapServers,
        "-X",
        "security.protocol=ssl",
        "-X",
        `ssl.ca.location=${tlsKafka(kafka).caFile}`,
        "-t",
        topic,
        "-o",
        "beginning",
        "-e",
        "-q",
      ], { timeoutMs: 20_000 });
      return read.code === 0 && read.stdout.includes('"type":"CONNECTION"') ? true : undefined;
    },
    30_000,
    `CONNECTION entries in ${topic}`,
    500,
  );
}

async function stopped(gateway: GatewayProcess): Promise<void> {
  const status = await gateway.stop();
  assert.equal(status.code, 0, gateway.logs);
  assert.ok(!/alice-secret|admin-secret|wrong-password/.test(gateway.logs), "a password in the logs");
}

Deno.test({
  name:
    "upstream SASL_SSL, gateway's own PLAIN: discovery, audit; kcat PLAIN, Java OAUTHBEARER and SCRAM-SHA-512 " +
    "pass through; a wrong password reaches the client and the node keeps serving",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const gateway = await GatewayProcess.start({
      host: PLAIN_HOST,
      env: saslSslEnv(kafka, "PLAIN", `${PLAIN} required username="admin" password="admin-secret";`),
    });
    try {
      await gateway.waitUntilReady();
      await assertDiscovered(gateway, kafka);
      await assertAuditWritten(gateway, kafka);

      const topic = uniqueTopic("tls-plain");
      await createTopic(topic, 1, 3);
      const produced = await runKcat(["-P", "-b", gateway.bootstrap, "-t", topic, ...kcatSaslArgs()], {
        stdin: "one\ntwo\nthree\n",
      });
      assert.equal(produced.code, 0, produced.stderr);
      const denied = await runKcat(
        ["-L", "-b", gateway.bootstrap, ...kcatSaslArgs("alice", "wrong-password"), "-m", "5"],
        { timeoutMs: 20_000 },
      );
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /Authentication failed|SASL authentication error/i);
      // Kafka's Java client with its own OAUTHBEARER (unsecured JWT) and SCRAM-SHA-512 logins.
      for (
        const [mechanism, jaas, value] of [
          ["OAUTHBEARER", `${OAUTH} required unsecuredLoginStringClaim_sub="alice";`, "java-oauth"],
          ["SCRAM-SHA-512", `${SCRAM} required username="alice" password="alice-secret";`, "java-scram"],
        ]
      ) {
        const property = kafkaMajor(kafka.version) >= 4 ? "--command-property" : "--producer-property";
        const produced = await kafka.runJava(kafka.tools.consoleProducer, [
          "--bootstrap-server",
          gateway.bootstrap,
          "--topic",
          topic,
          property,
          "security.protocol=SASL_PLAINTEXT",
          property,
          `sasl.mechanism=${mechanism}`,
          property,
          `sasl.jaas.config=${jaas}`,
        ], { stdin: `${value}\n`, timeoutMs: 60_000 });
        assert.equal(produced.code, 0, `${mechanism}: ${produced.stderr}`);
      }
      const consumed = await runKcat([
        "-C",
        "-b",
        gateway.bootstrap,
        "-t",
        topic,
        "-e",
        "-q",
        ...kcatSaslArgs(),
      ]);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trim().split("\n"), [
        "one",
        "two",
        "three",
        "java-oauth",
        "java-scram",
      ]);
    } finally {
      await stopped(gateway);
    }
  },
});

Deno.test({
  name: "upstream SASL_SSL, gateway's own SCRAM-SHA-512: two nodes see each other; kafkajs SCRAM-SHA-512 " +
    "passes through, a wrong password is the broker's authentication error",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const env = {
      ...saslSslEnv(kafka, "SCRAM-SHA-512", `${SCRAM} required username="admin" password="admin-secret";`),
      GATEWAY_CLUSTER_ID: `tls-scram-${crypto.randomUUID().slice(0, 8)}`,
    };
    const [a, b] = await Promise.all([
      GatewayProcess.start({ host: SCRAM512_A, env }),
      GatewayProcess.start({ host: SCRAM512_B, env }),
    ]);
    try {
      await assertDiscovered(a, kafka);
      await assertMembers(a, [`${SCRAM512_A}:6969`, `${SCRAM512_B}:6969`]);
      await assertMembers(b, [`${SCRAM512_A}:6969`, `${SCRAM512_B}:6969`]);
      await assertAuditWritten(a, kafka);

      const topic = uniqueTopic("tls-scram");
      await createTopic(topic, 1, 3);
      const client = (password: string) =>
        new Kafka({
          clientId: "kgate-tls-scram",
          brokers: [a.bootstrap],
          sasl: { mechanism: "scram-sha-512", username: "alice", password },
          logLevel: logLevel.NOTHING,
          retry: { retries: 2, initialRetryTime: 200 },
        });
      const producer = client("alice-secret").producer();
      await producer.connect();
      try {
        await producer.send({ topic, messages: [{ value: "scram-1" }, { value: "scram-2" }] });
      } finally {
        await producer.disconnect();
      }
      const consumed = await runKcat(["-C", "-b", b.bootstrap, "-t", topic, "-e", "-q", ...kcatSaslArgs()]);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trim().split("\n"), ["scram-1", "scram-2"]);

      const wrong = client("wrong-password").producer();
      await assert.rejects(wrong.connect(), /SCRAM|authentication/i);
      await wrong.disconnect().catch(() => {});
      const still = await runKcat(["-L", "-b", a.bootstrap, ...kcatSaslArgs()]);
      assert.equal(still.code, 0, still.stderr);
    } finally {
      await Promise.all([stopped(a), stopped(b)]);
    }
  },
});

Deno.test({
  name: "upstream SASL_SSL, gateway's own SCRAM-SHA-256 and OAUTHBEARER: discovery, membership, audit",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const tokenDir = await Deno.makeTempDir({ prefix: "kgate_oauth_" });
    try {
      // A token file (the way a sidecar hands out tokens): Kafka's unsecured JWT for "admin".
      const now = Math.floor(Date.now() / 1000);
      const b64 = (o: unknown) =>
        btoa(JSON.stringify(o)).replace(/=+$/, "").replace(/\+/g, "-").replace(/\//g, "_");
      await Deno.writeTextFile(
        `${tokenDir}/token`,
        `${b64({ alg: "none" })}.${b64({ sub: "admin", iat: now, exp: now + 3600 })}.`,
      );
      const nodes = await Promise.all([
        GatewayProcess.start({
          host: SCRAM256_HOST,
          env: saslSslEnv(
            kafka,
            "SCRAM-SHA-256",
            `${SCRAM} required username="admin" password="admin-secret";`,
          ),
        }),
        GatewayProcess.start({
          host: OAUTH_HOST,
          env: saslSslEnv(kafka, "OAUTHBEARER", `${OAUTH} required tokenFile="${tokenDir}/token";`),
        }),
      ]);
      try {
        for (const node of nodes) {
          await node.waitUntilReady();
          await assertDiscovered(node, kafka);
          await assertMembers(node, [`${node.host}:6969`]);
          await assertAuditWritten(node, kafka);
        }
      } finally {
        await Promise.all(nodes.map(stopped));
      }
    } finally {
      await Deno.remove(tokenDir, { recursive: true });
    }
  },
});

Deno.test({
  name: "upstream SASL_PLAINTEXT, gateway's own SCRAM-SHA-256: discovery, membership, audit",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const gateway = await GatewayProcess.start({
      host: SASL_PLAINTEXT_HOST,
      env: {
        KAFKA_BOOTSTRAP_SERVERS: kafka.saslBootstrapServers,
        KAFKA_SECURITY_PROTOCOL: "SASL_PLAINTEXT",
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-256",
        KAFKA_SASL_JAAS_CONFIG: `${SCRAM} required username="admin" password="admin-secret";`,
      },
    });
    try {
      await gateway.waitUntilReady();
      const { brokers } = await api<{ brokers: { id: number; port: number }[] }>(gateway, "/api/v1/brokers");
      assert.deepEqual(
        brokers.map((b) => `${b.id}:${b.port}`).sort(),
        kafka.brokers.map((b) => `${b.id}:${b.saslPort}`).sort(),
      );
      await assertMembers(gateway, [`${gateway.host}:6969`]);
      await assertAuditWritten(gateway, kafka);
    } finally {
      await stopped(gateway);
    }
  },
});

Deno.test({
  name:
    "upstream SSL: kcat and kafkajs (plaintext to kgate) produce and consume; kgate speaks TLS to the brokers",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const gateway = await GatewayProcess.start({
      host: SSL_HOST,
      env: {
        KAFKA_BOOTSTRAP_SERVERS: kafka.sslBootstrapServers,
        KAFKA_SECURITY_PROTOCOL: "SSL",
        KAFKA_SSL_CA_FILE: tlsKafka(kafka).caFile,
      },
    });
    try {
      const topic = uniqueTopic("tls-ssl");
      await createTopic(topic, 3, 3);
      const records = Array.from({ length: 1000 }, (_, i) => `value-${i}`);
      const produced = await runKcat(["-P", "-b", gateway.bootstrap, "-t", topic, "-p", "0"], {
        stdin: records.join("\n") + "\n",
      });
      assert.equal(produced.code, 0, produced.stderr);
      const producer = new Kafka({
        clientId: "kgate-tls-ssl",
        brokers: [gateway.bootstrap],
        logLevel: logLevel.NOTHING,
      }).producer();
      await producer.connect();
      try {
        await producer.send({ topic, messages: [{ value: "from-kafkajs", partition: 0 }] });
      } finally {
        await producer.disconnect();
      }
      const consumed = await runKcat(["-C", "-b", gateway.bootstrap, "-t", topic, "-p", "0", "-e", "-q"], {
        timeoutMs: 60_000,
      });
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trim().split("\n"), [...records, "from-kafkajs"]);
    } finally {
      await stopped(gateway);
    }
  },
});

Deno.test({
  name: "upstream mTLS: with KAFKA_SSL_CERT_FILE/KEY_FILE kgate serves from brokers that require a client " +
    "certificate; without, the refusal is logged naming the broker",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const { mtlsBootstrapServers, clientCertFile, clientKeyFile } = kafka.info;
    if (!mtlsBootstrapServers || !clientCertFile || !clientKeyFile) {
      throw new Error("this test cluster has no MTLS listeners (started by an older harness)");
    }
    const env = {
      KAFKA_BOOTSTRAP_SERVERS: mtlsBootstrapServers,
      KAFKA_SECURITY_PROTOCOL: "SSL",
      KAFKA_SSL_CA_FILE: tlsKafka(kafka).caFile,
    };
    const without = await GatewayProcess.start({ host: MTLS_HOST, waitReady: false, env });
    try {
      const first = mtlsBootstrapServers.split(",")[0].replaceAll(".", "\\.");
      await without.waitForLog(
        new RegExp(`TLS session with broker ${first} refused: the broker requires a client certificate`),
        30_000,
      );
    } finally {
      await without.kill();
    }
    const gateway = await GatewayProcess.start({
      host: MTLS_HOST,
      env: { ...env, KAFKA_SSL_CERT_FILE: clientCertFile, KAFKA_SSL_KEY_FILE: clientKeyFile },
    });
    try {
      await gateway.waitUntilReady();
      const topic = uniqueTopic("tls-mtls");
      await createTopic(topic, 1, 3);
      const produced = await runKcat(["-P", "-b", gateway.bootstrap, "-t", topic], { stdin: "a\nb\n" });
      assert.equal(produced.code, 0, produced.stderr);
      const consumed = await runKcat(["-C", "-b", gateway.bootstrap, "-t", topic, "-e", "-q"]);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trim().split("\n"), ["a", "b"]);
    } finally {
      await stopped(gateway);
    }
  },
});

/** A TLS server on `host` presenting `cert`, relaying to `target` (a broker's PLAINTEXT port). */
function tlsRelay(host: string, cert: { certFile: string; keyFile: string }, target: number) {
  const listener = Deno.listenTls({
    hostname: host,
    port: 0,
    cert: Deno.readTextFileSync(cert.certFile),
    key: Deno.readTextFileSync(cert.keyFile),
  });
  const conns = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      conns.add(conn);
      (async () => {
        try {
          const upstream = await Deno.connect({ hostname: "127.0.0.1", port: target });
          conns.add(upstream);
          await Promise.all([
            conn.readable.pipeTo(upstream.writable),
            upstream.readable.pipeTo(conn.writable),
          ]);
        } catch {
          // handshake refused by the client, or closed
        }
      })();
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) closeQuietly(c);
      await serving;
    },
  };
}

Deno.test({
  name: "upstream TLS refusals: an unknown CA and a host name mismatch are logged naming the broker; " +
    "an empty endpoint identification algorithm accepts the mismatch with a warning",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const caFile = tlsKafka(kafka).caFile;
    const otherCa = await makeTestCa(undefined, "some other CA");
    const clusterCaDir = caFile.replace(/\/ca\.pem$/, "");
    const clusterCa: TestCa = { dir: clusterCaDir, certFile: caFile, keyFile: `${clusterCaDir}/ca.key` };
    // Signed by the cluster's CA, but for another name than the address the node connects to.
    const wrongName = await makeLeafCert(clusterCa, {
      commonName: "other.example",
      subjectAltNames: ["DNS:other.example"],
      usage: "server",
      name: "wrong-name",
    });
    const relay = tlsRelay(RELAY_HOST, wrongName, kafka.brokers[0].port);
    const started: GatewayProcess[] = [];
    try {
      const first = kafka.brokers[0];
      const unknownCa = await GatewayProcess.start({
        host: BAD_CA_HOST,
        waitReady: false,
        env: {
          KAFKA_BOOTSTRAP_SERVERS: `127.0.0.1:${first.sslPort}`,
          KAFKA_SECURITY_PROTOCOL: "SSL",
          KAFKA_SSL_CA_FILE: otherCa.certFile,
        },
      });
      started.push(unknownCa);
      const mismatch = await GatewayProcess.start({
        host: MISMATCH_HOST,
        waitReady: false,
        env: {
          KAFKA_BOOTSTRAP_SERVERS: `${RELAY_HOST}:${relay.port}`,
          KAFKA_SECURITY_PROTOCOL: "SSL",
          KAFKA_SSL_CA_FILE: caFile,
        },
      });
      started.push(mismatch);
      await unknownCa.waitForLog(
        new RegExp(
          `TLS handshake with broker 127\\.0\\.0\\.1:${first.sslPort} failed: certificate from an unknown CA`,
        ),
        30_000,
      );
      await mismatch.waitForLog(
        new RegExp(
          `TLS handshake with broker ${
            RELAY_HOST.replaceAll(".", "\\.")
          }:${relay.port} failed: host name mismatch`,
        ),
        30_000,
      );
      await Promise.all(started.splice(0).map((g) => g.kill()));

      // Host name check off: the same certificate is accepted (the chain still is verified).
      const unchecked = await GatewayProcess.start({
        host: MISMATCH_HOST,
        waitReady: false,
        env: {
          KAFKA_BOOTSTRAP_SERVERS: `${RELAY_HOST}:${relay.port}`,
          KAFKA_SECURITY_PROTOCOL: "SSL",
          KAFKA_SSL_CA_FILE: caFile,
          KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM: "",
        },
      });
      started.push(unchecked);
      await unchecked.waitForLog(/not checked against their host names/, 15_000);
      await unchecked.waitForLog(/upstream cluster \S+: brokers/, 30_000);
    } finally {
      await Promise.all(started.map((g) => g.kill()));
      await relay.close();
      await Deno.remove(otherCa.dir, { recursive: true });
    }
  },
});
