/**
 * ShareAcknowledge (API key 79), versions 0-2 (Kafka 3.9/4.0: 0 (early access); 4.1: 1; 4.2+: 1-2).
 * Flexible from v0. `NodeEndpoints` is a regular last top-level field. v2 adds IsRenewAck to the request
 * and AcquisitionLockTimeoutMs to the response. Checked against the schemas of Kafka 3.9.1 and 4.3.1 and
 * against frames captured from a 4.3.1 broker (tests/protocol/fixtures/).
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";
import { leaderIdAndEpochFields, type NodeEndpoint, nodeEndpointFields } from "./common.ts";
import { acknowledgementBatchFields } from "./share_fetch.ts";

/** ShareAcknowledgeRequest v0-2. */
export const ShareAcknowledgeRequest: MessageSpec<Struct> = {
  name: "ShareAcknowledgeRequest",
  apiKey: 79,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "GroupId", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
    { name: "MemberId", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "ShareSessionEpoch", type: "int32", versions: "0+" },
    { name: "IsRenewAck", type: "bool", versions: "2+", default: "false" },
    {
      name: "Topics",
      type: "[]AcknowledgeTopic",
      versions: "0+",
      fields: [
        { name: "TopicId", type: "uuid", versions: "0+" },
        {
          name: "Partitions",
          type: "[]AcknowledgePartition",
          versions: "0+",
          fields: [
            { name: "PartitionIndex", type: "int32", versions: "0+" },
            {
              name: "AcknowledgementBatches",
              type: "[]AcknowledgementBatch",
              versions: "0+",
              fields: acknowledgementBatchFields,
            },
          ],
        },
      ],
    },
  ],
};

/** Decoded ShareAcknowledgeResponse (topic/partition details kept generic). */
export interface ShareAcknowledgeResponseData {
  /** Time the request was throttled, in ms (0 when not throttled). */
  throttleTimeMs: number;
  /** Top-level error code (0 = none). */
  errorCode: number;
  /** Top-level error message, or null. */
  errorMessage: string | null;
  /** v2+. */
  acquisitionLockTimeoutMs: number;
  /** Topics, each with its partition results (generic structs). */
  responses: Struct[];
  /** Regular (not tagged) field. */
  nodeEndpoints: NodeEndpoint[];
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** ShareAcknowledgeResponse v0-2. */
export const ShareAcknowledgeResponse: MessageSpec<ShareAcknowledgeResponseData> = {
  name: "ShareAcknowledgeResponse",
  apiKey: 79,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+", ignorable: true },
    { name: "ErrorCode", type: "int16", versions: "0+", ignorable: true },
    { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
    { name: "AcquisitionLockTimeoutMs", type: "int32", versions: "2+" },
    {
      name: "Responses",
      type: "[]ShareAcknowledgeTopicResponse",
      versions: "0+",
      fields: [
        { name: "TopicId", type: "uuid", versions: "0+", ignorable: true },
        {
          name: "Partitions",
          type: "[]PartitionData",
          versions: "0+",
          fields: [
            { name: "PartitionIndex", type: "int32", versions: "0+" },
            { name: "ErrorCode", type: "int16", versions: "0+" },
            { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
            {
              name: "CurrentLeader",
              type: "LeaderIdAndEpoch",
              versions: "0+",
              fields: leaderIdAndEpochFields("0+", false),
            },
          ],
        },
      ],
    },
    { name: "NodeEndpoints", type: "[]NodeEndpoint", versions: "0+", fields: nodeEndpointFields("0+") },
  ],
};
