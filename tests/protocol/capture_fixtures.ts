/**
 * Captures byte fixtures from a REAL Kafka cluster into `tests/protocol/fixtures/<kafka-version>/`.
 *
 * ```sh
 * deno run -A tests/protocol/capture_fixtures.ts                          # attach to /tmp/dev/info.json
 * deno run -A tests/protocol/capture_fixtures.ts --info /path/info.json   # attach to another cluster
 * deno run -A tests/protocol/capture_fixtures.ts --version 3.9.1          # start a cluster, capture, stop it
 * ```
 *
 * A started cluster uses `--port-base` (default 25092: ports 25092-25094, 25192-25194, 25292-25294, below
 * the kernel's ephemeral range, where TIME-WAIT sockets of outgoing connections can make a port look
 * busy).
 *
 * Requests are built with the project's codec (`encodeRequestFrame`) and sent over raw TCP; the raw
 * response frames (size prefix included) and the request frames are written as `.bin` files with an
 * `index.json` in the format of `fixture_support.ts`, plus `kafka_schemas.json`: the protocol schemas
 * and header versions of the Kafka release, dumped from its own jars (`org.apache.kafka.common.message`
 * classes) so the test can compare every schema of the codec with the real one.
 *
 * What is captured, for every version the broker supports (and the codec declares):
 * - ApiVersions v0..max, plus versions above the broker's (`max + 1`, 127): the UNSUPPORTED_VERSION v0
 *   fallback body.
 * - Metadata v0..max for a 3-partition RF 3 topic, and all topics (v0 `[]`; `null` from v1) at v0, v1,
 *   v9 and max.
 * - FindCoordinator v0..max for a group (v4+: two keys in one request) and v1..max for a transactional
 *   id (key type 1).
 * - DescribeCluster v0..max (v2 with IncludeFencedBrokers).
 * - Produce v3..max to the partition leader, and v10..max to a follower (NOT_LEADER_OR_FOLLOWER with
 *   CurrentLeader and NodeEndpoints). Records are one RecordBatch v2 with a correct CRC32C.
 * - Fetch v4..max from the leader (one record batch), and v16..max from a broker that does not host the
 *   partition (NOT_LEADER_OR_FOLLOWER with CurrentLeader and NodeEndpoints). A follower of an RF 3 topic
 *   would serve v11+ fetches itself (KIP-392), so that case uses an RF 1 topic.
 * - ShareFetch / ShareAcknowledge when the broker advertises them (a share group member joins with
 *   ShareGroupHeartbeat first).
 *
 * @module
 */

import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  ByteWriter,
  decodeApiVersionsResponse,
  decodeMessage,
  decodeResponseFrame,
  DescribeClusterRequest,
  DescribeClusterResponse,
  encodeMessage,
  encodeRequestFrame,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  type FindCoordinatorResponseData,
  frameBody,
  inVersions,
  type MessageSpec,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  ResponseHeader,
  responseHeaderVersion,
  ShareAcknowledgeRequest,
  ShareAcknowledgeResponse,
  ShareFetchRequest,
  ShareFetchResponse,
  ShareGroupHeartbeatRequest,
  ShareGroupHeartbeatResponse,
  type Struct,
  ZERO_UUID,
} from "../../src/protocol/mod.ts";
import { KafkaCluster, type KafkaClusterInfo } from "../harness/kafka_cluster.ts";
import type { FixtureEntry } from "./fixture_support.ts";
import { buildRecordBatch } from "./record_batch.ts";

const enc = new TextEncoder();
const CLIENT_ID = "kgate-fixtures";
/** Topic with 3 partitions, RF 3 (Metadata, Produce, Fetch from the leader, share groups). */
export const TOPIC = "kgate-fixtures";
/** Topic with 1 partition, RF 1 (Fetch from a broker that does not host it). */
export const TOPIC_RF1 = "kgate-fixtures-rf1";
const GROUP = "kgate-fixtures-group";
const GROUP_2 = "kgate-fixtures-group-2";
const TXN_ID = "kgate-fixtures-txn";
const SHARE_GROUP = "kgate-fixtures-share";
const NOT_LEADER_OR_FOLLOWER = 6;
const COORDINATOR_NOT_AVAILABLE = 15;

/** Schemas dumped from the Kafka jars into `kafka_schemas.json` (Kafka class name without `Data`). */
const KAFKA_SCHEMA_NAMES = [
  "RequestHeader",
  "ResponseHeader",
  "MetadataRequest",
  "MetadataResponse",
  "FindCoordinatorRequest",
  "FindCoordinatorResponse",
  "DescribeClusterRequest",
  "DescribeClusterResponse",
  "ApiVersionsRequest",
  "ApiVersionsResponse",
  "ProduceRequest",
  "ProduceResponse",
  "FetchRequest",
  "FetchResponse",
  "ShareFetchRequest",
  "ShareFetchResponse",
  "ShareAcknowledgeRequest",
  "ShareAcknowledgeResponse",
  "SaslHandshakeRequest",
  "SaslHandshakeResponse",
  "SaslAuthenticateRequest",
  "SaslAuthenticateResponse",
];

// ---------------------------------------------------------------------------------------------
// Command line
// ---------------------------------------------------------------------------------------------

interface Args {
  info?: string;
  version?: string;
  portBase: number;
  out: string;
}

