import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ALL_MESSAGES,
  decodeMessage,
  decodeNodeEndpoints,
  encodeMessage,
  encodeNodeEndpoints,
  encodeTaggedSection,
  FetchResponse,
  type FetchResponseData,
  isFlexible,
  locateTopLevelTaggedFields,
  MetadataResponse,
  type NodeEndpoint,
  ProduceResponse,
  ProtocolError,
  replaceTopLevelTaggedFields,
  versionList,
} from "../../src/protocol/mod.ts";
import { messageArbitrary } from "./arbitrary.ts";
import { hex, toHex } from "./hex.ts";

Deno.test("locateTopLevelTaggedFields agrees with the full decoder for every flexible message version", () => {
  for (const spec of ALL_MESSAGES) {
    for (const version of versionList(spec).filter((v) => isFlexible(spec, v))) {
      fc.assert(
        fc.property(messageArbitrary(spec, version), (x) => {
          const body = encodeMessage(spec, version, x);
          const prefix = hex("aa bb");
          const padded = new Uint8Array([...prefix, ...body]);
          const loc = locateTopLevelTaggedFields(spec, version, padded, prefix.length);
          assert.equal(loc.end, padded.length);
          assert.equal(toHex(encodeTaggedSection(loc.fields)), toHex(padded.subarray(loc.start, loc.end)));
          for (const f of loc.fields) assert.equal(f.data.buffer, padded.buffer, "tagged data are views");
          const value = decodeMessage(spec, version, body).value as Record<string, unknown>;
          const unknown = (value._unknownTaggedFields ?? []) as { tag: number }[];
          const knownTags = loc.fields.filter((f) => !unknown.some((u) => u.tag === f.tag));
          assert.equal(knownTags.length + unknown.length, loc.fields.length);
          // Rewriting with the same fields reproduces the body byte for byte.
          assert.equal(toHex(replaceTopLevelTaggedFields(padded, loc, loc.fields)), toHex(padded));
        }),
        { numRuns: 15 },
      );
    }
  }
});

Deno.test("NodeEndpoints codec round trip, unknown tags inside endpoints kept", () => {
  const eps: NodeEndpoint[] = [
    { nodeId: 1, host: "broker-1", port: 9092, rack: "a" },
    {
      nodeId: 2,
      host: "broker-2",
      port: 9093,
      rack: null,
      _unknownTaggedFields: [{ tag: 7, data: hex("01") }],
    },
  ];
  const data = encodeNodeEndpoints(eps);
  assert.equal(
    toHex(data),
    toHex(hex(`03
      00 00 00 01 09 62 72 6f 6b 65 72 2d 31 00 00 23 84 02 61 00
      00 00 00 02 09 62 72 6f 6b 65 72 2d 32 00 00 23 85 00 01 07 01 01`)),
  );
  assert.deepStrictEqual(decodeNodeEndpoints(data), eps);
  assert.throws(() => decodeNodeEndpoints(new Uint8Array([...data, 0])), ProtocolError, "trailing bytes");
  assert.throws(() => decodeNodeEndpoints(data.subarray(0, data.length - 1)), ProtocolError);
});

function fetchValue(nodeEndpoints: NodeEndpoint[]): FetchResponseData {
  return {
    throttleTimeMs: 0,
    errorCode: 0,
    sessionId: 9,
    responses: [{
      topic: "",
      topicId: "AAECAwQFBgcICQoLDA0ODw",
      partitions: [0, 1].map((i) => ({
        partitionIndex: i,
        errorCode: i === 1 ? 6 : 0,
        highWatermark: 100n,
        lastStableOffset: 100n,
        logStartOffset: 0n,
        divergingEpoch: { epoch: -1, endOffset: -1n },
        currentLeader: i === 1 ? { leaderId: 2, leaderEpoch: 4 } : { leaderId: -1, leaderEpoch: -1 },
        snapshotId: { endOffset: -1n, epoch: -1 },
        abortedTransactions: [],
        preferredReadReplica: -1,
        records: i === 0 ? new Uint8Array(1000).fill(7) : null,
      })),
    }],
    nodeEndpoints,
  };
}

