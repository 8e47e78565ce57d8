/**
 * Idle and capped client connections against live nodes (small settings, so the tests take seconds):
 * - `GATEWAY_FIRST_FRAME_TIMEOUT_MS` closes a connection that has sent no complete request frame
 *   (silent, or half a frame), not before the setting, counted as `first-frame-timeout`;
 * - `GATEWAY_CONNECTIONS_MAX_IDLE_MS` closes a connection idle after one ApiVersions exchange, not
 *   before the setting, counted as `idle-timeout`, while a connection that keeps talking stays open;
 * - `GATEWAY_MAX_CONNECTIONS_PER_IP` and `GATEWAY_MAX_CONNECTIONS` refuse the connection over the cap
 *   (closed by the node, counted by reason, logged within the bad-peer budget) while a client under the
 *   caps is served.
 *
 * Timing bounds here are correctness bounds (never before the setting; within a generous limit after),
 * not performance goals.
 */
import assert from "node:assert/strict";
import { testKafka } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { loopbackHost } from "../support/loopback.ts";
import { PeerSwarm, rejected, sampleValueOf, scrapeMetrics, timeNewClient } from "../support/peer_swarm.ts";
import { apiVersionsV0, RawClient } from "../support/faults_wire.ts";
import { isAuditLine } from "../support/faults_gateway.ts";
import { sleep } from "../../src/lib/deadline.ts";

const HOST = loopbackHost("idle_peers");
const FIRST_FRAME_MS = 1_000;
const IDLE_MS = 2_500;
/** The node checks its timeouts once a second; a close may come this much after the setting at most. */
const CLOSE_WITHIN_MS = 10_000;
/** Bad-peer log lines per 10 s of the capped node. */
const BAD_PEER_LOG_LIMIT = 3;
/** Connections over the node cap at once. */
const OVER_CAP = 20;

/** A node with short timeouts, one capped per IP, one capped in total; all on HOST, distinct ports. */
const nodes = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const start = async (portStart: number, httpPort: number, env: Record<string, string>) => {
    const gateway = await GatewayProcess.start({
      host: HOST,
      kafka,
      portStart,
      env: { GATEWAY_HTTP_PORT: String(httpPort), ...env },
    });
    stack.defer(async () => {
      const status = await gateway.stop();
      assert.equal(status.code, 0, gateway.logs);
    });
    return gateway;
  };
  const timeouts = await start(6969, 8888, {
    GATEWAY_FIRST_FRAME_TIMEOUT_MS: String(FIRST_FRAME_MS),
    GATEWAY_CONNECTIONS_MAX_IDLE_MS: String(IDLE_MS),
  });
  const perIp = await start(7969, 8889, { GATEWAY_MAX_CONNECTIONS_PER_IP: "3" });
  const perNode = await start(8969, 8890, {
    GATEWAY_MAX_CONNECTIONS: "4",
    GATEWAY_BAD_PEER_LOG_LIMIT: String(BAD_PEER_LOG_LIMIT),
  });
  return { timeouts, perIp, perNode };
});

/** Milliseconds until the node closed every connection of `swarm`, from `since`. */
async function closedAfter(swarm: PeerSwarm, since: number): Promise<number> {
  const closed = await swarm.waitUntilClosedByPeer(swarm.peers.length, FIRST_FRAME_MS + CLOSE_WITHIN_MS);
  assert.ok(closed, `the node closed ${swarm.closedByPeer} of ${swarm.peers.length} connections`);
  return performance.now() - since;
}

sharedTest(
  "a connection without a complete frame is closed after GATEWAY_FIRST_FRAME_TIMEOUT_MS",
  async () => {
    const { timeouts } = await nodes.get();
    const before = rejected(await scrapeMetrics(timeouts.httpUrl), "first-frame-timeout");

    const opened = performance.now();
    const silent = await PeerSwarm.open({ host: HOST, ports: [6969], count: 5, kind: "silent" });
    const half = await PeerSwarm.open({ host: HOST, ports: [6970], count: 5, kind: "half-frame" });
    const stalled = await PeerSwarm.open({ host: HOST, ports: [6969], count: 5, kind: "stall" });
    try {
      assert.deepEqual([silent.failures, half.failures, stalled.failures], [[], [], []]);
      // Still open just before the timeout (they are closed by the timeout, not at once).
      await sleep(Math.max(0, FIRST_FRAME_MS - 200 - (performance.now() - opened)));
      assert.equal(silent.closedByPeer + half.closedByPeer + stalled.closedByPeer, 0);
      for (const swarm of [silent, half, stalled]) {
        assert.ok((await closedAfter(swarm, opened)) >= FIRST_FRAME_MS - 50);
      }
      const after = await scrapeMetrics(timeouts.httpUrl);
      assert.equal(rejected(after, "first-frame-timeout") - before, 15);
    } finally {
      for (const swarm of [silent, half, stalled]) swarm.destroy();
    }
  },
);

