/**
 * Hostile peers against a live node while a kcat producer and a kcat consumer run through it:
 * `KGATE_HOSTILE_PEERS` connections (default 1,500, sized for CI; the full-size run of issue 13 is
 * `KGATE_HOSTILE_PEERS=10000 deno task test tests/integration/hostile_peers_test.ts`) spread over the node's ports, in equal parts sending
 * garbage, half a frame, an oversized size, two bytes of a size, or nothing. Checked:
 * - nothing lost: every record produced is acknowledged (kcat exits 0 with acks=all) and consumed;
 * - the node closes every hostile connection itself (bad input at once, the rest after
 *   GATEWAY_FIRST_FRAME_TIMEOUT_MS), stays alive and serves a new client afterwards;
 * - no broker connection for a connection that never sent a valid frame: the node's established
 *   connections to the brokers (ss) and `kgate_client_connections_total` grow only by what kcat uses;
 * - the node's log stays short (bad-peer lines and their REJECT audit lines are rate-limited) and its
 *   RSS growth bounded.
 * And: peers that announce a large first frame (under GATEWAY_MAX_FRAME_BYTES, with a valid header) and
 * send most of it do not make the node hold what they send.
 */
import assert from "node:assert/strict";
import { createTopic, runKcat, testKafka, uniqueTopic } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { assertServes, isAuditLine, KcatStream } from "../support/faults_gateway.ts";
import { loopbackHost } from "../support/loopback.ts";
import { connectionsTo } from "../support/connection_scale.ts";
import {
  type PeerKind,
  PeerSwarm,
  processStatus,
  raiseFileLimit,
  rejected,
  sampleValueOf,
  scrapeMetrics,
  timeNewClient,
} from "../support/peer_swarm.ts";
import { sleep } from "../../src/lib/deadline.ts";
import { writeAll } from "../../src/lib/bytes_io.ts";
import { Bytes } from "../support/faults_wire.ts";

const HOST = loopbackHost("hostile_peers");
const PEERS = Number(Deno.env.get("KGATE_HOSTILE_PEERS") ?? 1_500);
const KINDS: PeerKind[] = ["garbage", "half-frame", "oversized", "stall", "silent"];
const RECORDS = 20_000;
const FIRST_FRAME_MS = 3_000;
/** Bad-peer log lines per 10 s interval (GATEWAY_BAD_PEER_LOG_LIMIT's default). */
const BAD_PEER_LINES_PER_INTERVAL = 10;
/**
 * RSS growth allowed while the peers are connected and after they are gone: issue 13's goal of 10 KiB per
 * connection, plus room for the 20,000 records kcat moves meanwhile.
 */
const RSS_GROWTH_BOUND = 48 * 1024 * 1024 + PEERS * 10 * 1024;

