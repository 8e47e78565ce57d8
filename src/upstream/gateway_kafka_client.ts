/**
 * The gateway's own kafkajs client (audit producing, cluster membership), with the configured upstream
 * credentials. Never used on the data path.
 *
 * @module
 */
import { type Admin, type ITopicConfig, Kafka, type logCreator, logLevel } from "kafkajs";
import { type GatewayConfig, plainCredentials } from "../config.ts";

/** Options of {@link gatewayKafkaClient}. */
export interface GatewayKafkaClientOptions {
  /** Receives kafkajs's log entries up to `level` (default: none). */
  logCreator?: logCreator;
  /** Most verbose kafkajs level passed to `logCreator`. */
  level?: logLevel;
  /** How often a failed request is retried before it fails (default 5). */
  retries?: number;
}

/** A kafkajs client for the gateway's own use, with the configured credentials. */
export function gatewayKafkaClient(
  config: GatewayConfig,
  clientId: string,
  options: GatewayKafkaClientOptions = {},
): Kafka {
  const sasl = config.kafkaSecurityProtocol === "SASL_PLAINTEXT"
    ? { mechanism: "plain" as const, ...plainCredentials(config.kafkaSaslJaasConfig ?? "") }
    : undefined;
  return new Kafka({
    clientId,
    brokers: config.kafkaBootstrapServers.map((s) => `${s.host}:${s.port}`),
    sasl,
    logLevel: options.logCreator ? options.level ?? logLevel.WARN : logLevel.NOTHING,
    logCreator: options.logCreator,
    retry: { retries: options.retries ?? 5, initialRetryTime: 200 },
  });
}

/**
 * Creates `topic` unless it exists; true when this call created it. The gateway's internal topics
 * (audit, members) are created this way, waiting for their leaders.
 */
export async function ensureTopic(admin: Admin, topic: ITopicConfig): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic.topic)) return false;
  return await admin.createTopics({ waitForLeaders: true, topics: [topic] });
}
