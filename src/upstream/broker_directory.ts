/**
 * What the node knows of the upstream cluster: its brokers (id, host, port, rack), the API versions
 * it supports and its cluster id, refreshed periodically and on demand.
 *
 * @module
 */
import type { GatewayConfig } from "../config/mod.ts";
import { upstreamSecurity } from "./security.ts";
import { logger } from "../log.ts";
import { MetadataRequest, MetadataResponse, type MetadataResponseData } from "../protocol/mod.ts";
import { KGATE_VERSION } from "../version.ts";
import { UpstreamClient } from "./kafka_client.ts";
import { settleWithin, sleep } from "../lib/deadline.ts";

const log = logger("upstream");

/** An upstream broker. */
export interface UpstreamBrokerInfo {
  /** Broker id. */
  nodeId: number;
  /** The broker's advertised host (never shown to clients). */
  host: string;
  /** The broker's advertised port. */
  port: number;
  /** `broker.rack`, or null. */
  rack: string | null;
}

/** Highest Metadata version the gateway asks with. */
const METADATA_VERSION = 12;
const INITIAL_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/** Aborted start. */
export class StartAborted extends Error {
  constructor() {
    super("start aborted");
    this.name = "StartAborted";
  }
}

/** The upstream cluster as this node last saw it. */
export class BrokerDirectory {
  #brokers = new Map<number, UpstreamBrokerInfo>();
  #apiVersions = new Map<number, { min: number; max: number }>();
  #clusterId: string | null = null;
  #lastRefresh: Date | null = null;
  #lastError: string | null = null;
  #nextBootstrap = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #refreshing: Promise<void> | null = null;
  #closed = false;

  /** A directory for this configuration; {@link start} fills it. */
  constructor(private readonly config: GatewayConfig) {}

  /** Known brokers, by id order. */
  brokers(): UpstreamBrokerInfo[] {
    return [...this.#brokers.values()].sort((a, b) => a.nodeId - b.nodeId);
  }

  /** The broker with this id. */
  broker(nodeId: number): UpstreamBrokerInfo | undefined {
    return this.#brokers.get(nodeId);
  }

  /** A broker for a bootstrap connection (round-robin over the known ones). */
  anyBroker(): UpstreamBrokerInfo | undefined {
    const brokers = this.brokers();
    if (brokers.length === 0) return undefined;
    return brokers[this.#nextBootstrap++ % brokers.length];
  }

  /** API versions the cluster supports, by key. */
  apiVersions(): ReadonlyMap<number, { min: number; max: number }> {
    return this.#apiVersions;
  }

  /** The upstream cluster id. */
  get clusterId(): string | null {
    return this.#clusterId;
  }

  /** When the view was last refreshed, and the last refresh error (null after a success). */
  get status(): { lastRefresh: Date | null; lastError: string | null } {
    return { lastRefresh: this.#lastRefresh, lastError: this.#lastError };
  }

  /**
   * Refreshes until the cluster answers once (retrying with backoff, logging each failure), then
   * keeps refreshing every `metadataRefreshMs`.
   *
   * @throws {StartAborted} when `signal` aborts first
   */
  async start(signal?: AbortSignal): Promise<void> {
    let backoff = INITIAL_BACKOFF_MS;
    for (;;) {
      if (signal?.aborted || this.#closed) throw new StartAborted();
      try {
        // A bootstrap server that accepts but never answers must not hold up a shutdown.
        await unlessAborted(this.refresh(), signal);
        break;
      } catch (error) {
        if (error instanceof StartAborted) throw error;
        log.error("cannot reach the Kafka cluster at {servers}: {error}; retrying in {backoff} ms", {
          servers: this.#bootstrapText(),
          error: (error as Error).message,
          backoff,
        });
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
    log.info("upstream cluster {clusterId}: brokers {brokers}", {
      clusterId: this.#clusterId,
      brokers: this.brokers().map((b) => `${b.nodeId}@${b.host}:${b.port}${b.rack ? `/${b.rack}` : ""}`).join(
        ", ",
      ),
    });
    this.#schedule();
  }

  /** Asks for a refresh soon (e.g. a response named an unknown broker). */
  requestRefresh(): void {
    if (this.#refreshing || this.#closed) return;
    this.refresh().catch(() => {});
  }

  /**
   * Refreshes unless the view is younger than `maxAgeMs` (concurrent callers share one refresh).
   * Never throws: on failure the last view stays.
   */
  async refreshIfOlderThan(maxAgeMs: number): Promise<void> {
    if (this.#lastRefresh && Date.now() - this.#lastRefresh.getTime() < maxAgeMs) return;
    await this.refresh().catch(() => {});
  }

  /** Refreshes the view once from any reachable broker. */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#refreshOnce().finally(() => this.#refreshing = null);
    return this.#refreshing;
  }

  /** Stops the periodic refresh. */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #schedule(): void {
    if (this.#closed) return;
    this.#timer = setTimeout(async () => {
      try {
        await this.refresh();
      } catch (error) {
        log.warn("metadata refresh failed, keeping the last view: {error}", {
          error: (error as Error).message,
        });
      }
      this.#schedule();
    }, this.config.metadataRefreshMs);
  }

  #bootstrapText(): string {
    return this.config.kafkaBootstrapServers.map((s) => `${s.host}:${s.port}`).join(",");
  }

  async #refreshOnce(): Promise<void> {
    // Known brokers first (the bootstrap list may be a load balancer or stale), then the bootstrap list.
    const candidates = [...this.brokers(), ...this.config.kafkaBootstrapServers];
    const errors: string[] = [];
    for (const candidate of candidates) {
      let client: UpstreamClient | undefined;
      try {
        client = await UpstreamClient.connect(candidate.host, candidate.port, {
          clientId: `kgate-${KGATE_VERSION}`,
          timeoutMs: this.config.upstreamConnectTimeoutMs,
          ...upstreamSecurity(this.config),
        });
        const max = client.apiVersions.get(MetadataResponse.apiKey!)?.max ?? 0;
        const version = Math.min(METADATA_VERSION, max);
        const metadata: MetadataResponseData = await client.call(MetadataRequest, MetadataResponse, version, {
          topics: [],
          allowAutoTopicCreation: false,
          includeClusterAuthorizedOperations: false,
          includeTopicAuthorizedOperations: false,
        });
        if (metadata.brokers.length === 0) throw new Error("the cluster reported no brokers");
        this.#apply(metadata, client.apiVersions);
        return;
      } catch (error) {
        errors.push(`${candidate.host}:${candidate.port}: ${(error as Error).message}`);
      } finally {
        client?.close();
      }
    }
    this.#lastError = errors.join("; ");
    throw new Error(this.#lastError);
  }

  #apply(metadata: MetadataResponseData, apiVersions: Map<number, { min: number; max: number }>): void {
    const next = new Map<number, UpstreamBrokerInfo>();
    for (const b of metadata.brokers) {
      next.set(b.nodeId, { nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack });
    }
    const before = this.brokers().map((b) => b.nodeId).join(",");
    this.#brokers = next;
    this.#apiVersions = apiVersions;
    this.#clusterId = metadata.clusterId;
    this.#lastRefresh = new Date();
    this.#lastError = null;
    const after = this.brokers().map((b) => b.nodeId).join(",");
    if (before !== "" && before !== after) {
      log.info("upstream brokers changed: [{before}] -> [{after}]", { before, after });
    }
  }
}

/** Waits for `work`; throws {@link StartAborted} as soon as `signal` aborts. */
async function unlessAborted(work: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return await work;
  const done = await settleWithin(work.then(() => true), signal);
  if (!done) throw new StartAborted();
}