sharedTest(
  "a connection idle after ApiVersions is closed after GATEWAY_CONNECTIONS_MAX_IDLE_MS; a talking one stays",
  async () => {
    const { timeouts } = await nodes.get();
    const before = rejected(await scrapeMetrics(timeouts.httpUrl), "idle-timeout");

    // Every exchange (the last bytes either way) happens after `opened`.
    const opened = performance.now();
    const idle = await PeerSwarm.open({ host: HOST, ports: [6969], count: 3, kind: "api-versions" });
    const answered = performance.now();
    // A client that keeps sending a request every 500 ms, for longer than the idle timeout.
    const talking = await RawClient.connect(HOST, 6969);
    try {
      assert.deepEqual(idle.failures, []);
      let checkedBeforeTimeout = false;
      for (let i = 1; performance.now() - answered < IDLE_MS + 2_000; i++) {
        await talking.roundTrip(apiVersionsV0(i), i);
        await sleep(100);
        if (!checkedBeforeTimeout && performance.now() - opened >= IDLE_MS - 300) {
          // Not idle for the setting yet: none closed.
          assert.equal(idle.closedByPeer, 0, `closed before ${IDLE_MS} ms of idleness`);
          checkedBeforeTimeout = true;
        }
      }
      assert.ok(checkedBeforeTimeout);
      await closedAfter(idle, answered);
      // The talking client is still served.
      await talking.roundTrip(apiVersionsV0(1000), 1000);
      const after = await scrapeMetrics(timeouts.httpUrl);
      assert.equal(rejected(after, "idle-timeout") - before, 3);
    } finally {
      idle.destroy();
      talking.close();
    }
  },
);

sharedTest(
  "GATEWAY_MAX_CONNECTIONS_PER_IP refuses the connection over the cap; another IP is served",
  async () => {
    const { perIp } = await nodes.get();
    const before = rejected(await scrapeMetrics(perIp.httpUrl), "max-connections-per-ip");

    // Three from the default source (127.0.0.1): the cap.
    const held = await PeerSwarm.open({ host: HOST, ports: [7969], count: 3, kind: "api-versions" });
    try {
      assert.deepEqual(held.failures, []);
      const extra = await PeerSwarm.open({ host: HOST, ports: [7969], count: 1, kind: "silent" });
      assert.ok(await extra.waitUntilClosedByPeer(1, 5_000), "the connection over the cap stays open");
      extra.destroy();
      // From another source address (the node's own): under its cap, served.
      const other = await PeerSwarm.open({
        host: HOST,
        ports: [7969],
        sources: [HOST],
        count: 1,
        kind: "api-versions",
      });
      assert.deepEqual(other.failures, []);
      other.destroy();
      await sleep(200);
      assert.equal(held.closedByPeer, 0, "connections under the cap were closed");
      const after = await scrapeMetrics(perIp.httpUrl);
      assert.equal(rejected(after, "max-connections-per-ip") - before, 1);
      assert.match(perIp.logs, /GATEWAY_MAX_CONNECTIONS_PER_IP/);
    } finally {
      held.destroy();
    }
    // Once those close, the first source is served again.
    await sleep(200);
    await timeNewClient(HOST, 7969);
  },
);

sharedTest(
  "GATEWAY_MAX_CONNECTIONS refuses the connection over the cap; a client under it is served",
  async () => {
    const { perNode } = await nodes.get();
    const before = rejected(await scrapeMetrics(perNode.httpUrl), "max-connections");

    const held = await PeerSwarm.open({ host: HOST, ports: [8969], count: 4, kind: "silent" });
    try {
      assert.deepEqual(held.failures, []);
      const logOffset = perNode.logs.length;
      const extra = await PeerSwarm.open({
        host: HOST,
        ports: [8969],
        sources: [HOST],
        count: OVER_CAP,
        kind: "silent",
      });
      assert.ok(await extra.waitUntilClosedByPeer(OVER_CAP, 5_000), "connections over the cap stay open");
      extra.destroy();
      assert.equal(held.closedByPeer, 0, "connections under the cap were closed");
      const after = await scrapeMetrics(perNode.httpUrl);
      assert.equal(rejected(after, "max-connections") - before, OVER_CAP);
      // The held ones show although none reached a broker: open client connections, all stages.
      assert.equal(sampleValueOf(after, "kgate_client_connections"), 4);
      assert.equal(sampleValueOf(after, "kgate_client_connections_open"), 0);
      // Logged within the bad-peer budget, not once per refused connection (REJECT audit entries aside).
      const capLines = perNode.logs.slice(logOffset).split("\n").filter((l) =>
        l.includes("GATEWAY_MAX_CONNECTIONS client connections open") && !isAuditLine(l)
      );
      assert.ok(capLines.length >= 1 && capLines.length <= BAD_PEER_LOG_LIMIT, capLines.join("\n"));
      // One closes: a new client is served.
      held.peers[0].destroy();
      await sleep(200);
      await timeNewClient(HOST, 8969);
    } finally {
      held.destroy();
    }
  },
);
