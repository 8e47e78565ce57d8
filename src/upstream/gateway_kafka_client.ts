/**
 * The gateway's own kafkajs client (audit producing, cluster membership), with the configured upstream
 * credentials. Never used on the data path.
 *
 * @module
 */
import { type Admin, type ITopicConfig, Kafka, type KafkaConfig, type logCreator, logLevel } from "kafkajs";
import type { GatewayConfig } from "../config/mod.ts";
import type { UpstreamSasl } from "./sasl.ts";
import { upstreamSecurity } from "./security.ts";
// Before any client exists: kafkajs's request queues must not spin while idle.
import "./kafkajs_idle_fixes.ts";

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
  const { tls, sasl } = upstreamSecurity(config);
  return new Kafka({
    clientId,
    brokers: config.kafkaBootstrapServers.map((s) => `${s.host}:${s.port}`),
    ssl: tls && {
      ca: tls.caCerts,
      cert: tls.cert,
      key: tls.key,
      rejectUnauthorized: true,
      // Empty KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM: the chain is verified, the host name is not.
      ...(tls.verifyHostname ? {} : { checkServerIdentity: () => undefined }),
    },
    sasl: sasl && kafkajsSasl(sasl),
    logLevel: options.logCreator ? options.level ?? logLevel.WARN : logLevel.NOTHING,
    logCreator: options.logCreator,
    retry: { retries: options.retries ?? 5, initialRetryTime: 200 },
  });
}

/** The gateway's SASL login in kafkajs's terms (it speaks every mechanism kgate supports). */
function kafkajsSasl(sasl: UpstreamSasl): KafkaConfig["sasl"] {
  switch (sasl.mechanism) {
    case "PLAIN":
      return { mechanism: "plain", username: sasl.username, password: sasl.password };
    case "SCRAM-SHA-256":
      return { mechanism: "scram-sha-256", username: sasl.username, password: sasl.password };
    case "SCRAM-SHA-512":
      return { mechanism: "scram-sha-512", username: sasl.username, password: sasl.password };
    case "OAUTHBEARER": {
      const token = sasl.token;
      return {
        mechanism: "oauthbearer",
        oauthBearerProvider: async () => ({ value: await token.current() }),
      };
    }
  }
}

/**
 * Creates `topic` unless it exists; true when this call created it. The gateway's internal topics
 * (audit, members) are created this way, waiting for their leaders.
 */
export async function ensureTopic(admin: Admin, topic: ITopicConfig): Promise<boolean> {
  if ((await admin.listTopics()).includes(topic.topic)) return false;
  return await admin.createTopics({ waitForLeaders: true, topics: [topic] });
}
