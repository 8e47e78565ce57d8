/**
 * CONNECTION audit entries of a gateway process, as written to its stdout (one JSON line each) and
 * produced to the audit topic, for the HAProxy tests.
 *
 * ```ts
 * const from = gateway.logs.length;
 * // ... a client connects through HAProxy ...
 * const open = await waitForAudit(gateway, (e) => e.action === "OPEN" && e.proxySourceAddress === addr, from);
 * const inTopic = await readAuditTopic(kafka.bootstrapServers, "_kgate_gw_auditlogs");
 * ```
 */
import { runKcat, sleep } from "../harness/mod.ts";
import type { GatewayProcess } from "./gateway_process.ts";

/** One CONNECTION audit entry (the fields the tests look at, plus the rest as parsed). */
export interface AuditEntry {
  id: string;
  time: string;
  type: "CONNECTION";
  action: "OPEN" | "CLOSE" | "REJECT";
  nodeId: string;
  clusterId: string;
  connection: { localAddress: string; remoteAddress: string };
  proxySourceAddress?: string;
  proxyDestinationAddress?: string;
  proxyTlvs?: { uniqueId?: string; [key: string]: unknown };
  broker?: { id: number; host: string; port: number };
  durationMs?: number;
  bytesIn?: number;
  bytesOut?: number;
  closedBy?: string;
  reason?: string;
}

/** The audit entries in `logs` from `fromOffset` on (lines starting with `{` with `"type":"CONNECTION"`). */
export function auditEntries(logs: string, fromOffset = 0): AuditEntry[] {
  const out: AuditEntry[] = [];
  for (const line of logs.slice(fromOffset).split("\n")) {
    if (!line.startsWith("{") || !line.includes('"type":"CONNECTION"')) continue;
    try {
      out.push(JSON.parse(line) as AuditEntry);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** The audit entries of `gateway` in the exact form of their JSON line, keyed by id. */
export function auditLinesById(logs: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of logs.split("\n")) {
    if (!line.startsWith("{") || !line.includes('"type":"CONNECTION"')) continue;
    try {
      out.set((JSON.parse(line) as AuditEntry).id, line);
    } catch {
      // a line still being written
    }
  }
  return out;
}

/** Waits (bounded) until `gateway` logged an audit entry matching `predicate` since `fromOffset`. */
export async function waitForAudit(
  gateway: GatewayProcess,
  predicate: (e: AuditEntry) => boolean,
  fromOffset = 0,
  timeoutMs = 5_000,
  what = "a matching audit entry",
): Promise<AuditEntry> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = auditEntries(gateway.logs, fromOffset).find(predicate);
    if (found) return found;
    if (Date.now() > deadline) {
      throw new Error(
        `the gateway logged no ${what} within ${timeoutMs} ms; logs since:\n${
          gateway.logs.slice(fromOffset)
        }`,
      );
    }
    await sleep(25);
  }
}

/** Every record value of the audit topic, read straight from the cluster (kcat, to the end). */
export async function readAuditTopic(bootstrapServers: string, topic: string): Promise<string[]> {
  const result = await runKcat(
    ["-C", "-b", bootstrapServers, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n"],
    { timeoutMs: 20_000 },
  );
  if (result.code !== 0) throw new Error(`kcat -C ${topic} failed: ${result.stderr}`);
  return result.stdout.split("\n").filter((l) => l.startsWith("{"));
}

/**
 * Waits (bounded) until the audit topic holds every id of `expected` (id -> JSON line); returns the
 * topic's values by id.
 */
export async function waitForAuditTopic(
  bootstrapServers: string,
  topic: string,
  expected: ReadonlySet<string>,
  timeoutMs = 20_000,
): Promise<Map<string, string>> {
  const deadline = Date.now() + timeoutMs;
  let lastError = "";
  for (;;) {
    const byId = new Map<string, string>();
    try {
      for (const value of await readAuditTopic(bootstrapServers, topic)) {
        byId.set((JSON.parse(value) as AuditEntry).id, value);
      }
      lastError = "";
    } catch (error) {
      lastError = (error as Error).message;
    }
    const missing = [...expected].filter((id) => !byId.has(id));
    if (missing.length === 0) return byId;
    if (Date.now() > deadline) {
      throw new Error(
        `the audit topic ${topic} lacks ${missing.length} of ${expected.size} audit entries after ` +
          `${timeoutMs} ms (e.g. ${missing.slice(0, 3).join(", ")}) ${lastError}`,
      );
    }
    await sleep(500);
  }
}

/** The bytes of a hex string as latin1 text (the UNIQUE_ID TLV HAProxy sends is ASCII). */
export function hexToText(hex: string): string {
  let out = "";
  for (let i = 0; i + 1 < hex.length; i += 2) out += String.fromCharCode(parseInt(hex.slice(i, i + 2), 16));
  return out;
}
