/**
 * Runs a kgate node as a real child process (`deno run main.ts`), as users run it, for integration
 * tests: its own loopback address, logs captured, readiness awaited, stopped by signal.
 *
 * ```ts
 * const gw = await GatewayProcess.start({ host: "127.0.0.2", kafka });
 * // kcat -b gw.bootstrap ...
 * await gw.stop();
 * ```
 */
import type { KafkaCluster } from "../harness/mod.ts";
import { terminate } from "../harness/process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

/**
 * The version in deno.json: what a node reports (`--version`, `/versions`, its cluster view).
 *
 * @example
 * ```ts
 * assert.equal(versions.kgate, await projectVersion());
 * ```
 */
export async function projectVersion(): Promise<string> {
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("../../deno.json", import.meta.url)));
  return denoJson.version as string;
}

/** Options of {@link GatewayProcess.start}. */
export interface GatewayProcessOptions {
  /** Loopback address to bind and advertise (each test file uses its own). */
  host: string;
  /** The upstream cluster (its bootstrap servers are used unless `env` overrides them). */
  kafka?: KafkaCluster;
  /** First Kafka port (default 6969). */
  portStart?: number;
  /** Extra environment variables. */
  env?: Record<string, string>;
  /** Wait until the node listens (default true). */
  waitReady?: boolean;
  /** Readiness timeout (default 30 s). */
  readyTimeoutMs?: number;
  /** Flags for `deno run` before the permissions (a benchmark's `--inspect=...`). */
  denoFlags?: string[];
}

/** A kgate node running as a child process. */
export class GatewayProcess {
  #logs = "";
  #exit: Promise<Deno.CommandStatus>;
  #reading: Promise<void>;

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly host: string,
    readonly portStart: number,
    /** The HTTP API's base URL (`GATEWAY_HTTP_PORT`, default 8888, on the node's address). */
    readonly httpUrl: string,
  ) {
    this.#exit = child.status;
    this.#reading = Promise.all([this.#drain(child.stdout), this.#drain(child.stderr)]).then(() => {});
  }

  /** Starts a node and (by default) waits until it listens on its Kafka ports. */
  static async start(options: GatewayProcessOptions): Promise<GatewayProcess> {
    const portStart = options.portStart ?? 6969;
    const env: Record<string, string> = {
      GATEWAY_BIND_HOST: options.host,
      GATEWAY_ADVERTISED_HOST: options.host,
      GATEWAY_PORT_START: String(portStart),
      GATEWAY_LOG_LEVEL: "info",
      // Each node is its own gateway cluster unless a test puts several in one; no drain unless asked.
      GATEWAY_CLUSTER_ID: `test-${options.host.replaceAll(".", "-")}-${portStart}-${
        crypto.randomUUID().slice(0, 8)
      }`,
      GATEWAY_DRAIN_MS: "0",
      // Tests expect one log line per bad connection; a test of the rate limit sets its own.
      GATEWAY_BAD_PEER_LOG_LIMIT: "100000",
      NO_COLOR: "1",
      ...(options.kafka ? { KAFKA_BOOTSTRAP_SERVERS: options.kafka.bootstrapServers } : {}),
      ...options.env,
    };
    const denoFlags = options.denoFlags ?? [];
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        ...denoFlags,
        "--allow-net",
        "--allow-env",
        "--allow-read",
        "--allow-sys=hostname",
        MAIN,
      ],
      env,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const gateway = new GatewayProcess(
      child,
      options.host,
      portStart,
      `http://${options.host}:${env.GATEWAY_HTTP_PORT ?? 8888}`,
    );
    if (options.waitReady ?? true) {
      try {
        await gateway.waitUntilListening(options.readyTimeoutMs ?? 30_000);
      } catch (error) {
        await gateway.kill();
        throw error;
      }
    }
    return gateway;
  }

  /** `host:portStart`, the bootstrap address clients use. */
  get bootstrap(): string {
    return `${this.host}:${this.portStart}`;
  }

  /** Everything the node logged so far (stdout and stderr). */
  get logs(): string {
    return this.#logs;
  }

  /** Resolves when the process exits. */
  get exited(): Promise<Deno.CommandStatus> {
    return this.#exit;
  }

  /** True while the process runs. */
  async running(): Promise<boolean> {
    const result = await Promise.race([this.#exit.then(() => false), Promise.resolve(true)]);
    return result;
  }

  /** Waits until the logs match `pattern`. */
  async waitForLog(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = this.#logs.match(pattern);
      if (match) return match;
      const exited = await Promise.race([
        this.#exit.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 50)),
      ]);
      if (exited) {
        await this.#reading;
        const late = this.#logs.match(pattern);
        if (late) return late;
        throw new Error(`gateway exited before logging ${pattern}; logs:\n${this.#logs}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`gateway did not log ${pattern} within ${timeoutMs} ms; logs:\n${this.#logs}`);
      }
    }
  }

  /** Waits until the first Kafka port accepts connections (the node listens only once the cluster answered). */
  async waitUntilListening(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const conn = await Deno.connect({ hostname: this.host, port: this.portStart });
        conn.close();
        return;
      } catch {
        // not yet
      }
      const exited = await Promise.race([
        this.#exit.then(() => true),
        new Promise<false>((resolve) => setTimeout(() => resolve(false), 100)),
      ]);
      if (exited) {
        await this.#reading;
        throw new Error(`gateway exited before listening; logs:\n${this.#logs}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`gateway not listening within ${timeoutMs} ms; logs:\n${this.#logs}`);
      }
    }
  }

  /** Waits until `/health/ready` answers 200 (listening, upstream known and, with internal load balancing, in the group). */
  async waitUntilReady(timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      try {
        const res = await fetch(`${this.httpUrl}/health/ready`, { signal: AbortSignal.timeout(2000) });
        await res.body?.cancel();
        if (res.status === 200) return;
      } catch {
        // not yet
      }
      if (!(await this.running())) throw new Error(`gateway exited before ready; logs:\n${this.#logs}`);
      if (Date.now() > deadline) {
        throw new Error(`gateway not ready within ${timeoutMs} ms; logs:\n${this.#logs}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  /** Sends SIGTERM and waits for exit (SIGKILL after `timeoutMs`). Returns the exit status. */
  async stop(timeoutMs = 10_000): Promise<Deno.CommandStatus> {
    const status = await terminate(this.child, timeoutMs);
    await this.#reading;
    return status;
  }

  /** SIGKILL and wait. */
  async kill(): Promise<void> {
    try {
      this.child.kill("SIGKILL");
    } catch { /* exited */ }
    await this.#exit;
    await this.#reading;
  }

  async #drain(stream: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    for await (const chunk of stream) this.#logs += decoder.decode(chunk, { stream: true });
  }
}
