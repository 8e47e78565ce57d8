/**
 * Host (SNI) routing through real gateway processes in front of the plaintext test cluster:
 *
 * 1. Two nodes in one gateway cluster, host routing from the single-listener settings
 *    (`GATEWAY_ROUTING_MECHANISM=host`): Metadata names every broker `broker<id>.<node host>:9093` under
 *    one of the two nodes' advertised hosts, no real broker address; kcat, kafkajs and Kafka's Java
 *    console clients produce through one node and consume through the other.
 * 2. One node with two listeners (`GATEWAY_LISTENER_<NAME>_*`): INTERNAL (plaintext, port routing) and
 *    EXTERNAL (TLS, SNI routing); kcat, kafkajs and the Java clients produce and consume through EXTERNAL,
 *    and each listener answers Metadata (and the HTTP API's mapping preview) with its own endpoints.
 * 3. The server name picks the broker: `broker<id>.<host>` reaches broker id; the advertised host, an
 *    unknown name, an unknown broker id and a ClientHello without a server name bootstrap (any broker),
 *    and a Metadata request over them answers.
 *
 * The names resolve without touching /etc/hosts: kcat and the JVM run with libnss-wrapper
 * (`LD_PRELOAD=libnss_wrapper.so`, `NSS_WRAPPER_HOSTS`), kafkajs connects through a socket factory that
 * dials the name's address and sends the name as SNI.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import {
  createTopic,
  deleteTopic,
  kafkaMajor,
  runKcat,
  type RunResult,
  testKafka,
  uniqueTopic,
} from "../harness/mod.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";
import { apiVersionsV0 } from "../support/faults_wire.ts";
import { assertRan, gatewayProblems, realAddressesIn, watchTcpPeers } from "../support/clients_util.ts";
import {
  brokerNames,
  brokersListed,
  nssWrapperEnv,
  sniKcat,
  sniSocketFactory,
} from "../support/sni_names.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { waitForAudit } from "../support/haproxy_audit.ts";
import { HttpApi } from "../support/http_api.ts";
import { consumeValues, quietKafkajsTimerWarnings } from "../support/kafkajs.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";

quietKafkajsTimerWarnings();

/** NODE_A, NODE_B: one gateway cluster, host routing. DUAL: one node, two listeners. */
const [NODE_A, NODE_B, DUAL] = loopbackHosts("host_routing", 3);
const DOMAIN = "kgate.test";
const HOST_A = `a.${DOMAIN}`;
const HOST_B = `b.${DOMAIN}`;
const HOST_EXT = `ext.${DOMAIN}`;
/** The one TLS port of every host-routing listener. */
const SNI_PORT = 9093;
/** DUAL's INTERNAL listener: port routing from here. */
const INTERNAL_PORT_START = 6969;
const ADMIN = { username: "admin", password: "kgate" };

