/**
 * The HTTP API of real gateway processes (HOST_A and HOST_B, HTTP port 8888 on each) against the
 * real cluster, over real HTTP (`fetch`) and raw sockets, checked against what real Kafka clients (kcat,
 * kafkajs) see through the same node:
 *
 * - every endpoint with real values: probes, `/metrics` counters moving with a produce, brokers, mapping
 *   vs `kcat -L -J`, redacted configuration, cluster, versions vs the ApiVersions the node advertises,
 *   OpenAPI and docs;
 * - basic auth on `/api/*` (custom `GATEWAY_ADMIN_API_USERS`), `/metrics` open, and secured on a second
 *   node (`GATEWAY_SECURED_METRICS=true`); probes never need credentials;
 * - bad input: 404/405/400 JSON, garbage bytes and half requests on the HTTP port, 200 concurrent
 *   requests next to a kcat consumer;
 * - readiness: NOTREADY while the cluster is unreachable (then READY once a relay to a broker comes up),
 *   never READY again after SIGTERM.
 *
 * Node A (with its peer) and the secured node are file fixtures shared by their tests; node A's
 * SIGTERM test stops it, so a later test gets a new one. Every wait is bounded.
 */
import assert from "node:assert/strict";
import {
  createTopic,
  fetchMetadata,
  freePort,
  type KafkaCluster,
  kafkaMajor,
  RawClient,
  runKcat,
  sleep,
  testKafka,
  uniqueTopic,
  withDeadline,
} from "../harness/mod.ts";
import { apiName } from "../../src/protocol/mod.ts";
import { GatewayProcess, projectVersion } from "../support/gateway_process.ts";
import { assertServes, kcatMetadata, KcatStream } from "../support/faults_gateway.ts";
import { TcpRelay } from "../support/faults_relay.ts";
import { kcatRoundTrip } from "../support/clients_util.ts";
import { pseudoRandomBytes, tlsClientHello } from "../support/faults_wire.ts";
import {
  type Credentials,
  type Exposition,
  HalfRequest,
  HttpApi,
  parsePrometheus,
  sampleValue,
  sendUntilClosed,
} from "../support/http_api.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { waitUntil } from "../support/wait.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { kafkajsProducer } from "../support/kafkajs.ts";