function parseArgs(argv: string[]): Args {
  const args: Args = { portBase: 25092, out: new URL("./fixtures/", import.meta.url).pathname };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--info") args.info = next();
    else if (a === "--version") args.version = next();
    else if (a === "--port-base") args.portBase = Number(next());
    else if (a === "--out") args.out = next();
    else throw new Error(`unknown argument ${a} (use --info <file>, --version <x.y.z>, --port-base, --out)`);
  }
  if (!args.info && !args.version) args.info = "/tmp/dev/info.json";
  return args;
}

// ---------------------------------------------------------------------------------------------
// Raw connections
// ---------------------------------------------------------------------------------------------

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error(`connection closed after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

/** One TCP connection to a broker; requests are sent one at a time. */
class BrokerConnection {
  #corr = 0;
  private constructor(readonly brokerId: number, readonly port: number, private conn: Deno.Conn) {}

  static async open(brokerId: number, host: string, port: number): Promise<BrokerConnection> {
    return new BrokerConnection(brokerId, port, await Deno.connect({ hostname: host, port }));
  }

  /** Send a size-prefixed frame and return the size-prefixed response frame. */
  async roundTrip(frame: Uint8Array, timeoutMs = 20_000): Promise<Uint8Array> {
    const timer = setTimeout(() => this.conn.close(), timeoutMs);
    try {
      let written = 0;
      while (written < frame.length) written += await this.conn.write(frame.subarray(written));
      const prefix = await readExactly(this.conn, 4);
      const size = new DataView(prefix.buffer).getInt32(0);
      const body = await readExactly(this.conn, size);
      const out = new Uint8Array(4 + size);
      out.set(prefix);
      out.set(body, 4);
      return out;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Encode a request with the codec, send it, check the correlation id. `apiVersion` overrides the
   * version in the header (the body is encoded at `version`).
   */
  async request<T>(
    schema: MessageSpec<unknown>,
    version: number,
    body: T,
    apiVersion = version,
  ): Promise<{ request: Uint8Array; response: Uint8Array }> {
    const correlationId = ++this.#corr;
    const request = encodeRequestFrame(
      { correlationId, clientId: CLIENT_ID, apiVersion },
      schema as MessageSpec<T>,
      version,
      body,
    );
    const response = await this.roundTrip(request);
    const got = new DataView(response.buffer).getInt32(4);
    if (got !== correlationId) throw new Error(`correlation id ${got}, expected ${correlationId}`);
    return { request, response };
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

function decodeBody<T>(spec: MessageSpec<T>, version: number, response: Uint8Array): T {
  return decodeResponseFrame(frameBody(response), responseHeaderVersion(spec.apiKey!, version), spec, version)
    .body;
}

// ---------------------------------------------------------------------------------------------
// Fixture recording
// ---------------------------------------------------------------------------------------------

/** Extra fields this script adds to each `index.json` entry (used by the semantic checks). */
export interface CapturedEntry extends FixtureEntry {
  /** What the capture exercised (e.g. `topic`, `all-topics`, `non-leader`, `unsupported-version`). */
  case: string;
  /** Node id of the broker the request was sent to. */
  broker: number;
}

class Recorder {
  readonly entries: CapturedEntry[] = [];
  readonly files = new Map<string, Uint8Array>();
  /** Newest version the broker supports, by API key. */
  newest = new Map<number, number>();
  constructor(readonly kafka: string, readonly firstBroker: number) {}

  add(
    name: string,
    message: MessageSpec<unknown>,
    version: number,
    frame: "request" | "response",
    bytes: Uint8Array,
    meta: { case: string; broker: number; note: string },
  ): void {
    const file = `${name}-${frame}.bin`;
    if (this.files.has(file)) throw new Error(`duplicate fixture ${file}`);
    this.files.set(file, bytes);
    this.entries.push({
      file,
      message: message.name,
      version,
      frame,
      sizePrefixed: true,
      kafka: this.kafka,
      note: meta.note,
      case: meta.case,
      broker: meta.broker,
    });
  }

  /** Record an exchange as `<name>-request.bin` / `<name>-response.bin`. */
  pair(
    name: string,
    req: MessageSpec<unknown>,
    resp: MessageSpec<unknown>,
    version: number,
    x: { request: Uint8Array; response: Uint8Array },
    meta: { case: string; broker: number; note: string },
  ): void {
    // Request frames are kept where they carry something worth keeping: Produce (record batches, topic
    // ids), ShareFetch/ShareAcknowledge (acknowledgements), and one Fetch (newest version). The broker
    // accepted each of them. Non-leader requests repeat the leader ones.
    const keep = req.apiKey === 1 ? version === this.newest.get(1) : [0, 78, 79].includes(req.apiKey!);
    if (keep && meta.case !== "non-leader") this.add(name, req, version, "request", x.request, meta);
    this.add(name, resp, version, "response", x.response, meta);
  }
}

// ---------------------------------------------------------------------------------------------
// Kafka's own schemas, dumped from the release's jars
// ---------------------------------------------------------------------------------------------

const KAFKA_SCHEMAS_JAVA = `
import java.util.*;
import org.apache.kafka.common.message.ApiMessageType;
import org.apache.kafka.common.protocol.types.*;

public class KafkaSchemas {
  static String q(String s) { return "\\"" + s.replace("\\\\", "\\\\\\\\").replace("\\"", "\\\\\\"") + "\\""; }

  @SuppressWarnings("unchecked")
  static TreeMap<Integer, Field> taggedFields(TaggedFields tf) throws ReflectiveOperationException {
    java.lang.reflect.Field f = TaggedFields.class.getDeclaredField("fields");
    f.setAccessible(true);
    return new TreeMap<>((Map<Integer, Field>) f.get(tf));
  }

  static String fmt(Type t) throws ReflectiveOperationException {
    String n = t.isNullable() ? "?" : "";
    if (t instanceof Schema s) {
      StringBuilder b = new StringBuilder(n + "{");
      boolean first = true;
      for (BoundField f : s.fields()) {
        if (!first) b.append(',');
        first = false;
        if (f.def.type instanceof TaggedFields tf) b.append(fmt(tf));
        else b.append(f.def.name).append(':').append(fmt(f.def.type));
      }
      return b.append('}').toString();
    }
    if (t instanceof TaggedFields tf) {
      StringBuilder b = new StringBuilder("tags(");
      boolean first = true;
      for (Map.Entry<Integer, Field> e : taggedFields(tf).entrySet()) {
        if (!first) b.append(',');
        first = false;
        b.append(e.getKey()).append('=').append(e.getValue().name).append(':').append(fmt(e.getValue().type));
      }
      return b.append(')').toString();
    }
    if (t instanceof ArrayOf a) return n + "[" + fmt(a.arrayElementType().get()) + "]";
    if (t instanceof CompactArrayOf a) return n + "c[" + fmt(a.arrayElementType().get()) + "]";
    return t.toString();
  }

  public static void main(String[] args) throws Exception {
    StringBuilder out = new StringBuilder("{\\"apis\\":[");
    boolean first = true;
    for (ApiMessageType t : ApiMessageType.values()) {
      short lo = t.lowestSupportedVersion(), hi = t.highestSupportedVersion(true);
      if (hi < lo) continue;
      StringBuilder rq = new StringBuilder(), rs = new StringBuilder();
      for (short v = lo; v <= hi; v++) {
        if (v > lo) { rq.append(','); rs.append(','); }
        rq.append(t.requestHeaderVersion(v));
        rs.append(t.responseHeaderVersion(v));
      }
      if (!first) out.append(',');
      first = false;
      out.append(String.format("\\n{\\"apiKey\\":%d,\\"name\\":%s,\\"minVersion\\":%d,\\"maxVersion\\":%d,"
          + "\\"requestHeaderVersions\\":[%s],\\"responseHeaderVersions\\":[%s]}",
          t.apiKey(), q(t.name()), lo, hi, rq, rs));
    }
    out.append("],\\n\\"schemas\\":{");
    first = true;
    for (String name : args) {
      Class<?> c = Class.forName("org.apache.kafka.common.message." + name + "Data");
      Schema[] s = (Schema[]) c.getField("SCHEMAS").get(null);
      short lo = c.getField("LOWEST_SUPPORTED_VERSION").getShort(null);
      if (!first) out.append(",");
      first = false;
      out.append("\\n").append(q(name)).append(":{");
      boolean firstV = true;
      for (int v = lo; v < s.length; v++) {
        if (s[v] == null) continue;
        if (!firstV) out.append(',');
        firstV = false;
        out.append(q(String.valueOf(v))).append(':').append(q(fmt(s[v])));
      }
      out.append('}');
    }
    System.out.println(out.append("}}"));
  }
}
`;

/** Kafka's header versions per API and schemas per message version, from the release's own jars. */
async function dumpKafkaSchemas(classpath: string): Promise<unknown> {
  const dir = await Deno.makeTempDir({ prefix: "kgate-schemas-" });
  try {
    const src = `${dir}/KafkaSchemas.java`;
    await Deno.writeTextFile(src, KAFKA_SCHEMAS_JAVA);
    const java = Deno.env.get("JAVA_HOME") ? `${Deno.env.get("JAVA_HOME")}/bin/java` : "java";
    const out = await new Deno.Command(java, { args: ["-cp", classpath, src, ...KAFKA_SCHEMA_NAMES] })
      .output();
    if (!out.success) throw new Error(`java KafkaSchemas failed:\n${new TextDecoder().decode(out.stderr)}`);
    return JSON.parse(new TextDecoder().decode(out.stdout));
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Capture
// ---------------------------------------------------------------------------------------------

type Ranges = Map<number, { min: number; max: number }>;

function versionsOf(ranges: Ranges, spec: MessageSpec<unknown>, from = 0): number[] {
  const r = ranges.get(spec.apiKey!);
  if (!r) return [];
  const out: number[] = [];
  for (let v = Math.max(r.min, from); v <= r.max; v++) {
    if (inVersions(spec.validVersions, v)) out.push(v);
    else console.warn(`  ! ${spec.name} v${v}: supported by the broker, not declared by the codec`);
  }
  return out;
}

async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

async function recreateTopic(cluster: KafkaCluster, name: string, partitions: number, rf: number) {
  await cluster.deleteTopic(name);
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      await cluster.createTopic(name, partitions, rf);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await sleep(500); // the deleted topic may still be going away
    }
  }
}

interface TopicInfo {
  name: string;
  topicId: string;
  /** Leader node id per partition. */
  leaders: number[];
  /** Replica node ids per partition. */
  replicas: number[][];
}

/** One request sent with a given request header version, and whether the broker answered it. */
export interface HeaderProbe {
  /** Request schema name. */
  message: string;
  /** API version of the request. */
  version: number;
  /** Request header version used. */
  headerVersion: number;
  /** True when the broker answered; false when it closed the connection. */
  answered: boolean;
}

/**
 * Send requests around each API's first flexible version with request header v1 and v2 on fresh
 * connections: the broker answers the right one and closes the connection on the wrong one.
 */
async function probeHeaderVersions(
  info: KafkaClusterInfo,
  brokerId: number,
  ranges: Ranges,
  bodies: Record<string, unknown>,
  leaderId: number,
): Promise<HeaderProbe[]> {
  const out: HeaderProbe[] = [];
  const specs = [
    MetadataRequest,
    FindCoordinatorRequest,
    DescribeClusterRequest,
    FetchRequest,
    ProduceRequest,
  ];
  for (const spec of specs) {
    const r = ranges.get(spec.apiKey!)!;
    const flexFrom = parseInt(spec.flexibleVersions);
    const id = spec === FetchRequest || spec === ProduceRequest ? leaderId : brokerId;
    const b = info.brokers.find((x) => x.id === id)!;
    for (const version of [flexFrom - 1, flexFrom].filter((v) => v >= r.min && v <= r.max)) {
      for (const headerVersion of [1, 2]) {
        const w = new ByteWriter(256);
        w.int32(0);
        w.int16(spec.apiKey!);
        w.int16(version);
        w.int32(1);
        w.nullableString(CLIENT_ID);
        if (headerVersion === 2) w.uvarint(0); // empty header tagged section
        w.raw(encodeMessage(spec as MessageSpec<unknown>, version, bodies[spec.name]));
        w.setInt32At(0, w.length - 4);
        const c = await BrokerConnection.open(b.id, b.host, b.port);
        let answered: boolean;
        try {
          await c.roundTrip(w.finish(), 10_000);
          answered = true;
        } catch {
          answered = false;
        } finally {
          c.close();
        }
        out.push({ message: spec.name, version, headerVersion, answered });
      }
    }
  }
  return out;
}

/**
 * Wait until every broker answers and lists all brokers in Metadata (the dev cluster is shared: other
 * tests stop and restart brokers).
 */
async function waitForAllBrokers(info: KafkaClusterInfo, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = "";
  let said = false;
  while (Date.now() < deadline) {
    let ok = true;
    for (const b of info.brokers) {
      try {
        const c = await BrokerConnection.open(b.id, b.host, b.port);
        try {
          const x = await c.request(MetadataRequest, 12, { topics: [], allowAutoTopicCreation: false });
          const md = decodeBody(MetadataResponse, 12, x.response);
          if (md.brokers.length !== info.brokers.length) {
            ok = false;
            last = `broker ${b.id} lists ${md.brokers.map((x) => x.nodeId)}`;
          }
        } finally {
          c.close();
        }
      } catch (e) {
        ok = false;
        last = `broker ${b.id}: ${e instanceof Error ? e.message : e}`;
      }
    }
    if (ok) return;
    if (!said) console.log(`  waiting for all brokers (${last})`);
    said = true;
    await sleep(2000);
  }
  throw new Error(`not all brokers are up: ${last}`);
}

async function capture(cluster: KafkaCluster, outRoot: string): Promise<void> {
  const info = cluster.info;
  for (let attempt = 1;; attempt++) {
    await waitForAllBrokers(info);
    try {
      await captureOnce(cluster, outRoot);
      return;
    } catch (e) {
      // Retry only what a broker restart can cause (connection errors); codec errors are bugs.
      if (
        attempt >= 5 ||
        !(e instanceof Deno.errors.ConnectionReset || e instanceof Deno.errors.ConnectionRefused ||
          e instanceof Deno.errors.BrokenPipe || (e instanceof Error && /connection closed/.test(e.message)))
      ) throw e;
      console.log(`  attempt ${attempt} failed (${e instanceof Error ? e.message : e}); retrying`);
      await sleep(3000);
    }
  }
}

async function captureOnce(cluster: KafkaCluster, outRoot: string): Promise<void> {
  const info = cluster.info;
  const kafka = info.version;
  const rec = new Recorder(kafka, info.brokers[0].id);
  const conns = new Map<number, BrokerConnection>();
  const conn = async (id: number) => {
    let c = conns.get(id);
    if (!c) {
      const b = info.brokers.find((x) => x.id === id)!;
      conns.set(id, c = await BrokerConnection.open(id, b.host, b.port));
    }
    return c;
  };
  const first = info.brokers[0].id;
  try {
    console.log(`capturing Kafka ${kafka} at ${info.bootstrapServers}`);

    // --- ApiVersions ---------------------------------------------------------------------------
    const c1 = await conn(first);
    const avBody = (v: number) =>
      v >= 3 ? { clientSoftwareName: "kgate-fixtures", clientSoftwareVersion: "0.1.0" } : {};
    const probe = await c1.request(ApiVersionsRequest, 3, avBody(3));
    // ApiVersions responses always use response header v0 (just the correlation id).
    const headerLength = decodeMessage(ResponseHeader, 0, frameBody(probe.response)).offset;
    const av = decodeApiVersionsResponse(3, frameBody(probe.response).subarray(headerLength)).value;
    if (av.errorCode !== 0) throw new Error(`ApiVersions error ${av.errorCode}`);
    const ranges: Ranges = new Map(
      av.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]),
    );
    const avMax = ranges.get(18)!.max;
    for (const [k, r] of ranges) rec.newest.set(k, r.max);
    for (const v of versionsOf(ranges, ApiVersionsRequest)) {
      const x = await c1.request(ApiVersionsRequest, v, avBody(v));
      rec.pair(`api-versions-v${v}`, ApiVersionsRequest, ApiVersionsResponse, v, x, {
        case: "supported",
        broker: first,
        note: `ApiVersions v${v}`,
      });
    }
    for (const v of [avMax + 1, 127]) {
      // The body is written as the codec's newest version; the header says `v`.
      const bodyVersion = Math.min(v, 4);
      const x = await c1.request(ApiVersionsRequest, bodyVersion, avBody(bodyVersion), v);
      const body = frameBody(x.response).subarray(4); // response header v0
      const d = decodeApiVersionsResponse(v, body);
      if (d.versionUsed !== 0 || d.value.errorCode !== 35) {
        throw new Error(`ApiVersions v${v}: no v0 fallback`);
      }
      rec.add(`api-versions-v${v}-unsupported`, ApiVersionsResponse, v, "response", x.response, {
        case: "unsupported-version",
        broker: first,
        note: `ApiVersions request v${v} (above the broker's v${avMax}): UNSUPPORTED_VERSION with a v0 body`,
      });
    }

    // --- Topics ----------------------------------------------------------------------------------
    await recreateTopic(cluster, TOPIC, 3, 3);
    await recreateTopic(cluster, TOPIC_RF1, 1, 1);
    const mdMax = ranges.get(3)!.max;
    const topics = new Map<string, TopicInfo>();
    {
      const x = await c1.request(MetadataRequest, mdMax, {
        topics: [{ topicId: ZERO_UUID, name: TOPIC }, { topicId: ZERO_UUID, name: TOPIC_RF1 }],
        allowAutoTopicCreation: false,
        includeTopicAuthorizedOperations: false,
      });
      const md = decodeBody(MetadataResponse, mdMax, x.response);
      for (const t of md.topics) {
        if (t.errorCode !== 0) throw new Error(`topic ${t.name}: error ${t.errorCode}`);
        const parts = [...t.partitions].sort((a, b) => a.partitionIndex - b.partitionIndex);
        topics.set(t.name!, {
          name: t.name!,
          topicId: t.topicId,
          leaders: parts.map((p) => p.leaderId),
          replicas: parts.map((p) => p.replicaNodes),
        });
      }
    }
    const topic = topics.get(TOPIC)!;
    const topicRf1 = topics.get(TOPIC_RF1)!;
    console.log(
      `  ${TOPIC} ${topic.topicId} leaders ${topic.leaders}; ${TOPIC_RF1} leader ${topicRf1.leaders}`,
    );

    // --- FindCoordinator (first: it creates __consumer_offsets, listed by Metadata below) --------
    const fcMax = ranges.get(10)!.max;
    for (const keyType of [0, 1]) {
      // Warm up: the first lookup creates __consumer_offsets / __transaction_state.
      const key = keyType === 0 ? GROUP : TXN_ID;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const x = await c1.request(FindCoordinatorRequest, fcMax, { keyType, coordinatorKeys: [key] });
        const d = decodeBody(FindCoordinatorResponse, fcMax, x.response) as FindCoordinatorResponseData;
        const err = fcMax >= 4 ? d.coordinators[0].errorCode : d.errorCode;
        if (err === 0) break;
        if (err !== COORDINATOR_NOT_AVAILABLE || Date.now() > deadline) {
          throw new Error(`FindCoordinator key type ${keyType}: error ${err}`);
        }
        await sleep(500);
      }
    }
    for (const v of versionsOf(ranges, FindCoordinatorRequest)) {
      const x = await c1.request(FindCoordinatorRequest, v, {
        key: GROUP,
        keyType: 0,
        coordinatorKeys: [GROUP, GROUP_2],
      });
      rec.pair(`find-coordinator-v${v}-group`, FindCoordinatorRequest, FindCoordinatorResponse, v, x, {
        case: v >= 4 ? "group-batch" : "group",
        broker: first,
        note: v >= 4 ? `FindCoordinator v${v}, 2 group keys` : `FindCoordinator v${v}, group key`,
      });
    }
    for (const v of versionsOf(ranges, FindCoordinatorRequest, 1)) {
      const x = await c1.request(FindCoordinatorRequest, v, {
        key: TXN_ID,
        keyType: 1,
        coordinatorKeys: [TXN_ID],
      });
      rec.pair(`find-coordinator-v${v}-txn`, FindCoordinatorRequest, FindCoordinatorResponse, v, x, {
        case: "txn",
        broker: first,
        note: `FindCoordinator v${v}, transactional id (key type 1)`,
      });
    }

    // --- Metadata --------------------------------------------------------------------------------
    for (const v of versionsOf(ranges, MetadataRequest)) {
      const x = await c1.request(MetadataRequest, v, {
        topics: [{ topicId: ZERO_UUID, name: TOPIC }],
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      rec.pair(`metadata-v${v}-topic`, MetadataRequest, MetadataResponse, v, x, {
        case: "topic",
        broker: first,
        note: `Metadata v${v} for ${TOPIC} (3 partitions, RF 3)`,
      });
    }
    const mdVersions = versionsOf(ranges, MetadataRequest);
    // A few versions only: on a shared cluster "all topics" can be many (v0 `[]`, v1 null, first
    // flexible, newest).
    for (const v of new Set([mdVersions[0], 1, 9, mdMax].filter((v) => mdVersions.includes(v)))) {
      const x = await c1.request(MetadataRequest, v, {
        topics: v === 0 ? [] : null,
        allowAutoTopicCreation: false,
        includeClusterAuthorizedOperations: false,
        includeTopicAuthorizedOperations: false,
      });
      rec.pair(`metadata-v${v}-all-topics`, MetadataRequest, MetadataResponse, v, x, {
        case: "all-topics",
        broker: first,
        note: `Metadata v${v} for all topics (${v === 0 ? "[]" : "null"})`,
      });
    }

    // --- DescribeCluster -------------------------------------------------------------------------
    for (const v of versionsOf(ranges, DescribeClusterRequest)) {
      const x = await c1.request(DescribeClusterRequest, v, {
        includeClusterAuthorizedOperations: false,
        endpointType: 1,
        includeFencedBrokers: v >= 2,
      });
      rec.pair(`describe-cluster-v${v}`, DescribeClusterRequest, DescribeClusterResponse, v, x, {
        case: "brokers",
        broker: first,
        note: `DescribeCluster v${v}${v >= 2 ? " with IncludeFencedBrokers" : ""}`,
      });
    }

    // --- Produce ---------------------------------------------------------------------------------
    const leader0 = topic.leaders[0];
    const follower0 = topic.replicas[0].find((id) => id !== leader0)!;
    const produceBody = (value: string) => ({
      transactionalId: null,
      acks: -1,
      timeoutMs: 10_000,
      topicData: [{
        name: TOPIC,
        topicId: topic.topicId,
        partitionData: [{
          index: 0,
          records: buildRecordBatch([{ key: enc.encode("k"), value: enc.encode(value) }], BigInt(Date.now())),
        }],
      }],
    });
    let firstOffset: bigint | undefined;
    for (const v of versionsOf(ranges, ProduceRequest, 3)) {
      const x = await (await conn(leader0)).request(ProduceRequest, v, produceBody(`produce v${v}`));
      const d = decodeBody(ProduceResponse, v, x.response);
      const p = (d.responses[0].partitionResponses as Struct[])[0];
      if (p.errorCode !== 0) throw new Error(`Produce v${v}: error ${p.errorCode}`);
      firstOffset ??= p.baseOffset as bigint;
      rec.pair(`produce-v${v}-leader`, ProduceRequest, ProduceResponse, v, x, {
        case: "leader",
        broker: leader0,
        note: `Produce v${v} of 1 record to ${TOPIC}-0 on its leader (acks all)`,
      });
    }
    for (const v of versionsOf(ranges, ProduceRequest, 10)) {
      const x = await (await conn(follower0)).request(
        ProduceRequest,
        v,
        produceBody(`to a follower v${v}`),
      );
      const d = decodeBody(ProduceResponse, v, x.response);
      const p = (d.responses[0].partitionResponses as Struct[])[0];
      if (p.errorCode !== NOT_LEADER_OR_FOLLOWER) {
        throw new Error(`Produce v${v} to a follower: error ${p.errorCode}`);
      }
      rec.pair(`produce-v${v}-non-leader`, ProduceRequest, ProduceResponse, v, x, {
        case: "non-leader",
        broker: follower0,
        note:
          `Produce v${v} to ${TOPIC}-0 on follower ${follower0}: NOT_LEADER_OR_FOLLOWER, leader ${leader0}`,
      });
    }

    // --- Fetch -----------------------------------------------------------------------------------
    const fetchBody = (t: TopicInfo, offset: bigint) => ({
      replicaId: -1,
      maxWaitMs: 500,
      minBytes: 1,
      maxBytes: 1, // at least one whole batch is always returned (KIP-74)
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [{
        topic: t.name,
        topicId: t.topicId,
        partitions: [{
          partition: 0,
          currentLeaderEpoch: -1,
          fetchOffset: offset,
          lastFetchedEpoch: -1,
          logStartOffset: -1n,
          partitionMaxBytes: 1,
        }],
      }],
      forgottenTopicsData: [],
      rackId: "",
    });
    for (const v of versionsOf(ranges, FetchRequest, 4)) {
      const x = await (await conn(leader0)).request(FetchRequest, v, fetchBody(topic, firstOffset!));
      const d = decodeBody(FetchResponse, v, x.response);
      const p = (d.responses[0].partitions as Struct[])[0];
      if (d.errorCode !== 0 || p.errorCode !== 0 || !(p.records instanceof Uint8Array) || !p.records.length) {
        throw new Error(`Fetch v${v}: error ${d.errorCode}/${p.errorCode} or no records`);
      }
      rec.pair(`fetch-v${v}-leader`, FetchRequest, FetchResponse, v, x, {
        case: "leader",
        broker: leader0,
        note: `Fetch v${v} of ${TOPIC}-0 from its leader at offset ${firstOffset}: one record batch`,
      });
    }
    const rf1Leader = topicRf1.leaders[0];
    const notHosting = info.brokers.map((b) => b.id).find((id) => !topicRf1.replicas[0].includes(id))!;
    for (const v of versionsOf(ranges, FetchRequest, 16)) {
      const x = await (await conn(notHosting)).request(FetchRequest, v, fetchBody(topicRf1, 0n));
      const d = decodeBody(FetchResponse, v, x.response);
      const p = (d.responses[0].partitions as Struct[])[0];
      if (p.errorCode !== NOT_LEADER_OR_FOLLOWER) {
        throw new Error(`Fetch v${v} from a non-leader: ${p.errorCode}`);
      }
      rec.pair(`fetch-v${v}-non-leader`, FetchRequest, FetchResponse, v, x, {
        case: "non-leader",
        broker: notHosting,
        note: `Fetch v${v} of ${TOPIC_RF1}-0 (RF 1, leader ${rf1Leader}) from broker ${notHosting}: ` +
          "NOT_LEADER_OR_FOLLOWER",
      });
    }

    // --- Share groups ----------------------------------------------------------------------------
    let share = "not advertised by the broker (ShareFetch/ShareAcknowledge absent from ApiVersions)";
    if (ranges.has(78) && ranges.has(79) && ranges.has(76)) {
      share = await captureShare(rec, conn, ranges, topic, async (value) => {
        const v = versionsOf(ranges, ProduceRequest).at(-1)!;
        const x = await (await conn(leader0)).request(ProduceRequest, v, produceBody(value));
        const p = (decodeBody(ProduceResponse, v, x.response).responses[0].partitionResponses as Struct[])[0];
        if (p.errorCode !== 0) throw new Error(`Produce: error ${p.errorCode}`);
      });
    }
    console.log(`  share groups: ${share}`);

    // --- Request header versions, as the broker sees them -------------------------------------
    const headerProbes = await probeHeaderVersions(info, first, ranges, {
      [MetadataRequest.name]: { topics: [], allowAutoTopicCreation: false },
      [FindCoordinatorRequest.name]: { key: GROUP, keyType: 0, coordinatorKeys: [GROUP] },
      [DescribeClusterRequest.name]: { includeClusterAuthorizedOperations: false, endpointType: 1 },
      [FetchRequest.name]: fetchBody(topic, firstOffset!),
      [ProduceRequest.name]: produceBody("header probe"),
    }, topic.leaders[0]);

    // --- Write -----------------------------------------------------------------------------------
    const schemas = await dumpKafkaSchemas(info.classpath);
    const dir = `${outRoot.replace(/\/$/, "")}/${kafka}`;
    await Deno.mkdir(dir, { recursive: true });
    for (const e of Deno.readDirSync(dir)) {
      if (e.isFile && (e.name.endsWith(".bin") || e.name.endsWith(".json"))) {
        Deno.removeSync(`${dir}/${e.name}`);
      }
    }
    let total = 0;
    for (const [file, bytes] of rec.files) {
      await Deno.writeFile(`${dir}/${file}`, bytes);
      total += bytes.length;
    }
    const index = {
      kafka,
      capturedAt: new Date().toISOString(),
      cluster: {
        clusterId: info.clusterId,
        brokers: info.brokers.map((b) => ({ nodeId: b.id, host: b.host, port: b.port, rack: b.rack })),
      },
      topics: Object.fromEntries([...topics].map(([name, t]) => [name, t])),
      apiVersions: Object.fromEntries([...ranges].map(([k, r]) => [k, [r.min, r.max]])),
      share,
      headerProbes,
      fixtures: rec.entries,
    };
    await Deno.writeTextFile(`${dir}/index.json`, JSON.stringify(index, null, 2) + "\n");
    await Deno.writeTextFile(`${dir}/kafka_schemas.json`, JSON.stringify(schemas, null, 2) + "\n");
    // Keep `deno fmt --check` clean.
    await new Deno.Command(Deno.execPath(), {
      args: ["fmt", "-q", `${dir}/index.json`, `${dir}/kafka_schemas.json`],
    })
      .output();
    console.log(`wrote ${rec.entries.length} fixtures (${total} bytes of frames) to ${dir}`);
  } finally {
    for (const c of conns.values()) c.close();
  }
}

