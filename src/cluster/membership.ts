/**
 * Cluster membership through Kafka: every node of a gateway cluster joins one consumer group on an
 * internal topic, publishing its identity in its group-protocol metadata. Describing the group (after
 * every rebalance and a few times a second, over one kept connection to the coordinator) yields the live
 * nodes; the view is swapped atomically. The members topic is never read.
 *
 * No coordinator of kgate's own: the group coordinator (a broker) decides who is alive. A node that
 * leaves (SIGTERM) is gone at once; one that dies is gone when its session times out.
 *
 * @module
 */
import { Buffer } from "node:buffer";
import {
  type Admin,
  AssignerProtocol,
  type Consumer,
  type Kafka,
  type LogEntry,
  logLevel,
  type PartitionAssigner,
} from "kafkajs";
import type { GatewayConfig } from "../config/mod.ts";
import { logger } from "../log.ts";
import { ensureTopic, gatewayKafkaClient } from "../upstream/gateway_kafka_client.ts";
import { settleWithin, sleep } from "../lib/deadline.ts";
import { decodeMemberIdentity, encodeMemberIdentity, type MemberIdentity } from "./member_identity.ts";
import { type DescribedMember, GroupDescriber } from "./group_describer.ts";

const log = logger("cluster");

/** Name of the group protocol (partition assigner) the gateway nodes use. */
export const MEMBERSHIP_PROTOCOL = "kgate-members";

/** A live node: its identity and its member id in the group. */
export interface GatewayMember extends MemberIdentity {
  /** The consumer-group member id. */
  memberId: string;
}

/** The cluster as one node sees it. Replaced as a whole, never mutated. */
export interface MembershipView {
  /** Live nodes, sorted by id, one per node id. */
  readonly members: readonly GatewayMember[];
  /** Group generation of the last join of this node, or null before the first. */
  readonly generation: number | null;
  /** When the member list last changed, or null. */
  readonly lastChange: Date | null;
  /** This node is a member of the group now. */
  readonly joined: boolean;
  /** When the group was last described successfully, or null. */
  readonly lastSeen: Date | null;
  /** Why the last description or join failed, or null. */
  readonly lastError: string | null;
  /** Since when every attempt to describe or join the group has failed, or null. */
  readonly unreachableSince: Date | null;
}

/** The group and topic of a configuration. */
export function membershipNames(config: GatewayConfig): { groupId: string; topic: string } {
  return {
    groupId: config.groupId ?? `_kgate_${config.clusterId}`,
    topic: config.membersTopic ?? `_kgate_${config.clusterId}_members`,
  };
}

/** Options of {@link GroupMembership}. */
export interface MembershipOptions {
  /** How often the group is described besides after each join (default 500 ms). */
  refreshMs?: number;
  /** Called with every new view. */
  onChange?(view: MembershipView): void;
}

/** A failure to reach the group is logged (and shown in the view) once it has lasted this long. */
const UNREACHABLE_LOG_AFTER_MS = 2000;

const EMPTY: MembershipView = {
  members: [],
  generation: null,
  lastChange: null,
  joined: false,
  lastSeen: null,
  lastError: null,
  unreachableSince: null,
};

/**
 * One node's membership in its gateway cluster.
 *
 * @example
 * ```ts
 * const membership = new GroupMembership(config, () => identityWithoutJoinTime);
 * membership.start();
 * membership.view().members; // the live nodes
 * await membership.leave();
 * ```
 */
