import assert from "node:assert/strict";
import {
  ApiVersionsResponse,
  decodeMessage,
  encodeMessage,
  FetchResponse,
  type MessageSpec,
  MetadataResponse,
  ProduceRequest,
  ProtocolError,
  type Struct,
} from "../../src/protocol/mod.ts";
import { hex } from "./hex.ts";

function rejectsFast(f: () => unknown, what: string): void {
  const t0 = performance.now();
  assert.throws(f, ProtocolError, what);
  assert.ok(performance.now() - t0 < 1000, `${what}: rejected quickly`);
}

Deno.test("absurd array counts are rejected before allocating", () => {
  rejectsFast(() => decodeMessage(MetadataResponse, 1, hex("7f ff ff ff 00 00 00 00")), "int32 count 2^31-1");
  rejectsFast(
    () => decodeMessage(MetadataResponse, 9, hex("00 00 00 00 ff ff ff ff 0f 00")),
    "compact count 2^32-2",
  );
  // 100 brokers announced with 100 bytes left: a v0 broker takes at least 10 bytes.
  rejectsFast(
    () => decodeMessage(MetadataResponse, 0, new Uint8Array([0, 0, 0, 100, ...new Uint8Array(100)])),
    "struct",
  );
  // [] int32 with count 30 but 100 bytes: fine; count 30 with 100 bytes of int32 = 120 bytes needed.
  const partitions = hex(
    `00 00 00 01 | 00 00 | 00 01 74 | 00 00 00 01 | 00 00 00 00 00 00 00 00 00 00 00 00 00 1e`,
  );
  rejectsFast(
    () =>
      decodeMessage(
        MetadataResponse,
        0,
        new Uint8Array([...hex("00 00 00 00"), ...partitions, ...new Uint8Array(100)]),
      ),
    "[]int32",
  );
});

Deno.test("negative lengths are rejected", () => {
  rejectsFast(() => decodeMessage(MetadataResponse, 0, hex("ff ff ff fe")), "array length -2");
  rejectsFast(() => decodeMessage(MetadataResponse, 0, hex("ff ff ff ff")), "non-nullable array null");
  rejectsFast(
    () => decodeMessage(MetadataResponse, 0, hex("00 00 00 01 00 00 00 01 ff fe 00 00")),
    "string length -2",
  );
  rejectsFast(
    () => decodeMessage(MetadataResponse, 0, hex("00 00 00 01 00 00 00 01 ff ff 00 00 23 84 00 00 00 00")),
    "null host",
  );
  // Fetch v4 record set length -2 / 2^31-1.
  const fetchPrefix =
    "00 00 00 00 | 00 00 00 01 | 00 01 74 | 00 00 00 01 | 00 00 00 00 | 00 00 | 00 00 00 00 00 00 00 00 | 00 00 00 00 00 00 00 00 | ff ff ff ff";
  rejectsFast(() => decodeMessage(FetchResponse, 4, hex(`${fetchPrefix} ff ff ff fe`)), "records length -2");
  rejectsFast(
    () => decodeMessage(FetchResponse, 4, hex(`${fetchPrefix} 7f ff ff ff 00`)),
    "records length 2^31-1",
  );
  const ok = decodeMessage(FetchResponse, 4, hex(`${fetchPrefix} ff ff ff ff`));
  assert.equal(
    (ok.value.responses[0].partitions as Record<string, unknown>[])[0].records,
    null,
    "null records",
  );
});

Deno.test("malformed tagged sections are rejected", () => {
  const head = "00 00 | 01 | 00 00 00 00"; // ApiVersions v3: ErrorCode, ApiKeys [], ThrottleTimeMs
  rejectsFast(() => decodeMessage(ApiVersionsResponse, 3, hex(`${head} ff ff ff ff 0f`)), "huge tag count");
  rejectsFast(
    () => decodeMessage(ApiVersionsResponse, 3, hex(`${head} 01 09 7f 00`)),
    "tag size past the end",
  );
  rejectsFast(() => decodeMessage(ApiVersionsResponse, 3, hex(`${head} 02 09 00 09 00`)), "duplicate tag");
  rejectsFast(
    () => decodeMessage(ApiVersionsResponse, 3, hex(`${head} 01 01 09 00 00 00 00 00 00 00 05 00`)),
    "known tag with trailing bytes",
  );
  rejectsFast(
    () => decodeMessage(ApiVersionsResponse, 3, hex(`${head} 01 01 04 00 00 00 05`)),
    "known tag too short",
  );
  rejectsFast(
    () => decodeMessage(ApiVersionsResponse, 3, hex(`${head} 01 80 80 80 80 80 01 00`)),
    "overlong varint tag",
  );
  const good = decodeMessage(ApiVersionsResponse, 3, hex(`${head} 01 01 08 00 00 00 00 00 00 00 05`));
  assert.equal(good.value.finalizedFeaturesEpoch, 5n);
});

Deno.test("encoding invalid values throws ProtocolError naming the field", () => {
  const base = { transactionalId: null, acks: 1, timeoutMs: 1, topicData: [] };
  // Values of the wrong type, as an untyped caller could pass them.
  const untyped = ProduceRequest as MessageSpec<Struct>;
  assert.throws(() => encodeMessage(ProduceRequest, 3, { ...base, acks: 40000 }), /ProduceRequest\.acks/);
  assert.throws(() => encodeMessage(untyped, 3, { ...base, timeoutMs: "1" }), ProtocolError);
  assert.throws(() => encodeMessage(untyped, 3, { ...base, topicData: {} }), /expected an array/);
  assert.throws(
    () => encodeMessage(untyped, 3, { ...base, topicData: [{ name: null, partitionData: [] }] }),
    /topicData\[0\]\.name: null is not allowed/,
  );
  assert.throws(
    () =>
      encodeMessage(ProduceRequest, 9, {
        ...base,
        _unknownTaggedFields: [{ tag: 1, data: new Uint8Array() }, { tag: 1, data: new Uint8Array() }],
      }),
    /duplicate tag 1/,
  );
  assert.throws(() =>
    encodeMessage(ApiVersionsResponse, 3, {
      errorCode: 0,
      apiKeys: [],
      throttleTimeMs: 0,
      _unknownTaggedFields: [{ tag: 2, data: new Uint8Array() }],
    } as never), /known tag 2/);
  // Missing properties take their defaults.
  assert.deepStrictEqual(
    Array.from(encodeMessage(ProduceRequest, 3, { acks: -1 })),
    [0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0],
  );
});
