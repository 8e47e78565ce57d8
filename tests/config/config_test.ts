/** Configuration: the cluster settings (load-balancing policy, membership group, drain) and the node id default. */
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ConfigError,
  flagName,
  type GatewayConfig,
  parseConfig,
  rawSettings,
  redactedConfig,
} from "../../src/config/mod.ts";

const BASE = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" };

function parse(extra: Record<string, string | undefined> = {}): GatewayConfig {
  return parseConfig({ ...BASE, ...extra });
}

/** Asserts that `extra` is refused with a ConfigError naming `variable`. */
function assertRefused(extra: Record<string, string>, variable: string, allowed?: string | RegExp): void {
  const label = JSON.stringify(extra);
  assert.throws(() => parse(extra), (error: unknown) => {
    assert.ok(error instanceof ConfigError, label);
    assert.equal(error.name, "ConfigError", label);
    assert.equal(error.variable, variable, label);
    assert.ok(error.message.includes(variable), `${label}: ${error.message}`);
    if (typeof allowed === "string") assert.equal(error.allowed, allowed, label);
    else if (allowed) assert.match(error.allowed, allowed, label);
    return true;
  }, label);
}

Deno.test("config: cluster settings defaults", () => {
  const config = parse();
  assert.equal(config.loadBalancingPolicy, "client-consistent");
  assert.equal(config.groupId, undefined);
  assert.equal(config.membersTopic, undefined);
  assert.equal(config.membersTopicReplicationFactor, -1);
  assert.equal(config.groupSessionTimeoutMs, 10000);
  assert.equal(config.groupHeartbeatIntervalMs, 3000);
  assert.equal(config.drainMs, 5000);
  assert.equal(config.internalLoadBalancing, true);
  // An empty value is the default too.
  const empty = parse({
    GATEWAY_LOAD_BALANCING_POLICY: "",
    GATEWAY_GROUP_ID: "",
    GATEWAY_MEMBERS_TOPIC: "",
    GATEWAY_MEMBERS_TOPIC_REPLICATION_FACTOR: "",
    GATEWAY_GROUP_SESSION_TIMEOUT_MS: "",
    GATEWAY_GROUP_HEARTBEAT_INTERVAL_MS: "",
    GATEWAY_DRAIN_MS: "",
  });
  for (
    const key of [
      "loadBalancingPolicy",
      "groupId",
      "membersTopic",
      "membersTopicReplicationFactor",
      "groupSessionTimeoutMs",
      "groupHeartbeatIntervalMs",
      "drainMs",
    ] as const
  ) {
    assert.equal(empty[key], config[key], key);
  }
});

Deno.test("config: GATEWAY_LOAD_BALANCING_POLICY", async (t) => {
  await t.step("round-robin and client-sticky", () => {
    assert.equal(parse({ GATEWAY_LOAD_BALANCING_POLICY: "round-robin" }).loadBalancingPolicy, "round-robin");
    assert.equal(
      parse({ GATEWAY_LOAD_BALANCING_POLICY: "client-sticky" }).loadBalancingPolicy,
      "client-sticky",
    );
  });

  await t.step("anything else is a ConfigError naming the variable", () => {
    for (
      const value of [
        "sticky",
        "CLIENT-STICKY",
        "Round-Robin",
        "round_robin",
        "client-sticky ",
        " round-robin",
        "rr",
      ]
    ) {
      assertRefused(
        { GATEWAY_LOAD_BALANCING_POLICY: value },
        "GATEWAY_LOAD_BALANCING_POLICY",
        /client-sticky/,
      );
    }
    assert.throws(() => parse({ GATEWAY_LOAD_BALANCING_POLICY: "sticky" }), {
      message:
        'invalid GATEWAY_LOAD_BALANCING_POLICY="sticky": expected client-consistent, round-robin or client-sticky',
    });
  });

  await t.step("also as the --load-balancing-policy flag, which wins over the variable", () => {
    assert.equal(flagName("GATEWAY_LOAD_BALANCING_POLICY"), "load-balancing-policy");
    const raw = rawSettings(
      { ...BASE, GATEWAY_LOAD_BALANCING_POLICY: "round-robin" },
      { "load-balancing-policy": "client-sticky" },
    );
    assert.equal(parseConfig(raw).loadBalancingPolicy, "client-sticky");
  });
});

