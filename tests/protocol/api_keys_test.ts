import assert from "node:assert/strict";
import {
  ALL_MESSAGES,
  API_KEYS,
  ApiKey,
  apiName,
  isFlexible,
  isFlexibleApiVersion,
  MAX_API_KEY,
  requestHeaderVersion,
  responseHeaderVersion,
  versionList,
} from "../../src/protocol/mod.ts";

Deno.test("API key table covers 0..MAX_API_KEY with unique names", () => {
  assert.equal(MAX_API_KEY, 93);
  assert.equal(new Set(API_KEYS.map((k) => k.name)).size, API_KEYS.length);
  API_KEYS.forEach((k, i) => assert.equal(k.key, i));
  assert.equal(ApiKey.Produce, 0);
  assert.equal(ApiKey.ApiVersions, 18);
  assert.equal(ApiKey.DescribeCluster, 60);
  assert.equal(ApiKey.ShareGroupHeartbeat, 76);
  assert.equal(ApiKey.ShareFetch, 78);
  assert.equal(ApiKey.ShareAcknowledge, 79);
  assert.equal(apiName(3), "Metadata");
  assert.equal(apiName(999), "Unknown(999)");
});

Deno.test("header versions follow flexible versions; ApiVersions responses always use header v0", () => {
  const cases: Array<[number, number, 0 | 1 | 2, 0 | 1]> = [
    [0, 8, 1, 0],
    [0, 9, 2, 1],
    [1, 11, 1, 0],
    [1, 12, 2, 1],
    [3, 8, 1, 0],
    [3, 9, 2, 1],
    [7, 0, 0, 0], // ControlledShutdown v0: request header v0 (no client id)
    [7, 1, 1, 0],
    [7, 3, 2, 1],
    [10, 2, 1, 0],
    [10, 3, 2, 1],
    [17, 1, 1, 0], // SaslHandshake: never flexible
    [18, 2, 1, 0],
    [18, 3, 2, 0], // ApiVersions v3+: request header v2, response header v0
    [18, 4, 2, 0],
    [36, 1, 1, 0],
    [36, 2, 2, 1],
    [47, 0, 1, 0], // OffsetDelete: never flexible
    [53, 0, 1, 0], // BeginQuorumEpoch v0 not flexible, v1 is
    [53, 1, 2, 1],
    [55, 0, 2, 1],
    [60, 0, 2, 1],
    [78, 0, 2, 1],
    [79, 2, 2, 1],
    [500, 0, 2, 1], // unknown (future) api keys are assumed flexible
  ];
  for (const [key, version, req, resp] of cases) {
    assert.equal(requestHeaderVersion(key, version), req, `request ${apiName(key)} v${version}`);
    assert.equal(responseHeaderVersion(key, version), resp, `response ${apiName(key)} v${version}`);
  }
});

Deno.test("API key table agrees with the message schemas", () => {
  for (const spec of ALL_MESSAGES) {
    if (spec.apiKey === undefined) continue;
    assert.ok(
      apiName(spec.apiKey) + (spec.type === "request" ? "Request" : "Response") === spec.name,
      spec.name,
    );
    for (const v of versionList(spec)) {
      assert.equal(isFlexibleApiVersion(spec.apiKey, v), isFlexible(spec, v), `${spec.name} v${v}`);
    }
  }
});
