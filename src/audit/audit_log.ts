/**
 * The audit log: CONNECTION events on open and close, written as JSON lines to the log and produced
 * to the audit topic through a bounded queue that never blocks the data path.
 *
 * @module
 */
import { settleWithin, sleep } from "../lib/deadline.ts";
import { logger } from "../log.ts";

const log = logger("audit");
const auditLine = logger("audit", "event");

/** One CONNECTION audit entry. */
export interface ConnectionAuditEvent {
  /** Unique event id. */
  id: string;
  /** When it happened, ISO 8601. */
  time: string;
  /** Always `CONNECTION`. */
  type: "CONNECTION";
  /** `OPEN` when the connection is proxied, `CLOSE` when it ends, `REJECT` when refused before. */
  action: "OPEN" | "CLOSE" | "REJECT";
  /** The node that saw the connection. */
  nodeId: string;
  /** The gateway cluster id. */
  clusterId: string;
  /**
   * The TCP connection as the node sees it: `ip:port` (`[ipv6]:port`) each; on a TLS listener, the
   * subject of the client's verified certificate, when it sent one.
   */
  connection: { localAddress: string; remoteAddress: string; clientCertificateSubject?: string };
  /** The client's original address from the PROXY header, when one was read. */
  proxySourceAddress?: string;
  /** The original destination from the PROXY header, when one was read. */
  proxyDestinationAddress?: string;
  /** Decoded PROXY v2 TLVs, when any. */
  proxyTlvs?: Record<string, unknown>;
  /** The broker the connection was routed to. */
  broker?: { id: number; host: string; port: number };
  /** CLOSE: how long the connection lasted, in milliseconds. */
  durationMs?: number;
  /** CLOSE: bytes received from the client. */
  bytesIn?: number;
  /** CLOSE: bytes sent to the client. */
  bytesOut?: number;
  /** CLOSE: who ended it (`client`, `upstream`, `error`, `gateway`). */
  closedBy?: string;
  /** CLOSE / REJECT: the error, when it ended on one. */
  reason?: string;
}

/** Where queued events go (the Kafka producer). */
export interface AuditSink {
  /** Sends a batch; rejects on failure (the batch is retried). */
  send(events: readonly ConnectionAuditEvent[]): Promise<void>;
  /** Releases the sink. */
  close(): Promise<void>;
}

/** Counters of the audit queue. */
export interface AuditStats {
  /** Entries waiting to be produced. */
  queued: number;
  /** Entries produced. */
  sent: number;
  /** Entries dropped because the queue was full. */
  dropped: number;
}

/** Options of {@link AuditLog}. */
export interface AuditLogOptions {
  /** This node's id. */
  nodeId: string;
  /** The gateway cluster id. */
  clusterId: string;
  /** Most events waiting to be sent. */
  queueSize: number;
  /** Where events are produced; undefined = log only. */
  sink?: AuditSink;
  /** How often dropped events are reported, in milliseconds. */
  dropReportIntervalMs?: number;
  /** Most events per batch. */
  batchSize?: number;
}

/**
 * Writes audit events to the log and, through a bounded queue, to a sink. Holds nothing (no timer, no
 * send loop) until the first event for the sink: a node that never served has nothing to flush.
 *
 * @example
 * ```ts
 * const audit = new AuditLog({ nodeId: "n1", clusterId: "c1", queueSize: 1000, sink });
 * audit.record({ action: "OPEN", connection: { localAddress: "10.0.0.1:6969", remoteAddress: "10.0.0.9:50000" } });
 * await audit.close();
 * ```
 */
export class AuditLog {
  readonly #options: AuditLogOptions;
  #queue: ConnectionAuditEvent[] = [];
  #stats: AuditStats = { queued: 0, sent: 0, dropped: 0 };
  #droppedSinceReport = 0;
  #wake: (() => void) | undefined;
  #closed = false;
  #loop: Promise<void> | undefined;
  #reportTimer: ReturnType<typeof setInterval> | undefined;

  /** An audit log; its send loop starts with the first event queued for the sink. */
  constructor(options: AuditLogOptions) {
    this.#options = options;
  }

  /** Counters since start. */
  get stats(): Readonly<AuditStats> {
    return { ...this.#stats, queued: this.#queue.length };
  }

  /**
   * Records one event: logs it (unless `options.logLine` is false: a line the caller's rate limit
   * suppressed) and queues it for the sink; never blocks, drops when the queue is full.
   */
  record(
    event: Omit<ConnectionAuditEvent, "id" | "time" | "type" | "nodeId" | "clusterId">,
    options: { logLine?: boolean } = {},
  ): ConnectionAuditEvent {
    const full: ConnectionAuditEvent = {
      id: crypto.randomUUID(),
      time: new Date().toISOString(),
      type: "CONNECTION",
      nodeId: this.#options.nodeId,
      clusterId: this.#options.clusterId,
      ...event,
    };
    if (options.logLine !== false) auditLine.info("{audit}", { audit: full });
    if (!this.#options.sink || this.#closed) return full;
    this.#loop ??= this.#start(this.#options.sink);
    if (this.#queue.length >= this.#options.queueSize) {
      this.#stats.dropped++;
      this.#droppedSinceReport++;
      return full;
    }
    this.#queue.push(full);
    this.#wake?.();
    return full;
  }

  /** Stops, trying to send what is queued for at most `timeoutMs`. */
  async close(timeoutMs = 3000): Promise<void> {
    this.#closed = true;
    clearInterval(this.#reportTimer);
    this.#wake?.();
    if (this.#loop) await settleWithin(this.#loop, AbortSignal.timeout(timeoutMs));
    this.#reportDrops();
    await this.#options.sink?.close().catch(() => {});
  }

  /** Drops are reported periodically; the loop sends what is queued. */
  #start(sink: AuditSink): Promise<void> {
    this.#reportTimer = setInterval(() => this.#reportDrops(), this.#options.dropReportIntervalMs ?? 10_000);
    Deno.unrefTimer(this.#reportTimer);
    return this.#sendLoop(sink);
  }

  #reportDrops(): void {
    if (this.#droppedSinceReport === 0) return;
    log.warn("dropped {count} audit events: the queue of {size} was full", {
      count: this.#droppedSinceReport,
      size: this.#options.queueSize,
    });
    this.#droppedSinceReport = 0;
  }

  async #sendLoop(sink: AuditSink): Promise<void> {
    const batchSize = this.#options.batchSize ?? 500;
    let backoff = 200;
    let lastError = "";
    let failures = 0;
    for (;;) {
      if (this.#queue.length === 0) {
        if (this.#closed) return;
        await new Promise<void>((resolve) => this.#wake = resolve);
        this.#wake = undefined;
        continue;
      }
      const batch = this.#queue.slice(0, batchSize);
      try {
        await sink.send(batch);
        this.#queue.splice(0, batch.length);
        this.#stats.sent += batch.length;
        backoff = 200;
        lastError = "";
        failures = 0;
      } catch (error) {
        const message = (error as Error).message;
        // A just-created topic is briefly unknown to some brokers: warn only when failures persist.
        failures++;
        if (failures < 3) {
          log.debug("cannot produce audit events yet, retrying: {error}", { error: message });
        } else if (message !== lastError) {
          log.warn("cannot produce audit events, retrying: {error}", { error: message });
          lastError = message;
        }
        if (this.#closed) return;
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 10_000);
      }
    }
  }
}
