/**
 * The connections-at-scale scenario of issue 13, shared by tests/integration/connection_scale_test.ts
 * (sized for CI) and bench/connection_scale.ts (full size): silent connections to one node in steps
 * (cumulative), then connections that each made one ApiVersions exchange, measuring after each step the
 * node's RSS (VmRSS of its process; the clients run in this process, so their memory does not count),
 * its open descriptors, its connections to the brokers, and how long a new client takes to be served.
 *
 * ```ts
 * const result = await connectionScale({ gateway, sources, silentSteps: [1000, 10_000], active: 1000 });
 * ```
 */
import { sleep } from "../../src/lib/deadline.ts";
import type { GatewayProcess } from "./gateway_process.ts";
import { PeerSwarm, processStatus, scrapeMetrics, timeNewClient } from "./peer_swarm.ts";
import { sampleValue } from "./http_api.ts";
import { tcpPeersOf } from "./clients_util.ts";

/** What {@link connectionScale} needs. */
export interface ScaleOptions {
  /** The node (started with first-frame and idle timeouts longer than the run, caps above it). */
  gateway: GatewayProcess;
  /** Source addresses the clients bind, in turn. */
  sources: readonly string[];
  /** How many of the node's ports the clients spread over (from its first port). */
  ports: number;
  /** Silent connections open after each step (cumulative, ascending). */
  silentSteps: readonly number[];
  /** Connections that make one ApiVersions exchange, then stay idle, after the last silent step. */
  active: number;
  /** The brokers' ports on 127.0.0.1 (to count the node's connections to them). */
  brokerPorts: readonly number[];
  /** New clients timed per step (median reported). */
  probes?: number;
  /** How long after every connection closed the RSS is read again (default 5 s). */
  settleMs?: number;
  /** Called with each step's figures as they come. */
  onStep?: (step: ScaleStep) => void;
}

/** The figures after one step. */
export interface ScaleStep {
  /** What is open: e.g. "10000 silent" or "100000 silent + 10000 active". */
  label: string;
  silent: number;
  active: number;
  /** Node VmRSS, bytes. */
  rssBytes: number;
  /** (RSS - RSS before any connection) / connections open, bytes. */
  rssPerConnection: number;
  /** The node's JavaScript heap in use and its external (ArrayBuffer) memory, bytes (from /metrics). */
  heapUsedBytes: number;
  externalBytes: number;
  /** Node descriptors open. */
  descriptors: number;
  /** The node's established connections to the brokers. */
  brokerConnections: number;
  /** Median milliseconds for a new client: connect, ApiVersions, Metadata. */
  newClientMs: number;
  /** Connections the node closed so far (expected 0). */
  closedByNode: number;
  /** Connections that could not be opened so far (expected 0). */
  failures: number;
  /** Seconds the step took to open its connections. */
  openSeconds: number;
}

/** The whole run: the idle node, then each step. */
export interface ScaleResult {
  /** Node VmRSS before any connection, bytes. */
  baseRssBytes: number;
  baseBrokerConnections: number;
  baseNewClientMs: number;
  steps: ScaleStep[];
  /** The node's RSS, bytes, `settleMs` after every connection closed. */
  rssAfterCloseBytes: number;
  /** That wait, milliseconds. */
  settleMs: number;
}

/** Open TCP connections of process `pid` to `ports` on 127.0.0.1 (its sockets' peers, from /proc). */
export function connectionsTo(pid: number, ports: readonly number[]): number {
  const peers = new Set(ports.map((port) => `127.0.0.1:${port}`));
  return tcpPeersOf(pid).filter((peer) => peers.has(peer)).length;
}

async function newClientMs(gateway: GatewayProcess, probes: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < probes; i++) times.push(await timeNewClient(gateway.host, gateway.portStart));
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** The node's heap in use and external memory (`kgate_process_memory_bytes`). */
async function nodeMemory(
  gateway: GatewayProcess,
): Promise<{ heapUsedBytes: number; externalBytes: number }> {
  const metrics = await scrapeMetrics(gateway.httpUrl);
  return {
    heapUsedBytes: sampleValue(metrics, "kgate_process_memory_bytes", { kind: "heap_used" }) ?? 0,
    externalBytes: sampleValue(metrics, "kgate_process_memory_bytes", { kind: "external" }) ?? 0,
  };
}

