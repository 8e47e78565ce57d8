/**
 * Prometheus metrics of one node (prom-client), in one registry per node.
 *
 * The data path only touches pre-resolved counters (no label lookups per frame); per-request
 * counters and histograms are resolved once per API key.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { apiName } from "./protocol/mod.ts";
import type { RejectionKind } from "./proxy/rejection.ts";

/** The audit queue's counters as the `kgate_audit_events` gauge shows them. */
interface AuditCounts {
  queued: number;
  sent: number;
  dropped: number;
}

/** Latency buckets in seconds: 0.1 ms to 10 s. */
const LATENCY_BUCKETS = [
  0.0001,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.025,
  0.05,
  0.1,
  0.25,
  0.5,
  1,
  2.5,
  5,
  10,
];

/** Per-API-key instruments, resolved once. */
interface ApiInstruments {
  requests: { inc(): void };
  responses: { inc(): void };
  rewritten: { inc(): void };
  upstreamSeconds: { observe(v: number): void };
  gatewaySeconds: { observe(v: number): void };
}

/** The metrics of one node. */
export class GatewayMetrics {
  /** The registry `/metrics` renders. */
  readonly registry: Registry = new Registry();
  readonly #connectionsOpen: Gauge;
  readonly #connectionsTotal: Counter;
  readonly #bytesIn: Counter;
  readonly #bytesOut: Counter;
  readonly #requests: Counter<"api">;
  readonly #responses: Counter<"api">;
  readonly #rewritten: Counter<"api">;
  readonly #latency: Histogram<"api" | "part">;
  readonly #upstreamErrors: Counter;
  readonly #rejected: Counter<"reason">;
  readonly #perApi = new Map<number, ApiInstruments>();
  /** Open client connections of the node, all stages (read when scraped). */
  #clientConnections: () => number = () => 0;
  /** Cluster size (live gateway nodes). */
  readonly clusterSize: Gauge;
  /** Group rebalances seen. */
  readonly rebalances: Counter;
  /** Broker mappings computed. */
  readonly mappingRequests: Counter;

  /** Registers every metric; `audit` and the memory gauge are read when scraped. */
  constructor(options: { auditStats?: () => AuditCounts } = {}) {
    const registers = [this.registry];
    this.#connectionsOpen = new Gauge({
      name: "kgate_client_connections_open",
      help: "Client connections being proxied",
      registers,
    });
    this.#connectionsTotal = new Counter({
      name: "kgate_client_connections_total",
      help: "Client connections proxied to a broker (refused ones: kgate_rejected_connections_total)",
      registers,
    });
    this.#bytesIn = new Counter({
      name: "kgate_bytes_in_total",
      help: "Bytes received from clients",
      registers,
    });
    this.#bytesOut = new Counter({ name: "kgate_bytes_out_total", help: "Bytes sent to clients", registers });
    this.#requests = new Counter({
      name: "kgate_requests_total",
      help: "Requests forwarded, by API",
      labelNames: ["api"],
      registers,
    });
    this.#responses = new Counter({
      name: "kgate_responses_total",
      help: "Responses returned, by API",
      labelNames: ["api"],
      registers,
    });
    this.#rewritten = new Counter({
      name: "kgate_rewritten_responses_total",
      help: "Responses whose broker addresses were rewritten, by API",
      labelNames: ["api"],
      registers,
    });
    this.#latency = new Histogram({
      name: "kgate_request_latency_seconds",
      help: "Request latency by API: part=upstream (request forwarded to response received) and " +
        "part=gateway (time the gateway added: header checks and rewriting)",
      labelNames: ["api", "part"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.#upstreamErrors = new Counter({
      name: "kgate_upstream_connection_errors_total",
      help: "Failed connections to brokers",
      registers,
    });
    this.#rejected = new Counter({
      name: "kgate_rejected_connections_total",
      help: "Client connections closed on bad input or refused, by reason",
      labelNames: ["reason"],
      registers,
    });
    this.clusterSize = new Gauge({
      name: "kgate_cluster_size",
      help: "Live gateway nodes in the cluster",
      registers,
    });
    this.rebalances = new Counter({
      name: "kgate_rebalances_total",
      help: "Membership group rebalances",
      registers,
    });
    this.mappingRequests = new Counter({
      name: "kgate_mapping_requests_total",
      help: "Broker-to-node mappings computed",
      registers,
    });
    const clientConnections = () => this.#clientConnections();
    new Gauge({
      name: "kgate_client_connections",
      help: "Open client connections, including those not proxied yet (PROXY header, TLS handshake or " +
        "first request pending): a build-up of silent connections shows here",
      registers,
      collect() {
        this.set(clientConnections());
      },
    });
    registerAuditGauge(registers, options.auditStats);
    registerMemoryGauge(registers);
  }

  /**
   * Where `kgate_client_connections` reads the node's open client connections when scraped (the
   * connection tracker's count: no work per connection).
   */
  countClientConnections(count: () => number): void {
    this.#clientConnections = count;
  }

  /** A client connection was accepted. */
  connectionOpened(): void {
    this.#connectionsOpen.inc();
    this.#connectionsTotal.inc();
  }

  /** A client connection ended. */
  connectionClosed(): void {
    this.#connectionsOpen.dec();
  }

  /** Bytes read from a client. */
  bytesIn(n: number): void {
    this.#bytesIn.inc(n);
  }

  /** Bytes read from a broker for a client. */
  bytesOut(n: number): void {
    this.#bytesOut.inc(n);
  }

  /** A connection to a broker failed. */
  upstreamError(): void {
    this.#upstreamErrors.inc();
  }

  /** A connection was refused or closed on bad input. */
  rejected(reason: RejectionKind): void {
    this.#rejected.inc({ reason });
  }

  /** The instruments of one API key (resolved once, then reused on the data path). */
  api(apiKey: number): ApiInstruments {
    let instruments = this.#perApi.get(apiKey);
    if (instruments === undefined) {
      const api = apiName(apiKey);
      instruments = {
        requests: this.#requests.labels({ api }),
        responses: this.#responses.labels({ api }),
        rewritten: this.#rewritten.labels({ api }),
        upstreamSeconds: this.#latency.labels({ api, part: "upstream" }),
        gatewaySeconds: this.#latency.labels({ api, part: "gateway" }),
      };
      this.#perApi.set(apiKey, instruments);
    }
    return instruments;
  }

  /** The Prometheus text exposition. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The audit queue's counters, read when scraped (zeros without an audit log). */
function registerAuditGauge(registers: Registry[], auditStats?: () => AuditCounts): void {
  new Gauge({
    name: "kgate_audit_events",
    help: "Audit entries: state=queued (waiting), sent (produced), dropped (queue full)",
    labelNames: ["state"],
    registers,
    collect() {
      const stats = auditStats?.() ?? { queued: 0, sent: 0, dropped: 0 };
      this.set({ state: "queued" }, stats.queued);
      this.set({ state: "sent" }, stats.sent);
      this.set({ state: "dropped" }, stats.dropped);
    },
  });
}

/** The process's memory, read when scraped. */
function registerMemoryGauge(registers: Registry[]): void {
  new Gauge({
    name: "kgate_process_memory_bytes",
    help: "Process memory: kind=rss, heap_total, heap_used, external",
    labelNames: ["kind"],
    registers,
    collect() {
      const memory = Deno.memoryUsage();
      this.set({ kind: "rss" }, memory.rss);
      this.set({ kind: "heap_total" }, memory.heapTotal);
      this.set({ kind: "heap_used" }, memory.heapUsed);
      this.set({ kind: "external" }, memory.external);
    },
  });
}
