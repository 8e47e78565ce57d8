/** Per-listener routing and mapping: which broker a connection reaches, which endpoints a listener answers with. */
import assert from "node:assert/strict";
import { decodeMemberIdentity, encodeMemberIdentity } from "../../src/cluster/member_identity.ts";
import type { GatewayNodeRef } from "../../src/cluster/mapping.ts";
import { parseConfig } from "../../src/config/mod.ts";
import { brokerMapping } from "../../src/node/broker_mapping.ts";
import { listenerRoute } from "../../src/node/kafka_listeners.ts";

const TWO_LISTENERS = {
  KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092",
  GATEWAY_MIN_BROKERID: "1",
  GATEWAY_LISTENER_INTERNAL_PORTS: "6969-6974",
  GATEWAY_LISTENER_INTERNAL_ADVERTISED_HOST: "10.0.0.1",
  GATEWAY_LISTENER_EXTERNAL_PORTS: "443:9093",
  GATEWAY_LISTENER_EXTERNAL_ADVERTISED_HOST: "gw-a.example",
  GATEWAY_LISTENER_EXTERNAL_ROUTING: "sni",
  GATEWAY_LISTENER_EXTERNAL_SECURITY_PROTOCOL: "SSL",
  GATEWAY_LISTENER_EXTERNAL_SSL_CERT_FILE: "/c",
  GATEWAY_LISTENER_EXTERNAL_SSL_KEY_FILE: "/k",
  GATEWAY_LOAD_BALANCING_POLICY: "client-consistent",
};
const config = parseConfig(TWO_LISTENERS);
const [external, internal] = config.listeners;
const brokers = [{ nodeId: 1, rack: null }, { nodeId: 2, rack: null }, { nodeId: 3, rack: null }];

Deno.test("listenerRoute: port routing by port, host routing by server name (bootstrap otherwise)", () => {
  const byPort = listenerRoute(internal, config.minBrokerId);
  assert.equal(byPort(6969), 1);
  assert.equal(byPort(6971), 3);
  const byName = listenerRoute(external, config.minBrokerId);
  assert.equal(byName(9093, { serverName: "broker2.gw-a.example" }), 2);
  assert.equal(byName(9093, { serverName: "gw-a.example" }), undefined);
  assert.equal(byName(9093, { serverName: "broker2.gw-b.example" }), undefined);
  assert.equal(byName(9093, {}), undefined);
  assert.equal(byName(9093), undefined);
});

Deno.test("brokerMapping: the same node per broker on every listener, each listener's own host and port", () => {
  // Node b publishes its per-listener hosts; node c predates listeners (one host for all).
  const hosts: Record<string, Record<string, string>> = {
    a: { INTERNAL: "10.0.0.1", EXTERNAL: "gw-a.example" },
    b: { INTERNAL: "10.0.0.2", EXTERNAL: "gw-b.example" },
    c: {},
  };
  const liveNodes = (listener: string): GatewayNodeRef[] =>
    Object.entries(hosts).map(([id, byListener]) => ({
      id,
      host: byListener[listener] ?? `${id}.legacy.example`,
      rack: null,
    }));
  const onInternal = brokerMapping(config, internal, liveNodes).peek;
  const onExternal = brokerMapping(config, external, liveNodes).peek;
  const nodeOfHost = (host: string) =>
    Object.entries(hosts).find(([, h]) => Object.values(h).includes(host))?.[0] ?? host.split(".")[0];
  const nodesSeen = new Set<string>();
  for (let client = 0; client < 20; client++) {
    const request = { clientId: `app-${client}`, clientAddress: "10.9.0.1:5000" };
    const inside = onInternal(brokers, request);
    const outside = onExternal(brokers, request);
    for (const { nodeId } of brokers) {
      const i = inside.get(nodeId)!;
      const o = outside.get(nodeId)!;
      assert.equal(i.port, 6969 + nodeId - 1);
      assert.equal(o.port, 443);
      const match = /^broker(\d+)\.(.+)$/.exec(o.host);
      assert.ok(match, o.host);
      assert.equal(Number(match[1]), nodeId);
      assert.equal(nodeOfHost(match[2]), nodeOfHost(i.host), `broker ${nodeId}: ${i.host} vs ${o.host}`);
      nodesSeen.add(nodeOfHost(i.host));
    }
  }
  assert.deepEqual([...nodesSeen].sort(), ["a", "b", "c"]);

  // External load balancing: every name under this listener's host.
  const single = parseConfig({ ...TWO_LISTENERS, GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING: "false" });
  const lb = brokerMapping(single, single.listeners[0], liveNodes).peek(brokers, {
    clientId: null,
    clientAddress: "",
  });
  assert.deepEqual([...lb.values()].map((e) => `${e.host}:${e.port}`), [
    "broker1.gw-a.example:443",
    "broker2.gw-a.example:443",
    "broker3.gw-a.example:443",
  ]);
});

Deno.test("member identity: per-listener hosts round-trip; absent stays absent; a bad value is refused", () => {
  const identity = {
    id: "n1",
    host: "gw-a.example",
    ports: { first: 9093, last: 9093 },
    rack: null,
    httpUrl: "http://gw-a.example:8888",
    version: "1.0.0",
    startedAt: "2026-01-01T00:00:00.000Z",
    joinedAt: "2026-01-01T00:00:01.000Z",
  };
  const withHosts = { ...identity, listenerHosts: { EXTERNAL: "gw-a.example", INTERNAL: "10.0.0.1" } };
  assert.deepEqual(decodeMemberIdentity(encodeMemberIdentity(withHosts)), withHosts);
  assert.deepEqual(decodeMemberIdentity(encodeMemberIdentity(identity)), identity);
  const bad = new TextEncoder().encode(JSON.stringify({ kgate: 1, ...identity, listenerHosts: { A: 3 } }));
  assert.throws(() => decodeMemberIdentity(bad), /bad listenerHosts/);
});
