/**
 * Data-path micro benchmarks: `deno task bench`.
 *
 * - the frame pump forwarding Produce-sized frames (what every byte goes through),
 * - request header parsing and Produce acks (every request),
 * - Fetch/Produce responses: finding the top-level tagged section without decoding records,
 * - Metadata rewrite (3 brokers, 100 topics x 3 partitions; 1,000 topics x 10 partitions),
 * - ShareFetch rewrite (50 partitions x 16 KiB of records, 3 NodeEndpoints),
 * - whole sessions (both pumps and the standard filter chain) over in-memory streams.
 */
import {
  encodeMessage,
  encodeRequestFrame,
  FetchResponse,
  locateTopLevelTaggedFields,
  MetadataResponse,
  ProduceRequest,
  produceRequestAcks,
  readFieldRun,
  readRequestHeader,
  ShareFetchResponse,
} from "../src/protocol/mod.ts";
import type { ByteSink, ByteSource } from "../src/lib/bytes_io.ts";
import { type FramePolicy, pumpFrames } from "../src/proxy/pump.ts";
import { clusterMapping, singleHostMapping } from "../src/cluster/mapping.ts";
import { gatewayFilters, rewriteResponse } from "../src/proxy/filters/mod.ts";
import { runSession } from "../src/proxy/session.ts";
import { GatewayMetrics } from "../src/metrics.ts";
import { fakeEnds, produceExchange } from "./session_round_trip.ts";

function frameOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