function randomUuid(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...b)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/**
 * Share groups: join with ShareGroupHeartbeat, then ShareFetch (records present) and ShareAcknowledge
 * (accept them) at every version, plus ShareFetch to a follower (NOT_LEADER_OR_FOLLOWER with
 * CurrentLeader and NodeEndpoints). Returns a summary for `index.json`.
 */
async function captureShare(
  rec: Recorder,
  conn: (id: number) => Promise<BrokerConnection>,
  ranges: Ranges,
  topic: TopicInfo,
  produce: (value: string) => Promise<void>,
): Promise<string> {
  const c1 = await conn(rec.firstBroker);
  // Coordinator of the share group.
  const fc = await c1.request(FindCoordinatorRequest, 6, { keyType: 0, coordinatorKeys: [SHARE_GROUP] });
  const coord = decodeBody(FindCoordinatorResponse, 6, fc.response).coordinators[0];
  if (coord.errorCode !== 0) throw new Error(`share group coordinator: error ${coord.errorCode}`);
  const cc = await conn(coord.nodeId);
  const memberId = randomUuid();
  let memberEpoch = 0;
  const deadline = Date.now() + 60_000;
  for (let first = true;; first = false) {
    const x = await cc.request(ShareGroupHeartbeatRequest, 1, {
      groupId: SHARE_GROUP,
      memberId,
      memberEpoch,
      rackId: null,
      subscribedTopicNames: first ? [topic.name] : null,
    });
    const d = decodeBody(ShareGroupHeartbeatResponse, 1, x.response);
    if (d.errorCode !== 0) throw new Error(`ShareGroupHeartbeat: error ${d.errorCode} ${d.errorMessage}`);
    memberEpoch = d.memberEpoch as number;
    const a = d.assignment as { topicPartitions: { topicId: string; partitions: number[] }[] } | null;
    if (a?.topicPartitions.some((t) => t.topicId === topic.topicId && t.partitions.includes(0))) break;
    if (Date.now() > deadline) throw new Error("share group: partition 0 never assigned");
    await sleep(300);
  }

  const leader = await conn(topic.leaders[0]);
  let epoch = 0;
  const fetchBody = (acks: Struct[]) => ({
    groupId: SHARE_GROUP,
    memberId,
    shareSessionEpoch: epoch,
    maxWaitMs: 1000,
    minBytes: 1,
    maxBytes: 1024,
    maxRecords: 10,
    batchSize: 10,
    shareAcquireMode: 0,
    isRenewAck: false,
    topics: [{ topicId: topic.topicId, partitions: [{ partitionIndex: 0, acknowledgementBatches: acks }] }],
    forgottenTopicsData: [],
  });
  // Epoch 0 opens the share session and initializes the share partition (at the latest offset).
  const fv = versionsOf(ranges, ShareFetchRequest);
  const av = versionsOf(ranges, ShareAcknowledgeRequest);
  await leader.request(ShareFetchRequest, fv[fv.length - 1], fetchBody([]));
  epoch++;
  for (let i = 0; i < Math.max(fv.length, av.length); i++) {
    const v = fv[Math.min(i, fv.length - 1)];
    // Records produced now are past the share partition's start: the next fetch acquires them.
    let acquired: Struct[] = [];
    let x: { request: Uint8Array; response: Uint8Array } | undefined;
    for (let tries = 0; acquired.length === 0; tries++) {
      if (tries > 20) throw new Error("ShareFetch: no records acquired");
      if (tries % 5 === 0) await produce(`share v${v}`);
      x = await leader.request(ShareFetchRequest, v, fetchBody([]));
      epoch++;
      const d = decodeBody(ShareFetchResponse, v, x.response);
      if (d.errorCode !== 0) throw new Error(`ShareFetch v${v}: error ${d.errorCode} ${d.errorMessage}`);
      const p = d.responses.flatMap((t) => t.partitions as Struct[])[0];
      if (p && p.errorCode !== 0) throw new Error(`ShareFetch v${v}: partition error ${p.errorCode}`);
      acquired = (p?.acquiredRecords as Struct[] | undefined) ?? [];
    }
    if (i < fv.length) {
      rec.pair(`share-fetch-v${v}-records`, ShareFetchRequest, ShareFetchResponse, v, x!, {
        case: "records",
        broker: leader.brokerId,
        note: `ShareFetch v${v} of ${topic.name}-0 from its leader: records acquired`,
      });
    }
    const batches = acquired.map((r) => ({
      firstOffset: r.firstOffset,
      lastOffset: r.lastOffset,
      acknowledgeTypes: [1], // accept
    }));
    const ackV = av[Math.min(i, av.length - 1)];
    const y = await leader.request(ShareAcknowledgeRequest, ackV, {
      groupId: SHARE_GROUP,
      memberId,
      shareSessionEpoch: epoch,
      isRenewAck: false,
      topics: [{
        topicId: topic.topicId,
        partitions: [{ partitionIndex: 0, acknowledgementBatches: batches }],
      }],
    });
    epoch++;
    const d = decodeBody(ShareAcknowledgeResponse, ackV, y.response);
    const p = d.responses.flatMap((t) => t.partitions as Struct[])[0];
    if (d.errorCode !== 0 || p.errorCode !== 0) {
      throw new Error(`ShareAcknowledge v${ackV}: error ${d.errorCode}/${p.errorCode}`);
    }
    if (i < av.length) {
      rec.pair(
        `share-acknowledge-v${ackV}-accept`,
        ShareAcknowledgeRequest,
        ShareAcknowledgeResponse,
        ackV,
        y,
        {
          case: "accept",
          broker: leader.brokerId,
          note: `ShareAcknowledge v${ackV}: accept the records fetched by ShareFetch`,
        },
      );
    }
  }
  // A follower does not serve share fetches.
  const followerId = topic.replicas[0].find((id) => id !== topic.leaders[0])!;
  const follower = await conn(followerId);
  for (const v of fv) {
    epoch = 0;
    const x = await follower.request(ShareFetchRequest, v, fetchBody([]));
    const d = decodeBody(ShareFetchResponse, v, x.response);
    const p = d.responses.flatMap((t) => t.partitions as Struct[])[0];
    if (p?.errorCode !== NOT_LEADER_OR_FOLLOWER) {
      throw new Error(`ShareFetch v${v} to a follower: ${p?.errorCode}`);
    }
    rec.pair(`share-fetch-v${v}-non-leader`, ShareFetchRequest, ShareFetchResponse, v, x, {
      case: "non-leader",
      broker: followerId,
      note: `ShareFetch v${v} of ${topic.name}-0 from follower ${followerId}: NOT_LEADER_OR_FOLLOWER`,
    });
    // Close that session again.
    epoch = -1;
    await follower.request(ShareFetchRequest, v, { ...fetchBody([]), topics: [] });
  }
  return `captured: ShareFetch v${fv.join(",")}, ShareAcknowledge v${
    av.join(",")
  } (share group ${SHARE_GROUP})`;
}

async function main(): Promise<void> {
  const args = parseArgs(Deno.args);
  if (args.info) {
    const info = JSON.parse(await Deno.readTextFile(args.info)) as KafkaClusterInfo;
    if (args.version && args.version !== info.version) {
      throw new Error(`--version ${args.version} does not match ${args.info} (${info.version})`);
    }
    await capture(KafkaCluster.fromInfo(info), args.out);
    return;
  }
  const t0 = performance.now();
  const cluster = await KafkaCluster.start({ version: args.version, portBase: args.portBase });
  console.log(`started Kafka ${cluster.info.version} in ${((performance.now() - t0) / 1000).toFixed(1)}s`);
  try {
    await capture(cluster, args.out);
  } finally {
    await cluster.stop();
    console.log("stopped the cluster");
  }
}

if (import.meta.main) await main();
