import assert from "node:assert/strict";
import type { AuditLog } from "../../src/audit/audit_log.ts";
import { GatewayMetrics } from "../../src/metrics.ts";
import { proxyEventsToMetricsAndAudit } from "../../src/node/proxy_events.ts";
import type { ConnectionInfo } from "../../src/proxy/server.ts";

const info: ConnectionInfo = {
  clientAddress: "10.0.0.9:50000",
  localAddress: "10.0.0.1:6969",
  acceptedAt: 0,
};

Deno.test("REJECT entries: audited always, their log line only with the refusal's; health checks counted, not audited", async () => {
  const metrics = new GatewayMetrics();
  const recorded: { action: string; logLine: boolean | undefined }[] = [];
  const audit = {
    record: (event: { action: string }, options: { logLine?: boolean } = {}) => {
      recorded.push({ action: event.action, logLine: options.logLine });
    },
  } as unknown as AuditLog;
  let suppressed = 0;
  const events = proxyEventsToMetricsAndAudit(metrics, audit, () => suppressed++);
  events.rejected!(info, "client: negative frame size -1", "frame-size", true);
  events.rejected!(info, "client: negative frame size -1", "frame-size", false);
  events.rejected!(info, "connection closed before a request", "closed-before-request", false);
  assert.deepEqual(recorded, [{ action: "REJECT", logLine: true }, { action: "REJECT", logLine: false }]);
  assert.equal(suppressed, 1);
  const { body } = await metrics.render();
  assert.match(body, /kgate_rejected_connections_total\{reason="frame-size"\} 2/);
  assert.match(body, /kgate_rejected_connections_total\{reason="closed-before-request"\} 1/);
});

Deno.test("kgate_client_connections reads the node's open connections when scraped", async () => {
  const metrics = new GatewayMetrics();
  let open = 0;
  metrics.countClientConnections(() => open);
  assert.match((await metrics.render()).body, /^kgate_client_connections 0$/m);
  open = 18_000;
  assert.match((await metrics.render()).body, /^kgate_client_connections 18000$/m);
});
