/**
 * HAProxy (TCP mode, the Debian binary) in front of real gateway processes with
 * GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL=true, against the real Kafka cluster: the external load
 * balancer set-up, where the gateway advertises HAProxy's address (LB_HOST) and HAProxy forwards
 * each gateway port to the same port of the node (GW_HOST) with a PROXY header.
 *
 * 1. With `send-proxy` (v1), `send-proxy-v2`, and `send-proxy-v2` + `proxy-v2-options unique-id`,
 *    kcat and kafkajs produce and consume through HAProxy, and every connection HAProxy relayed has
 *    OPEN and CLOSE audit entries (log and audit topic) naming the client's real address as
 *    `proxySourceAddress` and HAProxy's as `connection.remoteAddress` (matched exactly against
 *    HAProxy's own log line of that connection, including the unique id).
 * 2. A client without a header, straight to the node, is refused (kcat -L fails; logged).
 * 3. A header from a peer outside GATEWAY_PROXY_PROTOCOL_TRUSTED_CIDRS is refused (second node).
 * 4. A header not complete within GATEWAY_PROXY_PROTOCOL_TIMEOUT_MS=1000 is cut after ~1 s.
 * 5. Malformed and partial headers are refused with the reason logged.
 * 6. None of 2-5 disturbs a kcat consumer and a kafkajs producer connected through HAProxy before.
 *
 * The two nodes are a file fixture shared by every test; the v1/v2 runs start their own HAProxy; the
 * steady clients (6) and the HAProxy they use are a second fixture, which each of 2-5 checks after its
 * faults.
 */
import assert from "node:assert/strict";
import { Partitioners } from "kafkajs";
import {
  createTopic,
  deleteTopic,
  type KafkaCluster,
  runKcat,
  type RunResult,
  sleep,
  testKafka,
  uniqueTopic,
} from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { expectOneLogLine, isAuditLine, KcatStream } from "../support/faults_gateway.ts";
import { apiVersionsV0, concat, int32, RawClient, withDeadline } from "../support/faults_wire.ts";
import {
  findHaproxy,
  type HaproxyConnection,
  HaproxyProcess,
  type ProxyMode,
} from "../support/haproxy_process.ts";
import {
  auditEntries,
  type AuditEntry,
  auditLinesById,
  hexToText,
  waitForAudit,
  waitForAuditTopic,
} from "../support/haproxy_audit.ts";
import { boundKafkajs, rawFrom } from "../support/haproxy_clients.ts";
import { buildProxyV1, buildProxyV2 } from "../../src/proxy_protocol/mod.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";
import { rejected as rejectedConnections, scrapeMetrics } from "../support/peer_swarm.ts";

/**
 * GW_HOST: the gateway node HAProxy forwards to. LB_HOST: HAProxy, the address the gateway advertises
 * and HAProxy's source address towards the nodes. TRUSTED_HOST: the second node, which trusts only
 * LB_HOST/32. KAFKAJS_HOST: source address of the kafkajs clients. OUTSIDER_HOST: a source address
 * outside the trusted CIDR (besides 127.0.0.1).
 */
const [GW_HOST, LB_HOST, TRUSTED_HOST, KAFKAJS_HOST, OUTSIDER_HOST] = loopbackHosts("haproxy", 5);
const PORT_START = 6969;
const TRUSTED_PORT_START = 7969;
/** Brokers 1-3 at min broker id 0: ports start..start+5, set explicitly so HAProxy binds the same ones. */
const PORT_COUNT = 6;
const HEADER_TIMEOUT_MS = 1000;
const LB_BOOTSTRAP = `${LB_HOST}:${PORT_START}`;
/** The reasons of a REJECT for a broker that cannot be reached. */
const UPSTREAM_FAILURE = /^(cannot connect to broker \d+ at |no live broker known)/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const utf8 = (s: string) => new TextEncoder().encode(s);
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const portOf = (address: string) => Number(address.slice(address.lastIndexOf(":") + 1));
const hostOf = (address: string) => address.slice(0, address.lastIndexOf(":"));

/** A valid v2 header (source 198.51.100.7:5555, destination HAProxy's bootstrap port). */
const VALID_V2 = buildProxyV2({
  source: { address: "198.51.100.7", port: 5555 },
  destination: { address: LB_HOST, port: PORT_START },
  tlvs: { crc32c: true },
});
const VALID_V1 = buildProxyV1({
  source: { address: "203.0.113.7", port: 4242 },
  destination: { address: LB_HOST, port: PORT_START },
});

function withByte(bytes: Uint8Array, index: number, value: number): Uint8Array {
  const copy = bytes.slice();
  copy[index] = value;
  return copy;
}

/** The audit entries a node logged for one connection (by the TCP peer the node saw). */
function entriesOf(gateway: GatewayProcess, remoteAddress: string, from: number): AuditEntry[] {
  return auditEntries(gateway.logs, from).filter((e) => e.connection.remoteAddress === remoteAddress);
}

/**
 * The audit entries of one connection HAProxy relayed: its backend source address, which a later
 * connection of HAProxy's may reuse, and the client the PROXY header named.
 */
function entriesOfRelayed(gateway: GatewayProcess, c: HaproxyConnection, from: number): AuditEntry[] {
  return entriesOf(gateway, c.backendSource, from).filter((e) => e.proxySourceAddress === c.client);
}

/**
 * The connection from `address` was refused: exactly one log line names it with `reason`, and one
 * REJECT audit entry (same reason, no original addresses believed) exists.
 */
