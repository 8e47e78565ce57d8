/**
 * A kgate node from another checkout (e.g. main, to compare a branch with it side by side in one bench
 * run): `deno run <dir>/main.ts` with the settings the bench gives its own nodes.
 *
 * @module
 */
import { terminate } from "../tests/harness/process.ts";

/** A kgate node run from another checkout. */
export class BaselineNode {
  #reading: Promise<void>;
  #logs = "";

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly bootstrap: string,
    readonly commit: string,
  ) {
    this.#reading = Promise.all([this.#drain(child.stdout), this.#drain(child.stderr)]).then(() => {});
  }

  /**
   * Starts `<dir>/main.ts` on `host` (Kafka port 6969, HTTP 8888) as its own gateway cluster and waits
   * until it listens.
   *
   * @example
   * ```ts
   * const node = await BaselineNode.start("/tmp/kgate-main", "127.0.0.156", kafka.bootstrapServers);
   * await node.stop();
   * ```
   */
  static async start(dir: string, host: string, kafkaBootstrap: string): Promise<BaselineNode> {
    const git = await new Deno.Command("git", {
      args: ["-C", dir, "rev-parse", "--short", "HEAD"],
      stdout: "piped",
    })
      .output();
    const commit = new TextDecoder().decode(git.stdout).trim() || "unknown";
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-net", "--allow-env", "--allow-read", "--allow-sys", `${dir}/main.ts`],
      env: {
        GATEWAY_BIND_HOST: host,
        GATEWAY_ADVERTISED_HOST: host,
        GATEWAY_CLUSTER_ID: `bench-baseline-${crypto.randomUUID().slice(0, 8)}`,
        GATEWAY_LOG_LEVEL: "warning",
        GATEWAY_DRAIN_MS: "0",
        KAFKA_BOOTSTRAP_SERVERS: kafkaBootstrap,
        NO_COLOR: "1",
      },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const node = new BaselineNode(child, `${host}:6969`, commit);
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        (await Deno.connect({ hostname: host, port: 6969 })).close();
        return node;
      } catch {
        if (Date.now() > deadline) {
          await node.stop();
          throw new Error(`the node of ${dir} did not listen within 60 s:\n${node.#logs}`);
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
    }
  }

  /** SIGTERM (SIGKILL after 10 s) and wait. */
  async stop(): Promise<void> {
    await terminate(this.child, 10_000);
    await this.#reading;
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.#logs += decoder.decode(chunk, { stream: true });
  }
}
