/**
 * Checks shared by the fault-injection tests: the log lines about one client connection, "the node
 * still serves" (process alive, fresh kcat -L works), bounded process exits, and `main.ts` runs for
 * configuration errors.
 *
 * ```ts
 * const from = gateway.logs.length;
 * // ... bad input from `client` ...
 * await expectOneLogLine(gateway, from, client.address, /negative frame size/);
 * await assertServes(gateway, [1, 2, 3]);
 * ```
 */
import assert from "node:assert/strict";
import { type KafkaCluster, runKcat, sleep, withDeadline } from "../harness/mod.ts";
import { terminate } from "../harness/process.ts";
import type { GatewayProcess } from "./gateway_process.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The log lines (since `fromOffset`) that name `address` (`host:port`, not a longer port). */
export function linesNaming(logs: string, address: string, fromOffset = 0): string[] {
  const re = new RegExp(`${escapeRegExp(address)}(?!\\d)`);
  // Audit entries (JSON lines of their own) name every connection; the error log lines are counted here.
  return logs.slice(fromOffset).split("\n").filter((line) => re.test(line) && !isAuditLine(line));
}

/** A CONNECTION audit entry (JSON line) rather than a log message. */
export function isAuditLine(line: string): boolean {
  return line.startsWith("{") && line.includes('"type":"CONNECTION"');
}

/**
 * Waits (bounded) until the gateway logged a line naming `address` since `fromOffset`, lets late
 * duplicates arrive for `settleMs`, and asserts there is exactly one such line and that it matches
 * `reason`. Returns the line.
 */
export async function expectOneLogLine(
  gateway: GatewayProcess,
  fromOffset: number,
  address: string,
  reason: RegExp,
  timeoutMs = 5_000,
  settleMs = 150,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  while (linesNaming(gateway.logs, address, fromOffset).length === 0) {
    if (Date.now() > deadline) {
      assert.fail(
        `no log line names ${address} within ${timeoutMs} ms; logs since:\n${gateway.logs.slice(fromOffset)}`,
      );
    }
    await sleep(25);
  }
  await sleep(settleMs);
  const lines = linesNaming(gateway.logs, address, fromOffset);
  assert.equal(lines.length, 1, `expected exactly one log line naming ${address}, got:\n${lines.join("\n")}`);
  assert.match(lines[0], reason, `the log line about ${address} does not match ${reason}:\n${lines[0]}`);
  return lines[0];
}

/** A broker in kcat's `-L -J` output. */
export interface KcatBroker {
  id: number;
  name: string;
}

/** A topic in kcat's `-L -J` output. */
export interface KcatTopic {
  topic: string;
  partitions: { partition: number; leader: number }[];
}