/** HOST_PEER: node A's peer in its gateway cluster (rack-c). */
const [HOST_A, HOST_B, HOST_PEER] = loopbackHosts("http_api", 3);
/** Node A's gateway cluster (A and its peer). */
const CLUSTER_ID = `http-api-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
/** A client id naming node A's rack: every broker is mapped to node A for it. */
const CLIENT_IN_RACK_B = "kgate-http-api-test,kgate_rack=rack-b";
const HTTP_PORT = 8888;
const PORT_START = 6969;
const REALM = 'Basic realm="kgate"';
/** Custom admin users of node A: their passwords must never appear in any response. */
const OPS: Credentials = { username: "ops-http-test", password: `ops-pw-${crypto.randomUUID()}` };
const VIEWER: Credentials = { username: "viewer", password: `viewer-pw-${crypto.randomUUID()}` };
/** The built-in default user (node B keeps it; node A replaces it). */
const DEFAULT_ADMIN: Credentials = { username: "admin", password: "kgate" };
/** How long a node may keep an unfinished request's connection open (a header read timeout). */
const HEADER_TIMEOUT_BOUND_MS = 10_000;

/** `/health/ready` as JSON of a ready node with internal load balancing: every check passes. */
const READY_BODY = {
  status: "READY",
  checks: {
    upstreamReachable: true,
    brokersKnown: true,
    listening: true,
    groupJoined: true,
    notDraining: true,
  },
  reasons: [],
};

/** Every route of the API, as the OpenAPI document must list it. */
const ROUTES = [
  "/health/live",
  "/health/ready",
  "/metrics",
  "/versions",
  "/api/v1/cluster",
  "/api/v1/brokers",
  "/api/v1/mapping",
  "/api/v1/config",
  "/openapi.json",
  "/docs",
];
const API_ROUTES = ROUTES.filter((r) => r.startsWith("/api/"));

interface Readiness {
  status: "READY" | "NOTREADY";
  checks: Record<string, boolean>;
  reasons: string[];
}
interface ErrorBody {
  error: string;
  message?: string;
  path?: string;
  parameter?: string;
  allow?: string[];
}
interface BrokersBody {
  brokers: { id: number; host: string; port: number; rack: string | null }[];
}
interface MappingBody {
  rack: string | null;
  clientId: string | null;
  brokers: { brokerId: number; host: string; port: number; rack: string | null }[];
}
interface ClusterBody {
  self: string;
  members: {
    id: string;
    host: string;
    rack: string | null;
    ports: { first: number; last: number };
    httpUrl: string;
    version: string;
    joinedAt: string;
    weight?: number;
  }[];
  generation: number | null;
  lastChange: string | null;
}
interface VersionsBody {
  kgate: string;
  deno: string;
  v8: string;
  typescript: string;
  kafkaProtocol: Record<string, { min: number; max: number }>;
}
interface OpenApiBody {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<
    string,
    Record<string, { security?: unknown[]; parameters?: { name: string; in: string }[] }>
  >;
  components: { securitySchemes: Record<string, { type: string; scheme: string }> };
}

/** Asserts a 401 asking for basic credentials of realm kgate, with a JSON error body. */
function assertUnauthorized(result: { status: number; headers: Headers; body: string }, what: string): void {
  assert.equal(result.status, 401, `${what}: ${result.status} ${result.body}`);
  assert.equal(result.headers.get("www-authenticate"), REALM, what);
  assert.match(result.headers.get("content-type") ?? "", /^application\/json/, what);
  assert.equal((JSON.parse(result.body) as ErrorBody).error, "unauthorized", what);
}

/** Asserts a 400 JSON body naming `parameter`. */
async function assertBadParameter(api: HttpApi, path: string, parameter: string): Promise<void> {
  const res = await api.get(path, { auth: OPS });
  assert.equal(res.status, 400, `${path}: ${res.status} ${res.body}`);
  assert.match(res.headers.get("content-type") ?? "", /^application\/json/, path);
  const body = JSON.parse(res.body) as ErrorBody;
  assert.equal(body.error, "bad request", path);
  assert.equal(body.parameter, parameter, `${path}: ${res.body}`);
  assert.ok(
    body.message?.includes(parameter),
    `${path}: the message does not name ${parameter}: ${res.body}`,
  );
}

/** Scrapes `/metrics` (optionally with credentials) and parses it. */
async function scrape(api: HttpApi, auth?: Credentials): Promise<Exposition> {
  const res = await api.get("/metrics", { auth });
  assert.equal(res.status, 200, res.body);
  assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
  return parsePrometheus(res.body);
}

/** `sampleValue`, 0 when the labelled series does not exist yet (prom-client creates it on first use). */
function counter(exposition: Exposition, name: string, labels: Record<string, string> = {}): number {
  return sampleValue(exposition, name, labels) ?? 0;
}

/** kcat -P of `lines` through `bootstrap`, then a bounded consume proving they were stored. */
async function produceAndConsume(bootstrap: string, topic: string, lines: string[]): Promise<void> {
  const stored = new Set(await kcatRoundTrip(bootstrap, topic, lines, 20_000));
  assert.deepEqual(lines.filter((l) => !stored.has(l)), [], "records produced through the node are missing");
}

/**
 * Node A (HOST_A, custom admin users, rack-b, a 2 s drain) and its peer in one gateway cluster, both
 * ready and seeing each other, with 20 unfinished HTTP requests (slowloris) held open on node A from the
 * start (one of them dribbling a header byte every 500 ms): the tests after run with them open; the
 * slowloris test checks the node closed them.
 */
const nodeA = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const version = await projectVersion();
  const startedAt = Date.now();
  const gateway = await GatewayProcess.start({
    host: HOST_A,
    kafka,
    env: {
      GATEWAY_HTTP_PORT: String(HTTP_PORT),
      GATEWAY_ADMIN_API_USERS: JSON.stringify([OPS, VIEWER]),
      GATEWAY_RACK_ID: "rack-b",
      GATEWAY_CLUSTER_ID: CLUSTER_ID,
      GATEWAY_DRAIN_MS: "2000",
      // The /api/v1/mapping test checks the round-robin preview (no longer the default policy).
      GATEWAY_LOAD_BALANCING_POLICY: "round-robin",
    },
  });
  stack.defer(async () => {
    if (await gateway.running()) await gateway.kill();
  });
  const peer = await GatewayProcess.start({
    host: HOST_PEER,
    kafka,
    env: {
      GATEWAY_HTTP_PORT: String(HTTP_PORT),
      GATEWAY_RACK_ID: "rack-c",
      GATEWAY_CLUSTER_ID: CLUSTER_ID,
      GATEWAY_LOAD_BALANCING_POLICY: "round-robin",
    },
  });
  stack.defer(() => peer.stop().then(() => {}));
  const api = new HttpApi(`http://${HOST_A}:${HTTP_PORT}`);
  const peerApi = new HttpApi(`http://${HOST_PEER}:${HTTP_PORT}`);
  // Both nodes see both (and both are ready: in the group).
  await gateway.waitUntilReady();
  await peer.waitUntilReady();
  for (let waited = 0;; waited += 100) {
    const views = await Promise.all([
      api.json<ClusterBody>("/api/v1/cluster", { auth: OPS }),
      peerApi.json<ClusterBody>("/api/v1/cluster", { auth: DEFAULT_ADMIN }),
    ]);
    if (views.every((v) => v.json.members.length === 2)) break;
    assert.ok(waited < 20_000, `the nodes do not see each other: ${views.map((v) => v.body).join(" | ")}`);
    await sleep(100);
  }
  const halfRequests: HalfRequest[] = [];
  stack.defer(() => {
    for (const h of halfRequests) h.close();
  });
  halfRequests.push(await HalfRequest.open(HOST_A, HTTP_PORT, 500));
  for (let i = 0; i < 19; i++) halfRequests.push(await HalfRequest.open(HOST_A, HTTP_PORT));
  return { kafka, version, startedAt, gateway, peer, api, peerApi, halfRequests };
});

/** Node B with GATEWAY_SECURED_METRICS=true and the default admin user, ready. */
const securedNode = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const gateway = await GatewayProcess.start({
    host: HOST_B,
    kafka,
    env: { GATEWAY_HTTP_PORT: String(HTTP_PORT), GATEWAY_SECURED_METRICS: "true" },
  });
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs);
  });
  const api = new HttpApi(`http://${HOST_B}:${HTTP_PORT}`);
  // Listening comes first; READY once the node is in its gateway group too.
  await gateway.waitUntilReady();
  return { gateway, api };
});

