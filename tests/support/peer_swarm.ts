/**
 * Many client connections to a node at once, each behaving one way (silent, garbage, half a frame, an
 * oversized size, a stalled size prefix, or one ApiVersions exchange then idle), for the hostile-peer,
 * idle-peer and connection-scale tests and bench. Sockets are `node:net` ones, which can bind a source
 * address (`Deno.connect` cannot): spreading connections over several loopback sources (and the node's
 * ports) keeps each (source, destination) pair within the ephemeral port range.
 *
 * ```ts
 * const swarm = await PeerSwarm.open({ host: "127.0.0.131", ports: [6969], count: 1000, kind: "garbage" });
 * await swarm.waitUntilClosedByPeer(1000, 15_000);
 * swarm.destroy();
 * ```
 *
 * Also: {@link raiseFileLimit} (descriptor limit of a process, with prlimit), {@link processStatus}
 * (VmRSS and open descriptors of a process from /proc), {@link timeNewClient}.
 */
import net from "node:net";
import { Buffer } from "node:buffer";
import { sleep } from "../../src/lib/deadline.ts";
import { encodeRequestFrame, MetadataRequest } from "../../src/protocol/mod.ts";
import { apiVersionsV0, concat, int32, pseudoRandomBytes } from "./faults_wire.ts";
import { type Exposition, parsePrometheus, sampleValue } from "./http_api.ts";

/** What each connection of a swarm does once connected. */
export type PeerKind =
  /** Nothing: connects and waits. */
  | "silent"
  /** 64 pseudo-random bytes, then waits. */
  | "garbage"
  /** The first half of an ApiVersions frame, then waits. */
  | "half-frame"
  /** A size prefix of 0x7fffffff and a few bytes, then waits. */
  | "oversized"
  /** Two bytes of a size prefix, then waits. */
  | "stall"
  /** One ApiVersions v0 exchange (the response read whole), then waits. */
  | "api-versions";

/** Options of {@link PeerSwarm.open}. */
export interface SwarmOptions {
  /** The node's address. */
  host: string;
  /** The node's ports, used in turn. */
  ports: readonly number[];
  /** Source addresses to bind, used in turn (default: the system's choice). */
  sources?: readonly string[];
  /** How many connections. */
  count: number;
  /** What each does. */
  kind: PeerKind;
  /** Connections being set up at once (default 200). */
  concurrency?: number;
  /** Give up setting up one connection after this long (default 20 s). */
  timeoutMs?: number;
}

/** Bytes a peer of `kind` sends first (empty for silent and api-versions peers). */
function peerBytes(kind: PeerKind, index: number): Uint8Array {
  switch (kind) {
    case "garbage":
      return pseudoRandomBytes(index + 1, 64);
    case "half-frame": {
      const frame = apiVersionsV0(index);
      return frame.subarray(0, Math.floor(frame.length / 2));
    }
    case "oversized":
      return concat(int32(0x7fffffff), pseudoRandomBytes(index + 1, 8));
    case "stall":
      return new Uint8Array([0, 0]);
    case "silent":
    case "api-versions":
      return new Uint8Array(0);
  }
}

/** One connection of a swarm. */
class Peer {
  closedByPeer = false;
  destroyed = false;
  #buffered = Buffer.alloc(0);
  #onFrame: ((body: Uint8Array) => void) | undefined;

  constructor(readonly socket: net.Socket) {
    socket.on("data", (chunk: Buffer) => {
      this.#buffered = Buffer.concat([this.#buffered, chunk]);
      if (this.#buffered.length < 4) return;
      const size = this.#buffered.readInt32BE(0);
      if (this.#buffered.length < 4 + size) return;
      const body = new Uint8Array(this.#buffered.subarray(4, 4 + size));
      this.#buffered = this.#buffered.subarray(4 + size);
      this.#onFrame?.(body);
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      if (!this.destroyed) this.closedByPeer = true;
    });
  }

  /** The next whole frame from the node (its body), or an error when the socket closes first. */
  nextFrame(timeoutMs: number): Promise<Uint8Array> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no response within ${timeoutMs} ms`)), timeoutMs);
      const closed = () => {
        clearTimeout(timer);
        reject(new Error("the node closed the connection"));
      };
      this.socket.once("close", closed);
      this.#onFrame = (body) => {
        clearTimeout(timer);
        this.socket.off("close", closed);
        this.#onFrame = undefined;
        resolve(body);
      };
    });
  }

  destroy(): void {
    this.destroyed = true;
    this.socket.destroy();
  }
}

function connect(host: string, port: number, source: string | undefined, timeoutMs: number): Promise<Peer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port, ...(source ? { localAddress: source } : {}) });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connect to ${host}:${port} timed out`));
    }, timeoutMs);
    socket.once("connect", () => {
      clearTimeout(timer);
      socket.setNoDelay(true);
      resolve(new Peer(socket));
    });
    socket.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/** A set of open connections to a node. */
export class PeerSwarm {
  private constructor(readonly peers: Peer[], readonly failures: string[]) {}

