/**
 * Bad client input over raw TCP against a real gateway process (HOST) and the real cluster.
 *
 * Every case checks that the gateway closes that one connection within a bounded time, logs exactly
 * one line naming the client address with the reason, and that the node is unaffected: its process
 * still runs, a fresh `kcat -L` through it works, and clients connected before the bad input (a raw
 * connection and a kafkajs producer) are still served. The node and those clients are a file fixture
 * shared by every test.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { createTopic, type KafkaCluster, runKcat, testKafka, uniqueTopic } from "../harness/mod.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { assertServes, expectOneLogLine, KcatStream, linesNaming } from "../support/faults_gateway.ts";
import {
  apiVersionsV0,
  Bytes,
  concat,
  int32,
  pseudoRandomBytes,
  RawClient,
  requestFrame,
  saslHandshake,
  tlsClientHello,
  withDeadline,
} from "../support/faults_wire.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { loopbackHost } from "../support/loopback.ts";

const HOST = loopbackHost("bad_input");
const PORT_START = 6969;
/** Port start of the second node, which keeps the default GATEWAY_MAX_FRAME_BYTES. */
const DEFAULT_NODE_PORT_START = 7969;
const MAX_FRAME = 1_048_576;
const DEFAULT_MAX_FRAME = 104_857_600;
const CLOSE_TIMEOUT_MS = 5_000;

/** What the client does after sending the bad bytes. */
type After =
  | "wait" // wait for the gateway to close the connection
  | "half-close" // end the stream (closeWrite), then wait for the gateway to close
  | "close"; // close the socket itself (the gateway must log the cut frame)

interface BadInput {
  name: string;
  bytes: Uint8Array;
  after: After;
  /** The reason the single log line about the client must give. */
  reason: RegExp;
}

const utf8 = (s: string) => new TextEncoder().encode(s);