sharedTest(
  "HTTP API node A: probes: /health/live 200 LIVE, /health/ready 200 READY (text and JSON), no auth",
  async () => {
    const { api } = await nodeA.get();

    const live = await api.get("/health/live");
    assert.equal(live.status, 200);
    assert.equal(live.body, "LIVE");
    assert.match(live.headers.get("content-type") ?? "", /^text\/plain/);
    const liveJson = await api.json<{ status: string }>("/health/live", { accept: "application/json" });
    assert.deepEqual(liveJson.json, { status: "LIVE" });

    const ready = await api.get("/health/ready");
    assert.equal(ready.status, 200, ready.body);
    assert.equal(ready.body, "READY");
    assert.match(ready.headers.get("content-type") ?? "", /^text\/plain/);
    const readyJson = await api.json<Readiness>("/health/ready", { accept: "application/json" });
    assert.equal(readyJson.status, 200);
    assert.deepEqual(readyJson.json, READY_BODY);
    // HEAD answers like GET, without a body.
    const head = await api.get("/health/ready", { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(head.body, "");
    // Probes ignore credentials, even wrong ones.
    for (const path of ["/health/live", "/health/ready"]) {
      const res = await api.get(path, { auth: { username: "nobody", password: "wrong" } });
      assert.equal(res.status, 200, `${path} with wrong credentials: ${res.status}`);
    }
  },
);

sharedTest(
  "HTTP API node A: /api/v1/brokers equals the cluster's brokers (ids, real host:port, racks)",
  async () => {
    const { kafka, api } = await nodeA.get();

    const res = await api.json<BrokersBody>("/api/v1/brokers", { auth: OPS });
    assert.equal(res.status, 200, res.body);
    const expected = kafka.brokers
      .map((b) => ({ id: b.id, host: b.host, port: b.port, rack: b.rack }))
      .sort((a, b) => a.id - b.id);
    assert.deepEqual(res.json, { brokers: expected });
    // Every broker the cluster itself reports right now is shown exactly so.
    for (const b of (await kafka.metadata()).brokers) {
      assert.deepEqual(
        res.json.brokers.find((s) => s.id === b.nodeId),
        { id: b.nodeId, host: b.host, port: b.port, rack: b.rack },
      );
    }
  },
);

sharedTest(
  "HTTP API node A: /api/v1/mapping: what the next Metadata request receives, without advancing",
  async () => {
    const { kafka, api, peerApi } = await nodeA.get();

    const endpoints = (brokers: { brokerId: number; host: string; port: number }[]) =>
      brokers.map((b) => ({ id: b.brokerId, endpoint: `${b.host}:${b.port}` })).sort((a, b) => a.id - b.id);
    const received = async (clientId: string) =>
      (await fetchMetadata(`${HOST_A}:${PORT_START}`, [], 10_000, clientId)).brokers
        .map((b) => ({ id: b.nodeId, endpoint: `${b.host}:${b.port}` }))
        .sort((a, b) => a.id - b.id);
    const hosts = new Set<string>();
    for (let round = 0; round < 3; round++) {
      const first = await api.json<MappingBody>("/api/v1/mapping?clientId=app-1", { auth: OPS });
      const again = await api.json<MappingBody>("/api/v1/mapping?clientId=app-1", { auth: OPS });
      assert.equal(first.status, 200, first.body);
      assert.deepEqual(again.json, first.json, "asking twice advanced the round-robin");
      assert.equal(first.json.clientId, "app-1");
      assert.equal(first.json.rack, null);
      // The next Metadata request (one, on a connection of its own) receives exactly that.
      assert.deepEqual(await received("app-1"), endpoints(first.json.brokers), first.body);
      for (const b of first.json.brokers) {
        const broker = kafka.brokers.find((k) => k.id === b.brokerId);
        assert.ok(broker, `mapping names unknown broker ${b.brokerId}`);
        assert.equal(b.port, PORT_START + b.brokerId);
        assert.equal(b.rack, broker.rack);
        assert.ok([HOST_A, HOST_PEER].includes(b.host), first.body);
        hosts.add(b.host);
      }
    }
    assert.deepEqual(hosts, new Set([HOST_A, HOST_PEER]), "the round-robin used only one node");
    // A rack: every broker on that rack's node; kcat -L with the rack in its client.id receives it too.
    for (const [rack, host] of [["rack-b", HOST_A], ["rack-c", HOST_PEER]]) {
      const clientId = `kcat-http-api,kgate_rack=${rack}`;
      const byQuery = await api.json<MappingBody>(`/api/v1/mapping?rack=${rack}&clientId=kcat`, {
        auth: OPS,
      });
      const byClientId = await api.json<MappingBody>(
        `/api/v1/mapping?clientId=${encodeURIComponent(clientId)}`,
        { auth: OPS },
      );
      assert.equal(byQuery.json.rack, rack);
      assert.deepEqual(byQuery.json.brokers, byClientId.json.brokers);
      assert.ok(byQuery.json.brokers.every((b) => b.host === host), byQuery.body);
      const kcat = await runKcat(
        ["-L", "-J", "-b", `${HOST_A}:${PORT_START}`, "-m", "10", "-X", `client.id=${clientId}`],
        { timeoutMs: 20_000 },
      );
      assert.equal(kcat.code, 0, kcat.stderr);
      const seen = (JSON.parse(kcat.stdout) as { brokers: { id: number; name: string }[] }).brokers
        .map((b) => ({ id: b.id, endpoint: b.name }))
        .sort((a, b) => a.id - b.id);
      assert.deepEqual(
        seen,
        endpoints(byQuery.json.brokers),
        `mapping ${byQuery.body} vs kcat ${kcat.stdout}`,
      );
    }
    // The peer answers for the same cluster.
    const fromPeer = await peerApi.json<MappingBody>("/api/v1/mapping?rack=rack-b", {
      auth: DEFAULT_ADMIN,
    });
    assert.ok(fromPeer.json.brokers.every((b) => b.host === HOST_A), fromPeer.body);
  },
);

sharedTest("HTTP API node A: /api/v1/config: the effective configuration, admin users redacted", async () => {
  const { kafka, api } = await nodeA.get();

  const res = await api.json<Record<string, unknown>>("/api/v1/config", { auth: VIEWER });
  assert.equal(res.status, 200, res.body);
  const config = res.json;
  assert.equal(config.GATEWAY_ADMIN_API_USERS, "<redacted>");
  for (const secret of [OPS.password, VIEWER.password, OPS.username]) {
    assert.ok(!res.body.includes(secret), `the config body shows ${secret}: ${res.body}`);
  }
  const bootstrap = kafka.bootstrapServers.split(",").map((s) => {
    const [host, port] = s.split(":");
    return { host, port: Number(port) };
  });
  const expected: Record<string, unknown> = {
    KAFKA_BOOTSTRAP_SERVERS: bootstrap,
    KAFKA_SECURITY_PROTOCOL: "PLAINTEXT",
    GATEWAY_BIND_HOST: HOST_A,
    GATEWAY_ADVERTISED_HOST: HOST_A,
    GATEWAY_PORT_START: PORT_START,
    GATEWAY_HTTP_PORT: HTTP_PORT,
    GATEWAY_RACK_ID: "rack-b",
    GATEWAY_NODE_ID: `${HOST_A}:${PORT_START}`,
    GATEWAY_CLUSTER_ID: CLUSTER_ID,
    GATEWAY_SECURED_METRICS: false,
    GATEWAY_MAX_FRAME_BYTES: 104857600,
    GATEWAY_LOG_LEVEL: "info",
  };
  for (const [key, value] of Object.entries(expected)) {
    assert.deepEqual(config[key], value, `${key} in ${res.body}`);
  }
});

sharedTest(
  "HTTP API node A: /api/v1/cluster lists both nodes (self, racks, ports, httpUrl, generation)",
  async () => {
    const { kafka, api, peerApi, version, startedAt } = await nodeA.get();

    const res = await api.json<ClusterBody>("/api/v1/cluster", { auth: OPS });
    assert.equal(res.status, 200, res.body);
    const self = `${HOST_A}:${PORT_START}`;
    assert.equal(res.json.self, self);
    assert.equal(res.json.members.length, 2, res.body);
    const maxBrokerId = Math.max(...kafka.brokers.map((b) => b.id));
    const expected = [[HOST_A, "rack-b"], [HOST_PEER, "rack-c"]].map(([host, rack]) => ({
      id: `${host}:${PORT_START}`,
      host,
      rack,
      // Default port count: max broker id - min broker id (0) + 3.
      ports: { first: PORT_START, last: PORT_START + maxBrokerId + 2 },
      httpUrl: `http://${host}:${HTTP_PORT}`,
      version,
      joinedAt: undefined,
      weight: 1,
    }));
    assert.deepEqual(res.json.members.map((m) => ({ ...m, joinedAt: undefined })), expected);
    for (const member of res.json.members) {
      const joined = Date.parse(member.joinedAt);
      assert.ok(joined >= startedAt - 1_000 && joined <= Date.now(), `joinedAt ${member.joinedAt}`);
    }
    assert.ok(typeof res.json.generation === "number" && res.json.generation >= 1, res.body);
    assert.ok(res.json.lastChange !== null && !Number.isNaN(Date.parse(res.json.lastChange)), res.body);
    // Any node answers for the whole cluster: the peer shows the same members and generation.
    const fromPeer = await peerApi.json<ClusterBody>("/api/v1/cluster", { auth: DEFAULT_ADMIN });
    assert.equal(fromPeer.json.self, `${HOST_PEER}:${PORT_START}`);
    assert.deepEqual(fromPeer.json.members, res.json.members);
    assert.equal(fromPeer.json.generation, res.json.generation);
    // The advertised port range listens: its last port bootstraps.
    await kcatMetadata(`${HOST_A}:${res.json.members[0].ports.last}`);
  },
);

sharedTest(
  "HTTP API node A: /versions: kgate and Deno versions, Kafka API ranges = ApiVersions through the node",
  async () => {
    const { kafka, api, version } = await nodeA.get();

    const res = await api.json<VersionsBody>("/versions");
    assert.equal(res.status, 200, res.body);
    assert.equal(res.json.kgate, version);
    // The node runs on the same deno binary as this test.
    assert.equal(res.json.deno, Deno.version.deno);
    assert.equal(res.json.v8, Deno.version.v8);
    assert.equal(res.json.typescript, Deno.version.typescript);
    const client = await RawClient.connect(HOST_A, PORT_START);
    let advertised: Map<number, { min: number; max: number }>;
    try {
      advertised = await client.apiVersions();
    } finally {
      client.close();
    }
    const byName = Object.fromEntries([...advertised].map(([key, range]) => [apiName(key), range]));
    assert.deepEqual(res.json.kafkaProtocol, byName);
    // Metadata v13 came with Kafka 4.0; 3.9 stops at 12.
    assert.equal(res.json.kafkaProtocol.Metadata?.max, kafkaMajor(kafka.version) >= 4 ? 13 : 12);
    assert.equal(res.json.kafkaProtocol.ApiVersions?.max, 4);
    assert.ok((res.json.kafkaProtocol.FindCoordinator?.max ?? 99) <= 6, res.body);
    assert.ok((res.json.kafkaProtocol.Produce?.max ?? 99) <= 13, res.body);
    // In API key order.
    const keys = Object.keys(res.json.kafkaProtocol);
    const sorted = [...advertised.keys()].sort((a, b) => a - b).map((k) => apiName(k));
    assert.deepEqual(keys, sorted);
  },
);

sharedTest(
  "HTTP API node A: /openapi.json is an OpenAPI 3.1 document of every route; /docs is HTML",
  async () => {
    const { api, version } = await nodeA.get();

    const doc = await api.json<OpenApiBody>("/openapi.json");
    assert.equal(doc.status, 200);
    assert.equal(doc.json.openapi, "3.1.0");
    assert.equal(doc.json.info.version, version);
    assert.deepEqual(Object.keys(doc.json.paths).sort(), [...ROUTES].sort());
    for (const path of ROUTES) assert.ok(doc.json.paths[path].get, `${path} has no GET operation`);
    const scheme = doc.json.components.securitySchemes.basicAuth;
    assert.deepEqual([scheme?.type, scheme?.scheme], ["http", "basic"], JSON.stringify(scheme));
    for (const path of API_ROUTES) {
      assert.ok(doc.json.paths[path].get.security?.length, `${path} is documented without security`);
    }
    // Open: no security requirement (OpenAPI's explicit `security: []`).
    assert.equal(
      doc.json.paths["/metrics"].get.security?.length ?? 0,
      0,
      "open /metrics documented as secured",
    );
    assert.equal(
      doc.json.paths["/health/ready"].get.security?.length ?? 0,
      0,
      "probe documented as secured",
    );
    assert.deepEqual(
      (doc.json.paths["/api/v1/mapping"].get.parameters ?? []).map((p) => `${p.in}:${p.name}`).sort(),
      ["query:clientHost", "query:clientId", "query:listener", "query:rack"],
    );

    const docs = await api.get("/docs");
    assert.equal(docs.status, 200);
    assert.match(docs.headers.get("content-type") ?? "", /^text\/html/);
    assert.match(docs.body, /^<!doctype html>/i);
    assert.match(docs.body, /<\/html>\s*$/i);
    for (const path of ROUTES) assert.ok(docs.body.includes(path), `/docs does not mention ${path}`);
    assert.match(docs.headers.get("content-security-policy") ?? "", /default-src 'none'/);
  },
);

sharedTest(
  "HTTP API node A: /metrics: Prometheus text; counters move with a kafkajs produce and kcat -L",
  async () => {
    const { api } = await nodeA.get();

    const topic = uniqueTopic("http-metrics");
    await createTopic(topic, 1, 3);
    const before = await scrape(api);
    for (
      const family of [
        "kgate_client_connections_open",
        "kgate_client_connections_total",
        "kgate_bytes_in_total",
        "kgate_bytes_out_total",
        "kgate_requests_total",
        "kgate_responses_total",
        "kgate_request_latency_seconds",
        "kgate_rewritten_responses_total",
        "kgate_upstream_connection_errors_total",
        "kgate_rejected_connections_total",
        "kgate_audit_events",
        "kgate_process_memory_bytes",
      ]
    ) assert.ok(before.types.has(family), `/metrics lacks # TYPE ${family}`);

    const value = "v".repeat(10_000);
    // In node A's rack: with two nodes every broker is still mapped to A, so A's counters see it all.
    const producer = kafkajsProducer(`${HOST_A}:${PORT_START}`, CLIENT_IN_RACK_B, 5);
    try {
      await withDeadline(producer.connect(), 20_000, "kafkajs connect");
      await withDeadline(
        producer.send({ topic, acks: -1, messages: [{ key: "k", value }] }),
        20_000,
        "kafkajs produce",
      );
    } finally {
      await withDeadline(producer.disconnect(), 10_000, "kafkajs disconnect").catch(() => {});
    }
    await kcatMetadata(`${HOST_A}:${PORT_START}`);
    const after = await scrape(api);

    const delta = (name: string, labels: Record<string, string> = {}) =>
      counter(after, name, labels) - counter(before, name, labels);
    const produce = { api: "Produce" };
    assert.ok(
      delta("kgate_requests_total", produce) >= 1,
      "kgate_requests_total{api=Produce} did not move",
    );
    assert.ok(
      delta("kgate_responses_total", produce) >= 1,
      "kgate_responses_total{api=Produce} did not move",
    );
    assert.ok(
      delta("kgate_request_latency_seconds_count", { ...produce, part: "upstream" }) >= 1,
      "the Produce latency histogram did not move",
    );
    assert.ok(
      delta("kgate_bytes_in_total") >= value.length,
      `bytes in moved ${delta("kgate_bytes_in_total")}`,
    );
    assert.ok(delta("kgate_bytes_out_total") > 0, "kgate_bytes_out_total did not move");
    assert.ok(
      delta("kgate_rewritten_responses_total", { api: "Metadata" }) >= 2,
      "kgate_rewritten_responses_total{api=Metadata} moved less than twice (kafkajs and kcat)",
    );
    assert.ok(delta("kgate_requests_total", { api: "Metadata" }) >= 2);
    assert.ok(delta("kgate_client_connections_total") >= 2, "kgate_client_connections_total did not move");
    assert.ok((sampleValue(after, "kgate_process_memory_bytes", { kind: "rss" }) ?? 0) > 0);
    // The cluster: two nodes, at least the rebalance that let the second in, Metadata mappings counted.
    assert.equal(sampleValue(after, "kgate_cluster_size"), 2);
    assert.ok((sampleValue(after, "kgate_rebalances_total") ?? 0) >= 1, "kgate_rebalances_total is 0");
    assert.ok(delta("kgate_mapping_requests_total") >= 2, "kgate_mapping_requests_total did not move");
    assert.notEqual(sampleValue(after, "kgate_client_connections_open"), undefined);
  },
);

sharedTest(
  "HTTP API node A: auth: /api/* needs basic credentials (401 + realm), /metrics and probes are open",
  async () => {
    const { api } = await nodeA.get();

    for (const path of [...API_ROUTES, "/api/v1/no-such-route"]) {
      assertUnauthorized(await api.get(path), `${path} without credentials`);
      assertUnauthorized(
        await api.get(path, { auth: { ...OPS, password: "wrong" } }),
        `${path} with a wrong password`,
      );
      assertUnauthorized(
        await api.get(path, { auth: { username: "nobody", password: OPS.password } }),
        `${path} with an unknown user`,
      );
      // The default user is gone once GATEWAY_ADMIN_API_USERS is set.
      assertUnauthorized(await api.get(path, { auth: DEFAULT_ADMIN }), `${path} with the default user`);
      assertUnauthorized(
        await api.get(path, { headers: { Authorization: "Bearer abc" } }),
        `${path} with another scheme`,
      );
      assertUnauthorized(
        await api.get(path, { headers: { Authorization: "Basic !!!not-base64" } }),
        `${path} with malformed basic credentials`,
      );
    }
    for (const path of API_ROUTES) {
      for (const user of [OPS, VIEWER]) {
        const res = await api.get(path, { auth: user });
        assert.equal(res.status, 200, `${path} as ${user.username}: ${res.status} ${res.body}`);
      }
    }
    for (
      const path of ["/metrics", "/health/live", "/health/ready", "/versions", "/openapi.json", "/docs"]
    ) {
      const res = await api.get(path);
      assert.equal(res.status, 200, `${path} without credentials: ${res.status} ${res.body}`);
    }
  },
);

sharedTest("HTTP API node A: bad input: 404 and 405 JSON, 400 JSON naming the query parameter", async () => {
  const { api } = await nodeA.get();

  for (const path of ["/nope", "/health", "/health/live/extra", "/metrics.json"]) {
    const res = await api.json<ErrorBody>(path);
    assert.equal(res.status, 404, `${path}: ${res.body}`);
    assert.deepEqual(res.json, { error: "not found", path });
  }
  const unknownApi = await api.json<ErrorBody>("/api/v1/no-such-route", { auth: OPS });
  assert.equal(unknownApi.status, 404, unknownApi.body);
  assert.deepEqual(unknownApi.json, { error: "not found", path: "/api/v1/no-such-route" });

  const post = await api.json<ErrorBody>("/health/ready", { method: "POST" });
  assert.equal(post.status, 405, post.body);
  assert.equal(post.headers.get("allow"), "GET, HEAD");
  assert.deepEqual(post.json.allow, ["GET", "HEAD"]);

  await assertBadParameter(api, "/api/v1/mapping?rack=", "rack");
  await assertBadParameter(api, "/api/v1/mapping?clientId=", "clientId");
  await assertBadParameter(api, `/api/v1/mapping?clientId=${"c".repeat(256)}`, "clientId");
  await assertBadParameter(api, "/api/v1/mapping?clientId=abc%01def", "clientId");
  await assertBadParameter(api, "/api/v1/mapping?clientId=line%0Abreak", "clientId");
  await assertBadParameter(api, "/api/v1/mapping?clientId=a%E2%80%A8b", "clientId");
  await assertBadParameter(api, "/api/v1/mapping?rack=%7F", "rack");
  await assertBadParameter(api, "/api/v1/mapping?rack=a&rack=b", "rack");
  // The longest allowed value, and printable non-ASCII, are fine.
  const longest = "c".repeat(255);
  const ok = await api.json<MappingBody>(`/api/v1/mapping?clientId=${longest}&rack=zone-%C3%A9`, {
    auth: OPS,
  });
  assert.equal(ok.status, 200, ok.body);
  assert.equal(ok.json.clientId, longest);
  assert.equal(ok.json.rack, "zone-é");
  // Undeclared query parameters are ignored.
  const extra = await api.get("/api/v1/brokers?verbose=%01", { auth: OPS });
  assert.equal(extra.status, 200, extra.body);
});

sharedTest(
  "HTTP API node A: garbage bytes on the HTTP port: the connection closes, the node serves HTTP and Kafka",
  async () => {
    const { kafka, gateway, api } = await nodeA.get();

    const inputs: [string, Uint8Array][] = [
      ["random bytes", Uint8Array.of(0xff, 0x00, ...pseudoRandomBytes(41, 4096))],
      ["a TLS ClientHello", tlsClientHello()],
      ["an invalid request line", new TextEncoder().encode("GET / HTTP/9.9 garbage\x00\r\n\r\n")],
      [
        "a 1 MiB header",
        new TextEncoder().encode(`GET /health/live HTTP/1.1\r\nX: ${"a".repeat(1 << 20)}\r\n\r\n`),
      ],
    ];
    for (const [what, bytes] of inputs) {
      const outcome = await sendUntilClosed(HOST_A, HTTP_PORT, bytes, 5_000);
      // Whatever the server answered, it is not a success.
      assert.doesNotMatch(
        outcome.received,
        /^HTTP\/1\.[01] 2/,
        `${what}: ${outcome.received.slice(0, 200)}`,
      );
    }
    const ready = await api.get("/health/ready");
    assert.equal(ready.status, 200, ready.body);
    await assertServes(gateway, kafka, [HOST_A, HOST_PEER]);
    const topic = uniqueTopic("http-garbage");
    await createTopic(topic, 1, 3);
    await produceAndConsume(gateway.bootstrap, topic, ["after-garbage-1", "after-garbage-2"]);
  },
);

sharedTest("HTTP API node A: 200 concurrent HTTP requests do not disturb a kcat consumer", async () => {
  const { gateway, api } = await nodeA.get();

  const topic = uniqueTopic("http-load");
  await createTopic(topic, 3, 3);
  const consumer = KcatStream.consume(gateway.bootstrap, topic);
  try {
    const first = Array.from({ length: 100 }, (_, i) => `first-${i}`);
    const produced = await runKcat(["-P", "-b", gateway.bootstrap, "-t", topic], {
      stdin: first.join("\n") + "\n",
      timeoutMs: 20_000,
    });
    assert.equal(produced.code, 0, produced.stderr);
    await consumer.waitForLines(first, 20_000);

    const paths: [string, Credentials | undefined][] = [
      ["/health/ready", undefined],
      ["/metrics", undefined],
      ["/versions", undefined],
      ["/api/v1/brokers", OPS],
      ["/api/v1/mapping?clientId=load", VIEWER],
      ["/openapi.json", undefined],
      ["/api/v1/config", OPS],
      ["/health/live", undefined],
    ];
    const second = Array.from({ length: 100 }, (_, i) => `second-${i}`);
    const t0 = Date.now();
    const [results, producedDuring] = await Promise.all([
      Promise.all(Array.from({ length: 200 }, (_, i) => {
        const [path, auth] = paths[i % paths.length];
        return api.get(path, { auth, timeoutMs: 15_000 }).then(
          (r) => `${path} ${r.status}`,
          (e) => `${path} failed: ${(e as Error).message}`,
        );
      })),
      runKcat(["-P", "-b", gateway.bootstrap, "-t", topic], {
        stdin: second.join("\n") + "\n",
        timeoutMs: 20_000,
      }),
    ]);
    const elapsed = Date.now() - t0;
    const failed = results.filter((r) => !r.endsWith(" 200"));
    assert.deepEqual(failed, [], `${failed.length} of 200 concurrent requests failed`);
    assert.equal(producedDuring.code, 0, producedDuring.stderr);
    await consumer.waitForLines(second, 20_000);
    assert.equal(new Set(consumer.lines).size, first.length + second.length, "duplicates or extra lines");
    const exited = await Promise.race([
      consumer.child.status.then(() => true),
      sleep(0).then(() => false),
    ]);
    assert.ok(!exited, "the kcat consumer exited");
    assert.ok(elapsed < 20_000, `200 requests took ${elapsed} ms`);
  } finally {
    await consumer.stop();
  }
});

sharedTest(
  "HTTP API node A: the node serves HTTP and Kafka with 20 unfinished requests held open",
  async () => {
    const { kafka, gateway, api } = await nodeA.get();

    const live = await api.get("/health/live");
    assert.equal(live.status, 200);
    await assertServes(gateway, kafka, [HOST_A, HOST_PEER]);
  },
);

sharedTest(
  `HTTP API node A: unfinished requests (slowloris) are closed by the node within ${
    HEADER_TIMEOUT_BOUND_MS / 1000
  } s`,
  async () => {
    const { halfRequests } = await nodeA.get();

    const outcomes = await Promise.all(halfRequests.map(async (h) => {
      const remaining = h.sentAt + HEADER_TIMEOUT_BOUND_MS + 1_000 - Date.now();
      const state = await Promise.race([h.closed, sleep(Math.max(0, remaining)).then(() => undefined)]);
      return state?.by === "peer" ? state.afterMs : undefined;
    }));
    const stillOpen = outcomes.filter((o) => o === undefined).length;
    assert.equal(
      stillOpen,
      0,
      `${stillOpen} of ${halfRequests.length} connections with an unfinished HTTP request are still open ` +
        `${HEADER_TIMEOUT_BOUND_MS / 1000} s after they were opened (one of them sends a header byte every ` +
        "500 ms): the HTTP API (Deno.serve in src/http/server.ts) has no header read timeout, so a slow " +
        "client holds a connection (a file descriptor) for as long as it likes",
    );
    for (const ms of outcomes) assert.ok(ms! <= HEADER_TIMEOUT_BOUND_MS + 1_000, `closed after ${ms} ms`);
  },
);

sharedTest("HTTP API node A: after the half requests: HTTP and a produce through the node work", async () => {
  const { gateway, api, halfRequests } = await nodeA.get();
  for (const h of halfRequests) h.close();
  const ready = await api.get("/health/ready");
  assert.equal(ready.status, 200, ready.body);
  const topic = uniqueTopic("http-after-half");
  await createTopic(topic, 1, 3);
  await produceAndConsume(gateway.bootstrap, topic, ["after-half-1"]);
});

sharedTest("HTTP API node A: no response ever contained an admin password", async () => {
  const { gateway, api } = await nodeA.get();
  // Every route answered at least once, with each user (the earlier tests' responses count too).
  for (const path of ROUTES) {
    for (const auth of [OPS, VIEWER, undefined]) await api.get(path, { auth });
  }
  for (const body of api.bodies) {
    for (const secret of [OPS.password, VIEWER.password]) {
      assert.ok(!body.includes(secret), `a response shows a password: ${body.slice(0, 300)}`);
    }
  }
  assert.ok(
    !gateway.logs.includes(OPS.password) && !gateway.logs.includes(VIEWER.password),
    "password logged",
  );
});

sharedTest("HTTP API node A: SIGTERM: /health/ready is never READY again, the node exits 0", async () => {
  const { gateway, api, peerApi } = await nodeA.get();
  try {
    const ready = await api.get("/health/ready");
    assert.equal(ready.status, 200, "not READY before SIGTERM");
    const polls: { sentAt: number; outcome: string }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const sentAt = Date.now();
        try {
          const res = await api.get("/health/ready", { timeoutMs: 2_000 });
          polls.push({ sentAt, outcome: `${res.status} ${res.body}` });
        } catch (error) {
          polls.push({ sentAt, outcome: `error ${(error as Error).name}: ${(error as Error).message}` });
          await sleep(10);
        }
      }
    })();
    await sleep(100);
    const killedAt = Date.now();
    gateway.child.kill("SIGTERM");
    const status = await withDeadline(gateway.exited, 10_000, "exit after SIGTERM").finally(async () => {
      await sleep(300);
      polling = false;
      await withDeadline(poller, 5_000, "the readiness poller");
    });
    assert.equal(status.code, 0, gateway.logs);
    await gateway.waitForLog(/SIGTERM received: shutting down/, 1_000);
    // The drain (2 s): NOTREADY all along, and the peer stopped advertising this node.
    const notReady = polls.filter((p) => p.outcome === "503 NOTREADY");
    assert.ok(
      notReady.length >= 5 && notReady[notReady.length - 1].sentAt - notReady[0].sentAt >= 1_500,
      `NOTREADY was not answered through the drain: ${JSON.stringify(polls.slice(-20))}`,
    );
    const peerView = await peerApi.json<ClusterBody>("/api/v1/cluster", { auth: DEFAULT_ADMIN });
    assert.deepEqual(peerView.json.members.map((m) => m.host), [HOST_PEER], peerView.body);
    assert.equal((await peerApi.get("/health/ready")).status, 200);
    await gateway.waitForLog(/\bstopped\b/, 1_000);
    // When the node handled the signal (its log line; draining is set in the same tick).
    const line = gateway.logs.split("\n").find((l) => /SIGTERM received/.test(l))!;
    const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d\.\d{3}) ([+-]\d\d:\d\d)/.exec(line);
    assert.ok(m, `no timestamp in ${line}`);
    const handledAt = Date.parse(`${m[1]}T${m[2]}${m[3]}`);
    const after = polls.filter((p) => p.sentAt > handledAt + 1);
    assert.ok(
      after.length > 0,
      `no readiness poll after the node handled SIGTERM: ${JSON.stringify(polls)}`,
    );
    const readyAfter = after.filter((p) => p.outcome.startsWith("200"));
    assert.deepEqual(readyAfter, [], "READY after the node handled SIGTERM");
    assert.ok(
      after.every((p) => p.outcome === "503 NOTREADY" || p.outcome.startsWith("error")),
      JSON.stringify(after),
    );
    // Between the signal and its handling READY is possible; after the exit the HTTP API is gone.
    const last = polls[polls.length - 1];
    assert.ok(last.outcome.startsWith("error"), `the HTTP API still answers after exit: ${last.outcome}`);
    assert.ok(polls.some((p) => p.sentAt >= killedAt), "no readiness poll after SIGTERM");
  } finally {
    // Node A has exited: a later test gets a new pair.
    await nodeA.reset();
  }
});