Deno.test({
  name:
    `${PEERS} hostile connections while kcat produces and consumes: nothing lost, no broker connection for them, node alive, log and RSS bounded`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    // The node inherits this process's descriptor limit; both hold the peers' sockets.
    const needed = PEERS + 1024;
    assert.ok(await raiseFileLimit(Deno.pid, needed) >= needed, "descriptor limit");
    const kafka = await testKafka();
    const brokerPorts = kafka.brokers.map((b) => b.port);
    const gateway = await GatewayProcess.start({
      host: HOST,
      kafka,
      env: {
        GATEWAY_FIRST_FRAME_TIMEOUT_MS: String(FIRST_FRAME_MS),
        // The default budget (test nodes otherwise log every bad peer).
        GATEWAY_BAD_PEER_LOG_LIMIT: String(BAD_PEER_LINES_PER_INTERVAL),
      },
    });
    const pid = gateway.child.pid;
    const consumer: KcatStream[] = [];
    try {
      const topic = uniqueTopic("hostile");
      await createTopic(topic, 3, 3);
      await assertServes(gateway, kafka);
      await sleep(1_000);
      const metricsBefore = await scrapeMetrics(gateway.httpUrl);
      const rssBefore = (await processStatus(pid)).rssBytes;
      const brokerConnectionsBefore = connectionsTo(pid, brokerPorts);
      const logOffset = gateway.logs.length;
      const started = performance.now();

      // The clients: a consumer first (it waits for the records), then the producer, with the peers.
      consumer.push(KcatStream.consume(gateway.bootstrap, topic));
      const records = Array.from({ length: RECORDS }, (_, i) => `record-${i}`);
      const ports = Array.from({ length: 4 }, (_, i) => gateway.portStart + i);
      const swarms = Promise.all(
        KINDS.map((kind) =>
          PeerSwarm.open({ host: HOST, ports, count: Math.ceil(PEERS / KINDS.length), kind, concurrency: 50 })
        ),
      );
      const produced = runKcat(
        ["-P", "-b", gateway.bootstrap, "-t", topic, "-X", "acks=all", "-X", "linger.ms=5"],
        { stdin: records.join("\n") + "\n", timeoutMs: 120_000 },
      );
      const peers = await swarms;
      const opened = peers.reduce((n, s) => n + s.peers.length, 0);
      const brokerConnectionsDuring = connectionsTo(pid, brokerPorts);
      const rssDuring = (await processStatus(pid)).rssBytes;

      const producedResult = await produced;
      assert.equal(producedResult.code, 0, producedResult.stderr);
      await consumer[0].waitForLines(records, 120_000);
      assert.equal(consumer[0].lines.length, RECORDS, "records consumed twice or unknown ones");

      // The node closes every hostile connection: bad bytes at once, silent and stalled ones on timeout.
      const closedAll = await Promise.all(peers.map((s) => s.waitUntilClosedByPeer(s.peers.length, 30_000)));
      const closed = peers.reduce((n, s) => n + s.closedByPeer, 0);
      for (const swarm of peers) swarm.destroy();
      assert.deepEqual(peers.map((s) => s.failures.length), KINDS.map(() => 0), "connections refused");
      assert.equal(opened, KINDS.length * Math.ceil(PEERS / KINDS.length));
      assert.ok(closedAll.every((c) => c), `the node closed ${closed} of ${opened} hostile connections`);

      // Alive, and serving a new client.
      assert.ok(await gateway.running(), gateway.logs);
      await timeNewClient(HOST, gateway.portStart);
      await assertServes(gateway, kafka);

      // No broker connection for the hostile ones: only kcat's (a few) came and went.
      const metricsAfter = await scrapeMetrics(gateway.httpUrl);
      const proxied = sampleValueOf(metricsAfter, "kgate_client_connections_total") -
        sampleValueOf(metricsBefore, "kgate_client_connections_total");
      const refusedFrames = rejected(metricsAfter, "frame-size") - rejected(metricsBefore, "frame-size") +
        rejected(metricsAfter, "protocol") - rejected(metricsBefore, "protocol");
      const timedOut = rejected(metricsAfter, "first-frame-timeout") -
        rejected(metricsBefore, "first-frame-timeout");
      const rssAfter = (await processStatus(pid)).rssBytes;
      const seconds = (performance.now() - started) / 1000;
      const lines = gateway.logs.slice(logOffset).split("\n").filter((l) => l !== "");
      const audit = lines.filter(isAuditLine);
      const auditLines = audit.length;
      const rejectLines = audit.filter((l) => l.includes('"action":"REJECT"')).length;
      const logLines = lines.length - auditLines;
      console.log(
        `${opened} hostile connections, ${RECORDS} records in ${seconds.toFixed(1)} s: ` +
          `broker connections ${brokerConnectionsBefore} before, ${brokerConnectionsDuring} during; ` +
          `proxied connections +${proxied}; refused frames ${refusedFrames}, first-frame timeouts ${timedOut}; ` +
          `RSS ${mib(rssBefore)} -> ${mib(rssDuring)} (peers open) -> ${mib(rssAfter)} MiB; ` +
          `log lines ${logLines} (+${auditLines} audit lines, ${rejectLines} of them REJECT)`,
      );
      // kcat: two clients of at most four connections each (bootstrap + 3 brokers); the node's own (audit).
      assert.ok(
        brokerConnectionsDuring <= brokerConnectionsBefore + 24,
        "broker connections for hostile peers",
      );
      assert.ok(proxied <= 20, `${proxied} connections reached a broker`);
      assert.equal(refusedFrames + timedOut, opened, "every hostile connection counted once");
      // Bad-peer lines: the budget per 10 s interval, plus a "suppressed" line each; a few other lines.
      const intervals = Math.ceil(seconds / 10) + 1;
      assert.ok(logLines <= intervals * (BAD_PEER_LINES_PER_INTERVAL + 1) + 30, `${logLines} log lines`);
      // REJECT audit lines go with the refusals' log lines (suppressed with them, counted in the
      // "suppressed" line; the audit topic keeps every entry); the OPEN/CLOSE lines of kcat's
      // and the checks' few connections are not rate-limited.
      assert.ok(rejectLines <= intervals * BAD_PEER_LINES_PER_INTERVAL, `${rejectLines} REJECT audit lines`);
      assert.ok(auditLines - rejectLines <= 60, `${auditLines - rejectLines} OPEN/CLOSE audit lines`);
      assert.ok(rssDuring - rssBefore < RSS_GROWTH_BOUND, `RSS grew by ${mib(rssDuring - rssBefore)} MiB`);
      assert.ok(rssAfter - rssBefore < RSS_GROWTH_BOUND, `RSS grew by ${mib(rssAfter - rssBefore)} MiB`);
    } finally {
      for (const c of consumer) await c.stop();
      const status = await gateway.stop();
      assert.equal(status.code, 0, gateway.logs.slice(-5000));
    }
  },
});

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1);
}

