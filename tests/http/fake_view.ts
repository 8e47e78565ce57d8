/**
 * A fixed, mutable node view and app factory for the HTTP API tests.
 *
 * @module
 */
import type { ClusterView, MappedBroker, NodeView, Readiness } from "../../src/http/node_view.ts";
import type { UpstreamBrokerInfo } from "../../src/upstream/broker_directory.ts";
import { createHonoApp, type HttpAppOptions } from "../../src/http/app.ts";
import type { OpenAPIHono } from "@hono/zod-openapi";

/** A node view whose answers the test sets, recording mapping queries; `fail` makes a method throw. */
export class FakeView implements NodeView {
  ready: Readiness = {
    ready: true,
    checks: { upstreamReachable: true, brokersKnown: true, listening: true, draining: false },
    reasons: [],
  };
  upstream: UpstreamBrokerInfo[] = [
    { nodeId: 3, host: "broker-3.internal", port: 9094, rack: "rack-c" },
    { nodeId: 1, host: "broker-1.internal", port: 9092, rack: "rack-a" },
    { nodeId: 2, host: "broker-2.internal", port: 9093, rack: null },
  ];
  clusterView: ClusterView = {
    self: "node-1",
    members: [{
      id: "node-1",
      host: "kgate-1.example",
      rack: "rack-a",
      ports: { first: 6969, last: 6974 },
      httpUrl: "http://kgate-1.example:8888",
      version: "0.1.0",
      joinedAt: "2026-01-02T03:04:05.000Z",
    }],
    generation: 4,
    lastChange: "2026-01-02T03:04:05.000Z",
  };
  mapped: MappedBroker[] = [
    { brokerId: 1, host: "kgate-1.example", port: 6970, rack: "rack-a" },
    { brokerId: 2, host: "kgate-1.example", port: 6971, rack: null },
  ];
  settings: Record<string, unknown> = {
    KAFKA_BOOTSTRAP_SERVERS: [{ host: "broker-1.internal", port: 9092 }],
    GATEWAY_ADMIN_API_USERS: "<redacted>",
    GATEWAY_HTTP_PORT: 8888,
  };
  metricsText = "# HELP kgate_up Up\n# TYPE kgate_up gauge\nkgate_up 1\n";
  metricsType = "text/plain; version=0.0.4; charset=utf-8";
  /** Mapping queries received, in order. */
  mappingQueries: { rack?: string; clientId?: string }[] = [];
  /** Methods that throw (or reject). */
  fail = new Set<keyof NodeView>();

  #check(method: keyof NodeView): void {
    if (this.fail.has(method)) throw new Error(`secret internal detail of ${method}`);
  }
  readiness(): Readiness {
    this.#check("readiness");
    return this.ready;
  }
  brokers(): UpstreamBrokerInfo[] {
    this.#check("brokers");
    return this.upstream;
  }
  cluster(): ClusterView {
    this.#check("cluster");
    return this.clusterView;
  }
  mapping(query: { rack?: string; clientId?: string }): MappedBroker[] {
    this.#check("mapping");
    this.mappingQueries.push(query);
    return this.mapped;
  }
  config(): Record<string, unknown> {
    this.#check("config");
    return this.settings;
  }
  metrics(): Promise<{ contentType: string; body: string }> {
    if (this.fail.has("metrics")) return Promise.reject(new Error("secret internal detail of metrics"));
    return Promise.resolve({ contentType: this.metricsType, body: this.metricsText });
  }
}

/** The admin user of the tests. */
export const ADMIN = { username: "admin", password: "s3cret:with:colons" };
/** A second user. */
export const VIEWER = { username: "viewer", password: "viewer-pass" };

/** `Authorization` header value for these credentials (UTF-8). */
export function basic(username: string, password: string): string {
  const bytes = new TextEncoder().encode(`${username}:${password}`);
  return "Basic " + btoa(String.fromCharCode(...bytes));
}

/** Headers authenticating as {@link ADMIN}. */
export const AUTH: Record<string, string> = { Authorization: basic(ADMIN.username, ADMIN.password) };

/** Kafka versions the fake gateway supports. */
export const KAFKA_VERSIONS: ReadonlyMap<number, { min: number; max: number }> = new Map([
  [18, { min: 0, max: 4 }],
  [3, { min: 0, max: 12 }],
  [0, { min: 3, max: 11 }],
]);

/** An app over a fresh {@link FakeView}. */
export function makeApp(
  options: Partial<HttpAppOptions> = {},
  view: FakeView = new FakeView(),
): { app: OpenAPIHono; view: FakeView } {
  const app = createHonoApp(view, {
    users: [ADMIN, VIEWER],
    securedMetrics: false,
    versions: { kafkaProtocolVersions: () => KAFKA_VERSIONS },
    ...options,
  });
  return { app, view };
}

/** Reads a JSON response body, asserting the JSON content type. */
export async function json(response: Response): Promise<Record<string, unknown>> {
  const type = response.headers.get("content-type") ?? "";
  if (!type.startsWith("application/json")) {
    throw new Error(`expected JSON, got ${type}: ${await response.text()}`);
  }
  return await response.json();
}