Deno.test("config: GATEWAY_GROUP_ID and GATEWAY_MEMBERS_TOPIC", async (t) => {
  for (
    const [variable, key] of [["GATEWAY_GROUP_ID", "groupId"], [
      "GATEWAY_MEMBERS_TOPIC",
      "membersTopic",
    ]] as const
  ) {
    await t.step(`${variable}: Kafka names up to 249 characters`, () => {
      for (const value of ["kgate-nodes", "_kgate_prod_members", "a.b_c-D9", "x", "y".repeat(249)]) {
        assert.equal(parse({ [variable]: value })[key], value);
      }
    });

    await t.step(`${variable}: anything else is a ConfigError naming it`, () => {
      for (const value of ["has space", "a/b", "a:b", "é", "y".repeat(250), "a,b"]) {
        assertRefused({ [variable]: value }, variable);
      }
    });
  }

  await t.step("the two are independent", () => {
    const config = parse({ GATEWAY_GROUP_ID: "g", GATEWAY_MEMBERS_TOPIC: "t" });
    assert.equal(config.groupId, "g");
    assert.equal(config.membersTopic, "t");
    assert.equal(parse({ GATEWAY_GROUP_ID: "g" }).membersTopic, undefined);
    assert.equal(parse({ GATEWAY_MEMBERS_TOPIC: "t" }).groupId, undefined);
  });
});

Deno.test("config: GATEWAY_MEMBERS_TOPIC_REPLICATION_FACTOR", async (t) => {
  const variable = "GATEWAY_MEMBERS_TOPIC_REPLICATION_FACTOR";

  await t.step("-1 or 1 to 32767", () => {
    for (const [value, expected] of [["-1", -1], ["1", 1], ["3", 3], ["32767", 32767]] as const) {
      assert.equal(parse({ [variable]: value }).membersTopicReplicationFactor, expected);
    }
  });

  await t.step("0 and everything else refused", () => {
    for (const value of ["0", "-0", "-2", "32768", "1.5", "three", "1e9"]) {
      assertRefused({ [variable]: value }, variable);
    }
  });

  await t.step("independent of the audit topic's factor", () => {
    const config = parse({ [variable]: "3" });
    assert.equal(config.membersTopicReplicationFactor, 3);
    assert.equal(config.auditTopicReplicationFactor, -1);
  });
});

Deno.test("config: group session timeout and heartbeat interval", async (t) => {
  const session = "GATEWAY_GROUP_SESSION_TIMEOUT_MS";
  const heartbeat = "GATEWAY_GROUP_HEARTBEAT_INTERVAL_MS";

  await t.step("accepted values", () => {
    const config = parse({ [session]: "30000", [heartbeat]: "1000" });
    assert.equal(config.groupSessionTimeoutMs, 30000);
    assert.equal(config.groupHeartbeatIntervalMs, 1000);
    assert.equal(parse({ [session]: "600000", [heartbeat]: "599999" }).groupHeartbeatIntervalMs, 599999);
    assert.equal(parse({ [session]: "1000", [heartbeat]: "100" }).groupSessionTimeoutMs, 1000);
    assert.equal(parse({ [heartbeat]: "9999" }).groupHeartbeatIntervalMs, 9999);
  });

  await t.step("session timeout out of range names the session variable", () => {
    for (const value of ["999", "600001", "0", "-1", "1500.5", "ten"]) {
      assertRefused({ [session]: value }, session);
    }
  });

  await t.step("heartbeat out of range names the heartbeat variable", () => {
    for (const value of ["99", "600001", "0", "-5", "100.5", "fast"]) {
      assertRefused({ [heartbeat]: value }, heartbeat);
    }
  });

  await t.step("a heartbeat not below the session timeout names the heartbeat variable", () => {
    assertRefused({ [heartbeat]: "10000" }, heartbeat, /GATEWAY_GROUP_SESSION_TIMEOUT_MS \(10000\)/);
    assertRefused({ [heartbeat]: "20000" }, heartbeat, /below GATEWAY_GROUP_SESSION_TIMEOUT_MS \(10000\)/);
    assertRefused({ [session]: "5000", [heartbeat]: "5000" }, heartbeat, /\(5000\)/);
    // The default heartbeat (3000) against a short session timeout.
    assertRefused({ [session]: "2000" }, heartbeat, /\(2000\)/);
    assertRefused({ [session]: "3000" }, heartbeat);
    assert.equal(parse({ [session]: "3001" }).groupHeartbeatIntervalMs, 3000);
    assert.throws(() => parse({ [session]: "2000" }), {
      message: 'invalid GATEWAY_GROUP_HEARTBEAT_INTERVAL_MS="3000": expected an interval below ' +
        "GATEWAY_GROUP_SESSION_TIMEOUT_MS (2000)",
    });
  });

  await t.step("property: accepted exactly when heartbeat < session", () => {
    fc.assert(fc.property(
      fc.integer({ min: 1000, max: 600000 }),
      fc.integer({ min: 100, max: 600000 }),
      (s, h) => {
        const extra = { [session]: String(s), [heartbeat]: String(h) };
        if (h < s) {
          const config = parse(extra);
          assert.equal(config.groupSessionTimeoutMs, s);
          assert.equal(config.groupHeartbeatIntervalMs, h);
        } else {
          assertRefused(extra, heartbeat);
        }
      },
    ));
  });
});