sharedTest(
  "HTTP API, secured /metrics node: /metrics: 401 without or with wrong credentials, 200 with the default user",
  async () => {
    const { gateway, api } = await securedNode.get();

    assertUnauthorized(await api.get("/metrics"), "/metrics without credentials");
    assertUnauthorized(
      await api.get("/metrics", { auth: { ...DEFAULT_ADMIN, password: "wrong" } }),
      "/metrics with a wrong password",
    );
    await kcatMetadata(gateway.bootstrap);
    const metrics = await scrape(api, DEFAULT_ADMIN);
    assert.ok(counter(metrics, "kgate_client_connections_total") >= 1);
    assert.ok(counter(metrics, "kgate_rewritten_responses_total", { api: "Metadata" }) >= 1);
  },
);

sharedTest(
  "HTTP API, secured /metrics node: probes, /versions and the docs answer without credentials",
  async () => {
    const { api } = await securedNode.get();

    const live = await api.get("/health/live");
    assert.deepEqual([live.status, live.body], [200, "LIVE"]);
    const ready = await api.get("/health/ready");
    assert.deepEqual([ready.status, ready.body], [200, "READY"]);
    for (const path of ["/versions", "/openapi.json", "/docs"]) {
      assert.equal((await api.get(path)).status, 200, path);
    }
    const doc = await api.json<OpenApiBody>("/openapi.json");
    assert.ok(doc.json.paths["/metrics"].get.security?.length, "secured /metrics documented as open");
  },
);

