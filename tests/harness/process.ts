/** Child-process helpers for the test harness: every run has a timeout and is killed when it expires. */

import { sleep } from "../../src/lib/deadline.ts";

export { sleep };

export interface RunOptions {
  /** Written to the child's stdin, which is then closed. Without it stdin is /dev/null. */
  stdin?: string | Uint8Array;
  /** Default 60 s. On expiry: SIGTERM, then SIGKILL after `killGraceMs`. */
  timeoutMs?: number;
  /** Grace period between SIGTERM and SIGKILL on timeout (default 3 s). */
  killGraceMs?: number;
  env?: Record<string, string>;
  cwd?: string;
}

export interface RunResult {
  /** Exit code (128 + signal number when killed by a signal). */
  code: number;
  success: boolean;
  signal: Deno.Signal | null;
  stdout: string;
  stderr: string;
  /** True when the timeout expired and the child was killed. */
  timedOut: boolean;
}

/** Runs `cmd args` to completion (or timeout) and collects its output. Never throws for a non-zero exit. */
export async function runCommand(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  const grace = opts.killGraceMs ?? 3_000;
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(cmd, {
      args,
      env: opts.env,
      cwd: opts.cwd,
      stdin: opts.stdin === undefined ? "null" : "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`${cmd}: command not found (is it installed?)`);
    throw e;
  }
  let timedOut = false;
  let ending: Promise<Deno.CommandStatus> | undefined;
  const timer = setTimeout(() => {
    timedOut = true;
    ending = terminate(child, grace);
  }, timeoutMs);
  try {
    const stdinDone = (async () => {
      if (opts.stdin === undefined) return;
      const data = typeof opts.stdin === "string" ? new TextEncoder().encode(opts.stdin) : opts.stdin;
      const w = child.stdin.getWriter();
      try {
        await w.write(data);
        await w.close();
      } catch { /* child exited early / closed stdin */ }
    })();
    const [out] = await Promise.all([child.output(), stdinDone]);
    const dec = new TextDecoder();
    return {
      code: out.code,
      success: out.success,
      signal: out.signal,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
    await ending;
  }
}

/** True when `pid` exists and is not a zombie. */
export function pidAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    const state = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0];
    return state !== "Z" && state !== "X";
  } catch {
    return false;
  }
}

/** The command line of `pid` joined by spaces, or null when it does not exist. */
export function pidCmdline(pid: number): string | null {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0").join(" ");
  } catch {
    return null;
  }
}

/** Sends `signal` to `pid`; false when the process is gone. */
export function signalPid(pid: number, signal: Deno.Signal): boolean {
  try {
    Deno.kill(pid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Ends a child process: SIGTERM, then SIGKILL if it still runs after `graceMs`; resolves with its exit
 * status.
 *
 * @example
 * ```ts
 * const status = await terminate(child, 5_000);
 * ```
 */
export async function terminate(child: Deno.ChildProcess, graceMs: number): Promise<Deno.CommandStatus> {
  const signal = (name: Deno.Signal) => {
    try {
      child.kill(name);
    } catch { /* exited */ }
  };
  signal("SIGTERM");
  const timer = setTimeout(() => signal("SIGKILL"), graceMs);
  try {
    return await child.status;
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `pidAlive` until the process is gone; false on timeout. */
export async function waitPidExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (pidAlive(pid)) {
    if (Date.now() > deadline) return false;
    await sleep(100);
  }
  return true;
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export function freePort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** True when nothing listens on 127.0.0.1:`port` and it can be bound. */
export function portFree(port: number): boolean {
  try {
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    l.close();
    return true;
  } catch {
    return false;
  }
}