async function expectRefused(
  gateway: GatewayProcess,
  from: number,
  address: string,
  reason: RegExp,
): Promise<string> {
  const line = await expectOneLogLine(gateway, from, address, reason);
  assert.match(line, new RegExp(`closing connection from ${escapeRegExp(address)}: `), line);
  const reject = await waitForAudit(
    gateway,
    (e) => e.connection.remoteAddress === address,
    from,
    5_000,
    `audit entry for ${address}`,
  );
  assert.equal(reject.action, "REJECT", JSON.stringify(reject));
  assert.ok(reject.reason && line.endsWith(reject.reason), `${JSON.stringify(reject)}\n${line}`);
  assert.equal(reject.proxySourceAddress, undefined, JSON.stringify(reject));
  assert.equal(reject.broker, undefined, JSON.stringify(reject));
  assert.equal(entriesOf(gateway, address, from).length, 1, "one audit entry for a refused connection");
  return line;
}

/** kcat -L -J through `bootstrap`: the brokers listed. */
async function kcatBrokers(bootstrap: string): Promise<string[]> {
  const result = await runKcat(["-L", "-J", "-b", bootstrap, "-m", "10"], { timeoutMs: 20_000 });
  assert.equal(result.code, 0, `kcat -L through ${bootstrap} failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { brokers: { name: string }[] }).brokers.map((b) => b.name).sort();
}

/**
 * kcat -L through HAProxy (`bootstrap`) lists every live broker of the cluster at HAProxy's address,
 * broker N at `portStart + N` (retried briefly while the cluster's and the node's views differ: the
 * dev cluster is shared, another test may be restarting a broker).
 */
async function expectAdvertised(kafka: KafkaCluster, bootstrap: string, portStart: number): Promise<void> {
  for (let attempt = 1;; attempt++) {
    const live = (await kafka.metadata()).brokers.map((b) => b.nodeId);
    const expected = live.map((id) => `${LB_HOST}:${portStart + id}`).sort();
    const listed = await kcatBrokers(bootstrap);
    if (JSON.stringify(listed) === JSON.stringify(expected)) return;
    if (attempt === 6) assert.deepEqual(listed, expected, `the brokers advertised through ${bootstrap}`);
    await sleep(500);
  }
}

/**
 * kcat, run again (at most 3 times) when it fails: with a single bootstrap server, kcat gives up as
 * soon as that connection fails, e.g. while another test restarts a broker of the shared dev cluster.
 */
async function retryKcat(args: string[], stdin?: string): Promise<RunResult> {
  let result = await runKcat(args, { stdin });
  for (let attempt = 2; attempt <= 3 && result.code !== 0; attempt++) {
    await sleep(1_000);
    result = await runKcat(args, { stdin });
  }
  return result;
}

/** What one run through HAProxy did, for the audit checks. */
interface RunClients {
  kafkajs: string[];
  raw: string;
  kcatRuns: number;
}

/**
 * Checks every connection HAProxy relayed to the main node since `haproxyFrom` against the node's
 * audit entries since `gatewayFrom`: one OPEN and one CLOSE (unless in `stillOpen`), with the client's
 * address as HAProxy saw it, HAProxy's frontend address, HAProxy's own address as the TCP peer, and,
 * for `v2-unique-id`, the unique id HAProxy generated. Returns the entries checked.
 */
async function checkAuditAgainstHaproxy(
  mode: ProxyMode,
  gateway: GatewayProcess,
  gatewayFrom: number,
  connections: HaproxyConnection[],
): Promise<AuditEntry[]> {
  const deadline = Date.now() + 10_000;
  const missing = () =>
    connections.filter((c) => {
      const actions = entriesOfRelayed(gateway, c, gatewayFrom).map((e) => e.action);
      return !(actions.includes("OPEN") && actions.includes("CLOSE")) && !actions.includes("REJECT");
    });
  while (missing().length > 0) {
    assert.ok(
      Date.now() < deadline,
      `no OPEN+CLOSE audit entries for ${JSON.stringify(missing())}; logs:\n${
        gateway.logs.slice(gatewayFrom)
      }`,
    );
    await sleep(50);
  }
  const checked: AuditEntry[] = [];
  for (const c of connections) {
    const entries = entriesOfRelayed(gateway, c, gatewayFrom);
    // A REJECT only when the broker could not be reached (the shared dev cluster: another test may
    // be restarting a broker); its addresses are checked like the others'.
    const rejected = entries.length === 1 && entries[0].action === "REJECT" &&
      UPSTREAM_FAILURE.test(entries[0].reason ?? "");
    // A bad first frame is refused before any broker connection (lazy connect): one REJECT entry,
    // checked like the others.
    const refusedFrame = entries.length === 1 && entries[0].action === "REJECT" &&
      /^client: /.test(entries[0].reason ?? "");
    if (!rejected && !refusedFrame) {
      assert.deepEqual(entries.map((e) => e.action), ["OPEN", "CLOSE"], JSON.stringify(entries));
    }
    const [open, close] = entries;
    for (const e of entries) {
      const what = `${e.action} for ${JSON.stringify(c)}: ${JSON.stringify(e)}`;
      assert.equal(e.type, "CONNECTION", what);
      assert.equal(e.nodeId, "haproxy-main", what);
      assert.equal(e.proxySourceAddress, c.client, what);
      assert.equal(e.proxyDestinationAddress, c.frontend, what);
      assert.equal(e.connection.localAddress, c.server, what);
      assert.equal(hostOf(e.connection.remoteAddress), LB_HOST, what);
      assert.notEqual(hostOf(e.proxySourceAddress!), LB_HOST, what);
      const port = portOf(c.frontend);
      assert.ok(e.broker, what);
      if (rejected) continue;
      if (port > PORT_START && port <= PORT_START + 3) assert.equal(e.broker.id, port - PORT_START, what);
      if (mode === "v2-unique-id") {
        assert.match(c.uniqueId, UUID, what);
        assert.equal(hexToText(e.proxyTlvs?.uniqueId ?? ""), c.uniqueId, what);
      } else {
        assert.equal(e.proxyTlvs, undefined, what);
      }
    }
    if (rejected || refusedFrame) {
      checked.push(open);
      continue;
    }
    assert.equal(typeof close.durationMs, "number", JSON.stringify(close));
    assert.ok(close.bytesIn! > 0, JSON.stringify(close));
    assert.ok(
      typeof close.bytesOut === "number" && typeof close.closedBy === "string",
      JSON.stringify(close),
    );
    assert.deepEqual(close.broker, open.broker);
    checked.push(open, close);
  }
  return checked;
}

const startHaproxy = (mode: ProxyMode) =>
  HaproxyProcess.start({
    mode,
    routes: [
      {
        bind: LB_HOST,
        ports: [PORT_START, PORT_START + PORT_COUNT - 1],
        target: GW_HOST,
        source: LB_HOST,
      },
      {
        bind: LB_HOST,
        ports: [TRUSTED_PORT_START, TRUSTED_PORT_START + PORT_COUNT - 1],
        target: TRUSTED_HOST,
        source: LB_HOST,
      },
    ],
  });

/** The two nodes of this file (main behind HAProxy, trusted with a CIDR), in one gateway cluster. */
const nodes = fileFixture(async (stack) => {
  // Fails (not skips) when HAProxy is missing.
  const haproxyBinary = findHaproxy();
  const kafka: KafkaCluster = await testKafka();
  const clusterId = `haproxy-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
  const auditTopic = `_kgate_${clusterId}_auditlogs`;
  stack.defer(() => deleteTopic(auditTopic).catch(() => {}));
  const common = {
    GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL: "true",
    GATEWAY_ADVERTISED_HOST: LB_HOST,
    GATEWAY_PORT_COUNT: String(PORT_COUNT),
    GATEWAY_CLUSTER_ID: clusterId,
  };
  // No readiness probe: with the flag on the probe connection would be refused (and logged).
  const start = (host: string, portStart: number, env: Record<string, string>) =>
    GatewayProcess.start({ host, kafka, portStart, waitReady: false, env: { ...common, ...env } }).then(
      (gw) => {
        // Both exit 0 on SIGTERM, checked when the file's tests are done.
        stack.defer(async () => {
          const status = await gw.stop();
          assert.equal(status.code, 0, gw.logs);
        });
        return gw;
      },
    );
  const [main, trusted] = await Promise.all([
    start(GW_HOST, PORT_START, {
      GATEWAY_NODE_ID: "haproxy-main",
      GATEWAY_HTTP_PORT: "8931",
      GATEWAY_PROXY_PROTOCOL_TIMEOUT_MS: String(HEADER_TIMEOUT_MS),
    }),
    start(TRUSTED_HOST, TRUSTED_PORT_START, {
      GATEWAY_NODE_ID: "haproxy-trusted",
      GATEWAY_HTTP_PORT: "8933",
      GATEWAY_PROXY_PROTOCOL_TRUSTED_CIDRS: `${LB_HOST}/32`,
    }),
  ]);
  await Promise.all([
    main.waitForLog(
      new RegExp(`listening on ${GW_HOST} ports ${PORT_START}-${PORT_START + PORT_COUNT - 1}`),
    ),
    trusted.waitForLog(
      new RegExp(
        `listening on ${TRUSTED_HOST} ports ${TRUSTED_PORT_START}-${TRUSTED_PORT_START + PORT_COUNT - 1}`,
      ),
    ),
  ]);
  console.log(`using ${haproxyBinary}`);
  /** An audit entry id per HAProxy mode, printed as produced to the audit topic. */
  const samples: Record<string, string> = {};
  return { kafka, main, trusted, auditTopic, samples };
});