Deno.test("config: GATEWAY_DRAIN_MS", () => {
  const variable = "GATEWAY_DRAIN_MS";
  for (const [value, expected] of [["0", 0], ["1", 1], ["250", 250], ["3600000", 3600000]] as const) {
    assert.equal(parse({ [variable]: value }).drainMs, expected);
  }
  for (const value of ["-1", "3600001", "1.5", "soon"]) assertRefused({ [variable]: value }, variable);
  // As a flag too.
  assert.equal(parseConfig(rawSettings(BASE, { "drain-ms": "0" })).drainMs, 0);
});

Deno.test("config: GATEWAY_NODE_ID default", async (t) => {
  const hostname = Deno.hostname();

  await t.step("internal load balancing: <advertised host>:<port start>", () => {
    assert.equal(parse({ GATEWAY_ADVERTISED_HOST: "gw-1.example" }).nodeId, "gw-1.example:6969");
    assert.equal(
      parse({ GATEWAY_ADVERTISED_HOST: "gw-1.example", GATEWAY_PORT_START: "7100" }).nodeId,
      "gw-1.example:7100",
    );
    assert.equal(
      parse({ GATEWAY_ADVERTISED_HOST: "10.0.0.5", GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING: "true" })
        .nodeId,
      "10.0.0.5:6969",
    );
    // The advertised host itself defaults to the machine's hostname.
    assert.equal(parse().nodeId, `${hostname}:6969`);
  });

  await t.step("external load balancing: <hostname>:<port start>, whatever is advertised", () => {
    const config = parse({
      GATEWAY_ADVERTISED_HOST: "lb.example",
      GATEWAY_PORT_START: "7100",
      GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING: "false",
    });
    assert.equal(config.advertisedHost, "lb.example");
    assert.equal(config.nodeId, `${hostname}:7100`);
    assert.notEqual(config.nodeId, "lb.example:7100");
  });

  await t.step("an explicit GATEWAY_NODE_ID wins in both modes", () => {
    for (const internal of ["true", "false"]) {
      const config = parse({
        GATEWAY_NODE_ID: "node-7",
        GATEWAY_ADVERTISED_HOST: "gw.example",
        GATEWAY_FEATURE_FLAGS_INTERNAL_LOAD_BALANCING: internal,
      });
      assert.equal(config.nodeId, "node-7", internal);
    }
  });

  await t.step("a bad GATEWAY_NODE_ID is a ConfigError naming it", () => {
    for (const value of ["has space", "a/b", "x".repeat(201)]) {
      assertRefused({ GATEWAY_NODE_ID: value }, "GATEWAY_NODE_ID");
    }
  });
});

Deno.test("config: the new settings are printed by redactedConfig", () => {
  const shown = redactedConfig(parse({
    GATEWAY_LOAD_BALANCING_POLICY: "client-sticky",
    GATEWAY_GROUP_ID: "g",
    GATEWAY_DRAIN_MS: "0",
  }));
  assert.equal(shown.GATEWAY_LOAD_BALANCING_POLICY, "client-sticky");
  assert.equal(shown.GATEWAY_GROUP_ID, "g");
  assert.equal(shown.GATEWAY_MEMBERS_TOPIC, null);
  assert.equal(shown.GATEWAY_MEMBERS_TOPIC_REPLICATION_FACTOR, -1);
  assert.equal(shown.GATEWAY_GROUP_SESSION_TIMEOUT_MS, 10000);
  assert.equal(shown.GATEWAY_GROUP_HEARTBEAT_INTERVAL_MS, 3000);
  assert.equal(shown.GATEWAY_DRAIN_MS, 0);
});
