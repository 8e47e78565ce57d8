/** Response rewriting, on responses built with the codec (the integration tests use real brokers). */
import assert from "node:assert/strict";
import { singleHostMapping } from "../../../src/cluster/mapping.ts";
import {
  ApiKey,
  apiName,
  ApiVersionsResponse,
  decodeMessage,
  encodeMessage,
  FindCoordinatorResponse,
  type FindCoordinatorResponseData,
} from "../../../src/protocol/mod.ts";
import { ADDRESS_REWRITE_UNDERSTANDS } from "../../../src/proxy/filters/address_rewrite.ts";
import { API_VERSIONS_UNDERSTANDS } from "../../../src/proxy/filters/api_versions_cap.ts";
import {
  addressRewrite,
  capApiVersionsResponse,
  type RewriteContext,
  rewriteResponse,
  supportedVersionRange,
} from "../../../src/proxy/filters/mod.ts";
import { joinFrame } from "../../../src/proxy/frame_pieces.ts";

const brokers = [1, 2, 3].map((nodeId) => ({ nodeId, rack: `rack-${nodeId}` }));

function context(calls: { mapper: number; unknown: number }): RewriteContext {
  const mapper = singleHostMapping({ host: "gw", portStart: 6969, minBrokerId: 0 });
  return {
    clientAddress: "10.0.0.1:5000",
    mapper: (refs, who) => {
      calls.mapper++;
      return mapper(refs, who);
    },
    knownBrokers: () => brokers,
    onUnknownBroker: () => calls.unknown++,
  };
}

/** Body with a response header: correlation id 7, plus an empty tagged section when flexible. */
function withHeader(body: Uint8Array, flexible: boolean): Uint8Array {
  const head = flexible ? [0, 0, 0, 7, 0] : [0, 0, 0, 7];
  return new Uint8Array([...head, ...body]);
}

function decodeFrame<T>(
  frame: Uint8Array,
  schema: Parameters<typeof decodeMessage<T>>[0],
  version: number,
  flexible: boolean,
) {
  return decodeMessage(schema, version, frame, 4 + (flexible ? 5 : 4)).value;
}

Deno.test("FindCoordinator v4+: only the listed coordinators are mapped, node 0 is never looked up", () => {
  for (const version of [4, 5, 6]) {
    const calls = { mapper: 0, unknown: 0 };
    const body = encodeMessage(FindCoordinatorResponse, version, {
      coordinators: [
        { key: "g1", nodeId: 2, host: "10.9.9.2", port: 9092, errorCode: 0, errorMessage: null },
        { key: "g2", nodeId: -1, host: "", port: -1, errorCode: 15, errorMessage: "not available" },
      ],
    } as unknown as FindCoordinatorResponseData);
    const frame = joinFrame(
      rewriteResponse(
        { apiKey: ApiKey.FindCoordinator, apiVersion: version, clientId: "c" },
        withHeader(body, true),
        context(calls),
      )!,
    );
    const value = decodeFrame<FindCoordinatorResponseData>(frame, FindCoordinatorResponse, version, true);
    assert.deepEqual(value.coordinators.map((c) => [c.nodeId, c.host, c.port]), [[2, "gw", 6971], [
      -1,
      "",
      -1,
    ]]);
    assert.equal(calls.unknown, 0, `v${version}: no refresh for a known coordinator`);
    assert.equal(calls.mapper, 1, `v${version}: one mapping per response`);
  }
});