/** A topic replicated on every live broker (3, unless another test is restarting one), deleted after. */
async function withTopic(prefix: string, stack: AsyncDisposableStack): Promise<string> {
  const kafka = await testKafka();
  const topic = uniqueTopic(prefix);
  const replicas = Math.min(3, (await kafka.metadata()).brokers.length);
  await createTopic(topic, 3, replicas);
  stack.defer(() => deleteTopic(topic).catch(() => {}));
  return topic;
}

/**
 * 6. A kcat consumer and a kafkajs producer streaming through HAProxy (v2 + unique-id), started before
 * the faults of 2-5 and checked after each: the producer keeps getting acknowledgements, and no
 * connection open at the start is closed (by anything but a broker that is gone).
 */
const steady = fileFixture(async (stack) => {
  const { kafka, main, trusted } = await nodes.get();
  const steadyTopic = await withTopic("haproxy-steady", stack);
  const haproxy = await startHaproxy("v2-unique-id");
  stack.defer(() => haproxy.stop());
  await expectAdvertised(kafka, LB_BOOTSTRAP, PORT_START);
  let acked = 0;
  let produceError: Error | undefined;
  let stopProducing = false;
  const values: string[] = [];
  const from = main.logs.length;
  const consumer = KcatStream.consume(LB_BOOTSTRAP, steadyTopic);
  stack.defer(() => consumer.stop());
  const kafkajs = boundKafkajs(LB_BOOTSTRAP, KAFKAJS_HOST, "kgate-haproxy-steady");
  const producer = kafkajs.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  stack.defer(() => withDeadline(producer.disconnect(), 10_000, "kafkajs disconnect").catch(() => {}));
  await withDeadline(producer.connect(), 20_000, "kafkajs connect");
  const producing = (async () => {
    for (let n = 0; !stopProducing; n++) {
      const value = `steady-${n}`;
      try {
        await withDeadline(
          producer.send({ topic: steadyTopic, acks: -1, messages: [{ key: `k${n % 5}`, value }] }),
          10_000,
          "kafkajs produce",
        );
      } catch (error) {
        produceError = error as Error;
        return;
      }
      values.push(value);
      acked++;
      await sleep(20);
    }
  })();
  stack.defer(() => {
    stopProducing = true;
  });
  let connections: string[] = [];

  /**
   * CLOSE entries of the connections open before 2-5. A broker closing one is tolerated only while
   * that broker is gone from the cluster (the shared dev cluster: another test may stop a broker).
   */
  const closed = async (): Promise<AuditEntry[]> => {
    const closed = auditEntries(main.logs, from).filter((e) =>
      e.action !== "OPEN" && connections.includes(e.connection.remoteAddress)
    );
    if (closed.length === 0) return closed;
    const live = (await kafka.metadata()).brokers.map((b) => b.nodeId);
    return closed.filter((e) => e.closedBy !== "upstream" || live.includes(e.broker?.id ?? -1));
  };

  /** The steady producer had records acknowledged since `since`, and the node serves HAProxy. */
  const stillServed = async (label: string, since: number) => {
    const deadline = Date.now() + 10_000;
    while (acked <= since + 2) {
      assert.equal(produceError, undefined, `kafkajs produce failed after ${label}: ${produceError}`);
      assert.ok(Date.now() < deadline, `the kafkajs producer stalled after ${label} (${acked} acked)`);
      await sleep(25);
    }
    assert.ok(await main.running(), `the main node exited after ${label}; logs:\n${main.logs}`);
    assert.ok(await trusted.running(), `the trusted node exited after ${label}; logs:\n${trusted.logs}`);
    assert.deepEqual(await closed(), [], `a steady connection was closed during ${label}`);
  };

  await stillServed("the start", 0);
  await consumer.waitForLines(values.slice(0, 3), 20_000);
  // Every connection open now (the consumer's and the producer's) must stay open through 2-5.
  await sleep(300);
  const entries = auditEntries(main.logs, from);
  connections = entries.filter((e) =>
    e.action === "OPEN" &&
    !entries.some((x) => x.action !== "OPEN" && x.connection.remoteAddress === e.connection.remoteAddress)
  ).map((e) => e.connection.remoteAddress);
  const sources = entries.filter((e) => connections.includes(e.connection.remoteAddress))
    .map((e) => e.proxySourceAddress);

  return {
    haproxy,
    consumer,
    values,
    producerAddresses: kafkajs.localAddresses,
    /** The original sources of the connections open at the start. */
    sources,
    acked: () => acked,
    stillServed,
    closed,
    /** Stops producing; throws what the producer failed with. */
    async stopProducing(): Promise<void> {
      stopProducing = true;
      await withDeadline(producing, 15_000, "the steady producer's last send");
      assert.equal(produceError, undefined, `kafkajs produce failed: ${produceError}`);
    },
  };
});