/** `kcat -L -J` (plus `extraArgs`, e.g. SASL settings) through `bootstrap`: fails unless kcat succeeds. */
export async function kcatMetadata(
  bootstrap: string,
  timeoutMs = 20_000,
  extraArgs: string[] = [],
): Promise<{ brokers: KcatBroker[]; topics: KcatTopic[] }> {
  const result = await runKcat(["-L", "-J", "-b", bootstrap, "-m", "10", ...extraArgs], { timeoutMs });
  assert.equal(result.code, 0, `kcat -L through ${bootstrap} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { brokers: KcatBroker[]; topics: KcatTopic[] };
}

/**
 * The node still serves: its process runs and a fresh `kcat -L` through it lists exactly the gateway
 * endpoints (broker id N at `host:portStart + N`, min broker id 0) of `brokers`: fixed ids, or the
 * brokers `cluster` reports right now (so a broker another test stops does not count as a failure;
 * retried briefly while the two views differ).
 */
export async function assertServes(
  gateway: GatewayProcess,
  brokers: number[] | KafkaCluster,
  clusterHosts: string[] = [gateway.host],
): Promise<void> {
  const endpoints = (ids: number[]) => ids.map((id) => `${gateway.host}:${gateway.portStart + id}`).sort();
  for (let attempt = 1;; attempt++) {
    assert.ok(await gateway.running(), `the gateway process exited; logs:\n${gateway.logs}`);
    const expected = Array.isArray(brokers)
      ? brokers
      : (await brokers.metadata()).brokers.map((b) => b.nodeId);
    // In a gateway cluster a broker may be advertised at any node: compare as if at this node.
    const listed = (await kcatMetadata(gateway.bootstrap)).brokers.map((b) => {
      const [host, port] = b.name.split(":");
      assert.ok(clusterHosts.includes(host), `${b.name} is not at a node of ${clusterHosts.join(", ")}`);
      return `${gateway.host}:${port}`;
    }).sort();
    if (Array.isArray(brokers) || attempt === 5) {
      assert.deepEqual(listed, endpoints(expected));
      break;
    }
    if (JSON.stringify(listed) === JSON.stringify(endpoints(expected))) break;
    await sleep(500);
  }
  assert.ok(await gateway.running(), `the gateway process exited; logs:\n${gateway.logs}`);
}

/** Waits (bounded) for the node to exit; SIGKILLs it and fails when it does not. */
export async function expectExit(gateway: GatewayProcess, timeoutMs: number): Promise<Deno.CommandStatus> {
  try {
    return await withDeadline(gateway.exited, timeoutMs, "gateway exit");
  } catch (error) {
    await gateway.kill();
    throw new Error(`${(error as Error).message}; logs:\n${gateway.logs}`);
  }
}

/** Result of {@link runMain}. */
export interface MainResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `deno run -A main.ts ...args` with only `env` (plus what deno needs to find its cache), as a
 * user would; killed after `timeoutMs`.
 */
export async function runMain(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 20_000,
): Promise<MainResult> {
  const base: Record<string, string> = { NO_COLOR: "1" };
  for (const name of ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) base[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, ...args],
    env: { ...base, ...env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output = child.output();
  try {
    const out = await withDeadline(output, timeoutMs, `main.ts ${args.join(" ")}`, () => {
      try {
        child.kill("SIGKILL");
      } catch { /* exited */ }
    });
    const decoder = new TextDecoder();
    return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
  } catch (error) {
    await output.catch(() => {});
    throw error;
  }
}

/** A long-running `kcat` (e.g. a consumer without `-e`) whose output lines are collected as they come. */
export class KcatStream {
  #out = "";
  #err = "";
  readonly #done: Promise<Deno.CommandStatus>;
  readonly #reading: Promise<void>;

  private constructor(readonly child: Deno.ChildProcess) {
    this.#done = child.status;
    const drain = async (stream: ReadableStream<Uint8Array>, to: "out" | "err") => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) {
        const text = decoder.decode(chunk, { stream: true });
        if (to === "out") this.#out += text;
        else this.#err += text;
      }
    };
    this.#reading = Promise.all([drain(child.stdout, "out"), drain(child.stderr, "err")]).then(() => {});
  }

  /** Starts `kcat ...args`. */
  static start(args: string[]): KcatStream {
    return new KcatStream(
      new Deno.Command("kcat", { args, stdin: "null", stdout: "piped", stderr: "piped" }).spawn(),
    );
  }

  /**
   * A consumer of `topic` through `bootstrap` from the beginning, unbuffered, printing each value on a
   * line of its own and never exiting by itself (`kcat -C -o beginning -q -u`).
   */
  static consume(bootstrap: string, topic: string): KcatStream {
    return KcatStream.start(["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-q", "-u"]);
  }

  /** Complete output lines so far. */
  get lines(): string[] {
    const complete = this.#out.slice(0, this.#out.lastIndexOf("\n") + 1);
    return complete === "" ? [] : complete.slice(0, -1).split("\n");
  }

  /** Waits (bounded) until the output holds every line of `expected`. */
  async waitForLines(expected: string[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = new Set(this.lines);
      const missing = expected.filter((l) => !seen.has(l));
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        assert.fail(
          `kcat did not output ${missing.length} of ${expected.length} lines within ${timeoutMs} ms` +
            ` (e.g. ${missing.slice(0, 3).join(", ")}); stderr:\n${this.#err}`,
        );
      }
      const exited = await Promise.race([this.#done.then(() => true), sleep(50).then(() => false)]);
      if (exited && new Set(this.lines).size === seen.size) {
        await this.#reading;
        if (expected.every((l) => this.lines.includes(l))) return;
        assert.fail(`kcat exited early; stderr:\n${this.#err}`);
      }
    }
  }

  /** SIGTERM (SIGKILL after 3 s) and wait. */
  async stop(): Promise<void> {
    await terminate(this.child, 3_000);
    await this.#reading;
  }
}
