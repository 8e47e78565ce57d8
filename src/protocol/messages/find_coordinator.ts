/**
 * FindCoordinator (API key 10), versions 0-6. Flexible from v3. v0-3 answer a single key with
 * top-level NodeId/Host/Port; v4+ batch keys and answer `Coordinators[]`.
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";

/** FindCoordinatorRequest v0-6. */
export const FindCoordinatorRequest: MessageSpec<Struct> = {
  name: "FindCoordinatorRequest",
  apiKey: 10,
  type: "request",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "Key", type: "string", versions: "0-3", about: "The coordinator key." },
    { name: "KeyType", type: "int8", versions: "1+", default: "0", ignorable: false },
    { name: "CoordinatorKeys", type: "[]string", versions: "4+", about: "The coordinator keys." },
  ],
};

/** One coordinator in a v4+ FindCoordinator response. */
export interface FindCoordinatorResponseCoordinator {
  /** The coordinator key asked for (group id, transactional id, ...). */
  key: string;
  /** -1 when there is no coordinator. */
  nodeId: number;
  /** Host name of the coordinator. */
  host: string;
  /** Port of the coordinator. */
  port: number;
  /** Error code for this key (0 = none). */
  errorCode: number;
  /** Error message for this key, or null. */
  errorMessage: string | null;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** Decoded FindCoordinatorResponse. Top-level node fields are used by v0-3, `coordinators` by v4+. */
export interface FindCoordinatorResponseData {
  /** v1+: Time the request was throttled, in ms (0 when not throttled). */
  throttleTimeMs: number;
  /** v0-3. */
  errorCode: number;
  /** v1-3 (nullable); "" when absent (Kafka default). */
  errorMessage: string | null;
  /** v0-3. */
  nodeId: number;
  /** v0-3. */
  host: string;
  /** v0-3. */
  port: number;
  /** v4+; empty before. */
  coordinators: FindCoordinatorResponseCoordinator[];
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** FindCoordinatorResponse v0-6. */
export const FindCoordinatorResponse: MessageSpec<FindCoordinatorResponseData> = {
  name: "FindCoordinatorResponse",
  apiKey: 10,
  type: "response",
  validVersions: "0-6",
  flexibleVersions: "3+",
  fields: [
    { name: "ThrottleTimeMs", type: "int32", versions: "1+", ignorable: true },
    { name: "ErrorCode", type: "int16", versions: "0-3" },
    { name: "ErrorMessage", type: "string", versions: "1-3", nullableVersions: "1-3", ignorable: true },
    { name: "NodeId", type: "int32", versions: "0-3", about: "The node id." },
    { name: "Host", type: "string", versions: "0-3", about: "The host name." },
    { name: "Port", type: "int32", versions: "0-3", about: "The port." },
    {
      name: "Coordinators",
      type: "[]Coordinator",
      versions: "4+",
      about: "Each coordinator result in the response.",
      fields: [
        { name: "Key", type: "string", versions: "4+" },
        { name: "NodeId", type: "int32", versions: "4+" },
        { name: "Host", type: "string", versions: "4+" },
        { name: "Port", type: "int32", versions: "4+" },
        { name: "ErrorCode", type: "int16", versions: "4+" },
        { name: "ErrorMessage", type: "string", versions: "4+", nullableVersions: "4+", ignorable: true },
      ],
    },
  ],
};