const CASES: BadInput[] = [
  {
    name: "frame size 2 MiB over GATEWAY_MAX_FRAME_BYTES=1 MiB",
    bytes: concat(int32(2 * MAX_FRAME), apiVersionsV0(1).subarray(4)),
    after: "wait",
    reason: /frame size 2097152 exceeds the maximum of 1048576 bytes/,
  },
  {
    name: "frame size one byte over the maximum",
    bytes: int32(MAX_FRAME + 1),
    after: "wait",
    reason: /frame size 1048577 exceeds the maximum of 1048576/,
  },
  {
    name: "frame size 0x7fffffff",
    bytes: int32(0x7fffffff),
    after: "wait",
    reason: /frame size 2147483647 exceeds the maximum/,
  },
  { name: "negative frame size -1", bytes: int32(-1), after: "wait", reason: /negative frame size -1\b/ },
  {
    name: "negative frame size -2147483648",
    bytes: concat(int32(-2147483648), pseudoRandomBytes(1, 16)),
    after: "wait",
    reason: /negative frame size -2147483648/,
  },
  {
    name: "truncated frame: size 100, 10 bytes (header cut in its client id), then close",
    bytes: concat(int32(100), new Bytes().int16(3).int16(1).int32(7).int16(40).finish()),
    after: "close",
    reason: /connection ended inside a frame/,
  },
  {
    name: "truncated frame: size 100, whole header and a few body bytes, then close",
    bytes: concat(int32(100), new Bytes().int16(3).int16(1).int32(7).int16(-1).int32(-1).finish()),
    after: "close",
    reason: /connection ended inside a frame/,
  },
  {
    name: "truncated size prefix (2 of 4 bytes), then close",
    bytes: Uint8Array.of(0, 0),
    after: "close",
    reason: /connection ended inside a frame/,
  },
  {
    name: "HTTP request as first frame",
    bytes: utf8("GET / HTTP/1.1\r\nHost: kgate\r\n\r\n"),
    after: "wait",
    // "GET " read as a frame size: 0x47455420
    reason: /frame size 1195725856 exceeds the maximum/,
  },
  {
    name: "TLS ClientHello as first frame",
    bytes: tlsClientHello(),
    after: "wait",
    reason: /frame size \d+ exceeds the maximum/,
  },
  ...[11, 12345, 987654321].map((seed): BadInput => ({
    name: `random bytes (xorshift seed ${seed}), then end of stream`,
    bytes: pseudoRandomBytes(seed, 512),
    after: "half-close",
    reason: /client: \S/,
  })),
  {
    name: "random bytes inside a plausible frame (size 60), then end of stream",
    bytes: concat(int32(60), pseudoRandomBytes(99, 60)),
    after: "half-close",
    reason: /client: \S/,
  },
  {
    name: "unknown API key 9999 (flexible header v2)",
    bytes: requestFrame({ apiKey: 9999, apiVersion: 0, correlationId: 1, flexible: true }),
    after: "wait",
    reason: /unknown API key 9999/,
  },
  {
    name: "unknown API key 32000 (flexible header v2)",
    bytes: requestFrame({ apiKey: 32000, apiVersion: 3, correlationId: 1, flexible: true }),
    after: "wait",
    reason: /unknown API key 32000/,
  },
  {
    // The key is known from the first 2 bytes: the reason must name it, whatever header follows.
    name: "unknown API key 9999 (header v1, no tagged section)",
    bytes: requestFrame({ apiKey: 9999, apiVersion: 0, correlationId: 1 }),
    after: "wait",
    reason: /API key 9999/,
  },
  {
    name: "negative API key -1",
    bytes: requestFrame({ apiKey: -1, apiVersion: 0, correlationId: 1 }),
    after: "wait",
    reason: /api key -1/i,
  },
  {
    name: "Metadata v99 (flexible header v2)",
    bytes: requestFrame({ apiKey: 3, apiVersion: 99, correlationId: 1, flexible: true }),
    after: "wait",
    reason: /unsupported Metadata version 99/,
  },
  {
    name: "Metadata v99 (header v1, no tagged section)",
    bytes: requestFrame({ apiKey: 3, apiVersion: 99, correlationId: 1 }),
    after: "wait",
    reason: /Metadata version 99/,
  },
  {
    name: "valid Metadata v1 request whose client id length (500) runs past the frame",
    bytes: concat(int32(14), new Bytes().int16(3).int16(1).int32(7).int16(500).int32(-1).finish()),
    after: "wait",
    reason: /malformed request header/,
  },
  {
    name: "client id length -2",
    bytes: concat(int32(14), new Bytes().int16(3).int16(1).int32(7).int16(-2).int32(-1).finish()),
    after: "wait",
    reason: /malformed request header.*-2/,
  },
  { name: "empty frame (size 0)", bytes: int32(0), after: "wait", reason: /malformed request header/ },
  {
    name: "SaslHandshake v0",
    bytes: saslHandshake(0, 5),
    after: "wait",
    reason: /SaslHandshake v0 \(unframed SASL tokens\) is not supported: use SaslHandshake v1/,
  },
];

/** Sends `input` on a fresh connection and checks the close and the log line. Returns the client address. */
async function probe(gateway: GatewayProcess, port: number, input: BadInput): Promise<string> {
  const from = gateway.logs.length;
  const client = await RawClient.connect(HOST, port);
  const address = client.address;
  try {
    await client.sendTolerant(input.bytes);
    if (input.after === "close") {
      client.close();
    } else {
      if (input.after === "half-close") await client.closeWrite();
      await client.closedByPeer(CLOSE_TIMEOUT_MS);
    }
  } finally {
    client.close();
  }
  await expectOneLogLine(gateway, from, address, input.reason);
  return address;
}

