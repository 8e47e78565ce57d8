import assert from "node:assert/strict";
import {
  ApiVersionsResponse,
  decodeApiVersionsResponse,
  decodeMessage,
  DescribeClusterResponse,
  encodeApiVersionsResponse,
  encodeMessage,
  FetchResponse,
  FindCoordinatorResponse,
  MetadataRequest,
  MetadataResponse,
  type MetadataResponseData,
  ProduceResponse,
  uuidToString,
  ZERO_UUID,
} from "../../src/protocol/mod.ts";
import { hex, toHex } from "./hex.ts";

const TOPIC_ID_BYTES = "01 02 03 04 05 06 07 08 09 0a 0b 0c 0d 0e 0f 10";

// MetadataResponse v12 (flexible: compact strings/arrays, a tagged section ending every struct).
const METADATA_V12 = `
  00 00 00 07                       # ThrottleTimeMs = 7
  03                                # Brokers: compact array, 2 elements
    00 00 00 01 | 03 62 31 | 00 00 23 84 | 00 | 00      # NodeId 1, Host "b1", Port 9092, Rack null, no tags
    00 00 00 02 | 03 62 32 | 00 00 23 85 | 03 72 32 | 00 # NodeId 2, Host "b2", Port 9093, Rack "r2"
  06 63 6c 75 73 31                 # ClusterId "clus1"
  00 00 00 02                       # ControllerId = 2
  02                                # Topics: 1 element
    00 00                           # ErrorCode 0
    02 74                           # Name "t"
    ${TOPIC_ID_BYTES}               # TopicId
    00                              # IsInternal false
    02                              # Partitions: 1 element
      00 00 | 00 00 00 00 | 00 00 00 01 | 00 00 00 05   # ErrorCode 0, PartitionIndex 0, LeaderId 1, LeaderEpoch 5
      03 00 00 00 01 00 00 00 02    # ReplicaNodes [1, 2]
      02 00 00 00 01                # IsrNodes [1]
      01                            # OfflineReplicas []
      00                            # partition tagged fields
    80 00 00 00                     # TopicAuthorizedOperations = INT32_MIN
    00                              # topic tagged fields
  00                                # top-level tagged fields
`;

const METADATA_V12_VALUE: MetadataResponseData = {
  throttleTimeMs: 7,
  brokers: [
    { nodeId: 1, host: "b1", port: 9092, rack: null },
    { nodeId: 2, host: "b2", port: 9093, rack: "r2" },
  ],
  clusterId: "clus1",
  controllerId: 2,
  topics: [{
    errorCode: 0,
    name: "t",
    topicId: uuidToString(hex(TOPIC_ID_BYTES)),
    isInternal: false,
    partitions: [{
      errorCode: 0,
      partitionIndex: 0,
      leaderId: 1,
      leaderEpoch: 5,
      replicaNodes: [1, 2],
      isrNodes: [1],
      offlineReplicas: [],
    }],
    topicAuthorizedOperations: -2147483648,
  }],
  clusterAuthorizedOperations: -2147483648, // absent in v12: Kafka default
  errorCode: 0, // absent before v13
};

Deno.test("MetadataResponse v12 hand-assembled bytes decode and re-encode exactly", () => {
  const bytes = hex(METADATA_V12);
  const { value, offset } = decodeMessage(MetadataResponse, 12, bytes);
  assert.equal(offset, bytes.length);
  assert.deepStrictEqual(value, METADATA_V12_VALUE);
  assert.equal(toHex(encodeMessage(MetadataResponse, 12, value)), toHex(bytes));
});

