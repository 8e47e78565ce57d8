/**
 * Connection events of the Kafka listeners, turned into metrics and CONNECTION audit entries.
 *
 * @module
 */
import type { AuditLog } from "../audit/audit_log.ts";
import { auditFields } from "../audit/connection_entries.ts";
import type { GatewayMetrics } from "../metrics.ts";
import type { ProxyEvents } from "../proxy/server.ts";

/**
 * Listener events that keep the connection and byte metrics, and record OPEN, CLOSE (with duration,
 * bytes, who closed and why) and REJECT entries in `audit`.
 *
 * @example
 * ```ts
 * const server = new ProxyServer({ ...options, events: proxyEventsToMetricsAndAudit(metrics, audit) });
 * ```
 */
export function proxyEventsToMetricsAndAudit(metrics: GatewayMetrics, audit: AuditLog): ProxyEvents {
  return {
    opened: (info) => {
      metrics.connectionOpened();
      audit.record({ action: "OPEN", ...auditFields(info) });
    },
    closed: (info, end, bytes) => {
      metrics.connectionClosed();
      if (end.kind) metrics.rejected(end.kind);
      audit.record({
        action: "CLOSE",
        ...auditFields(info),
        durationMs: Math.round(performance.now() - info.acceptedAt),
        bytesIn: bytes.in,
        bytesOut: bytes.out,
        closedBy: end.by,
        reason: end.reason,
      });
    },
    bytesIn: (n) => metrics.bytesIn(n),
    bytesOut: (n) => metrics.bytesOut(n),
    rejected: (info, reason, kind) => {
      if (kind === "upstream") metrics.upstreamError();
      metrics.rejected(kind);
      audit.record({ action: "REJECT", ...auditFields(info), reason });
    },
  };
}
