/**
 * ShareFetch (API key 78), versions 0-2 (Kafka 3.9/4.0: 0 (early access); 4.1: 1; 4.2+: 1-2). Flexible
 * from v0. `NodeEndpoints` is a regular last top-level field. v1 adds MaxRecords, BatchSize and
 * AcquisitionLockTimeoutMs and drops PartitionMaxBytes; v2 adds ShareAcquireMode and IsRenewAck. All
 * three versions match the schemas of Kafka 3.9.1 (v0) and 4.3.1 (v1-2), and v1-2 decode and re-encode
 * frames captured from a 4.3.1 broker byte for byte (tests/protocol/fixtures/).
 *
 * Kafka declares the response's `Records` non-nullable; like Fetch, the codec accepts null there too.
 *
 * @module
 */

import type { FieldSpec, MessageSpec, RawTaggedField, Struct } from "../schema.ts";
import { leaderIdAndEpochFields, type NodeEndpoint, nodeEndpointFields } from "./common.ts";

/** `AcknowledgementBatch` (shared with ShareAcknowledge). */
export const acknowledgementBatchFields: FieldSpec[] = [
  {
    name: "FirstOffset",
    type: "int64",
    versions: "0+",
    about: "First offset of batch of records to acknowledge.",
  },
  { name: "LastOffset", type: "int64", versions: "0+", about: "Last offset (inclusive) of the batch." },
  {
    name: "AcknowledgeTypes",
    type: "[]int8",
    versions: "0+",
    about: "0:Gap,1:Accept,2:Release,3:Reject,4:Renew.",
  },
];

/** ShareFetchRequest v0-2. */
export const ShareFetchRequest: MessageSpec<Struct> = {
  name: "ShareFetchRequest",
  apiKey: 78,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "GroupId", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
    { name: "MemberId", type: "string", versions: "0+", nullableVersions: "0+" },
    { name: "ShareSessionEpoch", type: "int32", versions: "0+" },
    { name: "MaxWaitMs", type: "int32", versions: "0+" },
    { name: "MinBytes", type: "int32", versions: "0+" },
    { name: "MaxBytes", type: "int32", versions: "0+", default: "0x7fffffff" },
    { name: "MaxRecords", type: "int32", versions: "1+" },
    { name: "BatchSize", type: "int32", versions: "1+" },
    { name: "ShareAcquireMode", type: "int8", versions: "2+", default: "0" },
    { name: "IsRenewAck", type: "bool", versions: "2+", default: "false" },
    {
      name: "Topics",
      type: "[]FetchTopic",
      versions: "0+",
      fields: [
        { name: "TopicId", type: "uuid", versions: "0+" },
        {
          name: "Partitions",
          type: "[]FetchPartition",
          versions: "0+",
          fields: [
            { name: "PartitionIndex", type: "int32", versions: "0+" },
            { name: "PartitionMaxBytes", type: "int32", versions: "0" },
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
    {
      name: "ForgottenTopicsData",
      type: "[]ForgottenTopic",
      versions: "0+",
      fields: [
        { name: "TopicId", type: "uuid", versions: "0+" },
        { name: "Partitions", type: "[]int32", versions: "0+" },
      ],
    },
  ],
};

/** Decoded ShareFetchResponse (topic/partition details kept generic). */
export interface ShareFetchResponseData {
  /** Time the request was throttled, in ms (0 when not throttled). */
  throttleTimeMs: number;
  /** Top-level error code (0 = none). */
  errorCode: number;
  /** Top-level error message, or null. */
  errorMessage: string | null;
  /** v1+. */
  acquisitionLockTimeoutMs: number;
  /** Topics, each with its partitions (generic structs, records as opaque bytes). */
  responses: Struct[];
  /** Regular (not tagged) field. */
  nodeEndpoints: NodeEndpoint[];
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** ShareFetchResponse v0-2. */
export const ShareFetchResponse: MessageSpec<ShareFetchResponseData> = {
  name: "ShareFetchResponse",
  apiKey: 78,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
    { name: "AcquisitionLockTimeoutMs", type: "int32", versions: "1+" },
    {
      name: "Responses",
      type: "[]ShareFetchableTopicResponse",
      versions: "0+",
      fields: [
        { name: "TopicId", type: "uuid", versions: "0+" },
        {
          name: "Partitions",
          type: "[]PartitionData",
          versions: "0+",
          fields: [
            { name: "PartitionIndex", type: "int32", versions: "0+" },
            { name: "ErrorCode", type: "int16", versions: "0+" },
            { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
            { name: "AcknowledgeErrorCode", type: "int16", versions: "0+" },
            {
              name: "AcknowledgeErrorMessage",
              type: "string",
              versions: "0+",
              nullableVersions: "0+",
              default: "null",
            },
            {
              name: "CurrentLeader",
              type: "LeaderIdAndEpoch",
              versions: "0+",
              fields: leaderIdAndEpochFields("0+", false),
            },
            { name: "Records", type: "records", versions: "0+", nullableVersions: "0+" },
            {
              name: "AcquiredRecords",
              type: "[]AcquiredRecords",
              versions: "0+",
              fields: [
                { name: "FirstOffset", type: "int64", versions: "0+" },
                { name: "LastOffset", type: "int64", versions: "0+" },
                { name: "DeliveryCount", type: "int16", versions: "0+" },
              ],
            },
          ],
        },
      ],
    },
    { name: "NodeEndpoints", type: "[]NodeEndpoint", versions: "0+", fields: nodeEndpointFields("0+") },
  ],
};