/** One run: kcat and kafkajs produce and consume through HAProxy; audit entries match HAProxy's log. */
async function runThrough(mode: ProxyMode): Promise<void> {
  // HAProxy binds the steady clients' addresses: a run has HAProxy to itself.
  await steady.reset();
  const { kafka, main, samples } = await nodes.get();
  await using stack = new AsyncDisposableStack();
  const topic = await withTopic(`haproxy-${mode.replaceAll("-", "")}`, stack);
  const gatewayFrom = main.logs.length;
  const lb = await startHaproxy(mode);
  stack.defer(() => lb.stop());
  await expectAdvertised(kafka, LB_BOOTSTRAP, PORT_START);
  const kcatValues = Array.from({ length: 300 }, (_, i) => `kcat-${mode}-${i}`);
  const kafkajsValues = Array.from({ length: 30 }, (_, i) => `kafkajs-${mode}-${i}`);
  const kafkajs = boundKafkajs(LB_BOOTSTRAP, KAFKAJS_HOST, `kgate-haproxy-${mode}`);
  const producer = kafkajs.kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    const [kcatProduced] = await Promise.all([
      retryKcat(["-P", "-b", LB_BOOTSTRAP, "-t", topic, "-X", "acks=all"], kcatValues.join("\n") + "\n"),
      (async () => {
        await withDeadline(producer.connect(), 20_000, "kafkajs connect");
        for (let batch = 0; batch < 3; batch++) {
          await withDeadline(
            producer.send({
              topic,
              acks: -1,
              messages: kafkajsValues.slice(batch * 10, batch * 10 + 10).map((value) => ({ value })),
            }),
            20_000,
            "kafkajs produce",
          );
        }
      })(),
    ]);
    assert.equal(kcatProduced.code, 0, kcatProduced.stderr);
  } finally {
    await withDeadline(producer.disconnect(), 10_000, "kafkajs disconnect").catch(() => {});
  }
  const consumed = await retryKcat([
    "-C",
    "-b",
    LB_BOOTSTRAP,
    "-t",
    topic,
    "-o",
    "beginning",
    "-e",
    "-q",
  ]);
  assert.equal(consumed.code, 0, consumed.stderr);
  // As sets: a produce retried after a broker restart may have written some records twice.
  assert.deepEqual(
    [...new Set(consumed.stdout.trimEnd().split("\n"))].sort(),
    [...kcatValues, ...kafkajsValues].sort(),
    "every record produced through HAProxy is consumed through it",
  );

  // A raw client through HAProxy: its exact address must be the audit's proxySourceAddress.
  const raw = await RawClient.connect(LB_HOST, PORT_START);
  try {
    await raw.roundTrip(apiVersionsV0(7), 7);
  } finally {
    raw.close();
  }
  // A bad frame through HAProxy: the error line names HAProxy as the peer and the client as the
  // original source.
  const bad = await RawClient.connect(LB_HOST, PORT_START + 1);
  const badAddress = bad.address;
  await bad.sendTolerant(int32(-1));
  await bad.closedByPeer(5_000);
  const badRelay = await lb.waitForConnection((c) => c.client === badAddress);
  await expectOneLogLine(
    main,
    gatewayFrom,
    badRelay.backendSource,
    new RegExp(
      `closed connection from ${escapeRegExp(badRelay.backendSource)} \\(original source: \\[${
        escapeRegExp(badAddress)
      }\\], original destination: \\[${LB_HOST}:${PORT_START + 1}\\]\\) \\(port ${
        PORT_START + 1
      }, broker 1\\): client: negative frame size -1$`,
    ),
  );

  const relayed = lb.connections().filter((c) => hostOf(c.server) === GW_HOST);
  const clients = relayed.map((c) => c.client);
  const run: RunClients = { kafkajs: kafkajs.localAddresses, raw: raw.address, kcatRuns: 3 };
  assert.ok(run.kafkajs.length >= 2, `kafkajs connected ${run.kafkajs.length} socket(s)`);
  for (const address of [...run.kafkajs, run.raw, badAddress]) {
    assert.ok(clients.includes(address), `HAProxy did not relay ${address}: ${clients.join(", ")}`);
  }
  // Everything else is kcat, connecting from 127.0.0.1 (the kernel's choice); HAProxy connects
  // from LB_HOST, so the two are told apart by address as well as by port.
  const kcatClients = clients.filter((a) => !run.kafkajs.includes(a) && a !== run.raw && a !== badAddress);
  assert.ok(kcatClients.length >= run.kcatRuns, `kcat connections: ${kcatClients.join(", ")}`);
  for (const address of kcatClients) assert.equal(hostOf(address), "127.0.0.1", address);

  const checked = await checkAuditAgainstHaproxy(mode, main, gatewayFrom, relayed);
  const bySource = (address: string) => checked.filter((e) => e.proxySourceAddress === address);
  assert.deepEqual(bySource(run.raw).map((e) => e.action), ["OPEN", "CLOSE"], run.raw);
  // The bad frame was the connection's first: refused before a broker connection was opened.
  assert.deepEqual(bySource(badAddress).map((e) => e.action), ["REJECT"], badAddress);
  assert.ok(
    run.kafkajs.some((a) => bySource(a).map((e) => e.action).join() === "OPEN,CLOSE"),
    `no kafkajs connection has OPEN and CLOSE entries: ${run.kafkajs.join(", ")}`,
  );
  assert.equal(bySource(badAddress)[0].reason, "client: negative frame size -1");
  // The kcat connections: the client's address, never HAProxy's, and a port of the client.
  for (const entry of checked.filter((e) => kcatClients.includes(e.proxySourceAddress!))) {
    assert.equal(hostOf(entry.proxySourceAddress!), "127.0.0.1", JSON.stringify(entry));
    assert.notEqual(portOf(entry.proxySourceAddress!), portOf(entry.connection.remoteAddress));
  }
  const sample = checked.find((e) => e.action === "OPEN" && run.kafkajs.includes(e.proxySourceAddress!));
  if (sample) samples[mode] = sample.id;
}

