/**
 * How many Kafka ports a node listens on: one per broker id from `GATEWAY_MIN_BROKER_ID`, with room
 * for brokers added later.
 *
 * @module
 */
import type { GatewayConfig } from "../config/mod.ts";
import { logger } from "../log.ts";

const log = logger("gateway");

/** Ports beyond the highest broker id: a broker or two added later gets a port without a restart. */
const SPARE_PORTS = 2;

/**
 * `GATEWAY_PORT_COUNT`, or (unset) enough ports for the highest broker id plus spares; logs an error
 * for each broker the ports do not cover (its clients cannot reach it).
 *
 * @example
 * ```ts
 * kafkaPortCount({ ...config, portCount: undefined, minBrokerId: 1 }, [1, 2, 3]); // 5
 * ```
 */
export function kafkaPortCount(
  config: Pick<GatewayConfig, "portCount" | "minBrokerId">,
  brokerIds: readonly number[],
): number {
  const portCount = config.portCount ?? Math.max(...brokerIds) - config.minBrokerId + 1 + SPARE_PORTS;
  for (const id of brokerIds) {
    const offset = id - config.minBrokerId;
    if (offset < 0 || offset >= portCount) {
      log.error(
        "broker {id} has no gateway port (ports serve broker ids {min}-{max}): clients cannot reach it",
        { id, min: config.minBrokerId, max: config.minBrokerId + portCount - 1 },
      );
    }
  }
  return portCount;
}
