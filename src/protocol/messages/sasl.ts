/**
 * SaslHandshake (API key 17, v0-1) and SaslAuthenticate (API key 36, v0-2, flexible from v2): used by
 * the gateway's own upstream connections; clients' SASL frames are forwarded untouched.
 *
 * @module
 */

import type { MessageSpec, RawTaggedField, Struct } from "../schema.ts";

/** SaslHandshakeRequest v0-1. */
export const SaslHandshakeRequest: MessageSpec<{ mechanism: string }> = {
  name: "SaslHandshakeRequest",
  apiKey: 17,
  type: "request",
  validVersions: "0-1",
  flexibleVersions: "none",
  fields: [{
    name: "Mechanism",
    type: "string",
    versions: "0+",
    about: "The SASL mechanism chosen by the client.",
  }],
};

/** Decoded SaslHandshakeResponse. */
export interface SaslHandshakeResponseData {
  /** Error code (0 = none; 33 UNSUPPORTED_SASL_MECHANISM). */
  errorCode: number;
  /** The SASL mechanisms enabled on the listener. */
  mechanisms: string[];
}

/** SaslHandshakeResponse v0-1. */
export const SaslHandshakeResponse: MessageSpec<SaslHandshakeResponseData> = {
  name: "SaslHandshakeResponse",
  apiKey: 17,
  type: "response",
  validVersions: "0-1",
  flexibleVersions: "none",
  fields: [
    {
      name: "ErrorCode",
      type: "int16",
      versions: "0+",
      about: "The error code, or 0 if there was no error.",
    },
    { name: "Mechanisms", type: "[]string", versions: "0+", about: "The mechanisms enabled in the server." },
  ],
};

/** SaslAuthenticateRequest v0-2. */
export const SaslAuthenticateRequest: MessageSpec<{ authBytes: Uint8Array } & Struct> = {
  name: "SaslAuthenticateRequest",
  apiKey: 36,
  type: "request",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    {
      name: "AuthBytes",
      type: "bytes",
      versions: "0+",
      about: "The SASL authentication bytes from the client.",
    },
  ],
};

/** Decoded SaslAuthenticateResponse. */
export interface SaslAuthenticateResponseData {
  /** Error code (0 = none). */
  errorCode: number;
  /** Error message, or null. */
  errorMessage: string | null;
  /** SASL bytes from the server. */
  authBytes: Uint8Array;
  /** v1+: session lifetime in ms (0 = no limit); 0 before. */
  sessionLifetimeMs: bigint;
  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** SaslAuthenticateResponse v0-2. */
export const SaslAuthenticateResponse: MessageSpec<SaslAuthenticateResponseData> = {
  name: "SaslAuthenticateResponse",
  apiKey: 36,
  type: "response",
  validVersions: "0-2",
  flexibleVersions: "2+",
  fields: [
    {
      name: "ErrorCode",
      type: "int16",
      versions: "0+",
      about: "The error code, or 0 if there was no error.",
    },
    {
      name: "ErrorMessage",
      type: "string",
      versions: "0+",
      nullableVersions: "0+",
      about: "The error message.",
    },
    {
      name: "AuthBytes",
      type: "bytes",
      versions: "0+",
      about: "The SASL authentication bytes from the server.",
    },
    { name: "SessionLifetimeMs", type: "int64", versions: "1+", default: "0", about: "Session lifetime." },
  ],
};