sharedTest(
  "HAProxy send-proxy (v1): kcat and kafkajs through HAProxy; audit names the real clients",
  async () => {
    await runThrough("v1");
  },
);

sharedTest(
  "HAProxy send-proxy-v2: kcat and kafkajs through HAProxy; audit names the real clients",
  async () => {
    await runThrough("v2");
  },
);

// HAProxy 2.6 has no `set-proxy-v2-tlv-fmt` (2.9+): `proxy-v2-options unique-id` sends the stream's
// unique id (`unique-id-format %[uuid]`) as TLV 0x05.
sharedTest("HAProxy send-proxy-v2 + unique-id TLV: audit carries proxyTlvs.uniqueId", async () => {
  await runThrough("v2-unique-id");
});

sharedTest("HAProxy: a kcat consumer and a kafkajs producer stream through HAProxy", async () => {
  const clients = await steady.get();
  for (const address of clients.producerAddresses) assert.ok(clients.sources.includes(address), address);
  assert.ok(
    clients.sources.some((s) => hostOf(s!) === "127.0.0.1"),
    `no kcat consumer connection open: ${clients.sources.join(", ")}`,
  );
});

sharedTest("HAProxy 2. no header, straight to the node: refused and logged", async () => {
  const { main } = await nodes.get();
  const clients = await steady.get();
  const since = clients.acked();
  const from = main.logs.length;
  // kcat -L straight to the node: every connection it makes is refused.
  const kcat = await runKcat(["-L", "-b", `${GW_HOST}:${PORT_START}`, "-m", "3"], { timeoutMs: 20_000 });
  assert.notEqual(kcat.code, 0, `kcat -L without a header succeeded:\n${kcat.stdout}`);
  const refusal = new RegExp(
    `closing connection from (127\\.0\\.0\\.1:\\d+): bad PROXY protocol header: PROXY protocol: no PROXY ` +
      `protocol header: the first bytes \\(00\\) start neither "PROXY " \\(v1\\) nor the v2 signature`,
  );
  const peers = main.logs.slice(from).split("\n").map((l) => refusal.exec(l)?.[1]).filter((p) => p);
  assert.ok(peers.length >= 1, `no refusal logged for kcat; logs:\n${main.logs.slice(from)}`);
  assert.equal(new Set(peers).size, peers.length, "one line per refused connection");
  for (const peer of peers) await expectRefused(main, from, peer!, refusal);
  assert.ok(
    !auditEntries(main.logs, from).some((e) =>
      e.action === "OPEN" && hostOf(e.connection.remoteAddress) !== LB_HOST
    ),
    "a connection without a header was proxied",
  );
  // A raw Kafka request, on the bootstrap port and on a broker port.
  for (const port of [PORT_START, PORT_START + 2]) {
    const client = await RawClient.connect(GW_HOST, port);
    const address = client.address;
    await client.sendTolerant(apiVersionsV0(1));
    await client.closedByPeer(5_000);
    await expectRefused(
      main,
      from,
      address,
      /bad PROXY protocol header: .*the first bytes \(00\) start neither/,
    );
  }
  await clients.stillServed("2", since);
});

