/**
 * What the HTTP API reads from its node. The gateway implements it; the routes never touch sockets
 * or the Kafka data path, and tests can serve a fixed view.
 *
 * @module
 */
import type { UpstreamBrokerInfo } from "../upstream/broker_directory.ts";

/** Readiness: ready only when every check passes. */
export interface Readiness {
  /** True when the node can serve clients. */
  ready: boolean;
  /** Each check and whether it passes, e.g. `{ upstreamReachable: true, brokersKnown: true, listening: true, draining: false }`. */
  checks: Record<string, boolean>;
  /** Why the node is not ready (empty when ready). */
  reasons: string[];
}

/** A live gateway node as the cluster view shows it. */
export interface ClusterMember {
  /** Node id. */
  id: string;
  /** Advertised host. */
  host: string;
  /** Rack (zone), or null. */
  rack: string | null;
  /** Kafka port range, inclusive. */
  ports: { first: number; last: number };
  /** HTTP API URL. */
  httpUrl: string;
  /** kgate version. */
  version: string;
  /** When it joined, ISO 8601. */
  joinedAt: string;
}

/** The gateway cluster as this node sees it. */
export interface ClusterView {
  /** The id of this node. */
  self: string;
  /** Live members. */
  members: ClusterMember[];
  /** Membership group generation, or null before the first join. */
  generation: number | null;
  /** When the view last changed, ISO 8601, or null. */
  lastChange: string | null;
}

/** One broker's advertised endpoint in a mapping. */
export interface MappedBroker {
  /** Broker id. */
  brokerId: number;
  /** Advertised host. */
  host: string;
  /** Advertised port. */
  port: number;
  /** Broker rack, or null. */
  rack: string | null;
}

/** Everything the HTTP API shows. */
export interface NodeView {
  /** Liveness and readiness checks. */
  readiness(): Readiness;
  /** The upstream brokers as last seen. */
  brokers(): UpstreamBrokerInfo[];
  /** The gateway cluster. */
  cluster(): ClusterView;
  /** The mapping a client with this rack / client id would receive now (does not advance the round-robin). */
  mapping(query: { rack?: string; clientId?: string; clientHost?: string }): MappedBroker[];
  /** The effective configuration, secrets redacted. */
  config(): Record<string, unknown>;
  /** Prometheus text exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
}
