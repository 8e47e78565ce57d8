/**
 * What the HTTP API reads from its node. The gateway implements it; the routes never touch sockets
 * or the Kafka data path, and tests can serve a fixed view. The shapes it returns are those of the
 * API's schemas (src/http/schemas.ts).
 *
 * @module
 */
import type { UpstreamBrokerInfo } from "../upstream/broker_directory.ts";
import type { ClusterView, MappedBroker, ReadinessBody } from "./schemas.ts";

export type { ClusterMember, ClusterView, MappedBroker } from "./schemas.ts";

/**
 * Readiness: ready only when every check passes; `checks` maps each check to whether it passes (e.g.
 * `{ upstreamReachable: true, brokersKnown: true, listening: true, notDraining: true }`), `reasons` says
 * why the node is not ready (empty when ready).
 */
export type Readiness = { ready: boolean } & Pick<ReadinessBody, "checks" | "reasons">;

/** Everything the HTTP API shows. */
export interface NodeView {
  /** Liveness and readiness checks. */
  readiness(): Readiness;
  /** The upstream brokers as last seen. */
  brokers(): UpstreamBrokerInfo[];
  /** The gateway cluster. */
  cluster(): ClusterView;
  /**
   * The mapping a client with this rack / client id would receive now on `listener` (default: the first
   * listener), without advancing the round-robin; a string names what is wrong with the listener asked.
   */
  mapping(
    query: { rack?: string; clientId?: string; clientHost?: string; listener?: string },
  ): MappedBroker[] | string;
  /** The effective configuration, secrets redacted. */
  config(): Record<string, unknown>;
  /** Prometheus text exposition. */
  metrics(): Promise<{ contentType: string; body: string }>;
}
