/**
 * Backpressure: consumers that fetch large batches and never read their sockets must not make the node
 * buffer without bound, nor slow the other clients down.
 *
 * Stalled consumers pipeline Fetch requests for 16 MiB batches of a topic holding more than that, and
 * never read: with Fetch v4 (responses the node forwards as they stream) and with Fetch v17 (what Kafka
 * 4.x clients send; responses the node holds whole, since the address rewrite looks for NodeEndpoints
 * in their last bytes). Checked against a live node:
 * - its RSS growth is bounded per stalled connection (one whole response each with Fetch v16+, a read
 *   buffer with v4, plus a fixed slack), flat round after round (within one round's worth: GC timing),
 *   and the bytes it reads from the brokers for them (`kgate_bytes_out_total`) are at most one response
 *   per stalled connection of the 30 each pipelined;
 * - a kcat producer + consumer of other records finishes within a bounded ratio of the time the same
 *   run takes without the stalled consumers (runs alternated, medians; a ratio, not an absolute time).
 */
import assert from "node:assert/strict";
import { createTopic, type KafkaCluster, runKcat, testKafka, uniqueTopic } from "../harness/mod.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { kcatRoundTrip } from "../support/clients_util.ts";
import { RawClient, withDeadline } from "../support/faults_wire.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { loopbackHost } from "../support/loopback.ts";
import { processStatus, sampleValueOf, scrapeMetrics } from "../support/peer_swarm.ts";
import {
  decodeResponseFrame,
  encodeRequestFrame,
  FetchRequest,
  int32At,
  MetadataRequest,
  MetadataResponse,
  ZERO_UUID,
} from "../../src/protocol/mod.ts";
import { writeAll } from "../../src/lib/bytes_io.ts";
import { sleep } from "../../src/lib/deadline.ts";

const HOST = loopbackHost("backpressure");
const STALLED = 4;
const FETCHES_PER_STALLED = 30;
const BATCH_BYTES = 16 * 1024 * 1024;
/** Records of 1 KiB in the big topic: more than one batch. */
const BIG_RECORDS = 24_000;
/** RSS growth of the node not owed to the stalled consumers: kcat's traffic, pools, the heap. */
const RSS_FIXED_SLACK = 48 * 1024 * 1024;
/**
 * What one stalled connection may make the node hold. Fetch v16+ responses are held whole (the address
 * rewrite needs NodeEndpoints, a tagged field after the records): one response per connection, at most
 * what the client asked for (its maxBytes, capped by the broker's fetch.max.bytes) — bounded, and
 * inherent to rewriting a tail that follows the records. Older versions stream: a read buffer.
 */
function heldPerStalled(version: number): number {
  return version >= 16 ? BATCH_BYTES : 1024 * 1024;
}
/**
 * Bytes the node may read from the brokers per stalled connection while its client reads nothing: the
 * one response it holds (or streams into the full socket) plus socket buffers — not a second response.
 */
const READ_SLACK_PER_STALLED = 4 * 1024 * 1024;
/** Bytes the kcat producer + consumer of a round read through the node (5,000 records of 1 KiB). */
const READ_SLACK_OTHERS = 16 * 1024 * 1024;
/** How much slower the other clients may be with the stalled consumers in place (median of rounds). */
const SLOWDOWN_BOUND = 3;
const ROUNDS = 3;

function fetchBig(version: number, correlationId: number, topic: string, topicId: string): Uint8Array {
  return encodeRequestFrame({ correlationId, clientId: "stalled" }, FetchRequest, version, {
    replicaId: -1,
    maxWaitMs: 500,
    minBytes: 1,
    maxBytes: BATCH_BYTES,
    isolationLevel: 0,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [{
      topic,
      topicId,
      partitions: [{ partition: 0, fetchOffset: 0n, partitionMaxBytes: BATCH_BYTES }],
    }],
  });
}

/** The topic id of `topic`, from its leader (Metadata v12). */
async function topicIdOf(kafka: KafkaCluster, topic: string, leader: number): Promise<string> {
  const broker = kafka.broker(leader);
  const client = await RawClient.connect(broker.host, broker.port);
  try {
    const request = encodeRequestFrame({ correlationId: 1, clientId: "backpressure" }, MetadataRequest, 12, {
      topics: [{ name: topic, topicId: ZERO_UUID }],
    });
    const response = decodeResponseFrame(await client.roundTrip(request, 1), 1, MetadataResponse, 12);
    return response.body.topics[0].topicId;
  } finally {
    client.close();
  }
}

/** The node, and a one-partition topic holding more than a batch. */
const fixture = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const gateway = await GatewayProcess.start({ host: HOST, kafka });
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs.slice(-5000));
  });
  const big = uniqueTopic("big");
  await createTopic(big, 1, 3);
  const fill = await runKcat(["-P", "-b", gateway.bootstrap, "-t", big, "-X", "acks=1"], {
    stdin: Array.from({ length: BIG_RECORDS }, (_, i) => `${i}-${"b".repeat(1020)}`).join("\n") + "\n",
    timeoutMs: 120_000,
  });
  assert.equal(fill.code, 0, fill.stderr);
  const leader = (await kafka.metadata([big])).topics[0].partitions[0].leader;
  return { gateway, big, leader, topicId: await topicIdOf(kafka, big, leader) };
});