const fixture = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const kafka4 = kafkaMajor(kafka.version) >= 4;
  const brokerIds = kafka.brokers.map((b) => b.id);
  const ca = await makeTestCa();
  stack.defer(() => Deno.remove(ca.dir, { recursive: true }).catch(() => {}));
  // One wildcard certificate for every node: each advertised host and everything under it.
  const sans = [HOST_A, HOST_B, HOST_EXT].flatMap((h) => [`DNS:${h}`, `DNS:*.${h}`]);
  const cert = await makeLeafCert(ca, { commonName: HOST_EXT, subjectAltNames: sans, usage: "server" });

  // libnss-wrapper's files: the test names, and the passwd/group it needs to be enabled.
  const addresses = new Map<string, string>();
  for (const name of brokerNames(HOST_A, brokerIds)) addresses.set(name, NODE_A);
  for (const name of brokerNames(HOST_B, brokerIds)) addresses.set(name, NODE_B);
  for (const name of brokerNames(HOST_EXT, brokerIds, [`unknown.${HOST_EXT}`, `broker99.${HOST_EXT}`])) {
    addresses.set(name, DUAL);
  }
  const resolving = await nssWrapperEnv(ca.dir, addresses);
  const javaProps = `${ca.dir}/java-ssl.properties`;
  await Deno.writeTextFile(
    javaProps,
    `security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=${ca.certFile}\n`,
  );

  const started: GatewayProcess[] = [];
  stack.defer(async () => {
    for (const gw of started) {
      const status = await gw.stop();
      assert.equal(status.code, 0, gw.logs);
      // No SAN warning (the certificate covers every name) and no other problem.
      assert.deepEqual(gatewayProblems(gw.logs), [], gw.logs);
    }
  });
  // A TLS-only node is watched for its log line, not probed: a bare TCP probe is a failed handshake.
  const start = async (host: string, portStart: number, env: Record<string, string>, probe = true) => {
    const gw = await GatewayProcess.start({
      host,
      kafka,
      portStart,
      waitReady: probe,
      env: { GATEWAY_LOG_LEVEL: "info", ...env },
    });
    started.push(gw);
    if (!probe) {
      await gw.waitForLog(
        new RegExp(`listening on ${host.replaceAll(".", "\\.")} ports ${portStart}-`),
        30_000,
      );
    }
    return gw;
  };
  const tlsFiles = { GATEWAY_SSL_CERT_FILE: cert.certFile, GATEWAY_SSL_KEY_FILE: cert.keyFile };
  const clusterId = `host-routing-${crypto.randomUUID().slice(0, 8)}`;
  const legacyHostRouting = (advertised: string) => ({
    GATEWAY_CLUSTER_ID: clusterId,
    GATEWAY_ADVERTISED_HOST: advertised,
    GATEWAY_ROUTING_MECHANISM: "host",
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    ...tlsFiles,
  });
  const [a, b, dual] = await Promise.all([
    start(NODE_A, SNI_PORT, legacyHostRouting(HOST_A), false),
    start(NODE_B, SNI_PORT, legacyHostRouting(HOST_B), false),
    start(DUAL, INTERNAL_PORT_START, {
      // The single-listener variables GatewayProcess sets are replaced by the listener variables.
      GATEWAY_ADVERTISED_HOST: "",
      GATEWAY_PORT_START: "",
      GATEWAY_LISTENER_INTERNAL_PORTS: `${INTERNAL_PORT_START}-${INTERNAL_PORT_START + 5}`,
      GATEWAY_LISTENER_INTERNAL_ADVERTISED_HOST: DUAL,
      GATEWAY_LISTENER_INTERNAL_ROUTING: "port",
      GATEWAY_LISTENER_INTERNAL_SECURITY_PROTOCOL: "PLAINTEXT",
      GATEWAY_LISTENER_EXTERNAL_PORTS: String(SNI_PORT),
      GATEWAY_LISTENER_EXTERNAL_ADVERTISED_HOST: HOST_EXT,
      GATEWAY_LISTENER_EXTERNAL_ROUTING: "sni",
      GATEWAY_LISTENER_EXTERNAL_SECURITY_PROTOCOL: "SSL",
      GATEWAY_LISTENER_EXTERNAL_SSL_CERT_FILE: cert.certFile,
      GATEWAY_LISTENER_EXTERNAL_SSL_KEY_FILE: cert.keyFile,
    }),
  ]);
  // Both nodes of the cluster see each other before the mapping is looked at.
  const members = async (gw: GatewayProcess) => {
    const res = await new HttpApi(gw.httpUrl).get("/api/v1/cluster", { auth: ADMIN });
    return (JSON.parse(res.body) as { members: unknown[] }).members.length;
  };
  await waitUntil(async () => (await members(a)) === 2 && (await members(b)) === 2, 30_000, "two members");
  const topics: string[] = [];
  stack.defer(() => deleteTopic(...topics).catch(() => {}));
  return { kafka, kafka4, ca, addresses, resolving, javaProps, a, b, dual, topics };
});

