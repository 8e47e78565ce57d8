/**
 * The connection fields of CONNECTION audit entries, from what the listeners know of a connection.
 *
 * @module
 */
import type { ConnectionInfo } from "../proxy/server.ts";
import type { ConnectionAuditEvent } from "./audit_log.ts";

/** The fields of an audit event that describe the connection. */
export function auditFields(info: ConnectionInfo): Pick<
  ConnectionAuditEvent,
  "connection" | "proxySourceAddress" | "proxyDestinationAddress" | "proxyTlvs" | "broker"
> {
  const proxied = info.proxied?.command === "PROXY" ? info.proxied : undefined;
  return {
    connection: {
      localAddress: info.localAddress,
      remoteAddress: info.clientAddress,
      clientCertificateSubject: info.tls?.clientCertificateSubject,
    },
    proxySourceAddress: proxied?.source,
    proxyDestinationAddress: proxied?.destination,
    proxyTlvs: info.proxied?.tlvs,
    broker: info.broker
      ? { id: info.broker.nodeId, host: info.broker.host, port: info.broker.port }
      : undefined,
  };
}