export class GroupMembership {
  /** The consumer group of the gateway cluster. */
  readonly groupId: string;
  /** The internal topic the group subscribes to. */
  readonly topic: string;
  #view: MembershipView = EMPTY;
  readonly #kafka: Kafka;
  readonly #refreshMs: number;
  readonly #describer: GroupDescriber;
  /** Only to create the members topic at start; disconnected once it exists. */
  #admin: Admin | undefined;
  #consumer: Consumer | undefined;
  #memberId: string | null = null;
  /** Identities by member id, from the last descriptions that carried metadata. */
  #known = new Map<string, GatewayMember>();
  #joinedAt: string | null = null;
  #duplicateIds = new Set<string>();
  #stopped = false;
  /** Aborted by {@link GroupMembership.leave}: ends a backoff pause at once. */
  readonly #leaving = new AbortController();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #describing: Promise<void> | undefined;
  #unreachableSince: number | null = null;
  #unreachableLogged = false;
  #restartTimer: ReturnType<typeof setTimeout> | undefined;

  /**
   * A membership that has not joined yet; {@link GroupMembership.start} joins.
   *
   * @param config the node's configuration (group, topic, session and heartbeat settings, credentials)
   * @param identity what this node publishes; read at every (re)join
   * @param options refresh period and a view listener
   */
  constructor(
    private readonly config: GatewayConfig,
    private readonly identity: () => Omit<MemberIdentity, "joinedAt">,
    private readonly options: MembershipOptions = {},
  ) {
    ({ groupId: this.groupId, topic: this.topic } = membershipNames(config));
    this.#refreshMs = options.refreshMs ?? 500;
    const logCreator = () => (entry: LogEntry) => this.#onKafkaLog(entry);
    this.#describer = new GroupDescriber(config, this.groupId, `kgate-members-${config.nodeId}`);
    this.#kafka = gatewayKafkaClient(config, `kgate-members-${config.nodeId}`, {
      logCreator,
      level: logLevel.DEBUG,
      // The view is re-read every 500 ms: fail fast and let the next round retry.
      retries: 1,
    });
  }

  /** The current view. */
  view(): MembershipView {
    return this.#view;
  }

  /** Joins the group and keeps the view current, in the background; failures are logged and retried. */
  start(): void {
    this.#run().catch((error) => log.error("membership stopped: {error}", { error }));
  }

  /** Leaves the group (the other nodes drop this one at once) and stops refreshing the view. */
  async leave(timeoutMs = 3000): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#leaving.abort();
    clearTimeout(this.#timer);
    clearTimeout(this.#restartTimer);
    await settleWithin(this.#disconnect(), AbortSignal.timeout(timeoutMs));
    this.#setView({ ...this.#view, joined: false });
    log.info("left the gateway group {group}", { group: this.groupId });
  }

  /** Leaves the group (kafkajs sends LeaveGroup on disconnect) and drops the other connections. */
  async #disconnect(): Promise<void> {
    await this.#consumer?.disconnect().catch((error) =>
      log.warn("leaving the group failed: {error}", { error })
    );
    await this.#describing?.catch(() => {});
    this.#describer.close();
    await this.#dropAdmin();
  }

  async #run(): Promise<void> {
    let backoffMs = 500;
    while (!this.#stopped) {
      try {
        await this.#ensureTopic();
        break;
      } catch (error) {
        this.#failed(error);
        await this.#dropAdmin();
        await sleep(backoffMs, this.#leaving.signal);
        backoffMs = Math.min(backoffMs * 2, 10_000);
      }
    }
    // The admin client's connections would otherwise stay open (and checked) for the node's life.
    await this.#dropAdmin();
    if (this.#stopped) return;
    await this.#startConsumer();
    this.#scheduleDescribe(0);
  }

  async #ensureTopic(): Promise<void> {
    const created = await ensureTopic(await this.#adminClient(), {
      topic: this.topic,
      numPartitions: 1,
      replicationFactor: this.config.membersTopicReplicationFactor,
      configEntries: [{ name: "cleanup.policy", value: "compact" }],
    });
    if (created) log.info("created the members topic {topic}", { topic: this.topic });
  }

  /** The next attempt starts from a fresh admin client (its connections may point at a restarted broker). */
  async #dropAdmin(): Promise<void> {
    const admin = this.#admin;
    this.#admin = undefined;
    await admin?.disconnect().catch(() => {});
  }

  async #adminClient(): Promise<Admin> {
    if (!this.#admin) {
      const admin = this.#kafka.admin();
      await admin.connect();
      this.#admin = admin;
    }
    return this.#admin;
  }

  async #startConsumer(): Promise<void> {
    if (this.#stopped) return;
    const consumer = this.#kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.config.groupSessionTimeoutMs,
      heartbeatInterval: this.config.groupHeartbeatIntervalMs,
      // A member that does not rejoin within a session is dropped instead of stalling the rebalance.
      rebalanceTimeout: this.config.groupSessionTimeoutMs,
      // kafkajs heartbeats between fetches: short fetch waits keep heartbeats (and rebalances) prompt.
      maxWaitTimeInMs: Math.min(500, this.config.groupHeartbeatIntervalMs),
      allowAutoTopicCreation: false,
      partitionAssigners: [this.#assigner()],
      retry: { retries: 10, initialRetryTime: 300, maxRetryTime: 5000 },
    });
    this.#consumer = consumer;
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      this.#memberId = payload.memberId;
      // The members topic is never read (the group is the membership): the member given its partition
      // would otherwise send a Fetch every maxWaitTimeInMs forever. Paused, kafkajs only sleeps between
      // heartbeats. Set at every join: a consumer kafkajs restarts after a crash starts unpaused.
      consumer.pause([{ topic: this.topic }]);
      this.#scheduleDescribe(0);
    });
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      this.#failed(payload.error);
      if (!payload.restart) this.#restartConsumer(consumer);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [this.topic], fromBeginning: false });
      await consumer.run({ autoCommit: false, eachMessage: async () => {} });
    } catch (error) {
      this.#failed(error);
      this.#restartConsumer(consumer);
    }
  }

  /** kafkajs gave up (non-retriable error): start a fresh consumer after a pause. */
  #restartConsumer(consumer: Consumer): void {
    if (this.#stopped) return;
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(async () => {
      await consumer.disconnect().catch(() => {});
      if (this.#consumer === consumer) await this.#startConsumer();
    }, 2000);
  }

  /** The group protocol: publishes this node's identity; the leader gives the single partition to one member. */
  #assigner(): PartitionAssigner {
    return () => ({
      name: MEMBERSHIP_PROTOCOL,
      version: 1,
      protocol: ({ topics }) => {
        this.#joinedAt ??= new Date().toISOString();
        const identity = encodeMemberIdentity({ ...this.identity(), joinedAt: this.#joinedAt });
        return {
          name: MEMBERSHIP_PROTOCOL,
          metadata: AssignerProtocol.MemberMetadata.encode({
            version: 1,
            topics,
            userData: Buffer.from(identity),
          }),
        };
      },
      assign: ({ members, topics }) => {
        const ids = members.map((m) => m.memberId).sort();
        return Promise.resolve(ids.map((memberId, index) => ({
          memberId,
          memberAssignment: AssignerProtocol.MemberAssignment.encode({
            version: 1,
            assignment: index === 0 ? Object.fromEntries(topics.map((t) => [t, [0]])) : {},
            userData: Buffer.alloc(0),
          }),
        })));
      },
    });
  }

  #scheduleDescribe(delayMs: number): void {
    if (this.#stopped) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#describing = this.#describe().finally(() => this.#scheduleDescribe(this.#refreshMs));
    }, delayMs);
  }

  async #describe(): Promise<void> {
    let group;
    try {
      group = await this.#describer.describe();
    } catch (error) {
      this.#failed(error);
      return;
    }
    if (this.#stopped) return;
    if (this.#unreachableLogged) {
      log.info("the gateway group {group} is reachable again", { group: this.groupId });
    }
    this.#unreachableSince = null;
    this.#unreachableLogged = false;
    const present = this.#learnMembers(group.members);
    const members = this.#newestPerNode();
    const joined = this.#memberId !== null && present.has(this.#memberId);
    const changed = membersKey(members) !== membersKey(this.#view.members);
    this.#setView({
      members: changed ? members : this.#view.members,
      generation: this.#view.generation,
      lastChange: changed ? new Date() : this.#view.lastChange,
      joined,
      lastSeen: new Date(),
      lastError: null,
      unreachableSince: null,
    });
    if (changed) {
      log.info("gateway cluster: {count} node(s) {nodes}", {
        count: members.length,
        nodes: members.map((m) => m.id).join(", "),
      });
    }
  }

  /**
   * Decodes the identities of members not seen before and forgets those gone; returns the member ids
   * present. Only a stable group's description carries metadata; during a rebalance the ids alone
   * still tell who left.
   */
  #learnMembers(described: readonly DescribedMember[]): Set<string> {
    const present = new Set<string>();
    for (const member of described) {
      present.add(member.memberId);
      if (member.memberMetadata && member.memberMetadata.length > 0 && !this.#known.has(member.memberId)) {
        try {
          const metadata = member.memberMetadata;
          const { userData } = AssignerProtocol.MemberMetadata.decode(
            Buffer.from(metadata.buffer, metadata.byteOffset, metadata.byteLength),
          )!;
          this.#known.set(member.memberId, { ...decodeMemberIdentity(userData), memberId: member.memberId });
        } catch (error) {
          log.warn("ignoring group member {member} ({client}): {error}", {
            member: member.memberId,
            client: member.clientId,
            error: (error as Error).message,
          });
        }
      }
    }
    for (const memberId of [...this.#known.keys()]) if (!present.has(memberId)) this.#known.delete(memberId);
    return present;
  }

  /**
   * The known members, one per node id, sorted by id. A node restarted with the same id may overlap its
   * old, not yet expired member: the newest counts.
   */
  #newestPerNode(): GatewayMember[] {
    const byNode = new Map<string, GatewayMember>();
    for (const member of this.#known.values()) {
      const seen = byNode.get(member.id);
      if (seen && !this.#duplicateIds.has(member.id)) {
        this.#duplicateIds.add(member.id);
        log.info(
          "node id {id} is in the group twice (a restarted node whose old member has not expired yet, or two nodes with the same GATEWAY_NODE_ID): counting the newest",
          { id: member.id },
        );
      }
      if (!seen || seen.joinedAt < member.joinedAt) byNode.set(member.id, member);
    }
    return [...byNode.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  #setView(view: MembershipView): void {
    this.#view = view;
    this.options.onChange?.(view);
  }

  #failed(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    this.#unreachableSince ??= Date.now();
    // Brief hiccups (a coordinator loading, a leader moving) are retried quietly.
    if (!this.#unreachableLogged && Date.now() - this.#unreachableSince >= UNREACHABLE_LOG_AFTER_MS) {
      this.#unreachableLogged = true;
      log.warn(
        "cannot reach the gateway group {group}: {error}; serving with the last known view of {count} node(s)",
        { group: this.groupId, error: message, count: this.#view.members.length },
      );
    }
    this.#setView({
      ...this.#view,
      lastError: message,
      unreachableSince: new Date(this.#unreachableSince),
    });
  }

  /** kafkajs's own log: the group generation comes from it; errors are passed on. */
  #onKafkaLog(entry: LogEntry): void {
    const generation = entry.log.generationId;
    if (entry.namespace === "ConsumerGroup" && typeof generation === "number" && generation >= 0) {
      if (entry.log.message === "Received assignment" && generation !== this.#view.generation) {
        this.#setView({ ...this.#view, generation });
        this.#scheduleDescribe(0);
      }
    }
    if (entry.level === logLevel.ERROR && !this.#stopped) {
      log.debug("kafkajs {namespace}: {message} {error}", {
        namespace: entry.namespace,
        message: entry.log.message,
        error: entry.log.error ?? "",
      });
    }
  }
}

function membersKey(members: readonly GatewayMember[]): string {
  return JSON.stringify(members);
}
