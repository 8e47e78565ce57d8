/**
 * Fetch (API key 1), versions 0-18 (Kafka 3.9: 0-17; 4.0: 4-17; 4.1+: 4-18, v0-3 still parsed).
 * Flexible from v12. v16+ responses carry `NodeEndpoints` as top-level tagged field 0; partitions carry
 * tagged `DivergingEpoch` (0), `CurrentLeader` (1) and `SnapshotId` (2). Records stay opaque bytes.
 * (Apache Kafka trunk also defines a v19 with MirrorLeaderEpoch; it is not part of any release covered
 * here, so it is not declared.)
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";
import { leaderIdAndEpochFields, type NodeEndpoint, nodeEndpointFields } from "./common.ts";

/** FetchRequest v0-18. */
export const FetchRequest: MessageSpec<Struct> = {
  name: "FetchRequest",
  apiKey: 1,
  type: "request",
  validVersions: "0-18",
  flexibleVersions: "12+",
  fields: [
    {
      name: "ClusterId",
      type: "string",
      versions: "12+",
      nullableVersions: "12+",
      default: "null",
      taggedVersions: "12+",
      tag: 0,
      ignorable: true,
    },
    { name: "ReplicaId", type: "int32", versions: "0-14", default: "-1" },
    {
      name: "ReplicaState",
      type: "ReplicaState",
      versions: "15+",
      taggedVersions: "15+",
      tag: 1,
      fields: [
        { name: "ReplicaId", type: "int32", versions: "15+", default: "-1" },
        { name: "ReplicaEpoch", type: "int64", versions: "15+", default: "-1" },
      ],
    },
    { name: "MaxWaitMs", type: "int32", versions: "0+" },
    { name: "MinBytes", type: "int32", versions: "0+" },
    { name: "MaxBytes", type: "int32", versions: "3+", default: "0x7fffffff", ignorable: true },
    { name: "IsolationLevel", type: "int8", versions: "4+", default: "0", ignorable: true },
    { name: "SessionId", type: "int32", versions: "7+", default: "0", ignorable: true },
    { name: "SessionEpoch", type: "int32", versions: "7+", default: "-1", ignorable: true },
    {
      name: "Topics",
      type: "[]FetchTopic",
      versions: "0+",
      fields: [
        { name: "Topic", type: "string", versions: "0-12", ignorable: true },
        { name: "TopicId", type: "uuid", versions: "13+", ignorable: true },
        {
          name: "Partitions",
          type: "[]FetchPartition",
          versions: "0+",
          fields: [
            { name: "Partition", type: "int32", versions: "0+" },
            { name: "CurrentLeaderEpoch", type: "int32", versions: "9+", default: "-1", ignorable: true },
            { name: "FetchOffset", type: "int64", versions: "0+" },
            { name: "LastFetchedEpoch", type: "int32", versions: "12+", default: "-1", ignorable: false },
            { name: "LogStartOffset", type: "int64", versions: "5+", default: "-1", ignorable: true },
            { name: "PartitionMaxBytes", type: "int32", versions: "0+" },
            {
              name: "ReplicaDirectoryId",
              type: "uuid",
              versions: "17+",
              taggedVersions: "17+",
              tag: 0,
              ignorable: true,
            },
            {
              name: "HighWatermark",
              type: "int64",
              versions: "18+",
              default: "9223372036854775807",
              taggedVersions: "18+",
              tag: 1,
              ignorable: true,
            },
          ],
        },
      ],
    },
    {
      name: "ForgottenTopicsData",
      type: "[]ForgottenTopic",
      versions: "7+",
      ignorable: false,
      fields: [
        { name: "Topic", type: "string", versions: "7-12", ignorable: true },
        { name: "TopicId", type: "uuid", versions: "13+", ignorable: true },
        { name: "Partitions", type: "[]int32", versions: "7+" },
      ],
    },
    { name: "RackId", type: "string", versions: "11+", default: "", ignorable: true },
  ],
};

/** Decoded FetchResponse (topic/partition details kept generic). */
export interface FetchResponseData {
  /** v1+: Time the request was throttled, in ms (0 when not throttled). */
  throttleTimeMs: number;
  /** v7+: top-level error code (0 = none). */
  errorCode: number;
  /** v7+: fetch session id; 0 for a sessionless fetch. */
  sessionId: number;
  /** Topics, each with its partitions (generic structs, records as opaque bytes). */
  responses: Struct[];
  /** Tagged field 0, v16+; empty when absent. */
  nodeEndpoints: NodeEndpoint[];
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** FetchResponse v0-18. */
export const FetchResponse: MessageSpec<FetchResponseData> = {
  name: "FetchResponse",
  apiKey: 1,
  type: "response",
  validVersions: "0-18",
  flexibleVersions: "12+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+", ignorable: true },
    { name: "ErrorCode", type: "int16", versions: "7+", ignorable: true },
    { name: "SessionId", type: "int32", versions: "7+", default: "0", ignorable: false },
    {
      name: "Responses",
      type: "[]FetchableTopicResponse",
      versions: "0+",
      fields: [
        { name: "Topic", type: "string", versions: "0-12", ignorable: true },
        { name: "TopicId", type: "uuid", versions: "13+", ignorable: true },
        {
          name: "Partitions",
          type: "[]PartitionData",
          versions: "0+",
          fields: [
            { name: "PartitionIndex", type: "int32", versions: "0+" },
            { name: "ErrorCode", type: "int16", versions: "0+" },
            { name: "HighWatermark", type: "int64", versions: "0+" },
            { name: "LastStableOffset", type: "int64", versions: "4+", default: "-1", ignorable: true },
            { name: "LogStartOffset", type: "int64", versions: "5+", default: "-1", ignorable: true },
            {
              name: "DivergingEpoch",
              type: "EpochEndOffset",
              versions: "12+",
              taggedVersions: "12+",
              tag: 0,
              fields: [
                { name: "Epoch", type: "int32", versions: "12+", default: "-1" },
                { name: "EndOffset", type: "int64", versions: "12+", default: "-1" },
              ],
            },
            {
              name: "CurrentLeader",
              type: "LeaderIdAndEpoch",
              versions: "12+",
              taggedVersions: "12+",
              tag: 1,
              fields: leaderIdAndEpochFields("12+", true),
            },
            {
              name: "SnapshotId",
              type: "SnapshotId",
              versions: "12+",
              taggedVersions: "12+",
              tag: 2,
              fields: [
                { name: "EndOffset", type: "int64", versions: "0+", default: "-1" },
                { name: "Epoch", type: "int32", versions: "0+", default: "-1" },
              ],
            },
            {
              name: "AbortedTransactions",
              type: "[]AbortedTransaction",
              versions: "4+",
              nullableVersions: "4+",
              ignorable: true,
              fields: [
                { name: "ProducerId", type: "int64", versions: "4+" },
                { name: "FirstOffset", type: "int64", versions: "4+" },
              ],
            },
            { name: "PreferredReadReplica", type: "int32", versions: "11+", default: "-1", ignorable: false },
            { name: "Records", type: "records", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
    {
      name: "NodeEndpoints",
      type: "[]NodeEndpoint",
      versions: "16+",
      taggedVersions: "16+",
      tag: 0,
      about: "Endpoints for all current leaders enumerated in PartitionData.",
      fields: nodeEndpointFields("16+"),
    },
  ],
};