type Fixture = Awaited<ReturnType<typeof fixture.get>>;

/** kcat with the names resolved by libnss-wrapper, over TLS trusting the test CA. */
function kcat(f: Fixture, args: string[], stdin?: string): Promise<RunResult> {
  return sniKcat(f.resolving, f.ca.certFile, args, stdin);
}

/**
 * Produces 100 records each with kcat (through `producerBootstrap`), kafkajs and the Java console
 * producer, then consumes everything with each (through `consumerBootstrap`); every name a client dials
 * must match `brokerName`, and the Java clients' TCP peers are only `gatewayAddresses`.
 */
async function produceAndConsume(
  f: Fixture,
  producerBootstrap: string,
  consumerBootstrap: string,
  brokerName: RegExp,
  gatewayAddresses: string[],
): Promise<void> {
  const topic = uniqueTopic("host-routing");
  f.topics.push(topic);
  await createTopic(topic, 3, 3);
  const records = (who: string) => Array.from({ length: 100 }, (_, i) => `${who}-${i}`);
  const all = [...records("kcat"), ...records("kafkajs"), ...records("java")];

  assertRan(
    await kcat(
      f,
      ["-P", "-b", producerBootstrap, "-t", topic, "-X", "acks=all"],
      records("kcat").join("\n") + "\n",
    ),
    "kcat -P",
  );

  const dialled = new Set<string>();
  const client = (bootstrap: string) =>
    new Kafka({
      clientId: "kgate-host-routing",
      brokers: [bootstrap],
      ssl: true,
      socketFactory: sniSocketFactory(f.addresses, f.ca.certFile, dialled),
      logLevel: logLevel.NOTHING,
      connectionTimeout: 5_000,
    });
  const producer = client(producerBootstrap).producer();
  await producer.connect();
  await producer.send({ topic, acks: -1, messages: records("kafkajs").map((value) => ({ value })) });
  await producer.disconnect();

  const peers = watchTcpPeers(topic);
  try {
    assertRan(
      await f.kafka.runJava(f.kafka.tools.consoleProducer, [
        "--bootstrap-server",
        producerBootstrap,
        "--topic",
        topic,
        f.kafka4 ? "--command-config" : "--producer.config",
        f.javaProps,
      ], { stdin: records("java").join("\n") + "\n", timeoutMs: 60_000, env: f.resolving }),
      "ConsoleProducer",
    );
    const javaConsumed = await f.kafka.runJava(f.kafka.tools.consoleConsumer, [
      "--bootstrap-server",
      consumerBootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--max-messages",
      String(all.length),
      "--timeout-ms",
      "30000",
      f.kafka4 ? "--command-config" : "--consumer.config",
      f.javaProps,
    ], { timeoutMs: 60_000, env: f.resolving });
    assertRan(javaConsumed, "ConsoleConsumer");
    const javaValues = javaConsumed.stdout.split("\n").filter((l) => /^(kcat|kafkajs|java)-\d+$/.test(l));
    assert.deepEqual(javaValues.toSorted(), all.toSorted(), "the Java consumer read every record");
  } finally {
    peers.stop();
  }
  const javaPeers = [...peers.peers].map((p) => p.replace(/:\d+$/, ""));
  assert.ok(javaPeers.length > 0, "the Java clients' peers were sampled");
  assert.deepEqual(javaPeers.filter((ip) => !gatewayAddresses.includes(ip)), [], `Java peers: ${javaPeers}`);

  const consumed = await kcat(f, [
    "-C",
    "-b",
    consumerBootstrap,
    "-t",
    topic,
    "-o",
    "beginning",
    "-e",
    "-q",
    "-f",
    "%s\n",
  ]);
  assertRan(consumed, "kcat -C");
  assert.deepEqual(consumed.stdout.split("\n").filter((l) => l !== "").toSorted(), all.toSorted());

  const kafkajsConsumed = await consumeValues(
    client(consumerBootstrap),
    topic,
    all.length,
    "kgate-host-routing",
  );
  assert.deepEqual(kafkajsConsumed, all.toSorted());

  const bootstraps = [producerBootstrap, consumerBootstrap];
  const strays = [...dialled].filter((d) => !bootstraps.includes(d) && !brokerName.test(d));
  assert.deepEqual(strays, [], `kafkajs dialled ${[...dialled].join(", ")}`);
}

