/**
 * Configuration of the broker mapping (issue 10): `client-consistent` as the default policy,
 * `GATEWAY_NODE_WEIGHT` and `GATEWAY_CLIENT_IDENTITY`.
 */
import assert from "node:assert/strict";
import { ConfigError, flagName, parseConfig, rawSettings, redactedConfig } from "../../src/config/mod.ts";

const BASE = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" };

function refused(extra: Record<string, string>, variable: string, allowed: string): void {
  assert.throws(() => parseConfig({ ...BASE, ...extra }), (error: unknown) => {
    assert.ok(error instanceof ConfigError, JSON.stringify(extra));
    assert.equal(error.variable, variable);
    assert.equal(error.allowed, allowed);
    return true;
  });
}

Deno.test("config: client-consistent is the default policy; the three policies are accepted", () => {
  assert.equal(parseConfig(BASE).loadBalancingPolicy, "client-consistent");
  assert.equal(
    parseConfig({ ...BASE, GATEWAY_LOAD_BALANCING_POLICY: "" }).loadBalancingPolicy,
    "client-consistent",
  );
  for (const policy of ["client-consistent", "round-robin", "client-sticky"] as const) {
    assert.equal(parseConfig({ ...BASE, GATEWAY_LOAD_BALANCING_POLICY: policy }).loadBalancingPolicy, policy);
  }
  for (const value of ["consistent", "Client-Consistent", "client-consistent ", "rendezvous"]) {
    refused(
      { GATEWAY_LOAD_BALANCING_POLICY: value },
      "GATEWAY_LOAD_BALANCING_POLICY",
      "client-consistent, round-robin or client-sticky",
    );
  }
});

Deno.test("config: GATEWAY_NODE_WEIGHT, default 1, a number from 0 to 1000000", () => {
  assert.equal(parseConfig(BASE).nodeWeight, 1);
  assert.equal(parseConfig({ ...BASE, GATEWAY_NODE_WEIGHT: "" }).nodeWeight, 1);
  for (const [raw, weight] of [["0", 0], ["2", 2], ["0.5", 0.5], ["1000000", 1_000_000]] as const) {
    assert.equal(parseConfig({ ...BASE, GATEWAY_NODE_WEIGHT: raw }).nodeWeight, weight, raw);
  }
  for (const value of ["-1", "-0.5", "abc", "Infinity", "NaN", "1000001", "1,5"]) {
    refused({ GATEWAY_NODE_WEIGHT: value }, "GATEWAY_NODE_WEIGHT", "a number from 0 to 1000000");
  }
  assert.equal(flagName("GATEWAY_NODE_WEIGHT"), "node-weight");
  const raw = rawSettings({ ...BASE, GATEWAY_NODE_WEIGHT: "2" }, { "node-weight": "0" });
  assert.equal(parseConfig(raw).nodeWeight, 0);
});

Deno.test("config: GATEWAY_CLIENT_IDENTITY, host-and-client-id (default) or client-id", () => {
  assert.equal(parseConfig(BASE).clientIdentity, "host-and-client-id");
  assert.equal(parseConfig({ ...BASE, GATEWAY_CLIENT_IDENTITY: "client-id" }).clientIdentity, "client-id");
  for (const value of ["host", "clientId", "client-id ", "CLIENT-ID"]) {
    refused({ GATEWAY_CLIENT_IDENTITY: value }, "GATEWAY_CLIENT_IDENTITY", "host-and-client-id or client-id");
  }
  assert.equal(flagName("GATEWAY_CLIENT_IDENTITY"), "client-identity");
});

Deno.test("config: the mapping settings are printed by redactedConfig", () => {
  const shown = redactedConfig(parseConfig({ ...BASE, GATEWAY_NODE_WEIGHT: "3" }));
  assert.equal(shown.GATEWAY_LOAD_BALANCING_POLICY, "client-consistent");
  assert.equal(shown.GATEWAY_NODE_WEIGHT, 3);
  assert.equal(shown.GATEWAY_CLIENT_IDENTITY, "host-and-client-id");
});
