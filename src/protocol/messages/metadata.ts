/**
 * Metadata (API key 3), versions 0-13 (Kafka 3.9: 0-12; 4.x: 0-13). Flexible from v9.
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";

/** MetadataRequest v0-13. */
export const MetadataRequest: MessageSpec<Struct> = {
  name: "MetadataRequest",
  apiKey: 3,
  type: "request",
  validVersions: "0-13",
  flexibleVersions: "9+",
  fields: [
    {
      name: "Topics",
      type: "[]MetadataRequestTopic",
      versions: "0+",
      nullableVersions: "1+",
      about: "The topics to fetch metadata for.",
      fields: [
        { name: "TopicId", type: "uuid", versions: "10+", ignorable: true, about: "The topic id." },
        { name: "Name", type: "string", versions: "0+", nullableVersions: "10+", about: "The topic name." },
      ],
    },
    { name: "AllowAutoTopicCreation", type: "bool", versions: "4+", default: "true", ignorable: false },
    { name: "IncludeClusterAuthorizedOperations", type: "bool", versions: "8-10" },
    { name: "IncludeTopicAuthorizedOperations", type: "bool", versions: "8+" },
  ],
};

/** A broker in a Metadata response. */
export interface MetadataResponseBroker {
  /** Broker node id. */
  nodeId: number;
  /** Advertised host name. */
  host: string;
  /** Advertised port. */
  port: number;
  /** Null when unassigned; always null in v0. */
  rack: string | null;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** A partition in a Metadata response. */
export interface MetadataResponsePartition {
  /** Partition error code (0 = none). */
  errorCode: number;
  /** Partition number. */
  partitionIndex: number;
  /** Node id of the leader, or -1 when there is none. */
  leaderId: number;
  /** v7+: leader epoch; -1 before. */
  leaderEpoch: number;
  /** Node ids of the replicas. */
  replicaNodes: number[];
  /** Node ids of the in-sync replicas. */
  isrNodes: number[];
  /** v5+: node ids of offline replicas; empty before. */
  offlineReplicas: number[];
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** A topic in a Metadata response. */
export interface MetadataResponseTopic {
  /** Topic error code (0 = none). */
  errorCode: number;
  /** Nullable from v12 (topics queried by id). */
  name: string | null;
  /** Kafka UUID string (22 chars); `AAAAAAAAAAAAAAAAAAAAAA` before v10. */
  topicId: string;
  /** v1+: true for internal topics such as `__consumer_offsets`; false before. */
  isInternal: boolean;
  /** The topic's partitions. */
  partitions: MetadataResponsePartition[];
  /** v8+: bitfield of the topic operations the client may perform; -2147483648 when not requested. */
  topicAuthorizedOperations: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** Decoded MetadataResponse (every field present; defaults for fields absent in the version). */
export interface MetadataResponseData {
  /** v3+: Time the request was throttled, in ms (0 when not throttled). */
  throttleTimeMs: number;
  /** The live brokers of the cluster. */
  brokers: MetadataResponseBroker[];
  /** v2+; null before. */
  clusterId: string | null;
  /** v1+; -1 before. */
  controllerId: number;
  /** The topics asked for (all topics when the request's topics are null, or `[]` in v0). */
  topics: MetadataResponseTopic[];
  /** v8-10; -2147483648 otherwise. */
  clusterAuthorizedOperations: number;
  /** v13+; 0 before. */
  errorCode: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** MetadataResponse v0-13. */
export const MetadataResponse: MessageSpec<MetadataResponseData> = {
  name: "MetadataResponse",
  apiKey: 3,
  type: "response",
  validVersions: "0-13",
  flexibleVersions: "9+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "3+", ignorable: true },
    {
      name: "Brokers",
      type: "[]MetadataResponseBroker",
      versions: "0+",
      about: "A list of brokers present in the cluster.",
      fields: [
        { name: "NodeId", type: "int32", versions: "0+", about: "The broker ID." },
        { name: "Host", type: "string", versions: "0+", about: "The broker hostname." },
        { name: "Port", type: "int32", versions: "0+", about: "The broker port." },
        {
          name: "Rack",
          type: "string",
          versions: "1+",
          nullableVersions: "1+",
          ignorable: true,
          default: "null",
        },
      ],
    },
    {
      name: "ClusterId",
      type: "string",
      versions: "2+",
      nullableVersions: "2+",
      ignorable: true,
      default: "null",
    },
    { name: "ControllerId", type: "int32", versions: "1+", default: "-1", ignorable: true },
    {
      name: "Topics",
      type: "[]MetadataResponseTopic",
      versions: "0+",
      fields: [
        { name: "ErrorCode", type: "int16", versions: "0+" },
        { name: "Name", type: "string", versions: "0+", nullableVersions: "12+" },
        { name: "TopicId", type: "uuid", versions: "10+", ignorable: true },
        { name: "IsInternal", type: "bool", versions: "1+", default: "false", ignorable: true },
        {
          name: "Partitions",
          type: "[]MetadataResponsePartition",
          versions: "0+",
          fields: [
            { name: "ErrorCode", type: "int16", versions: "0+" },
            { name: "PartitionIndex", type: "int32", versions: "0+" },
            { name: "LeaderId", type: "int32", versions: "0+" },
            { name: "LeaderEpoch", type: "int32", versions: "7+", default: "-1", ignorable: true },
            { name: "ReplicaNodes", type: "[]int32", versions: "0+" },
            { name: "IsrNodes", type: "[]int32", versions: "0+" },
            { name: "OfflineReplicas", type: "[]int32", versions: "5+", ignorable: true },
          ],
        },
        { name: "TopicAuthorizedOperations", type: "int32", versions: "8+", default: "-2147483648" },
      ],
    },
    { name: "ClusterAuthorizedOperations", type: "int32", versions: "8-10", default: "-2147483648" },
    {
      name: "ErrorCode",
      type: "int16",
      versions: "13+",
      ignorable: true,
      about: "The top-level error code.",
    },
  ],
};
