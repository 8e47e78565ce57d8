/**
 * kafkajs in the integration tests: the producer the tests share, a consumer of a whole topic, and a
 * quieter process warning handler for kafkajs' timers.
 *
 * ```ts
 * quietKafkajsTimerWarnings();
 * const producer = kafkajsProducer(gateway.bootstrap, "kgate-lifecycle", 12);
 * ```
 */
import process from "node:process";
import { Kafka, logLevel, Partitioners, type Producer } from "kafkajs";
import { waitUntil } from "./wait.ts";

/**
 * A silent kafkajs producer of `bootstrap` (default partitioner, 3 s connect and 10 s request
 * timeouts) that retries `retries` times, 200 ms to 2 s apart.
 *
 * @example
 * ```ts
 * const producer = kafkajsProducer("127.0.0.22:6969", "kgate-lifecycle", 12);
 * await producer.connect();
 * ```
 */
export function kafkajsProducer(bootstrap: string, clientId: string, retries: number): Producer {
  return new Kafka({
    clientId,
    brokers: [bootstrap],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    requestTimeout: 10_000,
    retry: { retries, initialRetryTime: 200, maxRetryTime: 2_000 },
  }).producer({ createPartitioner: Partitioners.DefaultPartitioner });
}

/**
 * kafkajs 2.2.4 arms timers with negative delays (harmless, clamped to 1 ms): keeps Node's
 * TimeoutNegativeWarning off the output; every other process warning is still printed.
 *
 * @example
 * ```ts
 * quietKafkajsTimerWarnings(); // once, at the top of a test file
 * ```
 */
export function quietKafkajsTimerWarnings(): void {
  process.removeAllListeners("warning");
  process.on("warning", (warning) => {
    if (warning.name !== "TimeoutNegativeWarning") console.error(warning);
  });
}

/**
 * Consumes `topic` from the beginning with a fresh consumer group of `kafka` until `count` values have
 * arrived (at most 30 s), and returns them sorted.
 *
 * @example
 * ```ts
 * assert.deepEqual(await consumeValues(kafka, topic, all.length, "kgate-tls"), all.toSorted());
 * ```
 */
export async function consumeValues(
  kafka: Kafka,
  topic: string,
  count: number,
  groupPrefix: string,
): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `${groupPrefix}-${crypto.randomUUID()}` });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: ({ message }) => Promise.resolve(void seen.push(String(message.value))),
    });
    await waitUntil(() => seen.length >= count, 30_000, "kafkajs consumed everything");
    return seen.toSorted();
  } finally {
    await consumer.disconnect();
  }
}