// A stream of 64 frames of `size` bytes, read in 64 KiB chunks.
function stream(size: number, count = 64): Uint8Array {
  const one = frameOf(new Uint8Array(size).fill(7));
  const all = new Uint8Array(one.length * count);
  for (let i = 0; i < count; i++) all.set(one, i * one.length);
  return all;
}
const forwardAll: FramePolicy = { inspect: () => "forward", rewrite: () => null };
const nullSink: ByteSink = { write: (p) => Promise.resolve(p.length) };
// Frames inspected whole and left unchanged, as a Fetch v16+ response without NodeEndpoints.
const bufferWhole: FramePolicy = { inspect: () => "rewrite", rewrite: () => null };
function source(data: Uint8Array): ByteSource {
  let offset = 0;
  return {
    read(p) {
      if (offset >= data.length) return Promise.resolve(null);
      const n = Math.min(p.length, 65536, data.length - offset);
      p.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}
for (const size of [1024, 16 * 1024, 1024 * 1024]) {
  const data = stream(size);
  Deno.bench({
    name: `pump forwards 64 frames of ${size} B`,
    group: "pump",
    n: size > 100_000 ? 20 : 500,
    async fn() {
      await pumpFrames(source(data), nullSink, forwardAll, { maxFrameBytes: 100 * 1024 * 1024 });
    },
  });
}

{
  const data = stream(1024 * 1024, 16);
  Deno.bench({
    name: "pump buffers whole and forwards 16 frames of 1048576 B (Fetch-like)",
    group: "pump",
    n: 30,
    async fn() {
      await pumpFrames(source(data), nullSink, bufferWhole, { maxFrameBytes: 100 * 1024 * 1024 });
    },
  });
}

const produceFrame = encodeRequestFrame(
  { correlationId: 7, clientId: "producer-1" },
  ProduceRequest,
  11,
  { transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [] } as never,
).subarray(4);
Deno.bench("readRequestHeader + produceRequestAcks (Produce v11)", { group: "request" }, () => {
  const header = readRequestHeader(produceFrame);
  produceRequestAcks(produceFrame, header);
});

const partitions = Array.from(
  { length: 50 },
  (_, i) => ({ partitionIndex: i, records: new Uint8Array(16 * 1024) }),
);
const fetchBody = encodeMessage(FetchResponse, 17, {
  responses: [{ topicId: "AAAAAAAAAAAAAAAAAAAAAA", partitions }],
} as never);
Deno.bench("locate Fetch v17 tagged tail (50 partitions x 16 KiB)", { group: "response" }, () => {
  locateTopLevelTaggedFields(FetchResponse, 17, fetchBody, 0);
});

const topics = Array.from({ length: 100 }, (_, t) => ({
  name: `topic-${t}`,
  topicId: "AAAAAAAAAAAAAAAAAAAAAA",
  partitions: Array.from({ length: 3 }, (_, p) => ({
    partitionIndex: p,
    leaderId: 1 + p,
    replicaNodes: [1, 2, 3],
    isrNodes: [1, 2, 3],
  })),
}));
const metadataBody = new Uint8Array([
  0,
  0,
  0,
  9,
  0, // correlation id 9, empty header tagged section (v12 is flexible)
  ...encodeMessage(MetadataResponse, 12, {
    brokers: [1, 2, 3].map((id) => ({ nodeId: id, host: "10.0.0." + id, port: 9092, rack: `rack-${id}` })),
    clusterId: "cluster",
    controllerId: 1,
    topics,
  } as never),
]);
const mapper = singleHostMapping({ host: "gateway.example", portStart: 6969, minBrokerId: 0 });
Deno.bench("rewrite Metadata v12 (3 brokers, 100 topics x 3 partitions)", { group: "response" }, () => {
  rewriteResponse({ apiKey: 3, apiVersion: 12, clientId: "c" }, metadataBody, {
    clientAddress: "127.0.0.1:1",
    mapper,
    knownBrokers: () => [],
  });
});

// A cluster of 10,000 partitions (1,000 topics x 10): the rewrite must not grow with it.
function metadataResponseBody(topicCount: number, partitionCount: number): Uint8Array {
  const manyTopics = Array.from({ length: topicCount }, (_, t) => ({
    name: `topic-${t}`,
    topicId: "AAAAAAAAAAAAAAAAAAAAAA",
    partitions: Array.from({ length: partitionCount }, (_, p) => ({
      partitionIndex: p,
      leaderId: 1 + (p % 3),
      leaderEpoch: 4,
      replicaNodes: [1, 2, 3],
      isrNodes: [1, 2, 3],
    })),
  }));
  return new Uint8Array([
    0,
    0,
    0,
    9,
    0,
    ...encodeMessage(MetadataResponse, 12, {
      brokers: [1, 2, 3].map((id) => ({ nodeId: id, host: "10.0.0." + id, port: 9092, rack: `rack-${id}` })),
      clusterId: "cluster",
      controllerId: 1,
      topics: manyTopics,
    } as never),
  ]);
}
const largeMetadataBody = metadataResponseBody(1000, 10);
Deno.bench(
  `rewrite Metadata v12 (3 brokers, 1,000 topics x 10 partitions, ${largeMetadataBody.length} B)`,
  { group: "response" },
  () => {
    rewriteResponse({ apiKey: 3, apiVersion: 12, clientId: "c" }, largeMetadataBody, {
      clientAddress: "127.0.0.1:1",
      mapper,
      knownBrokers: () => [],
    });
  },
);

// What the rewrite of that response decodes (the rest is one copy of the bytes after the brokers).
Deno.bench(
  "read the brokers of Metadata v12 (1,000 topics x 10 partitions), no frame",
  { group: "response" },
  () => {
    readFieldRun(MetadataResponse, 12, largeMetadataBody, 5, "Brokers", "Brokers");
  },
);

// ShareFetch v1 with records: only the NodeEndpoints at its end change.
const shareFetchBody = new Uint8Array([
  0,
  0,
  0,
  9,
  0,
  ...encodeMessage(ShareFetchResponse, 1, {
    responses: [{
      topicId: "AAAAAAAAAAAAAAAAAAAAAA",
      partitions: Array.from({ length: 50 }, (_, i) => ({
        partitionIndex: i,
        currentLeader: { leaderId: 1 + (i % 3), leaderEpoch: 4 },
        records: new Uint8Array(16 * 1024),
        acquiredRecords: [{ firstOffset: 0n, lastOffset: 99n, deliveryCount: 1 }],
      })),
    }],
    nodeEndpoints: [1, 2, 3].map((id) => ({
      nodeId: id,
      host: "10.0.0." + id,
      port: 9092,
      rack: `rack-${id}`,
    })),
  } as never),
]);
Deno.bench(
  "rewrite ShareFetch v1 (50 partitions x 16 KiB records, 3 NodeEndpoints)",
  { group: "response" },
  () => {
    rewriteResponse({ apiKey: 78, apiVersion: 1, clientId: "c" }, shareFetchBody, {
      clientAddress: "127.0.0.1:1",
      mapper,
      knownBrokers: () => [],
    });
  },
);

// The same with the cluster mapping (3 nodes in 2 racks, rack-aware round-robin, client rack in client.id).
const clusterNodes = [
  { id: "a", host: "10.1.0.1", rack: "rack-1" },
  { id: "b", host: "10.1.0.2", rack: "rack-1" },
  { id: "c", host: "10.1.0.3", rack: "rack-2" },
];
const roundRobin = clusterMapping({ nodes: () => clusterNodes, portStart: 6969, minBrokerId: 0 });
for (const clientId of ["c", "c,kgate_rack=rack-2"]) {
  Deno.bench(
    `rewrite Metadata v12 (3 brokers, 100 topics x 3 partitions), cluster mapping, client.id ${clientId}`,
    { group: "response" },
    () => {
      rewriteResponse({ apiKey: 3, apiVersion: 12, clientId }, metadataBody, {
        clientAddress: "127.0.0.1:1",
        mapper: roundRobin.mapper,
        knownBrokers: () => [],
      });
    },
  );
}

// Whole sessions: 64 pipelined Produce requests (1 KiB each) and their responses, through both pumps
// and the standard filter chain with metrics. v9 responses are forwarded as they come; v11 responses
// are walked for NodeEndpoints.
const metrics = new GatewayMetrics();
for (const version of [9, 11]) {
  const exchange = produceExchange(version, 64, 1024);
  Deno.bench(
    `session: 64 Produce v${version} round trips, 1 KiB each`,
    { group: "session", n: 2000 },
    async () => {
      const { client, broker } = fakeEnds(exchange);
      await runSession({
        client,
        upstream: broker,
        maxFrameBytes: 100 * 1024 * 1024,
        filters: gatewayFilters({
          supportedVersions: () => ({ min: 0, max: 13 }),
          metrics,
          rewrite: { clientAddress: "127.0.0.1:1", mapper, knownBrokers: () => [] },
        }),
      });
    },
  );
}