sharedTest("HAProxy 3. a header from a peer outside the trusted CIDRs is refused", async () => {
  const { kafka, trusted } = await nodes.get();
  const clients = await steady.get();
  const since = clients.acked();
  const from = trusted.logs.length;
  // The control: through HAProxy (LB_HOST, trusted) the node serves.
  await expectAdvertised(kafka, `${LB_HOST}:${TRUSTED_PORT_START}`, TRUSTED_PORT_START);
  const viaLb = await waitForAudit(trusted, (e) => e.action === "OPEN", from);
  assert.equal(hostOf(viaLb.connection.remoteAddress), LB_HOST, JSON.stringify(viaLb));
  assert.equal(hostOf(viaLb.proxySourceAddress ?? ""), "127.0.0.1", JSON.stringify(viaLb));
  const untrusted = (ip: string) =>
    new RegExp(`PROXY protocol header refused: ${escapeRegExp(ip)} is not a trusted proxy$`);
  // A valid header (and a request) from 127.0.0.1: refused before a byte is read.
  const client = await RawClient.connect(TRUSTED_HOST, TRUSTED_PORT_START);
  const address = client.address;
  await client.sendTolerant(concat(VALID_V2, apiVersionsV0(3)));
  await client.closedByPeer(5_000);
  await expectRefused(trusted, from, address, untrusted("127.0.0.1"));
  // A valid v1 header from OUTSIDER_HOST, to a broker port.
  const outsider = await rawFrom(
    OUTSIDER_HOST,
    TRUSTED_HOST,
    TRUSTED_PORT_START + 1,
    concat(VALID_V1, apiVersionsV0(4)),
  );
  assert.equal(outsider.received, 0, "the untrusted peer got a response");
  assert.equal(hostOf(outsider.address), OUTSIDER_HOST);
  await expectRefused(trusted, from, outsider.address, untrusted(OUTSIDER_HOST));
  // No header at all from 127.0.0.1.
  const bare = await RawClient.connect(TRUSTED_HOST, TRUSTED_PORT_START);
  const bareAddress = bare.address;
  await bare.closedByPeer(5_000);
  await expectRefused(trusted, from, bareAddress, untrusted("127.0.0.1"));
  // The trusted node still serves through HAProxy.
  await expectAdvertised(kafka, `${LB_HOST}:${TRUSTED_PORT_START}`, TRUSTED_PORT_START);
  await clients.stillServed("3", since);
});

sharedTest("HAProxy 4. a header not complete within 1000 ms is cut after ~1 s", async () => {
  const { main } = await nodes.get();
  const clients = await steady.get();
  const since = clients.acked();
  const from = main.logs.length;
  const slow = async (name: string, first: Uint8Array, trickle?: Uint8Array) => {
    const client = await RawClient.connect(GW_HOST, PORT_START);
    const address = client.address;
    const t0 = performance.now();
    await client.send(first);
    const closed = client.closedByPeer(HEADER_TIMEOUT_MS + 3_000);
    let done = false;
    closed.finally(() => done = true).catch(() => {});
    // Slowloris: one byte every 150 ms (the whole header would take seconds); the limit is total.
    for (const byte of trickle ?? []) {
      await sleep(150);
      if (done) break;
      try {
        await client.sendTolerant(Uint8Array.of(byte));
      } catch {
        break; // closed meanwhile
      }
    }
    await closed;
    const elapsed = performance.now() - t0;
    assert.ok(
      elapsed >= HEADER_TIMEOUT_MS - 100 && elapsed < HEADER_TIMEOUT_MS + 1_500,
      `${name}: closed after ${elapsed.toFixed(0)} ms`,
    );
    await expectRefused(main, from, address, /: no complete PROXY protocol header within 1000 ms$/);
  };
  await Promise.all([
    slow("half a v1 header", VALID_V1.subarray(0, 20)),
    slow("half a v2 header", VALID_V2.subarray(0, 14)),
    slow("nothing at all", new Uint8Array()),
    slow("a v1 header trickled byte by byte", VALID_V1.subarray(0, 1), VALID_V1.subarray(1)),
  ]);
  await clients.stillServed("4", since);
});

