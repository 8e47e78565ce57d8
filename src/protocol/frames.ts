/**
 * Whole-frame helpers: size prefix + header + body. Encoders return size-prefixed frames; decoders take
 * the frame body (without the 4-byte size prefix), like {@link readRequestHeader}.
 *
 * @module
 */

import { requestHeaderVersion, responseHeaderVersion } from "./api_keys.ts";
import { ByteReader, ByteWriter } from "./bytes.ts";
import { decodeMessage, encodeMessageInto } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { RequestHeader, ResponseHeader } from "./generated/messages.ts";
import type { EncodeValue, MessageSpec, RawTaggedField } from "./schema.ts";

/** Request header fields for {@link encodeRequestFrame}. */
export interface RequestFrameHeader {
  /** Correlation id. */
  correlationId: number;
  /** Client id (header v1+). */
  clientId: string | null;
  /** Defaults to the schema's `apiKey`. */
  apiKey?: number;
  /** Defaults to the body version. */
  apiVersion?: number;
  /** Header tagged fields (header v2 only). */
  _unknownTaggedFields?: RawTaggedField[];
}

/** Largest frame body accepted by {@link frameBody} unless told otherwise (Kafka's default is 100 MiB). */
export const DEFAULT_MAX_FRAME_SIZE = 100 * 1024 * 1024;

/**
 * Validate a size-prefixed frame and return its body (a view). Throws when the prefix is negative,
 * above `maxSize`, or does not match the bytes given.
 */
export function frameBody(frame: Uint8Array, maxSize = DEFAULT_MAX_FRAME_SIZE): Uint8Array {
  const size = new ByteReader(frame).int32();
  if (size < 0 || size > maxSize) throw new ProtocolError(`invalid frame size ${size}`);
  if (size !== frame.length - 4) {
    throw new ProtocolError(`frame size ${size} does not match the ${frame.length - 4} bytes given`);
  }
  return frame.subarray(4);
}

/** Encode a size-prefixed request frame: header (v1 or v2 as the API version requires) + body. */
export function encodeRequestFrame<T>(
  header: RequestFrameHeader,
  schema: MessageSpec<T>,
  version: number,
  body: EncodeValue<T>,
): Uint8Array {
  const apiKey = header.apiKey ?? schema.apiKey;
  if (apiKey === undefined) throw new ProtocolError(`${schema.name} has no api key`);
  const apiVersion = header.apiVersion ?? version;
  const w = new ByteWriter(256);
  w.int32(0);
  encodeMessageInto(w, RequestHeader, requestHeaderVersion(apiKey, apiVersion), {
    requestApiKey: apiKey,
    requestApiVersion: apiVersion,
    correlationId: header.correlationId,
    clientId: header.clientId,
    _unknownTaggedFields: header._unknownTaggedFields,
  });
  encodeMessageInto(w, schema, version, body);
  w.setInt32At(0, w.length - 4);
  return w.finish();
}

/**
 * Encode a size-prefixed response frame: header v0 (correlation id) or v1 (+ tagged fields, optionally
 * `headerTaggedFields`) + body.
 */
export function encodeResponseFrame<T>(
  correlationId: number,
  headerVersion: 0 | 1,
  schema: MessageSpec<T>,
  version: number,
  body: EncodeValue<T>,
  headerTaggedFields?: RawTaggedField[],
): Uint8Array {
  const w = new ByteWriter(256);
  w.int32(0);
  encodeMessageInto(w, ResponseHeader, headerVersion, {
    correlationId,
    _unknownTaggedFields: headerTaggedFields,
  });
  encodeMessageInto(w, schema, version, body);
  w.setInt32At(0, w.length - 4);
  return w.finish();
}

/** A decoded request frame. */
export interface DecodedRequestFrame<T> {
  /** API key from the header. */
  apiKey: number;
  /** API version from the header (also the body version). */
  apiVersion: number;
  /** Correlation id. */
  correlationId: number;
  /** Client id (`""` for header v0, which has none). */
  clientId: string | null;
  /** Tagged fields of a v2 header, when there are any. */
  headerTaggedFields?: RawTaggedField[];
  /** The decoded request body. */
  body: T;
}

function expectEnd(name: string, offset: number, length: number): void {
  if (offset !== length) throw new ProtocolError(`${name}: ${length - offset} trailing byte(s)`);
}

/** Decode a request frame body (no size prefix) whose API must match `schema`. */
export function decodeRequestFrame<T>(frame: Uint8Array, schema: MessageSpec<T>): DecodedRequestFrame<T> {
  const apiKey = new ByteReader(frame).int16();
  const apiVersion = new ByteReader(frame, 2).int16();
  if (apiKey !== schema.apiKey) throw new ProtocolError(`api key ${apiKey} does not match ${schema.name}`);
  const h = decodeMessage(RequestHeader, requestHeaderVersion(apiKey, apiVersion), frame);
  const b = decodeMessage(schema, apiVersion, frame, h.offset);
  expectEnd(schema.name, b.offset, frame.length);
  const out: DecodedRequestFrame<T> = {
    apiKey,
    apiVersion,
    correlationId: h.value.correlationId,
    clientId: h.value.clientId,
    body: b.value,
  };
  if (h.value._unknownTaggedFields) out.headerTaggedFields = h.value._unknownTaggedFields;
  return out;
}

/** A decoded response frame. */
export interface DecodedResponseFrame<T> {
  /** Correlation id of the request answered. */
  correlationId: number;
  /** Tagged fields of a v1 header, when there are any. */
  headerTaggedFields?: RawTaggedField[];
  /** The decoded response body. */
  body: T;
}

/** Decode a response frame body (no size prefix) with the given header version and body schema/version. */
export function decodeResponseFrame<T>(
  frame: Uint8Array,
  headerVersion: 0 | 1,
  schema: MessageSpec<T>,
  version: number,
): DecodedResponseFrame<T> {
  const h = decodeMessage(ResponseHeader, headerVersion, frame);
  const b = decodeMessage(schema, version, frame, h.offset);
  expectEnd(schema.name, b.offset, frame.length);
  const out: DecodedResponseFrame<T> = { correlationId: h.value.correlationId, body: b.value };
  if (h.value._unknownTaggedFields) out.headerTaggedFields = h.value._unknownTaggedFields;
  return out;
}

/**
 * Length of the response header at the start of `frame` (no size prefix): the correlation id, plus
 * its tagged section when the response is flexible (never for ApiVersions), skipped without decoding.
 */
export function responseHeaderLength(apiKey: number, apiVersion: number, frame: Uint8Array): number {
  if (responseHeaderVersion(apiKey, apiVersion) === 0) return 4;
  const reader = new ByteReader(frame, 4);
  reader.skipTaggedFields();
  return reader.offset;
}
