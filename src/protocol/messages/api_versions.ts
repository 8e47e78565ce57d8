/**
 * ApiVersions (API key 18), versions 0-4. Flexible from v3, but the response header is always v0.
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";

/** ApiVersionsRequest v0-4. */
export const ApiVersionsRequest: MessageSpec<Struct> = {
  name: "ApiVersionsRequest",
  apiKey: 18,
  type: "request",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "ClientSoftwareName", type: "string", versions: "3+", ignorable: true },
    { name: "ClientSoftwareVersion", type: "string", versions: "3+", ignorable: true },
  ],
};

/** One supported API in an ApiVersions response. */
export interface ApiVersionsResponseKey {
  /** The API key. */
  apiKey: number;
  /** Lowest version supported by the broker. */
  minVersion: number;
  /** Highest version supported by the broker. */
  maxVersion: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** A supported feature (tagged field 0). */
export interface SupportedFeatureKey {
  /** Feature name, e.g. `metadata.version`. */
  name: string;
  /** Lowest feature level the broker supports. */
  minVersion: number;
  /** Highest feature level the broker supports. */
  maxVersion: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** A finalized feature (tagged field 2); clients read e.g. `transaction.version`. */
export interface FinalizedFeatureKey {
  /** Feature name, e.g. `transaction.version`. */
  name: string;
  /** Highest finalized level of the feature. */
  maxVersionLevel: number;
  /** Lowest finalized level of the feature. */
  minVersionLevel: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** Decoded ApiVersionsResponse. */
export interface ApiVersionsResponseData {
  /** Error code: 0, or 35 (UNSUPPORTED_VERSION) with a v0 body listing the ApiVersions range. */
  errorCode: number;
  /** The APIs the broker supports, with their version ranges. */
  apiKeys: ApiVersionsResponseKey[];
  /** v1+. */
  throttleTimeMs: number;
  /** Tagged 0, v3+. */
  supportedFeatures: SupportedFeatureKey[];
  /** Tagged 1, v3+; -1n when unknown. */
  finalizedFeaturesEpoch: bigint;
  /** Tagged 2, v3+. */
  finalizedFeatures: FinalizedFeatureKey[];
  /** Tagged 3, v3+ (Kafka 3.x ZK migration flag). */
  zkMigrationReady: boolean;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** ApiVersionsResponse v0-4. */
export const ApiVersionsResponse: MessageSpec<ApiVersionsResponseData> = {
  name: "ApiVersionsResponse",
  apiKey: 18,
  type: "response",
  validVersions: "0-4",
  flexibleVersions: "3+",
  fields: [
    { name: "ErrorCode", type: "int16", versions: "0+" },
    {
      name: "ApiKeys",
      type: "[]ApiVersion",
      versions: "0+",
      fields: [
        { name: "ApiKey", type: "int16", versions: "0+" },
        { name: "MinVersion", type: "int16", versions: "0+" },
        { name: "MaxVersion", type: "int16", versions: "0+" },
      ],
    },
    { name: "ThrottleTimeMs", type: "int32", versions: "1+", ignorable: true },
    {
      name: "SupportedFeatures",
      type: "[]SupportedFeatureKey",
      versions: "3+",
      taggedVersions: "3+",
      tag: 0,
      fields: [
        { name: "Name", type: "string", versions: "3+" },
        { name: "MinVersion", type: "int16", versions: "3+" },
        { name: "MaxVersion", type: "int16", versions: "3+" },
      ],
    },
    {
      name: "FinalizedFeaturesEpoch",
      type: "int64",
      versions: "3+",
      taggedVersions: "3+",
      tag: 1,
      default: "-1",
      ignorable: true,
    },
    {
      name: "FinalizedFeatures",
      type: "[]FinalizedFeatureKey",
      versions: "3+",
      taggedVersions: "3+",
      tag: 2,
      fields: [
        { name: "Name", type: "string", versions: "3+" },
        { name: "MaxVersionLevel", type: "int16", versions: "3+" },
        { name: "MinVersionLevel", type: "int16", versions: "3+" },
      ],
    },
    {
      name: "ZkMigrationReady",
      type: "bool",
      versions: "3+",
      taggedVersions: "3+",
      tag: 3,
      ignorable: true,
      default: "false",
    },
  ],
};