  /**
   * Opens `count` connections (at most `concurrency` being set up at once), each doing what `kind`
   * says; resolves once every one is set up (an api-versions peer: once its response arrived). The
   * connections that could not be set up are counted in {@link PeerSwarm.failures}.
   */
  static async open(options: SwarmOptions): Promise<PeerSwarm> {
    const { host, ports, sources, count, kind } = options;
    const timeoutMs = options.timeoutMs ?? 20_000;
    const peers: Peer[] = [];
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < count; i = next++) {
        const port = ports[i % ports.length];
        const source = sources?.[Math.floor(i / ports.length) % sources.length];
        try {
          const peer = await connect(host, port, source, timeoutMs);
          peers.push(peer);
          const bytes = peerBytes(kind, i);
          if (bytes.length > 0) peer.socket.write(bytes);
          if (kind === "api-versions") {
            const answer = peer.nextFrame(timeoutMs);
            peer.socket.write(apiVersionsV0(i));
            await answer;
          }
        } catch (error) {
          failures.push(String((error as Error).message ?? error));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 200, count) }, worker));
    return new PeerSwarm(peers, failures);
  }

  /** Connections the node has closed. */
  get closedByPeer(): number {
    return this.peers.filter((p) => p.closedByPeer).length;
  }

  /** Waits until the node has closed at least `n` of the connections; false when the time ran out. */
  async waitUntilClosedByPeer(n: number, timeoutMs: number): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (this.closedByPeer < n) {
      if (Date.now() > deadline) return false;
      await sleep(50);
    }
    return true;
  }

  /** Closes every connection. */
  destroy(): void {
    for (const peer of this.peers) peer.destroy();
  }
}

/**
 * Milliseconds a new client takes to be served: connect, one ApiVersions v0 exchange, one Metadata v1
 * exchange (all topics), closed after.
 */
export async function timeNewClient(host: string, port: number, timeoutMs = 10_000): Promise<number> {
  const started = performance.now();
  const peer = await connect(host, port, undefined, timeoutMs);
  try {
    const versions = peer.nextFrame(timeoutMs);
    peer.socket.write(apiVersionsV0(1));
    await versions;
    const metadata = peer.nextFrame(timeoutMs);
    peer.socket.write(encodeRequestFrame({ correlationId: 2, clientId: "probe" }, MetadataRequest, 1, {
      topics: null,
    }));
    await metadata;
    return performance.now() - started;
  } finally {
    peer.destroy();
  }
}

/**
 * Raises the open-descriptor limit of process `pid` to at least `n` with `prlimit`, never lowering it:
 * the soft limit up to the hard one needs no privilege; beyond the hard one, root with
 * CAP_SYS_RESOURCE. Returns the soft limit now in force.
 */
export async function raiseFileLimit(pid: number, n: number): Promise<number> {
  const limits = async () => {
    const shown = await new Deno.Command("prlimit", {
      args: [`--pid=${pid}`, "--nofile", "--output=SOFT,HARD", "--noheadings"],
    }).output();
    const [soft, hard] = new TextDecoder().decode(shown.stdout).trim().split(/\s+/).map((v) =>
      v === "unlimited" ? Infinity : Number(v)
    );
    return { soft, hard };
  };
  const { soft, hard } = await limits();
  if (soft >= n) return soft;
  const set = (value: string) =>
    new Deno.Command("prlimit", { args: [`--pid=${pid}`, `--nofile=${value}`], stderr: "null" }).output();
  if (hard >= n) await set(`${n}:${hard === Infinity ? "unlimited" : hard}`);
  else if (!(await set(`${n}:${n}`)).success) await set(`${hard}:${hard}`);
  return (await limits()).soft;
}

/** Resident memory (VmRSS, bytes) and open descriptors of process `pid`. */
export async function processStatus(pid: number): Promise<{ rssBytes: number; descriptors: number }> {
  const status = await Deno.readTextFile(`/proc/${pid}/status`);
  const kib = Number(status.match(/^VmRSS:\s+(\d+) kB/m)?.[1]);
  let descriptors = 0;
  for await (const _ of Deno.readDir(`/proc/${pid}/fd`)) descriptors++;
  return { rssBytes: kib * 1024, descriptors };
}

/**
 * `kgate_rejected_connections_total` of a node by reason, and its other counters and gauges, from its
 * `/metrics`.
 */
export async function scrapeMetrics(httpUrl: string): Promise<Exposition> {
  const res = await fetch(`${httpUrl}/metrics`, { signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`/metrics answered ${res.status}`);
  return parsePrometheus(await res.text());
}

/** `kgate_rejected_connections_total{reason}` (0 when absent). */
export function rejected(metrics: Exposition, reason: string): number {
  return sampleValue(metrics, "kgate_rejected_connections_total", { reason }) ?? 0;
}

/** The value of the unlabelled sample `name` (0 when absent). */
export function sampleValueOf(metrics: Exposition, name: string): number {
  return sampleValue(metrics, name) ?? 0;
}
