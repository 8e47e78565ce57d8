/**
 * grepplabs kafka-proxy as a comparison row of the throughput bench: runs a kafka-proxy binary in front
 * of the bench's Kafka cluster, one local port per broker on one loopback address, HTTP endpoints off.
 *
 * The binary is not part of this repository and is never built or downloaded here: point env
 * `KGATE_BENCH_KAFKA_PROXY` at one (the README's figures used v0.4.3). Without it the bench skips the
 * row and says why.
 *
 * @module
 */
import type { KafkaCluster } from "../tests/harness/kafka_cluster.ts";
import { terminate } from "../tests/harness/process.ts";

/** Env variable naming the kafka-proxy binary. */
const KAFKA_PROXY_ENV = "KGATE_BENCH_KAFKA_PROXY";

/** Where a kafka-proxy binary is, or why there is none. */
export type KafkaProxyBinary = { path: string; version: string } | { skipped: string };

/**
 * The kafka-proxy binary of env {@link KAFKA_PROXY_ENV}, with its `version`, or why it cannot be used.
 *
 * @example
 * ```ts
 * const binary = await findKafkaProxy();
 * if ("skipped" in binary) console.log(`kafka-proxy row skipped: ${binary.skipped}`);
 * ```
 */
export async function findKafkaProxy(): Promise<KafkaProxyBinary> {
  const path = Deno.env.get(KAFKA_PROXY_ENV);
  if (!path) return { skipped: `${KAFKA_PROXY_ENV} is not set (path to a kafka-proxy binary)` };
  try {
    const out = await new Deno.Command(path, { args: ["version"], stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout).trim() || new TextDecoder().decode(out.stderr).trim();
    if (!out.success) return { skipped: `${path} version failed: ${text}` };
    return { path, version: text.split("\n")[0] };
  } catch (error) {
    return { skipped: `${KAFKA_PROXY_ENV}=${path}: ${(error as Error).message}` };
  }
}

/** A running kafka-proxy. */
export class KafkaProxyProcess {
  #logs = "";
  #reading: Promise<void>;

  private constructor(readonly child: Deno.ChildProcess, readonly bootstrap: string) {
    this.#reading = Promise.all([this.#drain(child.stdout), this.#drain(child.stderr)]).then(() => {});
  }

  /**
   * Starts kafka-proxy on `host`, broker i of `kafka` at port `portStart + i`, and waits until the first
   * port accepts connections.
   *
   * @example
   * ```ts
   * const proxy = await KafkaProxyProcess.start(binary.path, kafka, "127.0.0.155", 32400);
   * // clients bootstrap at proxy.bootstrap
   * await proxy.stop();
   * ```
   */
  static async start(
    path: string,
    kafka: KafkaCluster,
    host: string,
    portStart: number,
  ): Promise<KafkaProxyProcess> {
    const mappings = kafka.info.brokers.flatMap((b, i) => [
      "--bootstrap-server-mapping",
      `${b.host}:${b.port},${host}:${portStart + i}`,
    ]);
    const child = new Deno.Command(path, {
      args: [
        "server",
        ...mappings,
        "--default-listener-ip",
        host,
        "--dynamic-listeners-disable",
        "--http-disable",
        "--log-level",
        "warning",
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const proxy = new KafkaProxyProcess(child, `${host}:${portStart}`);
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        (await Deno.connect({ hostname: host, port: portStart })).close();
        return proxy;
      } catch {
        if (Date.now() > deadline) {
          await proxy.stop();
          throw new Error(`kafka-proxy did not listen on ${host}:${portStart} within 15 s:\n${proxy.#logs}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  /** SIGTERM (SIGKILL after 5 s) and wait. */
  async stop(): Promise<void> {
    await terminate(this.child, 5000);
    await this.#reading;
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.#logs += decoder.decode(chunk, { stream: true });
  }
}