/** 5. Malformed and partial headers, each with the reason its refusal names. */
const MALFORMED: { name: string; bytes: Uint8Array; close?: boolean; reason: RegExp }[] = [
  {
    name: "v1 without the destination port",
    bytes: utf8("PROXY TCP4 192.0.2.1 198.51.100.1 56324\r\n"),
    reason: /v1 header: line ends after the source port: fields missing$/,
  },
  {
    name: "v1 with an invalid IPv4 address",
    bytes: utf8("PROXY TCP4 192.0.2.300 198.51.100.1 56324 6969\r\n"),
    reason: /v1 header: source address "192\.0\.2\.30" then '0' cannot be a valid IPv4 address/,
  },
  {
    name: "v1 with port 65536",
    bytes: utf8("PROXY TCP4 192.0.2.1 198.51.100.1 65536 6969\r\n"),
    reason: /v1 header: source port "6553" then '6' cannot be a decimal number 0\.\.65535/,
  },
  {
    name: "v1 with protocol UDP4",
    bytes: utf8("PROXY UDP4 192.0.2.1 198.51.100.1 1 6969\r\n"),
    reason: /v1 header: unsupported protocol/,
  },
  {
    name: "v1 ending in LF without CR",
    bytes: utf8("PROXY TCP4 192.0.2.1 198.51.100.1 1 6969\n"),
    reason: /v1 header: LF without a preceding CR$/,
  },
  {
    name: "v1 longer than 107 bytes",
    bytes: utf8(`PROXY UNKNOWN ${"x".repeat(120)}`),
    reason: /v1 header: no CRLF within the first 107 bytes$/,
  },
  {
    name: "v1 in lower case",
    bytes: utf8("proxy TCP4 192.0.2.1 198.51.100.1 1 6969\r\n"),
    reason: /no PROXY protocol header: the first bytes \(70\) start neither/,
  },
  {
    name: "v2 with version 1",
    bytes: withByte(VALID_V2, 12, 0x11),
    reason: /v2 header: version nibble is 1, only 2 is valid \(byte 13 = 0x11\)$/,
  },
  {
    name: "v2 with version 3",
    bytes: withByte(VALID_V2, 12, 0x31),
    reason: /v2 header: version nibble is 3, only 2 is valid/,
  },
  {
    name: "v2 with command 0xf",
    bytes: withByte(VALID_V2, 12, 0x2f),
    reason: /v2 header: command 0x0f is neither LOCAL \(0x0\) nor PROXY \(0x1\)$/,
  },
  {
    name: "v2 whose CRC32C does not match (source port changed)",
    bytes: withByte(VALID_V2, 24, VALID_V2[24] ^ 0xff),
    reason: /v2 header: CRC32C TLV is 0x[0-9a-f]{8} but the header checksums to 0x[0-9a-f]{8}$/,
  },
  {
    name: "v2 shorter than its address block",
    bytes: withByte(withByte(VALID_V2, 14, 0), 15, 4),
    reason: /v2 header: length 4 is shorter than the 12-byte INET address block$/,
  },
  {
    name: "v2 with a broken signature",
    bytes: withByte(VALID_V2, 7, 0x50),
    reason: /no PROXY protocol header: the first bytes \(0d 0a 0d 0a 00 0d 0a 50\).*\(byte 7 differs\)$/,
  },
  {
    name: "half a v1 header, then the client closes",
    bytes: VALID_V1.subarray(0, 20),
    close: true,
    reason: /: connection closed inside the PROXY protocol header$/,
  },
  {
    name: "half a v2 header, then the client closes",
    bytes: VALID_V2.subarray(0, 20),
    close: true,
    reason: /: connection closed inside the PROXY protocol header$/,
  },
];

sharedTest("HAProxy 5. malformed and partial headers are refused with the reason logged", async () => {
  const { main } = await nodes.get();
  const clients = await steady.get();
  const since = clients.acked();
  const from = main.logs.length;
  const outcomes = await Promise.allSettled(MALFORMED.map(async (c, i) => {
    const client = await RawClient.connect(GW_HOST, PORT_START + (i % 4));
    const address = client.address;
    if (c.bytes.length > 0) await client.sendTolerant(c.bytes);
    if (c.close) {
      await client.closeWrite();
      await client.closedByPeer(5_000);
    } else {
      const t0 = performance.now();
      await client.closedByPeer(5_000);
      // Refused on the spot, not by the header timeout.
      assert.ok(
        performance.now() - t0 < HEADER_TIMEOUT_MS - 200,
        `${c.name}: closed only by the timeout`,
      );
    }
    await expectRefused(main, from, address, c.reason);
  }));
  const failed = outcomes.map((o, i) => o.status === "rejected" ? `${MALFORMED[i].name}: ${o.reason}` : "")
    .filter((s) => s !== "");
  assert.deepEqual(failed, []);
  await clients.stillServed("5", since);
});

/** `kgate_rejected_connections_total{reason="closed-before-request"}` of a node, from its `/metrics`. */
async function closedBeforeRequest(gateway: GatewayProcess): Promise<number> {
  return rejectedConnections(await scrapeMetrics(gateway.httpUrl), "closed-before-request");
}

sharedTest(
  "HAProxy 5b. a peer that connects and closes without a byte (a health check) is counted, not logged",
  async () => {
    const { main } = await nodes.get();
    const from = main.logs.length;
    const before = await closedBeforeRequest(main);
    const addresses: string[] = [];
    for (let i = 0; i < 3; i++) {
      const client = await RawClient.connect(GW_HOST, PORT_START + i);
      addresses.push(client.address);
      await client.closeWrite();
      await client.closedByPeer(5_000);
    }
    await waitUntil(
      async () => await closedBeforeRequest(main) >= before + 3,
      5_000,
      "kgate_rejected_connections_total{reason=closed-before-request} counts the three probes",
    );
    // Neither a warning nor an audit entry: a load balancer probing every few seconds is no bad input.
    for (const address of addresses) {
      assert.deepEqual(
        main.logs.slice(from).split("\n").filter((l) => l.includes(address)),
        [],
        `a log line or audit entry names the probe ${address}`,
      );
    }
  },
);