sharedTest(
  "host routing, two nodes: Metadata names only broker<id>.<node host>:9093, no real address; kcat, kafkajs and Java produce through one node and consume through the other",
  async () => {
    const f = await fixture.get();
    for (const host of [HOST_A, HOST_B]) {
      const metadata = await kcat(f, ["-L", "-b", `${host}:${SNI_PORT}`]);
      assertRan(metadata, `kcat -L through ${host}`);
      assert.deepEqual(realAddressesIn(metadata.stdout, f.kafka), [], metadata.stdout);
      const listed = brokersListed(metadata.stdout);
      assert.deepEqual([...listed.keys()].sort(), f.kafka.brokers.map((b) => b.id).sort(), metadata.stdout);
      for (const [id, endpoint] of listed) {
        assert.match(
          endpoint,
          new RegExp(`^broker${id}\\.(a|b)\\.kgate\\.test:${SNI_PORT}$`),
          metadata.stdout,
        );
      }
    }
    await produceAndConsume(
      f,
      `${HOST_A}:${SNI_PORT}`,
      `${HOST_B}:${SNI_PORT}`,
      new RegExp(`^broker\\d+\\.(a|b)\\.kgate\\.test:${SNI_PORT}$`),
      [NODE_A, NODE_B],
    );
  },
);

sharedTest(
  "host routing, one node (listener settings): kcat, kafkajs and Java produce and consume through the EXTERNAL listener",
  async () => {
    const f = await fixture.get();
    const bootstrap = `${HOST_EXT}:${SNI_PORT}`;
    await produceAndConsume(
      f,
      bootstrap,
      bootstrap,
      new RegExp(`^broker\\d+\\.ext\\.kgate\\.test:${SNI_PORT}$`),
      [
        DUAL,
      ],
    );
  },
);

sharedTest(
  "two listeners on one node: INTERNAL (plaintext, port routing) and EXTERNAL (TLS, SNI) each answer Metadata and the mapping preview with their own endpoints",
  async () => {
    const f = await fixture.get();
    const internal = await runKcat(["-L", "-b", `${DUAL}:${INTERNAL_PORT_START}`], { timeoutMs: 30_000 });
    assertRan(internal, "kcat -L through INTERNAL");
    const external = await kcat(f, ["-L", "-b", `${HOST_EXT}:${SNI_PORT}`]);
    assertRan(external, "kcat -L through EXTERNAL");
    const expectInternal = new Map(
      f.kafka.brokers.map((b) => [b.id, `${DUAL}:${INTERNAL_PORT_START + b.id}`]),
    );
    const expectExternal = new Map(
      f.kafka.brokers.map((b) => [b.id, `broker${b.id}.${HOST_EXT}:${SNI_PORT}`]),
    );
    assert.deepEqual(brokersListed(internal.stdout), expectInternal, internal.stdout);
    assert.deepEqual(brokersListed(external.stdout), expectExternal, external.stdout);
    for (const out of [internal.stdout, external.stdout]) {
      assert.deepEqual(realAddressesIn(out, f.kafka), [], out);
    }

    const api = new HttpApi(f.dual.httpUrl);
    const preview = async (query: string) => {
      const res = await api.get(`/api/v1/mapping${query}`, { auth: ADMIN });
      assert.equal(res.status, 200, res.body);
      const body = JSON.parse(res.body) as { brokers: { brokerId: number; host: string; port: number }[] };
      return new Map(body.brokers.map((b) => [b.brokerId, `${b.host}:${b.port}`]));
    };
    assert.deepEqual(await preview(""), expectExternal, "the first listener (by name) is the default");
    assert.deepEqual(await preview("?listener=INTERNAL"), expectInternal);
    assert.deepEqual(await preview("?listener=EXTERNAL"), expectExternal);
    const unknown = await api.get("/api/v1/mapping?listener=NOPE", { auth: ADMIN });
    assert.equal(unknown.status, 400, unknown.body);
    assert.match(unknown.body, /unknown listener NOPE: expected EXTERNAL or INTERNAL/);
  },
);

