/**
 * Describes the gateway's consumer group over one kept connection to the group's coordinator:
 * FindCoordinator once, then one DescribeGroups request per call. The membership view is re-read twice a
 * second, so each refresh must cost one small request, not a new coordinator lookup (kafkajs's admin
 * sends FindCoordinator and DescribeGroups every time).
 *
 * @module
 */
import type { GatewayConfig } from "../config/mod.ts";
import { ApiKey } from "../protocol/mod.ts";
import {
  DescribeGroupsRequest,
  DescribeGroupsResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
} from "../protocol/generated/messages.ts";
import { UpstreamClient, UpstreamError } from "../upstream/kafka_client.ts";
import { upstreamSecurity } from "../upstream/security.ts";

/** A member of a described group. */
export interface DescribedMember {
  /** The consumer-group member id. */
  memberId: string;
  /** The client id of its last JoinGroup. */
  clientId: string;
  /** Its metadata for the group protocol (empty while the group rebalances). */
  memberMetadata: Uint8Array;
}

/** A group as its coordinator describes it. */
export interface GroupDescription {
  /** `Stable`, `PreparingRebalance`, `CompletingRebalance`, `Empty` or `Dead`. */
  state: string;
  /** The members. */
  members: DescribedMember[];
}

/** Highest versions asked with (both exist since Kafka 2.x; FindCoordinator v4 batches keys). */
const FIND_COORDINATOR_VERSION = 4;
const DESCRIBE_GROUPS_VERSION = 5;

/**
 * One group's describer. Any failure drops the connection; the next call looks the coordinator up again
 * (it may have moved).
 *
 * @example
 * ```ts
 * const describer = new GroupDescriber(config, "_kgate_prod", "kgate-members-1");
 * const { state, members } = await describer.describe();
 * describer.close();
 * ```
 */
export class GroupDescriber {
  #coordinator: UpstreamClient | undefined;
  #nextBootstrap = 0;

  /**
   * @param config bootstrap servers, credentials and the request timeout (`upstreamConnectTimeoutMs`)
   * @param groupId the group to describe
   * @param clientId the client id of the requests
   */
  constructor(
    private readonly config: GatewayConfig,
    readonly groupId: string,
    private readonly clientId: string,
  ) {}

  /** The group as its coordinator sees it now. */
  async describe(): Promise<GroupDescription> {
    const client = this.#coordinator ??= await this.#connectCoordinator();
    try {
      const version = Math.min(
        DESCRIBE_GROUPS_VERSION,
        client.apiVersions.get(ApiKey.DescribeGroups)?.max ?? 0,
      );
      const { groups: [group] } = await client.call(DescribeGroupsRequest, DescribeGroupsResponse, version, {
        groups: [this.groupId],
        includeAuthorizedOperations: false,
      });
      if (!group) throw new UpstreamError(`DescribeGroups answered without the group ${this.groupId}`);
      if (group.errorCode !== 0) {
        throw new UpstreamError(
          `DescribeGroups ${this.groupId} failed with error ${group.errorCode}${
            group.errorMessage ? ` (${group.errorMessage})` : ""
          }`,
        );
      }
      return { state: group.groupState, members: group.members };
    } catch (error) {
      this.close();
      throw error;
    }
  }

  /** Closes the connection to the coordinator (the next {@link describe} opens one again). */
  close(): void {
    this.#coordinator?.close();
    this.#coordinator = undefined;
  }

  /** Asks the bootstrap servers in turn for the coordinator, then connects to it. */
  async #connectCoordinator(): Promise<UpstreamClient> {
    const servers = this.config.kafkaBootstrapServers;
    const errors: string[] = [];
    for (let i = 0; i < servers.length; i++) {
      const server = servers[this.#nextBootstrap++ % servers.length];
      let client: UpstreamClient | undefined;
      try {
        client = await this.#connect(server.host, server.port);
        const coordinator = await this.#findCoordinator(client);
        if (coordinator.host === server.host && coordinator.port === server.port) return client;
        client.close();
        client = undefined;
        return await this.#connect(coordinator.host, coordinator.port);
      } catch (error) {
        client?.close();
        errors.push(`${server.host}:${server.port}: ${(error as Error).message}`);
      }
    }
    throw new UpstreamError(`cannot find the coordinator of ${this.groupId}: ${errors.join("; ")}`);
  }

  #connect(host: string, port: number): Promise<UpstreamClient> {
    return UpstreamClient.connect(host, port, {
      clientId: this.clientId,
      timeoutMs: this.config.upstreamConnectTimeoutMs,
      ...upstreamSecurity(this.config),
    });
  }

  async #findCoordinator(client: UpstreamClient): Promise<{ host: string; port: number }> {
    const version = Math.min(
      FIND_COORDINATOR_VERSION,
      client.apiVersions.get(ApiKey.FindCoordinator)?.max ?? 0,
    );
    const res = await client.call(FindCoordinatorRequest, FindCoordinatorResponse, version, {
      key: this.groupId,
      keyType: 0,
      coordinatorKeys: [this.groupId],
    });
    const found = version >= 4 ? res.coordinators[0] : res;
    if (!found) throw new UpstreamError("FindCoordinator answered without a coordinator");
    if (found.errorCode !== 0) {
      throw new UpstreamError(
        `FindCoordinator failed with error ${found.errorCode}${
          found.errorMessage ? ` (${found.errorMessage})` : ""
        }`,
      );
    }
    return { host: found.host, port: found.port };
  }
}