/** Peers that each send most of a large first frame (valid header, under GATEWAY_MAX_FRAME_BYTES). */
const LARGE_FRAME_PEERS = 10;
const LARGE_FRAME_BYTES = 20 * 1024 * 1024;

Deno.test({
  name: `${LARGE_FRAME_PEERS} connections each sending most of a ${
    LARGE_FRAME_BYTES >> 20
  } MiB first frame: node RSS bounded`,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const kafka = await testKafka();
    const gateway = await GatewayProcess.start({ host: HOST, kafka });
    const conns: Deno.TcpConn[] = [];
    try {
      await sleep(1_000);
      const rssBefore = (await processStatus(gateway.child.pid)).rssBytes;
      // A Produce v3 header (acks=1) announcing a frame under the 100 MiB default limit.
      const head = new Bytes().int32(LARGE_FRAME_BYTES).int16(0).int16(3).int32(1).string("c").int16(-1)
        .int16(1)
        .int32(30_000).finish();
      const chunk = new Uint8Array(1 << 20);
      for (let c = 0; c < LARGE_FRAME_PEERS; c++) {
        const conn = await Deno.connect({ hostname: HOST, port: gateway.portStart });
        conns.push(conn);
        await writeAll(conn, head);
        // All but the last MiB: the frame stays incomplete (the first-frame timeout has not passed).
        for (let sent = head.length - 4; sent < LARGE_FRAME_BYTES - chunk.length; sent += chunk.length) {
          await writeAll(conn, chunk);
        }
      }
      await sleep(1_000);
      const rssDuring = (await processStatus(gateway.child.pid)).rssBytes;
      const held = LARGE_FRAME_PEERS * LARGE_FRAME_BYTES;
      console.log(
        `${LARGE_FRAME_PEERS} incomplete first frames of ${mib(LARGE_FRAME_BYTES)} MiB: node RSS ${
          mib(rssBefore)
        } -> ${mib(rssDuring)} MiB`,
      );
      assert.ok(await gateway.running());
      // The node may buffer a frame's header, not the bytes a peer announces and trickles in.
      assert.ok(rssDuring - rssBefore < held / 4, `RSS grew by ${mib(rssDuring - rssBefore)} MiB`);
    } finally {
      for (const conn of conns) {
        try {
          conn.close();
        } catch { /* closed */ }
      }
      const status = await gateway.stop();
      assert.equal(status.code, 0, gateway.logs.slice(-5000));
    }
  },
});