Deno.test("MetadataResponse v0 and v1: non-flexible layout, defaults for newer fields", () => {
  const v0 = hex(`
    00 00 00 01 | 00 00 00 01 | 00 02 62 31 | 00 00 23 84   # Brokers [1: NodeId 1, Host "b1", Port 9092]
    00 00 00 00                                              # Topics []
  `);
  const d0 = decodeMessage(MetadataResponse, 0, v0).value;
  assert.deepStrictEqual(d0.brokers, [{ nodeId: 1, host: "b1", port: 9092, rack: null }]);
  assert.equal(d0.clusterId, null);
  assert.equal(d0.controllerId, -1);
  assert.equal(d0.throttleTimeMs, 0);
  const v1 = hex(`
    00 00 00 01 | 00 00 00 01 | 00 02 62 31 | 00 00 23 84 | ff ff   # Broker with Rack null
    00 00 00 01                                                      # ControllerId 1
    00 00 00 00                                                      # Topics []
  `);
  const d1 = decodeMessage(MetadataResponse, 1, v1).value;
  assert.equal(d1.brokers[0].rack, null);
  assert.equal(d1.controllerId, 1);
  assert.equal(toHex(encodeMessage(MetadataResponse, 1, d1)), toHex(v1));
  // Encoding ignores fields absent in the version.
  assert.equal(
    toHex(encodeMessage(MetadataResponse, 0, { ...d1, clusterId: "x", controllerId: 9 })),
    toHex(v0),
  );
});

Deno.test("MetadataResponse v13 adds a top-level ErrorCode after the topics", () => {
  const v13 = encodeMessage(MetadataResponse, 13, { ...METADATA_V12_VALUE, errorCode: 29 });
  const v12 = hex(METADATA_V12);
  // Same bytes as v12 up to the top-level tagged section, then int16 error code 29, then the tags.
  assert.equal(toHex(v13), toHex(new Uint8Array([...v12.subarray(0, v12.length - 1), 0x00, 0x1d, 0x00])));
  assert.equal(decodeMessage(MetadataResponse, 13, v13).value.errorCode, 29);
});

Deno.test("MetadataRequest: null topics (v1+) vs empty topics, v0 empty means all", () => {
  assert.equal(toHex(encodeMessage(MetadataRequest, 1, { topics: null })), "ff ff ff ff");
  // v9: Topics null, AllowAutoTopicCreation true, IncludeCluster/TopicAuthorizedOperations false, no tags.
  assert.equal(toHex(encodeMessage(MetadataRequest, 9, { topics: null })), "00 01 00 00 00");
  assert.equal(toHex(encodeMessage(MetadataRequest, 0, { topics: [] })), "00 00 00 00");
  assert.throws(() => encodeMessage(MetadataRequest, 0, { topics: null }), /null is not allowed/);
  const v12 = decodeMessage(
    MetadataRequest,
    12,
    hex("02 | 00*16 00 | 00 | 01 00 00".replace("00*16", "00 ".repeat(16))),
  )
    .value;
  assert.deepStrictEqual(v12, {
    topics: [{ topicId: ZERO_UUID, name: null }],
    allowAutoTopicCreation: true,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  });
});

Deno.test("FindCoordinator v3 (single, top-level node) vs v4 (batched coordinators)", () => {
  const v3 = hex(`
    00 00 00 00          # ThrottleTimeMs
    00 00                # ErrorCode
    00                   # ErrorMessage null
    00 00 00 02          # NodeId 2
    02 68                # Host "h"
    00 00 23 84          # Port 9092
    00                   # tagged fields
  `);
  const d3 = decodeMessage(FindCoordinatorResponse, 3, v3).value;
  assert.deepStrictEqual(d3, {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    nodeId: 2,
    host: "h",
    port: 9092,
    coordinators: [],
  });
  assert.equal(toHex(encodeMessage(FindCoordinatorResponse, 3, d3)), toHex(v3));

  const v4 = hex(`
    00 00 00 00          # ThrottleTimeMs
    03                   # Coordinators: 2
      02 67 | 00 00 00 02 | 02 68 | 00 00 23 84 | 00 00 | 00 | 00   # "g" -> node 2 h:9092
      02 78 | ff ff ff ff | 01    | ff ff ff ff | 00 0f | 05 6e 6f 6e 65 | 00  # "x" -> none, error 15 "none"
    00                   # tagged fields
  `);
  const d4 = decodeMessage(FindCoordinatorResponse, 4, v4).value;
  assert.deepStrictEqual(d4.coordinators, [
    { key: "g", nodeId: 2, host: "h", port: 9092, errorCode: 0, errorMessage: null },
    { key: "x", nodeId: -1, host: "", port: -1, errorCode: 15, errorMessage: "none" },
  ]);
  // Fields of the v0-3 shape take Kafka defaults (ErrorMessage has no "null" default: "").
  assert.equal(d4.nodeId, 0);
  assert.equal(d4.host, "");
  assert.equal(d4.errorMessage, "");
  assert.equal(toHex(encodeMessage(FindCoordinatorResponse, 4, d4)), toHex(v4));
  // v0: no throttle time, no error message.
  const v0 = hex("00 00 | 00 00 00 01 | 00 01 68 | 00 00 23 84");
  assert.deepStrictEqual(decodeMessage(FindCoordinatorResponse, 0, v0).value.host, "h");
});

