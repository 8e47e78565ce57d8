/**
 * Produce (API key 0), versions 0-13 (Kafka 3.9: 0-11; 4.0: 3-12; 4.1+: 3-13, v0-2 still parsed).
 * Flexible from v9. v10+ responses carry `NodeEndpoints` as top-level tagged field 0 and
 * `CurrentLeader` as per-partition tagged field 0. v13 replaces topic names with topic ids (KIP-516).
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";
import { leaderIdAndEpochFields, type NodeEndpoint, nodeEndpointFields } from "./common.ts";

/** ProduceRequest v0-13. Record data stays opaque bytes. */
export const ProduceRequest: MessageSpec<Struct> = {
  name: "ProduceRequest",
  apiKey: 0,
  type: "request",
  validVersions: "0-13",
  flexibleVersions: "9+",
  fields: [
    { name: "TransactionalId", type: "string", versions: "3+", nullableVersions: "3+", default: "null" },
    { name: "Acks", type: "int16", versions: "0+", about: "0, 1 or -1 (all)." },
    { name: "TimeoutMs", type: "int32", versions: "0+" },
    {
      name: "TopicData",
      type: "[]TopicProduceData",
      versions: "0+",
      fields: [
        { name: "Name", type: "string", versions: "0-12", ignorable: true },
        { name: "TopicId", type: "uuid", versions: "13+", ignorable: true },
        {
          name: "PartitionData",
          type: "[]PartitionProduceData",
          versions: "0+",
          fields: [
            { name: "Index", type: "int32", versions: "0+" },
            { name: "Records", type: "records", versions: "0+", nullableVersions: "0+" },
          ],
        },
      ],
    },
  ],
};

/** Decoded ProduceResponse (partition details kept generic). */
export interface ProduceResponseData {
  /** Topics, each with its partition results (generic structs; v10+ partitions may carry `currentLeader`). */
  responses: Struct[];
  /** v1+: Time the request was throttled, in ms (0 when not throttled). */
  throttleTimeMs: number;
  /** Tagged field 0, v10+; empty when absent. */
  nodeEndpoints: NodeEndpoint[];
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** ProduceResponse v0-13. */
export const ProduceResponse: MessageSpec<ProduceResponseData> = {
  name: "ProduceResponse",
  apiKey: 0,
  type: "response",
  validVersions: "0-13",
  flexibleVersions: "9+",
  fields: [
    {
      name: "Responses",
      type: "[]TopicProduceResponse",
      versions: "0+",
      fields: [
        { name: "Name", type: "string", versions: "0-12", ignorable: true },
        { name: "TopicId", type: "uuid", versions: "13+", ignorable: true },
        {
          name: "PartitionResponses",
          type: "[]PartitionProduceResponse",
          versions: "0+",
          fields: [
            { name: "Index", type: "int32", versions: "0+" },
            { name: "ErrorCode", type: "int16", versions: "0+" },
            { name: "BaseOffset", type: "int64", versions: "0+" },
            { name: "LogAppendTimeMs", type: "int64", versions: "2+", default: "-1", ignorable: true },
            { name: "LogStartOffset", type: "int64", versions: "5+", default: "-1", ignorable: true },
            {
              name: "RecordErrors",
              type: "[]BatchIndexAndErrorMessage",
              versions: "8+",
              ignorable: true,
              fields: [
                { name: "BatchIndex", type: "int32", versions: "8+" },
                {
                  name: "BatchIndexErrorMessage",
                  type: "string",
                  versions: "8+",
                  nullableVersions: "8+",
                  default: "null",
                },
              ],
            },
            {
              name: "ErrorMessage",
              type: "string",
              versions: "8+",
              nullableVersions: "8+",
              default: "null",
              ignorable: true,
            },
            {
              name: "CurrentLeader",
              type: "LeaderIdAndEpoch",
              versions: "10+",
              taggedVersions: "10+",
              tag: 0,
              fields: leaderIdAndEpochFields("10+", true),
            },
          ],
        },
      ],
    },
    { name: "ThrottleTimeMs", type: "int32", versions: "1+", ignorable: true, default: "0" },
    {
      name: "NodeEndpoints",
      type: "[]NodeEndpoint",
      versions: "10+",
      taggedVersions: "10+",
      tag: 0,
      about: "Endpoints for all current leaders enumerated in PartitionProduceResponses.",
      fields: nodeEndpointFields("10+"),
    },
  ],
};
