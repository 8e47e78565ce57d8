/**
 * DescribeCluster (API key 60), versions 0-2 (Kafka 3.9: 0-1; 4.x: 0-2). Flexible from v0.
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";

/** DescribeClusterRequest v0-2. */
export const DescribeClusterRequest: MessageSpec<Struct> = {
  name: "DescribeClusterRequest",
  apiKey: 60,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "IncludeClusterAuthorizedOperations", type: "bool", versions: "0+" },
    { name: "EndpointType", type: "int8", versions: "1+", default: "1" },
    { name: "IncludeFencedBrokers", type: "bool", versions: "2+", default: "false" },
  ],
};

/** A broker in a DescribeCluster response. */
export interface DescribeClusterBroker {
  /** Node id. */
  brokerId: number;
  /** Advertised host name. */
  host: string;
  /** Advertised port. */
  port: number;
  /** Rack of the node, or null when it has none. */
  rack: string | null;
  /** v2+; false before. */
  isFenced: boolean;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** Decoded DescribeClusterResponse. */
export interface DescribeClusterResponseData {
  /** Time the request was throttled, in ms (0 when not throttled). */
  throttleTimeMs: number;
  /** Top-level error code (0 = none). */
  errorCode: number;
  /** Top-level error message, or null. */
  errorMessage: string | null;
  /** v1+ (1 = brokers, 2 = controllers); 1 before. */
  endpointType: number;
  /** The cluster id. */
  clusterId: string;
  /** The controller id the broker reports, or -1 when unknown. */
  controllerId: number;
  /** The brokers (or the controllers, for endpoint type 2) of the cluster. */
  brokers: DescribeClusterBroker[];
  /** Bitfield of the cluster operations the client may perform; -2147483648 when not requested. */
  clusterAuthorizedOperations: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** DescribeClusterResponse v0-2. */
export const DescribeClusterResponse: MessageSpec<DescribeClusterResponseData> = {
  name: "DescribeClusterResponse",
  apiKey: 60,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "0+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "0+" },
    { name: "ErrorCode", type: "int16", versions: "0+" },
    { name: "ErrorMessage", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
    { name: "EndpointType", type: "int8", versions: "1+", default: "1" },
    { name: "ClusterId", type: "string", versions: "0+" },
    { name: "ControllerId", type: "int32", versions: "0+", default: "-1" },
    {
      name: "Brokers",
      type: "[]DescribeClusterBroker",
      versions: "0+",
      fields: [
        { name: "BrokerId", type: "int32", versions: "0+" },
        { name: "Host", type: "string", versions: "0+" },
        { name: "Port", type: "int32", versions: "0+" },
        { name: "Rack", type: "string", versions: "0+", nullableVersions: "0+", default: "null" },
        { name: "IsFenced", type: "bool", versions: "2+", default: "false" },
      ],
    },
    { name: "ClusterAuthorizedOperations", type: "int32", versions: "0+", default: "-2147483648" },
  ],
};