Deno.test("DescribeCluster v0 vs v2 (EndpointType, IsFenced)", () => {
  const value = {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    endpointType: 1,
    clusterId: "c",
    controllerId: 1,
    brokers: [{ brokerId: 1, host: "h", port: 9092, rack: "r", isFenced: true }],
    clusterAuthorizedOperations: -2147483648,
  };
  const v0 = encodeMessage(DescribeClusterResponse, 0, value);
  assert.equal(
    toHex(v0),
    toHex(hex(`00 00 00 00 | 00 00 | 00 | 02 63 | 00 00 00 01
      02 | 00 00 00 01 02 68 00 00 23 84 02 72 00 | 80 00 00 00 | 00`)),
  );
  assert.equal(decodeMessage(DescribeClusterResponse, 0, v0).value.brokers[0].isFenced, false);
  const v2 = encodeMessage(DescribeClusterResponse, 2, value);
  assert.equal(
    toHex(v2),
    toHex(hex(`00 00 00 00 | 00 00 | 00 | 01 | 02 63 | 00 00 00 01
      02 | 00 00 00 01 02 68 00 00 23 84 02 72 01 00 | 80 00 00 00 | 00`)),
  );
  assert.deepStrictEqual(decodeMessage(DescribeClusterResponse, 2, v2).value, value);
});

Deno.test("ApiVersions: v0 fallback body for UNSUPPORTED_VERSION", () => {
  const body = hex(`
    00 23                       # ErrorCode 35 UNSUPPORTED_VERSION
    00 00 00 01                 # ApiKeys: 1 (int32 count: v0 layout)
    00 12 00 00 00 03           # ApiVersions 0..3
  `);
  const { value, versionUsed } = decodeApiVersionsResponse(4, body);
  assert.equal(versionUsed, 0);
  assert.equal(value.errorCode, 35);
  assert.deepStrictEqual(value.apiKeys, [{ apiKey: 18, minVersion: 0, maxVersion: 3 }]);
  const again = encodeApiVersionsResponse(4, value);
  assert.equal(again.versionUsed, 0);
  assert.equal(toHex(again.bytes), toHex(body));
  // Error 35 answering a v0 request is an ordinary v0 body.
  assert.equal(decodeApiVersionsResponse(0, body).versionUsed, 0);
});

Deno.test("ApiVersions v3: tagged features preserved, unknown tags kept", () => {
  const body = hex(`
    00 00                       # ErrorCode 0
    02 | 00 00 00 00 00 0d 00   # ApiKeys: [Produce 0..13], no tags
    00 00 00 00                 # ThrottleTimeMs
    03                          # 3 tagged fields
      01 08 00 00 00 00 00 00 00 05            # tag 1 FinalizedFeaturesEpoch = 5
      02 1a 02 | 14 74 72 61 6e 73 61 63 74 69 6f 6e 2e 76 65 72 73 69 6f 6e | 00 02 | 00 00 | 00
                                              # tag 2 FinalizedFeatures [transaction.version max 2 min 0]
      09 02 ca fe                              # tag 9 unknown
  `);
  const { value, versionUsed } = decodeApiVersionsResponse(3, body);
  assert.equal(versionUsed, 3);
  assert.equal(value.finalizedFeaturesEpoch, 5n);
  assert.deepStrictEqual(value.finalizedFeatures, [{
    name: "transaction.version",
    maxVersionLevel: 2,
    minVersionLevel: 0,
  }]);
  assert.deepStrictEqual(value.supportedFeatures, []);
  assert.equal(value.zkMigrationReady, false);
  assert.deepStrictEqual(value._unknownTaggedFields, [{ tag: 9, data: hex("ca fe") }]);
  assert.equal(toHex(encodeMessage(ApiVersionsResponse, 3, value)), toHex(body));
});

