/**
 * What a process costs, read from Linux's /proc: CPU time (utime + stime) and resident memory.
 *
 * @module
 */

/** USER_HZ on Linux: the unit of utime and stime in /proc/<pid>/stat. */
const TICKS_PER_SECOND = 100;

/**
 * CPU seconds (user + system) process `pid` has used so far.
 *
 * @example
 * ```ts
 * const before = cpuSeconds(child.pid);
 * ```
 */
export function cpuSeconds(pid: number): number {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
}

/**
 * Resident set size of process `pid` in bytes (VmRSS).
 *
 * @example
 * ```ts
 * rssBytes(child.pid) / 2 ** 20; // MiB
 * ```
 */
export function rssBytes(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = /^VmRSS:\s+(\d+) kB$/m.exec(status);
  if (!kib) throw new Error(`no VmRSS in /proc/${pid}/status`);
  return Number(kib[1]) * 1024;
}

/** CPU use and memory of processes over one interval. */
export interface IdleSample {
  /** Length of the interval in seconds. */
  seconds: number;
  /** CPU seconds each process used in the interval, by pid order given. */
  cpuSeconds: number[];
  /** Resident memory of each process at the end, in bytes. */
  rssBytes: number[];
}

/**
 * Measures the processes `pids` over `seconds`: CPU seconds used and RSS at the end.
 *
 * @example
 * ```ts
 * const s = await sampleIdle([pid], 60);
 * const percentOfCore = 100 * s.cpuSeconds[0] / s.seconds;
 * ```
 */
export async function sampleIdle(pids: readonly number[], seconds: number): Promise<IdleSample> {
  const before = pids.map(cpuSeconds);
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const elapsed = (performance.now() - t0) / 1000;
  return {
    seconds: elapsed,
    cpuSeconds: pids.map((pid, i) => cpuSeconds(pid) - before[i]),
    rssBytes: pids.map(rssBytes),
  };
}
