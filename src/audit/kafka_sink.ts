/**
 * Produces audit events to the audit topic with kafkajs (the gateway's own client, never on the data
 * path). The topic is created when missing.
 *
 * @module
 */
import type { Admin, Kafka, Producer } from "kafkajs";
import type { GatewayConfig } from "../config/mod.ts";
import { ensureTopic, gatewayKafkaClient } from "../upstream/gateway_kafka_client.ts";
import { logger } from "../log.ts";
import type { AuditSink, ConnectionAuditEvent } from "./audit_log.ts";

const log = logger("audit");

/** The audit topic of a configuration. */
export function auditTopicName(config: GatewayConfig): string {
  return config.auditTopic ?? `_kgate_${config.clusterId}_auditlogs`;
}

/** An {@link AuditSink} producing JSON events to the audit topic, keyed by node id. */
export class KafkaAuditSink implements AuditSink {
  readonly topic: string;
  readonly #kafka: Kafka;
  #producer: Producer | undefined;
  #ready: Promise<Producer> | undefined;

  constructor(private readonly config: GatewayConfig) {
    this.topic = auditTopicName(config);
    this.#kafka = gatewayKafkaClient(config, `kgate-audit-${config.nodeId}`);
  }

  /** Sends one batch (connecting and creating the topic first if needed). */
  async send(events: readonly ConnectionAuditEvent[]): Promise<void> {
    const producer = await this.#connect();
    await producer.send({
      topic: this.topic,
      acks: -1,
      messages: events.map((event) => ({ key: event.nodeId, value: JSON.stringify(event) })),
    });
  }

  /** Disconnects. */
  async close(): Promise<void> {
    await this.#producer?.disconnect().catch(() => {});
  }

  #connect(): Promise<Producer> {
    this.#ready ??= (async () => {
      await this.#ensureTopic();
      const producer = this.#kafka.producer({ allowAutoTopicCreation: false });
      await producer.connect();
      this.#producer = producer;
      return producer;
    })();
    this.#ready.catch(() => this.#ready = undefined);
    return this.#ready;
  }

  async #ensureTopic(): Promise<void> {
    const admin: Admin = this.#kafka.admin();
    await admin.connect();
    try {
      const created = await ensureTopic(admin, {
        topic: this.topic,
        numPartitions: 3,
        replicationFactor: this.config.auditTopicReplicationFactor,
      });
      if (created) log.info("created the audit topic {topic}", { topic: this.topic });
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
}
