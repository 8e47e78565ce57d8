import assert from "node:assert/strict";
import {
  ApiVersionsResponse,
  decodeResponseFrame,
  DescribeClusterResponse,
  encodeRequestFrame,
  encodeResponseFrame,
  frameBody,
  MetadataRequest,
  ProtocolError,
  responseHeaderLength,
  responseHeaderVersion,
} from "../../src/protocol/mod.ts";
import { toHex } from "./hex.ts";

Deno.test("encodeRequestFrame: size prefix + header v1 + body", () => {
  const frame = encodeRequestFrame({ correlationId: 5, clientId: "c" }, MetadataRequest, 1, { topics: null });
  assert.equal(toHex(frame), "00 00 00 0f 00 03 00 01 00 00 00 05 00 01 63 ff ff ff ff");
});

Deno.test("encodeResponseFrame / decodeResponseFrame, header v0 and v1", () => {
  const body = {
    throttleTimeMs: 0,
    errorCode: 0,
    errorMessage: null,
    endpointType: 1,
    clusterId: "c",
    controllerId: 1,
    brokers: [],
    clusterAuthorizedOperations: 0,
  };
  const frame = encodeResponseFrame(9, responseHeaderVersion(60, 1), DescribeClusterResponse, 1, body);
  assert.equal(toHex(frame.subarray(0, 9)), "00 00 00 19 00 00 00 09 00");
  const decoded = decodeResponseFrame(frameBody(frame), 1, DescribeClusterResponse, 1);
  assert.equal(decoded.correlationId, 9);
  assert.deepStrictEqual(decoded.body, body);

  const av = {
    errorCode: 0,
    apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
    throttleTimeMs: 0,
    supportedFeatures: [],
    finalizedFeaturesEpoch: -1n,
    finalizedFeatures: [],
    zkMigrationReady: false,
  };
  const avFrame = encodeResponseFrame(1, responseHeaderVersion(18, 3), ApiVersionsResponse, 3, av);
  assert.equal(toHex(avFrame.subarray(4, 8)), "00 00 00 01", "ApiVersions v3: header v0 (no tagged byte)");
  assert.equal(avFrame[8], 0, "body starts with error code right after the correlation id");
  assert.deepStrictEqual(decodeResponseFrame(frameBody(avFrame), 0, ApiVersionsResponse, 3).body, av);
});

Deno.test("frameBody validates the size prefix; trailing bytes are rejected by frame decoders", () => {
  assert.throws(() => frameBody(new Uint8Array([0, 0, 0])), ProtocolError);
  assert.throws(() => frameBody(new Uint8Array([0, 0, 0, 5, 1])), ProtocolError);
  assert.throws(() => frameBody(new Uint8Array([0xff, 0xff, 0xff, 0xff])), ProtocolError);
  assert.throws(() => frameBody(new Uint8Array([0x7f, 0, 0, 0])), ProtocolError);
  const frame = encodeResponseFrame(1, 0, MetadataRequest, 1, { topics: [] });
  const withExtra = new Uint8Array([...frameBody(frame), 0]);
  assert.throws(() => decodeResponseFrame(withExtra, 0, MetadataRequest, 1), ProtocolError);
});

Deno.test("responseHeaderLength: v0 is the correlation id, v1 adds its tagged section, ApiVersions is always v0", () => {
  const body = new Uint8Array([0, 0, 0, 7, 1, 5, 2, 0xaa, 0xbb, 9, 9]); // one tagged field: tag 5, 2 bytes
  assert.equal(responseHeaderLength(3, 8, body), 4); // Metadata v8: not flexible
  assert.equal(responseHeaderLength(3, 9, body), 9); // Metadata v9: header v1
  assert.equal(responseHeaderLength(18, 3, body), 4); // ApiVersions v3: header v0 all the same
});
