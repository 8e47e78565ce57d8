import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeRequestFrame,
  encodeRequestFrame,
  frameBody,
  MetadataRequest,
  ProduceRequest,
  produceRequestAcks,
  ProtocolError,
  readRequestHeader,
  requestHeaderVersion,
  type Struct,
} from "../../src/protocol/mod.ts";
import { hex } from "./hex.ts";

Deno.test("request header v1 (non-flexible request)", () => {
  const frame = hex(`
    00 03 | 00 08 | 00 00 00 2a   # Metadata v8, correlation 42
    00 03 63 6c 69                # ClientId "cli"
    ff ff ff ff 01 00 00          # body: topics null, allowAuto, includeCluster, includeTopic
  `);
  const h = readRequestHeader(frame);
  assert.deepStrictEqual(h, {
    apiKey: 3,
    apiVersion: 8,
    correlationId: 42,
    clientId: "cli",
    headerVersion: 1,
    headerLength: 13,
  });
});

Deno.test("request header v2 (flexible request): int16 client id, then a tagged section", () => {
  const frame = hex(`
    00 03 | 00 0c | 00 00 00 07   # Metadata v12, correlation 7
    ff ff                         # ClientId null (still int16 length in v2)
    02 | 00 01 aa | 05 02 bb cc   # header tagged fields: tag 0 [aa], tag 5 [bb cc]
    00 01 00 00                   # body
  `);
  const h = readRequestHeader(frame);
  assert.deepStrictEqual(h, {
    apiKey: 3,
    apiVersion: 12,
    correlationId: 7,
    clientId: null,
    headerVersion: 2,
    headerLength: 18,
  });
  const decoded = decodeRequestFrame(frame, MetadataRequest);
  assert.deepStrictEqual(decoded.headerTaggedFields, [{ tag: 0, data: hex("aa") }, {
    tag: 5,
    data: hex("bb cc"),
  }]);
  assert.equal(decoded.body.topics, null);
});

Deno.test("request header: truncated or invalid headers throw ProtocolError", () => {
  const full = hex("00 03 00 0c 00 00 00 07 00 03 63 6c 69 00");
  for (let k = 0; k < full.length; k++) {
    assert.throws(() => readRequestHeader(full.subarray(0, k)), ProtocolError, `prefix ${k}`);
  }
  assert.throws(() => readRequestHeader(hex("00 03 00 08 00 00 00 01 ff fe")), ProtocolError);
  assert.throws(() => readRequestHeader(hex("ff ff 00 08 00 00 00 01 ff ff")), ProtocolError);
  assert.throws(() => readRequestHeader(hex("00 03 00 0c 00 00 00 01 ff ff 01 00 05 aa")), ProtocolError);
});

Deno.test("encodeRequestFrame / readRequestHeader agree for every header version", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 13 }),
      fc.integer({ min: -2147483648, max: 2147483647 }),
      fc.option(fc.string({ maxLength: 20 }), { nil: null }),
      (version, correlationId, clientId) => {
        const frame = encodeRequestFrame({ correlationId, clientId }, MetadataRequest, version, {
          topics: [],
        });
        const body = frameBody(frame);
        const h = readRequestHeader(body);
        assert.equal(h.apiKey, 3);
        assert.equal(h.apiVersion, version);
        assert.equal(h.correlationId, correlationId);
        assert.equal(h.clientId, clientId);
        assert.equal(h.headerVersion, requestHeaderVersion(3, version));
        const d = decodeRequestFrame(body, MetadataRequest);
        assert.equal(d.correlationId, correlationId);
        assert.deepStrictEqual(d.body.topics, []);
      },
    ),
    { numRuns: 100 },
  );
});

function produce(version: number, transactionalId: string | null, acks: number): Uint8Array {
  const body: Struct = {
    transactionalId,
    acks,
    timeoutMs: 30000,
    topicData: [{
      name: "t",
      topicId: "AAAAAAAAAAAAAAAAAAAAAA",
      partitionData: [{ index: 0, records: hex("01 02 03") }],
    }],
  };
  return frameBody(
    encodeRequestFrame({ correlationId: 1, clientId: "producer-1" }, ProduceRequest, version, body),
  );
}

Deno.test("produceRequestAcks: v0, v3, v8 (NULLABLE_STRING), v9, v11 (COMPACT_NULLABLE_STRING)", () => {
  for (const version of [0, 3, 8, 9, 11, 13]) {
    for (const tx of [null, "", "tx-1", "t".repeat(300)]) {
      for (const acks of [-1, 0, 1]) {
        const frame = produce(version, tx, acks);
        const h = readRequestHeader(frame);
        assert.equal(produceRequestAcks(frame, h), acks, `v${version} tx=${tx} acks=${acks}`);
      }
    }
  }
});

Deno.test("produceRequestAcks: hand-assembled v3 and v9 frames", () => {
  const v3 = hex(`
    00 00 00 03 00 00 00 01 00 01 63   # Produce v3, corr 1, client "c"
    00 02 74 78                        # TransactionalId "tx"
    ff ff                              # Acks -1
    00 00 75 30 00 00 00 00            # TimeoutMs, TopicData []
  `);
  assert.equal(produceRequestAcks(v3, readRequestHeader(v3)), -1);
  const v9 = hex(`
    00 00 00 09 00 00 00 01 00 01 63 00   # Produce v9, header v2 (empty tags)
    00                                    # TransactionalId null (compact)
    00 01                                 # Acks 1
    00 00 75 30 01 00
  `);
  assert.equal(produceRequestAcks(v9, readRequestHeader(v9)), 1);
  const v0 = hex("00 00 00 00 00 00 00 01 ff ff 00 00 00 00 75 30 00 00 00 00");
  assert.equal(produceRequestAcks(v0, readRequestHeader(v0)), 0);
});

Deno.test("produceRequestAcks: truncated frames and other APIs throw ProtocolError", () => {
  const frame = produce(9, "tx-1", -1);
  const h = readRequestHeader(frame);
  const end = h.headerLength + 1 + 4 + 2; // tx id (compact: 1 + 4) + acks
  for (let k = h.headerLength; k < end; k++) {
    assert.throws(() => produceRequestAcks(frame.subarray(0, k), h), ProtocolError, `prefix ${k}`);
  }
  const meta = frameBody(
    encodeRequestFrame({ correlationId: 1, clientId: null }, MetadataRequest, 1, { topics: [] }),
  );
  assert.throws(() => produceRequestAcks(meta, readRequestHeader(meta)), ProtocolError);
  const bad = hex("00 00 00 03 00 00 00 01 ff ff ff fe 00 01");
  assert.throws(() => produceRequestAcks(bad, readRequestHeader(bad)), ProtocolError);
});

Deno.test("request header v0 (ControlledShutdown v0, Kafka 3.x): no client id", () => {
  const frame = hex(`
    00 07 | 00 00 | 00 00 00 05   # ControlledShutdown v0, correlation 5
    00 00 00 01                   # body: BrokerId 1
  `);
  assert.deepStrictEqual(readRequestHeader(frame), {
    apiKey: 7,
    apiVersion: 0,
    correlationId: 5,
    clientId: "",
    headerVersion: 0,
    headerLength: 8,
  });
});
