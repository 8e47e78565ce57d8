/**
 * The audit log of a node: CONNECTION entries always logged, produced to the audit topic when
 * `GATEWAY_AUDIT_KAFKA_ENABLED`.
 *
 * @module
 */
import { AuditLog } from "../audit/audit_log.ts";
import { KafkaAuditSink } from "../audit/kafka_sink.ts";
import type { GatewayConfig } from "../config/mod.ts";

/**
 * The audit log `config` describes (it holds nothing until the first entry).
 *
 * @example
 * ```ts
 * const audit = nodeAuditLog(config);
 * await audit.close();
 * ```
 */
export function nodeAuditLog(config: GatewayConfig): AuditLog {
  return new AuditLog({
    nodeId: config.nodeId,
    clusterId: config.clusterId,
    queueSize: config.auditQueueSize,
    sink: config.auditKafkaEnabled ? new KafkaAuditSink(config) : undefined,
  });
}