/** ApiVersions v0: the first valid frame, which opens the broker connection. */
const API_VERSIONS_V0 = apiVersionsV0(1);

/**
 * A TLS handshake with `openssl s_client` to DUAL's EXTERNAL port (`-servername name`, or none), then one
 * ApiVersions request: the broker connection (and its OPEN audit entry) waits for a valid frame.
 */
async function handshake(f: Fixture, serverName: string | undefined): Promise<void> {
  const args = ["s_client", "-connect", `${DUAL}:${SNI_PORT}`, "-CAfile", f.ca.certFile, "-brief"];
  args.push(...(serverName === undefined ? ["-noservername"] : ["-servername", serverName]));
  const child = new Deno.Command("openssl", { args, stdin: "piped", stdout: "piped", stderr: "piped" })
    .spawn();
  const writer = child.stdin.getWriter();
  await writer.write(API_VERSIONS_V0);
  await writer.close();
  const out = await child.output();
  const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
  assert.match(text, /CONNECTION ESTABLISHED|Protocol version/, `openssl s_client: ${text}`);
}

sharedTest(
  "host routing: the server name picks the broker; the advertised host, unknown names and no server name bootstrap",
  async () => {
    const f = await fixture.get();
    const brokerIds = f.kafka.brokers.map((b) => b.id);
    const routedTo = async (serverName: string | undefined): Promise<number> => {
      const from = f.dual.logs.length;
      await handshake(f, serverName);
      const open = await waitForAudit(
        f.dual,
        (e) => e.action === "OPEN" && e.connection.localAddress.endsWith(`:${SNI_PORT}`),
        from,
      );
      return open.broker!.id;
    };
    for (const id of brokerIds) {
      assert.equal(await routedTo(`broker${id}.${HOST_EXT}`), id, `broker${id}.${HOST_EXT}`);
      assert.equal(await routedTo(`BROKER${id}.${HOST_EXT.toUpperCase()}`), id, "names are case-insensitive");
    }
    for (const name of [HOST_EXT, `unknown.${HOST_EXT}`, `broker99.${HOST_EXT}`, undefined]) {
      assert.ok(
        brokerIds.includes(await routedTo(name)),
        `${name ?? "no server name"} reaches a broker`,
      );
    }

    // Each bootstrap kind answers Metadata: an unknown name (covered by the wildcard), and an address
    // (no server name; its certificate names no address, so the host name check is off).
    for (const bootstrap of [`unknown.${HOST_EXT}:${SNI_PORT}`, `broker99.${HOST_EXT}:${SNI_PORT}`]) {
      const metadata = await kcat(f, ["-L", "-b", bootstrap]);
      assertRan(metadata, `kcat -L through ${bootstrap}`);
      assert.equal(brokersListed(metadata.stdout).size, brokerIds.length, metadata.stdout);
    }
    const byAddress = await kcat(f, [
      "-L",
      "-b",
      `${DUAL}:${SNI_PORT}`,
      "-X",
      "ssl.endpoint.identification.algorithm=none",
    ]);
    assertRan(byAddress, "kcat -L by address");
    assert.equal(
      brokersListed(byAddress.stdout).get(brokerIds[0]),
      `broker${brokerIds[0]}.${HOST_EXT}:${SNI_PORT}`,
    );
  },
);