/** A kafkajs client of the gateway that stays connected for the whole test. */
function kafkajs(bootstrap: string): Kafka {
  return new Kafka({
    clientId: "kgate-bad-input",
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
}

async function send(producer: Producer, topic: string, values: string[]): Promise<void> {
  await withDeadline(
    producer.send({ topic, acks: -1, messages: values.map((value, i) => ({ key: `k${i % 7}`, value })) }),
    20_000,
    "kafkajs produce",
  );
}

/**
 * The node (GATEWAY_MAX_FRAME_BYTES=1 MiB) and clients connected before any bad input (a raw connection
 * and a kafkajs producer); `stillServed` checks the node and both clients after each bad input.
 */
const limitedNode = fileFixture(async (stack) => {
  const kafka: KafkaCluster = await testKafka();
  const topic = uniqueTopic("bad-input");
  await createTopic(topic, 3, 3);
  const gateway = await GatewayProcess.start({
    host: HOST,
    kafka,
    portStart: PORT_START,
    // Every bad connection gets its own log line here (bad-peer lines are rate-limited by default).
    env: { GATEWAY_MAX_FRAME_BYTES: String(MAX_FRAME), GATEWAY_BAD_PEER_LOG_LIMIT: "100000" },
  });
  stack.defer(async () => {
    const status = await gateway.stop();
    assert.equal(status.code, 0, gateway.logs);
  });
  const producer = kafkajs(gateway.bootstrap).producer({
    createPartitioner: Partitioners.DefaultPartitioner,
  });
  stack.defer(() => withDeadline(producer.disconnect(), 10_000, "kafkajs disconnect").catch(() => {}));
  let correlationId = 1000;
  await withDeadline(producer.connect(), 20_000, "kafkajs connect");
  await send(producer, topic, ["before"]);
  // A raw client connected before any bad input: it must be served after each one.
  const steady = await RawClient.connect(HOST, PORT_START);
  stack.defer(() => steady.close());
  await steady.roundTrip(apiVersionsV0(++correlationId), correlationId);

  const stillServed = async (label: string) => {
    await assertServes(gateway, kafka);
    await steady.roundTrip(apiVersionsV0(++correlationId), correlationId);
    await send(producer, topic, [`after ${label}`]);
  };
  return { kafka, topic, gateway, producer, stillServed };
});

for (const input of CASES) {
  sharedTest(`bad client input: ${input.name}`, async () => {
    const { gateway, stillServed } = await limitedNode.get();
    await probe(gateway, PORT_START, input);
    await stillServed(input.name);
  });
}

sharedTest("bad client input: SaslHandshake v1 (the control) is answered, not closed", async () => {
  const { stillServed } = await limitedNode.get();

  const client = await RawClient.connect(HOST, PORT_START);
  try {
    const body = await client.roundTrip(saslHandshake(1, 77), 77);
    assert.ok(body.length >= 6, "SaslHandshake v1 response too short");
  } finally {
    client.close();
  }
  await stillServed("SaslHandshake v1");
});

sharedTest(
  "bad client input: the default GATEWAY_MAX_FRAME_BYTES (100 MiB) node rejects larger sizes only",
  async () => {
    const { kafka, stillServed } = await limitedNode.get();

    // Same host as the first node: its own HTTP port, should the node serve one.
    const node = await GatewayProcess.start({
      host: HOST,
      kafka,
      portStart: DEFAULT_NODE_PORT_START,
      env: { GATEWAY_HTTP_PORT: "8922", GATEWAY_BAD_PEER_LOG_LIMIT: "100000" },
    });
    try {
      for (const size of [0x7fffffff, DEFAULT_MAX_FRAME + 1]) {
        await probe(node, DEFAULT_NODE_PORT_START, {
          name: `size ${size}`,
          bytes: int32(size),
          after: "wait",
          reason: new RegExp(`frame size ${size} exceeds the maximum of ${DEFAULT_MAX_FRAME} bytes`),
        });
      }
      // 2 MiB is fine under the default: the node waits for the rest of the frame, and only the
      // end of stream inside it closes the connection.
      await probe(node, DEFAULT_NODE_PORT_START, {
        name: "2 MiB frame cut short",
        bytes: concat(int32(2 * MAX_FRAME), apiVersionsV0(1).subarray(4)),
        after: "half-close",
        reason: /connection ended inside a frame/,
      });
      await assertServes(node, kafka);
    } finally {
      const status = await node.stop();
      assert.equal(status.code, 0, node.logs);
    }
    await stillServed("the default node");
  },
);

sharedTest(
  "bad client input: 200 concurrent bad connections do not disturb kafkajs and kcat clients",
  async () => {
    const { gateway, producer, stillServed } = await limitedNode.get();

    const stormTopic = uniqueTopic("bad-input-storm");
    await createTopic(stormTopic, 3, 3);
    // A kcat consumer streaming through the storm.
    const consumer = KcatStream.consume(gateway.bootstrap, stormTopic);
    try {
      // The kafkajs producer (connected before the storm) produces until the storm is over.
      let stormOver = false;
      let batches = 0;
      const kafkajsValues: string[] = [];
      const kafkajsProducing = (async () => {
        for (let batch = 0; !stormOver || batch < 5; batch++) {
          const values = Array.from({ length: 10 }, (_, i) => `kafkajs-${batch * 10 + i}`);
          await send(producer, stormTopic, values);
          kafkajsValues.push(...values);
          batches++;
        }
      })();
      const deadline = Date.now() + 20_000;
      while (batches < 3) {
        assert.ok(Date.now() < deadline, "kafkajs did not start producing");
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      const batchesAtStormStart = batches;
      const from = gateway.logs.length;
      // A kcat producer starting with the storm.
      const kcatValues = Array.from({ length: 200 }, (_, i) => `kcat-${i}`);
      const kcatProducing = runKcat(
        ["-P", "-b", gateway.bootstrap, "-t", stormTopic, "-X", "linger.ms=20"],
        {
          stdin: kcatValues.join("\n") + "\n",
          timeoutMs: 30_000,
        },
      );
      const variants = CASES.filter((c) => c.after !== "close");
      const stormInputs = Array.from({ length: 200 }, (_, i) => variants[i % variants.length]);
      // All at once, spread over the bootstrap port and the ports of brokers 1-3.
      const addresses = await Promise.all(stormInputs.map(async (input, i) => {
        const client = await RawClient.connect(HOST, PORT_START + (i % 4));
        try {
          await client.sendTolerant(input.bytes);
          if (input.after === "half-close") await client.closeWrite();
          await client.closedByPeer(15_000);
          return { address: client.address, input };
        } finally {
          client.close();
        }
      }));
      stormOver = true;
      const batchesDuringStorm = batches - batchesAtStormStart;
      await kafkajsProducing;
      const kcatProduced = await kcatProducing;
      assert.equal(kcatProduced.code, 0, kcatProduced.stderr);
      assert.ok(batchesDuringStorm >= 1, "kafkajs got no produce acknowledged during the storm");
      // Everything produced is consumed by the kcat consumer that ran through the storm.
      await consumer.waitForLines([...kafkajsValues, ...kcatValues], 30_000);

      // One line per bad connection, each with a reason (the per-case wording is checked above).
      // Connections to different gateway ports may share a client port: count per address.
      const perAddress = new Map<string, string[]>();
      for (const { address, input } of addresses) {
        perAddress.set(address, [...(perAddress.get(address) ?? []), input.name]);
      }
      const logDeadline = Date.now() + 10_000;
      while (
        [...perAddress].some(([address, names]) =>
          linesNaming(gateway.logs, address, from).length < names.length
        )
      ) {
        assert.ok(Date.now() < logDeadline, "not every bad connection was logged");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      await new Promise((resolve) => setTimeout(resolve, 150));
      for (const [address, names] of perAddress) {
        const lines = linesNaming(gateway.logs, address, from);
        assert.equal(lines.length, names.length, `${names.join(", ")}:\n${lines.join("\n")}`);
        for (const line of lines) {
          assert.match(line, /closed connection from .*: client: \S/, names.join(", "));
        }
      }
    } finally {
      await consumer.stop();
    }
    await stillServed("the storm");
  },
);
