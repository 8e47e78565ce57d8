/** Host routing's names: broker names from the node mapping, and the broker a server name picks. */
import assert from "node:assert/strict";
import {
  brokerHostName,
  brokerOfServerName,
  hostRoutedMapper,
} from "../../src/cluster/listener_endpoints.ts";
import { clusterMapping, singleHostMapping } from "../../src/cluster/mapping.ts";

const LISTENER = { prefix: "broker", host: "gw.example.com" };

Deno.test("brokerOfServerName: <prefix><id>.<host> is broker id, in any case, with or without the trailing dot", () => {
  assert.equal(brokerOfServerName("broker1.gw.example.com", LISTENER), 1);
  assert.equal(brokerOfServerName("broker42.gw.example.com", LISTENER), 42);
  assert.equal(brokerOfServerName("BROKER7.GW.Example.COM.", LISTENER), 7);
  assert.equal(brokerOfServerName("broker0.gw.example.com", LISTENER), 0);
  assert.equal(brokerOfServerName("kafka-3.gw.example.com", { prefix: "kafka-", host: "gw.example.com" }), 3);
});

Deno.test("brokerOfServerName: anything else bootstraps (undefined)", () => {
  for (
    const name of [
      undefined,
      "",
      "gw.example.com", // the advertised host itself
      "broker.gw.example.com", // no id
      "brokerx.gw.example.com",
      "broker1x.gw.example.com",
      "broker-1.gw.example.com",
      "a.broker1.gw.example.com",
      "broker1.a.gw.example.com", // not directly under the host
      "broker1.gw.example.org",
      "broker1.xgw.example.com",
      "broker1gw.example.com",
      "broker99999999999.gw.example.com", // beyond a broker id
    ]
  ) {
    assert.equal(brokerOfServerName(name, LISTENER), undefined, String(name));
  }
});

Deno.test("brokerOfServerName: the names hostRoutedMapper gives route back to their brokers", () => {
  for (const id of [0, 1, 5, 1000, 2147483647]) {
    assert.equal(brokerOfServerName(brokerHostName("broker", id, "gw.example.com"), LISTENER), id);
  }
});

Deno.test("hostRoutedMapper: the node the mapping chose becomes <prefix><b>.<its host> at the SNI port", () => {
  const single = hostRoutedMapper(
    singleHostMapping({ host: "lb.example", portStart: 9093, minBrokerId: 1 }),
    {
      prefix: "broker",
      port: 443,
    },
  );
  const brokers = [{ nodeId: 1, rack: null }, { nodeId: 2, rack: null }, { nodeId: 3, rack: null }];
  assert.deepEqual(
    single(brokers, { clientId: null, clientAddress: "" }),
    new Map([
      [1, { host: "broker1.lb.example", port: 443 }],
      [2, { host: "broker2.lb.example", port: 443 }],
      [3, { host: "broker3.lb.example", port: 443 }],
    ]),
  );
  // Internal load balancing: the same node choice as the node mapping, each name under the chosen node.
  const nodes = () => [
    { id: "a", host: "gw-a.example", rack: null },
    { id: "b", host: "gw-b.example", rack: null },
  ];
  const options = { nodes, portStart: 9093, minBrokerId: 1, policy: "client-consistent" as const };
  const plain = clusterMapping(options).peek;
  const routed = hostRoutedMapper(clusterMapping(options).peek, { prefix: "broker", port: 9093 });
  for (const clientId of ["app-1", "app-2", "app-3", "app-4"]) {
    const request = { clientId, clientAddress: "10.0.0.1:5000" };
    const byNode = plain(brokers, request);
    for (const [id, endpoint] of routed(brokers, request)) {
      assert.deepEqual(endpoint, { host: `broker${id}.${byNode.get(id)!.host}`, port: 9093 });
    }
  }
});