/** Produces `n` records of about 1 KiB to `topic` through `bootstrap`, then consumes them: seconds taken. */
async function produceAndConsume(bootstrap: string, topic: string, n: number): Promise<number> {
  const started = performance.now();
  const records = Array.from({ length: n }, (_, i) => `${i}-${"v".repeat(1000)}`);
  assert.equal((await kcatRoundTrip(bootstrap, topic, records, 120_000)).length, n);
  return (performance.now() - started) / 1000;
}

/**
 * The start of the first response waiting on a stalled connection: its size and correlation id. Read
 * once the round's figures are taken, so the test knows the stalled consumers were really served a
 * batch (not refused, nor answered with a small error).
 */
async function firstResponseHead(conn: Deno.TcpConn): Promise<{ size: number; correlationId: number }> {
  const head = new Uint8Array(8);
  let got = 0;
  while (got < head.length) {
    const n = await withDeadline(
      conn.read(head.subarray(got)),
      10_000,
      "a stalled consumer's first response",
    );
    if (n === null) throw new Error("the node closed a stalled consumer's connection");
    got += n;
  }
  return { size: int32At(head, 0), correlationId: int32At(head, 4) };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

for (const version of [4, 17]) {
  sharedTest(
    `consumers that fetch large batches (Fetch v${version}) and never read: node memory flat, other clients keep their throughput`,
    async () => {
      const { gateway, big, leader, topicId } = await fixture.get();
      const stalled: Deno.TcpConn[] = [];
      try {
        // Rounds alternate: the other clients alone, then with the stalled consumers in place.
        const pid = gateway.child.pid;
        await produceAndConsume(gateway.bootstrap, uniqueTopic("warm"), 5_000);
        const rssBefore = (await processStatus(pid)).rssBytes;
        const baseline: number[] = [];
        const withStalled: number[] = [];
        const rssStalled: number[] = [];
        let bytesRead = 0;
        for (let round = 0; round < ROUNDS; round++) {
          baseline.push(await produceAndConsume(gateway.bootstrap, uniqueTopic("free"), 5_000));
          const bytesBefore = sampleValueOf(await scrapeMetrics(gateway.httpUrl), "kgate_bytes_out_total");
          for (let c = 0; c < STALLED; c++) {
            const conn = await Deno.connect({ hostname: HOST, port: gateway.portStart + leader });
            stalled.push(conn);
            for (let i = 0; i < FETCHES_PER_STALLED; i++) {
              await writeAll(conn, fetchBig(version, i, big, topicId));
            }
          }
          await sleep(2_000);
          rssStalled.push((await processStatus(pid)).rssBytes);
          withStalled.push(await produceAndConsume(gateway.bootstrap, uniqueTopic("busy"), 5_000));
          rssStalled.push((await processStatus(pid)).rssBytes);
          bytesRead = Math.max(
            bytesRead,
            sampleValueOf(await scrapeMetrics(gateway.httpUrl), "kgate_bytes_out_total") - bytesBefore,
          );
          for (const conn of stalled) {
            const head = await firstResponseHead(conn);
            assert.equal(head.correlationId, 0, "the first response answers the first Fetch");
            assert.ok(
              head.size > 1024 * 1024,
              `a stalled consumer was served ${head.size} bytes, not a batch`,
            );
          }
          for (const conn of stalled.splice(0)) conn.close();
        }
        const rssMax = Math.max(...rssStalled);
        const asked = STALLED * FETCHES_PER_STALLED * BATCH_BYTES;
        const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
        console.log(
          `RSS ${mib(rssBefore)} MiB before, ${
            rssStalled.map(mib).join(", ")
          } MiB stalled; read from brokers ${mib(bytesRead)} MiB (most in a round) of ${
            mib(asked)
          } MiB asked per round; other clients ${withStalled.map((s) => s.toFixed(2))} s vs ${
            baseline.map((s) => s.toFixed(2))
          } s`,
        );
        // Bounded per stalled connection: stalled × (what one may make the node hold) + fixed slack.
        const rssBound = RSS_FIXED_SLACK + STALLED * heldPerStalled(version);
        assert.ok(
          rssMax - rssBefore < rssBound,
          `RSS grew by ${mib(rssMax - rssBefore)} MiB (bound ${mib(rssBound)} MiB)`,
        );
        // Flat: the last round's stalled consumers cost no more than the first round's. The responses a
        // closed round held are ArrayBuffers freed at the next GC, which V8 may run only after the next
        // round allocated: one round's worth of slack; a leak would add a round's worth per round.
        const roundWorth = STALLED * heldPerStalled(version);
        assert.ok(
          rssStalled.at(-1)! - rssStalled[1] < roundWorth + RSS_FIXED_SLACK / 2,
          `RSS grew round after round by ${mib(rssStalled.at(-1)! - rssStalled[1])} MiB (bound ${
            mib(roundWorth + RSS_FIXED_SLACK / 2)
          } MiB)`,
        );
        // At most one response read per stalled connection while its client reads nothing (of the 30
        // each pipelined): the node stops reading from the broker until the client reads.
        const readBound = STALLED * (heldPerStalled(17) + READ_SLACK_PER_STALLED) + READ_SLACK_OTHERS;
        assert.ok(
          bytesRead < readBound,
          `the node read ${mib(bytesRead)} MiB for clients that read nothing (bound ${mib(readBound)} MiB)`,
        );
        const ratio = median(withStalled) / median(baseline);
        assert.ok(ratio < SLOWDOWN_BOUND, `other clients ${ratio.toFixed(2)}x slower with stalled consumers`);
      } finally {
        for (const conn of stalled) {
          try {
            conn.close();
          } catch { /* closed */ }
        }
      }
    },
  );
}
