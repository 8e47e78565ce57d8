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
import { runKcat, sleep } from "../harness/mod.ts";
import type { GatewayProcess } from "./gateway_process.ts";
import { withDeadline } from "./faults_wire.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** The log lines (since `fromOffset`) that name `address` (`host:port`, not a longer port). */
export function linesNaming(logs: string, address: string, fromOffset = 0): string[] {
  const re = new RegExp(`${escapeRegExp(address)}(?!\\d)`);
  return logs.slice(fromOffset).split("\n").filter((line) => re.test(line));
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

/** `kcat -L -J` through `bootstrap`: fails unless kcat succeeds. */
export async function kcatMetadata(
  bootstrap: string,
  timeoutMs = 20_000,
): Promise<{ brokers: KcatBroker[] }> {
  const result = await runKcat(["-L", "-J", "-b", bootstrap, "-m", "10"], { timeoutMs });
  assert.equal(result.code, 0, `kcat -L through ${bootstrap} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as { brokers: KcatBroker[] };
}

/**
 * The node still serves: its process runs and a fresh `kcat -L` through it lists exactly the gateway
 * endpoints of `brokerIds` (broker id N at `host:portStart + N`, with min broker id 0).
 */
export async function assertServes(gateway: GatewayProcess, brokerIds: number[]): Promise<void> {
  assert.ok(await gateway.running(), `the gateway process exited; logs:\n${gateway.logs}`);
  const metadata = await kcatMetadata(gateway.bootstrap);
  assert.deepEqual(
    metadata.brokers.map((b) => b.name).sort(),
    brokerIds.map((id) => `${gateway.host}:${gateway.portStart + id}`).sort(),
  );
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