Deno.test("FindCoordinator v0-3: the single coordinator is mapped; -1 is left alone", () => {
  for (const version of [0, 1, 2, 3]) {
    const calls = { mapper: 0, unknown: 0 };
    const flexible = version >= 3;
    const found = encodeMessage(FindCoordinatorResponse, version, {
      errorCode: 0,
      errorMessage: null,
      nodeId: 3,
      host: "10.9.9.3",
      port: 9092,
    } as unknown as FindCoordinatorResponseData);
    const frame = joinFrame(
      rewriteResponse(
        { apiKey: ApiKey.FindCoordinator, apiVersion: version, clientId: null },
        withHeader(found, flexible),
        context(calls),
      )!,
    );
    const value = decodeFrame<FindCoordinatorResponseData>(frame, FindCoordinatorResponse, version, flexible);
    assert.deepEqual([value.nodeId, value.host, value.port], [3, "gw", 6972]);
    const none = encodeMessage(FindCoordinatorResponse, version, {
      errorCode: 15,
      errorMessage: null,
      nodeId: -1,
      host: "",
      port: -1,
    } as unknown as FindCoordinatorResponseData);
    const unchanged = joinFrame(
      rewriteResponse(
        { apiKey: ApiKey.FindCoordinator, apiVersion: version, clientId: null },
        withHeader(none, flexible),
        context(calls),
      )!,
    );
    const noneValue = decodeFrame<FindCoordinatorResponseData>(
      unchanged,
      FindCoordinatorResponse,
      version,
      flexible,
    );
    assert.deepEqual([noneValue.nodeId, noneValue.host, noneValue.port], [-1, "", -1]);
    assert.equal(calls.unknown, 0);
  }
});

Deno.test("ApiVersions: capped to what the gateway rewrites; keys it would refuse are not advertised", () => {
  const body = encodeMessage(ApiVersionsResponse, 3, {
    errorCode: 0,
    apiKeys: [
      { apiKey: ApiKey.Produce, minVersion: 0, maxVersion: 99 },
      { apiKey: ApiKey.Metadata, minVersion: 0, maxVersion: 20 },
      { apiKey: ApiKey.DescribeQuorum, minVersion: 0, maxVersion: 2 },
      { apiKey: ApiKey.Fetch, minVersion: 19, maxVersion: 25 }, // no overlap with 0-18
      { apiKey: 9999, minVersion: 0, maxVersion: 1 }, // unknown to the gateway
      { apiKey: ApiKey.SaslHandshake, minVersion: 0, maxVersion: 1 },
    ],
    throttleTimeMs: 0,
  } as never);
  const frame = capApiVersionsResponse(
    { apiKey: ApiKey.ApiVersions, apiVersion: 3, clientId: null },
    withHeader(body, false), // ApiVersions responses always use header v0
    supportedVersionRange,
  );
  const value = decodeMessage(ApiVersionsResponse, 3, frame, 8).value;
  assert.deepEqual(value.apiKeys.map((k) => [k.apiKey, k.minVersion, k.maxVersion]), [
    [ApiKey.Produce, 0, 13],
    [ApiKey.Metadata, 0, 13],
    [ApiKey.DescribeQuorum, 0, 1],
    [ApiKey.SaslHandshake, 0, 1],
  ]);
  assert.equal(supportedVersionRange(ApiKey.Fetch, { min: 19, max: 25 }), undefined);
  assert.deepEqual(supportedVersionRange(ApiKey.DescribeQuorum, { min: 0, max: 2 }), { min: 0, max: 1 });
});

Deno.test("the rewritten versions, from the generated specs, are the ones Kafka 4.3.1 declares", () => {
  const understood = Object.fromEntries(
    [...ADDRESS_REWRITE_UNDERSTANDS, ...API_VERSIONS_UNDERSTANDS].map((i) => [apiName(i.apiKey), i.versions]),
  );
  assert.deepEqual(understood, {
    Produce: { min: 0, max: 13 },
    Fetch: { min: 0, max: 18 },
    Metadata: { min: 0, max: 13 },
    FindCoordinator: { min: 0, max: 6 },
    DescribeCluster: { min: 0, max: 2 },
    ShareFetch: { min: 0, max: 2 },
    ShareAcknowledge: { min: 0, max: 2 },
    DescribeQuorum: { min: 0, max: 1 }, // capped by policy: v2 lists the controllers' listeners
    ApiVersions: { min: 0, max: 4 },
  });
  const responses = addressRewrite(context({ mapper: 0, unknown: 0 })).responses!;
  const from = Object.fromEntries(responses.map((i) => [apiName(i.apiKey), i.versions.min]));
  // Produce and Fetch carry addresses only in NodeEndpoints, tagged from v10 and v16.
  assert.deepEqual(from, {
    Produce: 10,
    Fetch: 16,
    Metadata: 0,
    FindCoordinator: 0,
    DescribeCluster: 0,
    ShareFetch: 0,
    ShareAcknowledge: 0,
  });
});
