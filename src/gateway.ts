/**
 * One gateway node assembled: upstream broker discovery, the broker mapping and the Kafka listeners.
 *
 * @module
 */
import { type BrokerEndpointMapper, singleHostMapping } from "./cluster/mapping.ts";
import type { GatewayConfig } from "./config.ts";
import { logger } from "./log.ts";
import { ProxyServer } from "./proxy/server.ts";
import { supportedVersionRange } from "./proxy/rewrite.ts";
import { BrokerDirectory } from "./upstream/broker_directory.ts";

const log = logger("gateway");

/** A connection to an unknown broker's port refreshes the broker list at most this often. */
const UNKNOWN_BROKER_REFRESH_MS = 1000;

/** A running gateway node. */
export interface Gateway {
  /** The configuration it runs with. */
  readonly config: GatewayConfig;
  /** The upstream brokers as last seen. */
  readonly directory: BrokerDirectory;
  /** The Kafka ports listened on. */
  readonly ports: number[];
  /** Stops accepting, closes every connection and the upstream refresh. */
  close(): Promise<void>;
}

/** Options of {@link startGateway}. */
export interface StartOptions {
  /** Aborts the start (e.g. SIGTERM while the upstream cluster is still unreachable). */
  signal?: AbortSignal;
  /** Replaces the broker-to-endpoint choice (the cluster mapping). */
  mapper?: BrokerEndpointMapper;
}

/**
 * Starts a gateway node: waits (retrying with backoff) until the upstream cluster answers, then
 * listens on every Kafka port.
 *
 * @example
 * ```ts
 * const gateway = await startGateway(parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" }));
 * await gateway.close();
 * ```
 */
export async function startGateway(config: GatewayConfig, options: StartOptions = {}): Promise<Gateway> {
  const directory = new BrokerDirectory(config);
  await directory.start(options.signal);
  const brokerIds = directory.brokers().map((b) => b.nodeId);
  const portCount = config.portCount ?? Math.max(...brokerIds) - config.minBrokerId + 3;
  for (const id of brokerIds) {
    const offset = id - config.minBrokerId;
    if (offset < 0 || offset >= portCount) {
      log.error(
        "broker {id} has no gateway port (ports serve broker ids {min}-{max}): clients cannot reach it",
        {
          id,
          min: config.minBrokerId,
          max: config.minBrokerId + portCount - 1,
        },
      );
    }
  }
  const mapper = options.mapper ?? singleHostMapping({
    host: config.advertisedHost,
    portStart: config.portStart,
    minBrokerId: config.minBrokerId,
  });
  const server = new ProxyServer({
    bindHost: config.bindHost,
    portStart: config.portStart,
    portCount,
    minBrokerId: config.minBrokerId,
    maxFrameBytes: config.maxFrameBytes,
    upstreamConnectTimeoutMs: config.upstreamConnectTimeoutMs,
    broker: (id) => directory.broker(id),
    anyBroker: () => directory.anyBroker(),
    refreshBrokers: () => directory.refreshIfOlderThan(UNKNOWN_BROKER_REFRESH_MS),
    requestContext: {
      supportedVersions: (apiKey) => supportedVersionRange(apiKey, directory.apiVersions().get(apiKey)),
    },
    rewriteContext: (clientAddress) => ({
      clientAddress,
      mapper,
      knownBrokers: () => directory.brokers(),
      onUnknownBroker: () => directory.requestRefresh(),
    }),
  });
  try {
    server.listen();
  } catch (error) {
    directory.close();
    throw error;
  }
  return {
    config,
    directory,
    get ports() {
      return server.ports;
    },
    async close() {
      directory.close();
      await server.close();
    },
  };
}