sharedTest(
  "HTTP API, secured /metrics node: /api/*: 401 without credentials, 200 with the default user",
  async () => {
    const { api } = await securedNode.get();

    for (const path of API_ROUTES) {
      assertUnauthorized(await api.get(path), path);
      assert.equal((await api.get(path, { auth: DEFAULT_ADMIN })).status, 200, path);
    }
  },
);

Deno.test({
  name: "readiness: NOTREADY while the cluster is unreachable, READY once a relay to a broker comes up",
  sanitizeOps: false,
  sanitizeResources: false,
}, async () => {
  // This test binds HOST_B itself.
  await securedNode.reset();
  const kafka: KafkaCluster = await testKafka();
  const port = freePort();
  const servers = `127.0.0.1:${port}`;
  const gateway = await GatewayProcess.start({
    host: HOST_B,
    env: { KAFKA_BOOTSTRAP_SERVERS: servers, GATEWAY_HTTP_PORT: String(HTTP_PORT) },
    waitReady: false,
  });
  const api = new HttpApi(`http://${HOST_B}:${HTTP_PORT}`, 3_000);
  let relay: TcpRelay | undefined;
  try {
    // The HTTP API comes up before the node reaches the cluster.
    const first = await waitUntil(
      async () => {
        assert.ok(await gateway.running(), `the node exited:\n${gateway.logs}`);
        return await api.get("/health/ready");
      },
      15_000,
      "the HTTP API answering",
    );
    assert.equal(first.status, 503, first.body);
    assert.equal(first.body, "NOTREADY");

    const notReady = await waitUntil(
      async () => {
        const res = await api.json<Readiness>("/health/ready", { accept: "application/json" });
        return res.json.reasons.some((r) => r.includes("unreachable")) ? res : undefined;
      },
      10_000,
      "reasons naming the unreachable cluster",
    );
    assert.equal(notReady.status, 503);
    assert.equal(notReady.json.status, "NOTREADY");
    assert.deepEqual(notReady.json.checks, {
      upstreamReachable: false,
      brokersKnown: false,
      listening: false,
      groupJoined: false,
      notDraining: true,
    });
    assert.ok(notReady.json.reasons.includes("not in the gateway group yet"), notReady.body);
    const reason = notReady.json.reasons.find((r) => r.includes("unreachable"))!;
    assert.ok(reason.includes(servers), `the reason does not name ${servers}: ${reason}`);
    assert.match(reason, /refused/i);
    // Live while not ready; nothing known yet.
    assert.equal((await api.get("/health/live")).body, "LIVE");
    assert.deepEqual((await api.json<VersionsBody>("/versions")).json.kafkaProtocol, {});
    assert.deepEqual((await api.json<BrokersBody>("/api/v1/brokers", { auth: DEFAULT_ADMIN })).json, {
      brokers: [],
    });
    const kafkaPort = await Deno.connect({ hostname: HOST_B, port: PORT_START }).then(
      (c) => (c.close(), "open"),
      (e) => (e instanceof Deno.errors.ConnectionRefused ? "refused" : String(e)),
    );
    assert.equal(kafkaPort, "refused", "a Kafka port listens before the cluster answered");

    const broker = kafka.brokers[0];
    relay = TcpRelay.start({ hostname: "127.0.0.1", port }, { hostname: broker.host, port: broker.port });
    const ready = await waitUntil(
      async () => {
        const res = await api.get("/health/ready");
        return res.status === 200 ? res : undefined;
      },
      15_000,
      "READY once the cluster is reachable",
    );
    assert.equal(ready.body, "READY");
    const json = await api.json<Readiness>("/health/ready", { accept: "application/json" });
    assert.deepEqual(json.json, READY_BODY);
    assert.ok(relay.accepted >= 1, "the node never used the bootstrap address");
    await assertServes(gateway, kafka);
  } finally {
    const status = await gateway.stop();
    await relay?.close();
    assert.equal(status.code, 0, gateway.logs);
  }
});
