/** The membership group and topic names: defaults derived from the cluster id, overrides honoured. */
import assert from "node:assert/strict";
import fc from "fast-check";
import { parseConfig } from "../../src/config/mod.ts";
import { membershipNames } from "../../src/cluster/membership.ts";

const BASE = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" };

Deno.test("membershipNames", async (t) => {
  await t.step("defaults: _kgate_<clusterId> and _kgate_<clusterId>_members", () => {
    assert.deepEqual(membershipNames(parseConfig(BASE)), {
      groupId: "_kgate_gateway",
      topic: "_kgate_gateway_members",
    });
    assert.deepEqual(membershipNames(parseConfig({ ...BASE, GATEWAY_CLUSTER_ID: "prod-eu.1" })), {
      groupId: "_kgate_prod-eu.1",
      topic: "_kgate_prod-eu.1_members",
    });
  });

  await t.step("each override is honoured on its own", () => {
    const cluster = { ...BASE, GATEWAY_CLUSTER_ID: "prod" };
    assert.deepEqual(membershipNames(parseConfig({ ...cluster, GATEWAY_GROUP_ID: "kgate-nodes" })), {
      groupId: "kgate-nodes",
      topic: "_kgate_prod_members",
    });
    assert.deepEqual(membershipNames(parseConfig({ ...cluster, GATEWAY_MEMBERS_TOPIC: "kgate.members" })), {
      groupId: "_kgate_prod",
      topic: "kgate.members",
    });
    assert.deepEqual(
      membershipNames(parseConfig({ ...cluster, GATEWAY_GROUP_ID: "g", GATEWAY_MEMBERS_TOPIC: "t" })),
      { groupId: "g", topic: "t" },
    );
  });

  await t.step("separate from the audit topic", () => {
    const names = membershipNames(parseConfig({ ...BASE, GATEWAY_AUDIT_TOPIC: "audit" }));
    assert.deepEqual(names, { groupId: "_kgate_gateway", topic: "_kgate_gateway_members" });
  });

  await t.step("property: any valid cluster id and overrides", () => {
    const name = (max: number) =>
      fc.string({ unit: fc.constantFrom(..."abcXYZ019._-"), minLength: 1, maxLength: max });
    fc.assert(fc.property(
      name(200),
      fc.option(name(249), { nil: undefined }),
      fc.option(name(249), { nil: undefined }),
      (clusterId, groupId, topic) => {
        const config = parseConfig({
          ...BASE,
          GATEWAY_CLUSTER_ID: clusterId,
          GATEWAY_GROUP_ID: groupId,
          GATEWAY_MEMBERS_TOPIC: topic,
        });
        assert.deepEqual(membershipNames(config), {
          groupId: groupId ?? `_kgate_${clusterId}`,
          topic: topic ?? `_kgate_${clusterId}_members`,
        });
      },
    ));
  });
});
