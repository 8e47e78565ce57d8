/**
 * Request and response headers (Kafka `RequestHeader.json` / `ResponseHeader.json`).
 *
 * @module
 */

import type { MessageSpec, RawTaggedField } from "../schema.ts";

/** Decoded request header (Kafka field names). */
export interface RequestHeaderData {
  /** API key of the request. */
  requestApiKey: number;
  /** API version of the request. */
  requestApiVersion: number;
  /** Correlation id, echoed by the response. */
  correlationId: number;
  /** Client id (header v1+; `""` in v0). */
  clientId: string | null;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/**
 * Request header v0-2 (v0 is only used by ControlledShutdown v0, gone from Kafka 4). v2 adds a tagged
 * section; ClientId keeps its int16 length even in v2 (field-level `flexibleVersions: "none"`).
 */
export const RequestHeader: MessageSpec<RequestHeaderData> = {
  name: "RequestHeader",
  type: "header",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    { name: "RequestApiKey", type: "int16", versions: "0+", about: "The API key of this request." },
    { name: "RequestApiVersion", type: "int16", versions: "0+", about: "The API version of this request." },
    { name: "CorrelationId", type: "int32", versions: "0+", about: "The correlation ID of this request." },
    {
      name: "ClientId",
      type: "string",
      versions: "1+",
      nullableVersions: "1+",
      ignorable: true,
      flexibleVersions: "none",
      about: "The client ID string.",
    },
  ],
};

/** Decoded response header. */
export interface ResponseHeaderData {
  /** Correlation id of the request answered. */
  correlationId: number;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** Response header v0-1 (v1 adds a tagged section). */
export const ResponseHeader: MessageSpec<ResponseHeaderData> = {
  name: "ResponseHeader",
  type: "header",
  validVersions: "0-1",
  flexibleVersions: "1+",
  fields: [
    { name: "CorrelationId", type: "int32", versions: "0+", about: "The correlation ID of this response." },
  ],
};
