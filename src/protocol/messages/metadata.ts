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
  nodeId: number;
  host: string;
  port: number;
  /** Null when unassigned; always null in v0. */
  rack: string | null;
  _unknownTaggedFields?: RawTaggedField[];
}

/** A partition in a Metadata response. */
export interface MetadataResponsePartition {
  errorCode: number;
  partitionIndex: number;
  leaderId: number;
  leaderEpoch: number;
  replicaNodes: number[];
  isrNodes: number[];
  offlineReplicas: number[];
  _unknownTaggedFields?: RawTaggedField[];
}

/** A topic in a Metadata response. */
export interface MetadataResponseTopic {
  errorCode: number;
  /** Nullable from v12 (topics queried by id). */
  name: string | null;
  /** Kafka UUID string (22 chars); `AAAAAAAAAAAAAAAAAAAAAA` before v10. */
  topicId: string;
  isInternal: boolean;
  partitions: MetadataResponsePartition[];
  topicAuthorizedOperations: number;
  _unknownTaggedFields?: RawTaggedField[];
}

/** Decoded MetadataResponse (every field present; defaults for fields absent in the version). */
export interface MetadataResponseData {
  throttleTimeMs: number;
  brokers: MetadataResponseBroker[];
  /** v2+; null before. */
  clusterId: string | null;
  /** v1+; -1 before. */
  controllerId: number;
  topics: MetadataResponseTopic[];
  /** v8-10; -2147483648 otherwise. */
  clusterAuthorizedOperations: number;
  /** v13+; 0 before. */
  errorCode: number;
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
