/**
 * The broker-to-node mapping: which gateway endpoint a client is told to use for each broker.
 *
 * Every rewritten response (Metadata, DescribeCluster, FindCoordinator, NodeEndpoints) asks one
 * {@link BrokerEndpointMapper}; the port of broker b is always `portStart + (b - minBrokerId)`.
 *
 * @module
 */

/** A broker as the mapping sees it. */
export interface BrokerRef {
  /** Broker (node) id. */
  nodeId: number;
  /** Broker rack, when it has one. */
  rack: string | null;
}

/** Who is asking: the client behind the request being answered. */
export interface MappingRequest {
  /** The request's client id. */
  clientId: string | null;
  /** The client's address, `host:port`. */
  clientAddress: string;
}

/** A host and port advertised to clients. */
export interface Endpoint {
  /** Host name or IP address. */
  host: string;
  /** TCP port. */
  port: number;
}

/** Chooses the advertised endpoint of every broker for one response. */
export type BrokerEndpointMapper = (
  brokers: readonly BrokerRef[],
  request: MappingRequest,
) => Map<number, Endpoint>;

/** The gateway port that serves `brokerId`. */
export function brokerPort(portStart: number, minBrokerId: number, brokerId: number): number {
  return portStart + (brokerId - minBrokerId);
}

/**
 * A mapper that advertises one host for every broker (a single node, or an external load balancer).
 *
 * @example
 * ```ts
 * const mapper = singleHostMapping({ host: "gw.example", portStart: 6969, minBrokerId: 0 });
 * mapper([{ nodeId: 2, rack: null }], { clientId: null, clientAddress: "" }).get(2); // { host: "gw.example", port: 6971 }
 * ```
 */
export function singleHostMapping(
  options: { host: string; portStart: number; minBrokerId: number },
): BrokerEndpointMapper {
  return (brokers) => {
    const endpoints = new Map<number, Endpoint>();
    for (const broker of brokers) {
      endpoints.set(broker.nodeId, {
        host: options.host,
        port: brokerPort(options.portStart, options.minBrokerId, broker.nodeId),
      });
    }
    return endpoints;
  };
}