Deno.test("Produce v10 response: CurrentLeader (partition tag 0) and NodeEndpoints (top-level tag 0)", () => {
  const body = hex(`
    02                                  # Responses: 1
      02 74                             # Name "t"
      02                                # PartitionResponses: 1
        00 00 00 00 | 00 06             # Index 0, ErrorCode 6 NOT_LEADER_OR_FOLLOWER
        ff ff ff ff ff ff ff ff         # BaseOffset -1
        ff ff ff ff ff ff ff ff         # LogAppendTimeMs -1
        ff ff ff ff ff ff ff ff         # LogStartOffset -1
        01                              # RecordErrors []
        00                              # ErrorMessage null
        01 00 09 00 00 00 03 00 00 00 07 00  # tag 0 CurrentLeader {3, 7} + its own (empty) tagged section
      00                                # topic tags
    00 00 00 00                         # ThrottleTimeMs
    01 00 0d 02 00 00 00 03 02 68 00 00 23 84 00 00   # tag 0 NodeEndpoints [{3, "h", 9092, null}]
  `);
  const { value } = decodeMessage(ProduceResponse, 10, body);
  const p = (value.responses[0].partitionResponses as Record<string, unknown>[])[0];
  assert.deepStrictEqual(p.currentLeader, { leaderId: 3, leaderEpoch: 7 });
  assert.deepStrictEqual(value.nodeEndpoints, [{ nodeId: 3, host: "h", port: 9092, rack: null }]);
  assert.equal(toHex(encodeMessage(ProduceResponse, 10, value)), toHex(body));
});

Deno.test("Fetch: records are opaque views, never copied or parsed", () => {
  const records = hex("de ad be ef 00 11 22");
  const value = {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 0,
    responses: [{
      topic: "",
      topicId: uuidToString(hex(TOPIC_ID_BYTES)),
      partitions: [{
        partitionIndex: 0,
        errorCode: 0,
        highWatermark: 10n,
        lastStableOffset: 10n,
        logStartOffset: 0n,
        divergingEpoch: { epoch: -1, endOffset: -1n },
        currentLeader: { leaderId: -1, leaderEpoch: -1 },
        snapshotId: { endOffset: -1n, epoch: -1 },
        abortedTransactions: null,
        preferredReadReplica: -1,
        records,
      }],
    }],
    nodeEndpoints: [],
  };
  const bytes = encodeMessage(FetchResponse, 16, value);
  const decoded = decodeMessage(FetchResponse, 16, bytes).value;
  const got = (decoded.responses[0].partitions as Record<string, unknown>[])[0].records as Uint8Array;
  assert.equal(got.buffer, bytes.buffer, "records are a subarray of the input");
  assert.deepStrictEqual(decoded, value);
});

Deno.test("tagged fields out of order on the wire are accepted; re-encoding emits ascending tags", () => {
  const head = "00 00 | 01 | 00 00 00 00"; // ApiVersions v3: ErrorCode, ApiKeys [], ThrottleTimeMs
  const unordered = hex(`${head} 02 | 09 01 aa | 01 08 00 00 00 00 00 00 00 05`);
  const { value } = decodeMessage(ApiVersionsResponse, 3, unordered);
  assert.equal(value.finalizedFeaturesEpoch, 5n);
  assert.deepStrictEqual(value._unknownTaggedFields, [{ tag: 9, data: hex("aa") }]);
  assert.equal(
    toHex(encodeMessage(ApiVersionsResponse, 3, value)),
    toHex(hex(`${head} 02 | 01 08 00 00 00 00 00 00 00 05 | 09 01 aa`)),
  );
});
