/**
 * Small helpers shared by the client integration tests (kafkajs, Java tools, address-leak checks):
 * a kafkajs socket factory that records every address a client connects to, a scan
 * for real broker addresses in text and bytes, and a watcher of the TCP peers of a child process.
 */
import net from "node:net";
import type { ISocketFactory } from "kafkajs";
import assert from "node:assert/strict";
import { type KafkaCluster, runKcat, type RunResult } from "../harness/mod.ts";
import { int32 } from "./faults_wire.ts";

/** A kafkajs socket factory (same behaviour as kafkajs' default, plaintext only) recording every `host:port` dialled. */
export function recordingSocketFactory(dialled: Set<string>): ISocketFactory {
  return ({ host, port, onConnect }) => {
    dialled.add(`${host}:${port}`);
    const socket = net.connect({ host, port }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

/** The gateway endpoints of the cluster's brokers: `host:6969+id`. */
export function gatewayEndpoints(host: string, kafka: KafkaCluster, portStart = 6969): string[] {
  return kafka.brokers.map((b) => `${host}:${portStart + b.id}`).sort();
}

/**
 * The real broker addresses found in `text`: `127.0.0.1` not followed by a digit (so the gateway's
 * own 127.0.0.1x addresses do not count) and every real listener port of the cluster.
 */
export function realAddressesIn(text: string, kafka: KafkaCluster): string[] {
  const found: string[] = [];
  const host = /127\.0\.0\.1(?!\d)/g;
  for (const m of text.matchAll(host)) found.push(`${m[0]} at ${m.index}`);
  for (const b of kafka.brokers) {
    for (const port of listenerPorts(b)) {
      const re = new RegExp(`(?<!\\d)${port}(?!\\d)`, "g");
      for (const m of text.matchAll(re)) found.push(`port ${port} at ${m.index}`);
    }
  }
  return found;
}

/** Every listener port of one broker (the TLS ones when the cluster has them). */
function listenerPorts(b: KafkaCluster["brokers"][number]): number[] {
  return [b.port, b.saslPort, b.controllerPort, b.sslPort, b.saslSslPort, b.mtlsPort].filter((
    p,
  ): p is number => p !== undefined);
}

/** Index of `needle` in `haystack`, or -1. */
export function indexOfBytes(haystack: Uint8Array, needle: Uint8Array, from = 0): number {
  outer: for (let i = from; i <= haystack.length - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/**
 * Real broker addresses in raw response bytes: the string `127.0.0.1` not followed by a digit, and the
 * big-endian int32 encoding of any real listener port (how Kafka encodes ports).
 */
export function realAddressesInBytes(bytes: Uint8Array, kafka: KafkaCluster): string[] {
  const found: string[] = [];
  const text = new TextDecoder("latin1").decode(bytes);
  for (const m of text.matchAll(/127\.0\.0\.1(?!\d)/g)) found.push(`"127.0.0.1" at byte ${m.index}`);
  for (const b of kafka.brokers) {
    for (const port of listenerPorts(b)) {
      const at = indexOfBytes(bytes, int32(port));
      if (at >= 0) found.push(`int32 port ${port} at byte ${at}`);
    }
  }
  return found;
}

// ------------------------------------------------------------------------------------------------
// TCP peers of a child process, from /proc (Linux): which addresses a Java client really talks to.
// ------------------------------------------------------------------------------------------------

function parseProcNetTcp(text: string): Map<string, string> {
  // inode -> "a.b.c.d:port" of the remote end (IPv4 sockets only)
  const byInode = new Map<string, string>();
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [hexIp, hexPort] = cols[2].split(":");
    if (hexIp.length !== 8) continue;
    const ip = [3, 2, 1, 0].map((i) => parseInt(hexIp.slice(i * 2, i * 2 + 2), 16)).join(".");
    byInode.set(cols[9], `${ip}:${parseInt(hexPort, 16)}`);
  }
  return byInode;
}

function parseProcNetTcp6(text: string): Map<string, string> {
  // IPv4-mapped IPv6 sockets (Java uses AF_INET6 sockets for IPv4 peers by default).
  const byInode = new Map<string, string>();
  for (const line of text.split("\n").slice(1)) {
    const cols = line.trim().split(/\s+/);
    if (cols.length < 10) continue;
    const [hexIp, hexPort] = cols[2].split(":");
    if (hexIp.length !== 32) continue;
    const port = parseInt(hexPort, 16);
    if (hexIp.startsWith("0000000000000000FFFF0000")) {
      const v4 = hexIp.slice(24);
      const ip = [3, 2, 1, 0].map((i) => parseInt(v4.slice(i * 2, i * 2 + 2), 16)).join(".");
      byInode.set(cols[9], `${ip}:${port}`);
    } else {
      byInode.set(cols[9], `[${hexIp}]:${port}`);
    }
  }
  return byInode;
}

/** Pids of running processes whose command line contains `marker`. */
export function pidsWithCmdline(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const cmdline = Deno.readTextFileSync(`/proc/${entry.name}/cmdline`).split("\0").join(" ");
      if (cmdline.includes(marker)) pids.push(Number(entry.name));
    } catch { /* gone */ }
  }
  return pids;
}

/** Remote `ip:port` of every TCP socket process `pid` has open now (empty when it is gone). */
export function tcpPeersOf(pid: number): string[] {
  const inodes: string[] = [];
  try {
    for (const fd of Deno.readDirSync(`/proc/${pid}/fd`)) {
      try {
        const target = Deno.readLinkSync(`/proc/${pid}/fd/${fd.name}`);
        const m = target.match(/^socket:\[(\d+)\]$/);
        if (m) inodes.push(m[1]);
      } catch { /* closed meanwhile */ }
    }
  } catch {
    return [];
  }
  if (inodes.length === 0) return [];
  let tcp = new Map<string, string>();
  try {
    tcp = new Map([
      ...parseProcNetTcp(Deno.readTextFileSync(`/proc/${pid}/net/tcp`)),
      ...parseProcNetTcp6(Deno.readTextFileSync(`/proc/${pid}/net/tcp6`)),
    ]);
  } catch {
    return [];
  }
  return inodes.map((i) => tcp.get(i)).filter((p): p is string => p !== undefined && !p.endsWith(":0"));
}

/**
 * Samples, every `intervalMs` until stopped, the TCP peers of every process whose command line contains
 * `marker` (e.g. a unique topic name passed to a Java tool). `peers` collects every peer ever seen.
 */
export function watchTcpPeers(marker: string, intervalMs = 100): { peers: Set<string>; stop(): void } {
  const peers = new Set<string>();
  const sample = () => {
    for (const pid of pidsWithCmdline(marker)) {
      if (pid === Deno.pid) continue;
      for (const peer of tcpPeersOf(pid)) peers.add(peer);
    }
  };
  sample();
  const timer = setInterval(sample, intervalMs);
  return {
    peers,
    stop() {
      clearInterval(timer);
      sample();
    },
  };
}

/**
 * Gateway log lines at warning level or above (text format: `[WRN]`, `[ERR]`, `[FTL]`), except those
 * matching one of `allowed`. A protocol error closes a client connection with a warning; clients may
 * retry and succeed, so the logs are the only place such a failure shows.
 */
export function gatewayProblems(logs: string, allowed: RegExp[] = []): string[] {
  // The start-up reminder about the default HTTP API user is expected in tests.
  const expected = [/the HTTP API accepts the default user/, ...allowed];
  return logs.split("\n").filter((line) =>
    /\[(WRN|ERR|FTL)\]/.test(line) && !expected.some((re) => re.test(line))
  );
}

/** Asserts that a client tool exited 0 in time; the message carries its output's tail. */
export function assertRan(result: RunResult, what: string): void {
  assert.ok(
    result.success && !result.timedOut,
    `${what} failed (code ${result.code}${result.timedOut ? ", timed out" : ""}):\n${
      result.stdout.slice(-4000)
    }\n${result.stderr.slice(-4000)}`,
  );
}

/**
 * kcat -P of `lines` (acks=all) through `bootstrap`, then kcat -C of the whole topic from the beginning
 * to its end: the values consumed. Asserts both ran.
 */
export async function kcatRoundTrip(
  bootstrap: string,
  topic: string,
  lines: string[],
  timeoutMs: number,
): Promise<string[]> {
  const produced = await runKcat(["-P", "-b", bootstrap, "-t", topic, "-X", "acks=all"], {
    stdin: lines.join("\n") + "\n",
    timeoutMs,
  });
  assertRan(produced, "kcat -P");
  const consumed = await runKcat(["-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e", "-q"], {
    timeoutMs,
  });
  assertRan(consumed, "kcat -C");
  return consumed.stdout.trimEnd().split("\n");
}