Deno.test("Fetch v16+: without NodeEndpoints the body has an empty tail; with them only the tail is rewritten", () => {
  for (const version of [16, 17, 18]) {
    const plain = encodeMessage(FetchResponse, version, fetchValue([]));
    const loc0 = locateTopLevelTaggedFields(FetchResponse, version, plain);
    assert.deepStrictEqual(loc0.fields, []);
    assert.equal(loc0.start, plain.length - 1);

    const real = [{ nodeId: 2, host: "10.0.0.2", port: 9092, rack: "r1" }];
    const body = encodeMessage(FetchResponse, version, {
      ...fetchValue(real),
      _unknownTaggedFields: [{ tag: 3, data: hex("ff") }],
    });
    const loc = locateTopLevelTaggedFields(FetchResponse, version, body);
    assert.deepStrictEqual(loc.fields.map((f) => f.tag), [0, 3]);
    assert.deepStrictEqual(decodeNodeEndpoints(loc.fields[0].data), real);

    const rewritten = [{ nodeId: 2, host: "gateway.example", port: 6971, rack: "r1" }];
    const out = replaceTopLevelTaggedFields(body, loc, [
      { tag: 0, data: encodeNodeEndpoints(rewritten) },
      ...loc.fields.filter((f) => f.tag !== 0),
    ]);
    assert.equal(toHex(out.subarray(0, loc.start)), toHex(body.subarray(0, loc.start)), "prefix untouched");
    const decoded = decodeMessage(FetchResponse, version, out);
    assert.equal(decoded.offset, out.length);
    assert.deepStrictEqual(decoded.value, {
      ...fetchValue(rewritten),
      _unknownTaggedFields: [{ tag: 3, data: hex("ff") }],
    });
  }
});

Deno.test("Produce v10+: NodeEndpoints located after ThrottleTimeMs", () => {
  const value = {
    responses: [{
      name: "t",
      topicId: "AAAAAAAAAAAAAAAAAAAAAA",
      partitionResponses: [{
        index: 0,
        errorCode: 6,
        baseOffset: -1n,
        logAppendTimeMs: -1n,
        logStartOffset: -1n,
        recordErrors: [],
        errorMessage: null,
        currentLeader: { leaderId: 1, leaderEpoch: 3 },
      }],
    }],
    throttleTimeMs: 5,
    nodeEndpoints: [{ nodeId: 1, host: "h", port: 1, rack: null }],
  };
  for (const version of [10, 11, 12, 13]) {
    const body = encodeMessage(ProduceResponse, version, value);
    const loc = locateTopLevelTaggedFields(ProduceResponse, version, body);
    assert.deepStrictEqual(loc.fields.map((f) => f.tag), [0]);
    assert.deepStrictEqual(decodeNodeEndpoints(loc.fields[0].data), value.nodeEndpoints);
    assert.equal(
      new DataView(body.buffer, body.byteOffset).getInt32(loc.start - 4),
      5,
      "ThrottleTimeMs precedes",
    );
  }
});

Deno.test("locateTopLevelTaggedFields: non-flexible versions and bad bytes throw ProtocolError", () => {
  assert.throws(() => locateTopLevelTaggedFields(MetadataResponse, 8, new Uint8Array(16)), ProtocolError);
  const body = encodeMessage(FetchResponse, 16, fetchValue([{ nodeId: 1, host: "h", port: 1, rack: null }]));
  for (let k = 0; k < body.length; k += 7) {
    assert.throws(() => locateTopLevelTaggedFields(FetchResponse, 16, body.subarray(0, k)), ProtocolError);
  }
  fc.assert(fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
    try {
      locateTopLevelTaggedFields(FetchResponse, 17, b);
    } catch (e) {
      if (!(e instanceof ProtocolError)) throw e;
    }
  }));
});

Deno.test("encodeTaggedSection sorts tags and rejects duplicates", () => {
  assert.equal(toHex(encodeTaggedSection([])), "00");
  assert.equal(
    toHex(encodeTaggedSection([{ tag: 300, data: hex("01") }, { tag: 0, data: hex("") }])),
    "02 00 00 ac 02 01 01",
  );
  assert.throws(
    () => encodeTaggedSection([{ tag: 1, data: hex("") }, { tag: 1, data: hex("") }]),
    ProtocolError,
  );
});
