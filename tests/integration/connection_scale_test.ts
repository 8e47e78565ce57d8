/**
 * Connections at scale, sized for CI: 5,000 silent connections to one node, then 1,000 more that each
 * made one ApiVersions exchange, from several loopback source addresses over four of the node's ports.
 * Checked: the node keeps every connection open (none refused, none closed), opens no broker connection
 * for the silent ones (one per active one), still serves a new client within a generous bound, and its
 * RSS per connection stays within a loose bound (the figures of the full-size run, 100,000 + 10,000,
 * come from bench/connection_scale.ts).
 */
import assert from "node:assert/strict";
import { testKafka } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { connectionScale, formatScale } from "../support/connection_scale.ts";
import { raiseFileLimit } from "../support/peer_swarm.ts";

const [HOST, ...SOURCES] = loopbackHosts("connection_scale");
const SILENT = 5_000;
const ACTIVE = 1_000;
/** A new client is served within this (the goal, < 100 ms, is measured by the bench). */
const NEW_CLIENT_BOUND_MS = 5_000;
/** RSS per open connection allowed here (the goal, 10 KiB, is measured by the bench). */
const RSS_PER_CONNECTION_BOUND = 64 * 1024;

Deno.test({
  name:
    `${SILENT} silent and ${ACTIVE} active connections to one node: all kept, no broker connection for the silent ones, a new client served`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The node inherits this process's descriptor limit: it holds every connection and a broker
    // connection per active one; this process holds every connection.
    const needed = SILENT + 2 * ACTIVE + 1024;
    assert.ok(await raiseFileLimit(Deno.pid, needed) >= needed, "descriptor limit");
    const kafka = await testKafka();
    const brokerPorts = kafka.brokers.map((b) => b.port);
    const gateway = await GatewayProcess.start({
      host: HOST,
      kafka,
      env: { GATEWAY_FIRST_FRAME_TIMEOUT_MS: "600000", GATEWAY_CONNECTIONS_MAX_IDLE_MS: "0" },
    });
    try {
      const result = await connectionScale({
        gateway,
        sources: SOURCES,
        ports: 4,
        silentSteps: [SILENT],
        active: ACTIVE,
        brokerPorts,
        probes: 3,
      });
      console.log(formatScale(result));
      const [silent, active] = result.steps;
      for (const step of result.steps) {
        assert.equal(step.failures, 0, `${step.label}: connections not opened`);
        assert.equal(step.closedByNode, 0, `${step.label}: connections closed by the node`);
        assert.ok(step.newClientMs < NEW_CLIENT_BOUND_MS, `${step.label}: new client ${step.newClientMs} ms`);
        assert.ok(
          step.rssPerConnection < RSS_PER_CONNECTION_BOUND,
          `${step.label}: ${step.rssPerConnection} B`,
        );
      }
      assert.ok(silent.descriptors >= SILENT, `the node holds ${silent.descriptors} descriptors`);
      // The silent connections made no broker connection; each active one made one (the probes are closed).
      // (A few of the node's own, e.g. its audit producer's, may come meanwhile.)
      assert.ok(silent.brokerConnections <= result.baseBrokerConnections + 5, `${silent.brokerConnections}`);
      assert.ok(active.brokerConnections >= silent.brokerConnections + ACTIVE);
      assert.ok(active.brokerConnections <= silent.brokerConnections + ACTIVE + 5);
      assert.ok(await gateway.running());
    } finally {
      const status = await gateway.stop();
      assert.equal(status.code, 0, gateway.logs.slice(-5000));
    }
  },
});