/** Runs the scenario; every connection it opened is closed when it returns or throws. */
export async function connectionScale(options: ScaleOptions): Promise<ScaleResult> {
  const { gateway, sources, silentSteps, active, brokerPorts } = options;
  const probes = options.probes ?? 5;
  const pid = gateway.child.pid;
  const ports = Array.from({ length: options.ports }, (_, i) => gateway.portStart + i);
  const swarms: PeerSwarm[] = [];
  const all = () => ({
    closedByNode: swarms.reduce((n, s) => n + s.closedByPeer, 0),
    failures: swarms.reduce((n, s) => n + s.failures.length, 0),
  });
  try {
    await sleep(1_000);
    const baseNewClientMs = await newClientMs(gateway, probes);
    const base = await processStatus(pid);
    const baseBrokerConnections = connectionsTo(pid, brokerPorts);
    const steps: ScaleStep[] = [];
    const measure = async (label: string, silent: number, activeNow: number, openSeconds: number) => {
      await sleep(1_000);
      const status = await processStatus(pid);
      const memory = await nodeMemory(gateway);
      const step: ScaleStep = {
        ...memory,
        label,
        silent,
        active: activeNow,
        rssBytes: status.rssBytes,
        rssPerConnection: (status.rssBytes - base.rssBytes) / (silent + activeNow),
        descriptors: status.descriptors,
        brokerConnections: connectionsTo(pid, brokerPorts),
        newClientMs: await newClientMs(gateway, probes),
        ...all(),
        openSeconds,
      };
      steps.push(step);
      options.onStep?.(step);
    };
    let silent = 0;
    for (const target of silentSteps) {
      const started = performance.now();
      swarms.push(
        await PeerSwarm.open({
          host: gateway.host,
          ports,
          // Continue the spread over sources where the previous step stopped.
          sources: rotate(sources, Math.floor(silent / ports.length)),
          count: target - silent,
          kind: "silent",
          concurrency: 256,
        }),
      );
      silent = target;
      await measure(`${silent} silent`, silent, 0, (performance.now() - started) / 1000);
    }
    if (active > 0) {
      const started = performance.now();
      swarms.push(
        await PeerSwarm.open({
          host: gateway.host,
          ports,
          sources: rotate(sources, 3),
          count: active,
          kind: "api-versions",
          concurrency: 64,
        }),
      );
      await measure(
        `${silent} silent + ${active} active`,
        silent,
        active,
        (performance.now() - started) / 1000,
      );
    }
    for (const swarm of swarms.splice(0)) swarm.destroy();
    const settleMs = options.settleMs ?? 5_000;
    await sleep(settleMs);
    const rssAfterCloseBytes = (await processStatus(pid)).rssBytes;
    return {
      baseRssBytes: base.rssBytes,
      baseBrokerConnections,
      baseNewClientMs,
      steps,
      rssAfterCloseBytes,
      settleMs,
    };
  } finally {
    for (const swarm of swarms) swarm.destroy();
  }
}

function rotate<T>(items: readonly T[], by: number): T[] {
  const k = by % items.length;
  return [...items.slice(k), ...items.slice(0, k)];
}

/** One line per step, for logs and the README. */
export function formatScale(result: ScaleResult): string {
  const mib = (n: number) => (n / 1024 / 1024).toFixed(1);
  const lines = [
    `idle node: RSS ${mib(result.baseRssBytes)} MiB, broker connections ${result.baseBrokerConnections}, ` +
    `new client ${result.baseNewClientMs.toFixed(1)} ms`,
    ...result.steps.map((s) =>
      `${s.label}: RSS ${mib(s.rssBytes)} MiB (${
        (s.rssPerConnection / 1024).toFixed(1)
      } KiB per connection; heap ${mib(s.heapUsedBytes)} MiB, external ${mib(s.externalBytes)} MiB), ` +
      `fds ${s.descriptors}, broker connections ${s.brokerConnections}, new client ${
        s.newClientMs.toFixed(1)
      } ms, ` +
      `closed by node ${s.closedByNode}, failed ${s.failures}, opened in ${s.openSeconds.toFixed(1)} s`
    ),
    `all closed, ${result.settleMs / 1000} s later: RSS ${mib(result.rssAfterCloseBytes)} MiB`,
  ];
  return lines.join("\n");
}
