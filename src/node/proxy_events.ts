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
 * bytes, who closed and why) and REJECT entries in `audit`. A REJECT entry's log line is written only
 * when the refusal's own log line was (the bad-peer rate limit); `suppressedAuditLine` counts the
 * others (e.g. `() => badPeers.count("REJECT audit lines")`).
 *
 * @example
 * ```ts
 * const server = new ProxyServer({ ...options, events: proxyEventsToMetricsAndAudit(metrics, audit) });
 * ```
 */
export function proxyEventsToMetricsAndAudit(
  metrics: GatewayMetrics,
  audit: AuditLog,
  suppressedAuditLine?: () => void,
): ProxyEvents {
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
    rejected: (info, reason, kind, logged) => {
      if (kind === "upstream") metrics.upstreamError();
      metrics.rejected(kind);
      // A health check or port probe (closed before sending a byte) is counted, not audited.
      if (kind === "closed-before-request") return;
      // The audit line goes with the refusal's log line: suppressed with it by the bad-peer rate
      // limit (and counted in its periodic line); the audit topic still gets every entry.
      audit.record({ action: "REJECT", ...auditFields(info), reason }, { logLine: logged });
      if (!logged) suppressedAuditLine?.();
    },
  };
}