sharedTest(
  "HAProxy: valid headers straight to the node are served; error lines name the original addresses",
  async () => {
    const { main } = await nodes.get();
    const clients = await steady.get();
    const since = clients.acked();
    const from = main.logs.length;
    const served = async (
      header: Uint8Array,
      source: string | undefined,
      tlvs?: Record<string, unknown>,
    ) => {
      const client = await RawClient.connect(GW_HOST, PORT_START);
      const address = client.address;
      try {
        // The header and the first request in one write: the request must not be lost.
        await client.send(concat(header, apiVersionsV0(42)));
        await client.readFrame(10_000);
      } finally {
        client.close();
      }
      const entries = await (async () => {
        const deadline = Date.now() + 5_000;
        while (entriesOf(main, address, from).length < 2) {
          assert.ok(Date.now() < deadline, `no OPEN+CLOSE for ${address}:\n${main.logs.slice(from)}`);
          await sleep(25);
        }
        return entriesOf(main, address, from);
      })();
      assert.deepEqual(entries.map((e) => e.action), ["OPEN", "CLOSE"]);
      for (const e of entries) {
        assert.equal(e.proxySourceAddress, source, JSON.stringify(e));
        assert.deepEqual(e.proxyTlvs, tlvs, JSON.stringify(e));
      }
      assert.equal(entries[1].closedBy, "client");
    };
    await served(VALID_V1, "203.0.113.7:4242");
    await served(VALID_V2, "198.51.100.7:5555", {
      crc32c: { valid: true, value: new DataView(VALID_V2.buffer).getUint32(VALID_V2.length - 4) },
    });
    await served(
      buildProxyV2({
        source: { address: "2001:db8::7", port: 7777 },
        destination: { address: "2001:db8::32", port: PORT_START },
        tlvs: { uniqueId: utf8("req-1") },
      }),
      "[2001:db8::7]:7777",
      { uniqueId: "7265712d31" },
    );
    await served(buildProxyV2({ command: "LOCAL" }), undefined);
    await served(utf8("PROXY UNKNOWN\r\n"), undefined);
    // A valid header, then a bad frame: the error line names the original addresses.
    const client = await RawClient.connect(GW_HOST, PORT_START);
    const address = client.address;
    await client.send(concat(VALID_V1, int32(-1)));
    await client.closedByPeer(5_000);
    await expectOneLogLine(
      main,
      from,
      address,
      new RegExp(
        `closed connection from ${escapeRegExp(address)} \\(original source: \\[203\\.0\\.113\\.7:4242\\], ` +
          `original destination: \\[${LB_HOST}:${PORT_START}\\]\\) \\(port ${PORT_START}, broker \\d\\): ` +
          `client: negative frame size -1$`,
      ),
    );
    await clients.stillServed("the valid headers", since);
  },
);

sharedTest("HAProxy 6. the clients connected through HAProxy were never disturbed", async () => {
  const { kafka } = await nodes.get();
  const clients = await steady.get();
  try {
    await clients.stillServed("2-5", clients.acked());
    await clients.stopProducing();
    assert.ok(clients.acked() >= 20, `only ${clients.acked()} records acknowledged`);
    await clients.consumer.waitForLines(clients.values, 20_000);
    // Nothing was lost or duplicated: every record consumed once.
    assert.equal(clients.consumer.lines.length, clients.values.length);
    assert.deepEqual(await clients.closed(), [], "a connection open before 2-5 was closed");
    await expectAdvertised(kafka, LB_BOOTSTRAP, PORT_START);
  } finally {
    // The producer has stopped: a later test gets new steady clients.
    await steady.reset();
  }
});

sharedTest("HAProxy: the audit topic holds every logged entry, identical", async () => {
  const { kafka, main, trusted, auditTopic, samples } = await nodes.get();
  // Entries of every kind, whichever tests ran before: OPEN and CLOSE through HAProxy, a REJECT.
  await steady.get();
  for (let i = 0; i < 30; i++) {
    const raw = await RawClient.connect(LB_HOST, PORT_START);
    try {
      await raw.roundTrip(apiVersionsV0(i), i);
    } finally {
      raw.close();
    }
  }
  const bare = await RawClient.connect(GW_HOST, PORT_START);
  await bare.sendTolerant(apiVersionsV0(1));
  await bare.closedByPeer(5_000);
  // The steady clients' CLOSE entries are logged too.
  await steady.reset();
  await sleep(200);
  const logged = new Map([...auditLinesById(main.logs), ...auditLinesById(trusted.logs)]);
  assert.ok(logged.size > 50, `only ${logged.size} audit entries logged`);
  const inTopic = await waitForAuditTopic(kafka.bootstrapServers, auditTopic, new Set(logged.keys()));
  for (const [id, line] of logged) {
    assert.deepEqual(JSON.parse(inTopic.get(id)!), JSON.parse(line), `audit entry ${id}`);
  }
  for (const [mode, id] of Object.entries(samples)) {
    console.log(`audit entry through HAProxy ${mode}, as produced to ${auditTopic}:\n${inTopic.get(id)}`);
  }
  const actions = new Set([...logged.values()].map((l) => (JSON.parse(l) as AuditEntry).action));
  assert.deepEqual([...actions].sort(), ["CLOSE", "OPEN", "REJECT"]);
  // Every audit line of the log is a whole JSON object (none interleaved with log text).
  for (const gateway of [main, trusted]) {
    for (const line of gateway.logs.split("\n").filter((l) => l.includes('"type":"CONNECTION"'))) {
      assert.ok(isAuditLine(line), line);
    }
  }
});
