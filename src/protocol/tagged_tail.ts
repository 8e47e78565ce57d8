/**
 * Locating and rewriting the top-level tagged section of a flexible message body without decoding it.
 *
 * The proxy uses this for Produce v10+ and Fetch v16+ responses: a skip walker follows the schema,
 * skipping strings, arrays and record data by their lengths (no objects per partition, no copies) and
 * returns where the top-level tagged section starts and its raw fields. A response without
 * `NodeEndpoints` (tag 0) can be forwarded untouched; one with it is rewritten by replacing only the
 * tail: `body.subarray(0, start)` + a new tagged section.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./bytes.ts";
import { decodeTaggedField, encodeTaggedField, writeTaggedFields } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { FetchResponse } from "./generated/messages.ts";
import type { FetchResponseNodeEndpoint } from "./generated/types.ts";
import {
  messagePlan,
  type MessageSpec,
  parseVersionRange,
  type RawTaggedField,
  type StructPlan,
  type TypePlan,
} from "./schema.ts";

/** Where the top-level tagged section of a body is, and its raw fields. */
export interface TopLevelTaggedFields {
  /** Offset of the tagged section (its uvarint count). */
  start: number;
  /** Offset just past the tagged section (the end of the message). */
  end: number;
  /** The raw fields, in wire order; `data` are views into the body. */
  fields: RawTaggedField[];
}

/** Skips one value of compiled type `t` by its lengths, without decoding it. */
export function skipValue(r: ByteReader, t: TypePlan): void {
  if (t.fixedSize >= 0) {
    r.skip(t.fixedSize);
    return;
  }
  switch (t.kind) {
    case "string":
    case "bytes":
    case "records": {
      const at = r.offset;
      if (t.compact) {
        const n = r.uvarint();
        if (n === 0) {
          if (!t.nullable) throw new ProtocolError(`non-nullable ${t.kind} is null at offset ${at}`);
          return;
        }
        r.skip(n - 1);
        return;
      }
      const n = t.kind === "string" ? r.int16() : r.int32();
      if (n < 0) {
        if (n === -1 && t.nullable) return;
        throw new ProtocolError(`invalid ${t.kind} length ${n} at offset ${at}`);
      }
      r.skip(n);
      return;
    }
    case "array": {
      const at = r.offset;
      const n = t.compact ? r.compactArrayLength() : r.arrayLength();
      if (n < 0) {
        if (t.nullable) return;
        throw new ProtocolError(`non-nullable array is null at offset ${at}`);
      }
      const elem = t.elem!;
      if (elem.fixedSize >= 0) {
        r.skip(n * elem.fixedSize);
        return;
      }
      for (let i = 0; i < n; i++) skipValue(r, elem);
      return;
    }
    case "struct": {
      if (t.nullable && r.int8() < 0) return;
      skipStruct(r, t.struct!);
      return;
    }
    default:
      throw new ProtocolError(`cannot skip ${t.kind}`);
  }
}

function skipStruct(r: ByteReader, plan: StructPlan): void {
  for (const f of plan.regular) skipValue(r, f.type);
  if (plan.flexible) r.skipTaggedFields();
}

/** Read a tagged section into raw fields (views into the buffer). */
export function readRawTaggedFields(r: ByteReader): RawTaggedField[] {
  const count = r.uvarint();
  if (count * 2 > r.remaining) {
    throw new ProtocolError(`${count} tagged fields cannot fit in ${r.remaining} remaining bytes`);
  }
  const fields: RawTaggedField[] = [];
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const data = r.raw(r.uvarint());
    fields.push({ tag, data });
  }
  return fields;
}

/**
 * Walk a flexible message body of `schema` at `version` from `offset` without decoding it, and return
 * the offset of its top-level tagged section plus the raw tagged fields.
 */
export function locateTopLevelTaggedFields(
  schema: MessageSpec<unknown>,
  version: number,
  body: Uint8Array,
  offset = 0,
): TopLevelTaggedFields {
  const plan = messagePlan(schema, version);
  if (!plan.flexible) throw new ProtocolError(`${schema.name} v${version} is not flexible: no tagged fields`);
  const r = new ByteReader(body, offset);
  for (const f of plan.regular) skipValue(r, f.type);
  const start = r.offset;
  const fields = readRawTaggedFields(r);
  return { start, end: r.offset, fields };
}

/** Encode a tagged section (count, then tag/size/data) in ascending tag order; duplicates throw. */
export function encodeTaggedSection(fields: readonly RawTaggedField[]): Uint8Array {
  const w = new ByteWriter(16 + fields.reduce((n, f) => n + f.data.length + 10, 0));
  writeTaggedFields(w, fields);
  return w.finish();
}

/**
 * Build a new body whose top-level tagged section is replaced by `fields` (everything before
 * `located.start` and after `located.end` is kept byte for byte). With `sizePrefixed`, the result is
 * a whole frame: an int32 size, then the body (one copy, ready to send).
 */
export function replaceTopLevelTaggedFields(
  body: Uint8Array,
  located: TopLevelTaggedFields,
  fields: readonly RawTaggedField[],
  sizePrefixed = false,
): Uint8Array {
  const section = encodeTaggedSection(fields);
  const tail = body.subarray(located.end);
  const at = sizePrefixed ? 4 : 0;
  const out = new Uint8Array(at + located.start + section.length + tail.length);
  if (sizePrefixed) new DataView(out.buffer).setInt32(0, out.length - 4);
  out.set(body.subarray(0, located.start), at);
  out.set(section, at + located.start);
  out.set(tail, at + located.start + section.length);
  return out;
}

/** Tag of `NodeEndpoints` in Produce v10+ and Fetch v16+ responses. */
export const NODE_ENDPOINTS_TAG = 0;

/** A broker endpoint as carried by `NodeEndpoints` in Produce, Fetch, ShareFetch and ShareAcknowledge. */
export type NodeEndpoint = FetchResponseNodeEndpoint;

// NodeEndpoints has the same layout wherever it is a top-level tagged field (Produce v10+, Fetch v16+):
// Fetch's definition, at its first version with the field, serves both.
const CARRIER_VERSION = ((): number => {
  const field = FetchResponse.fields.find((f) => f.name === "NodeEndpoints");
  const tagged = field?.taggedVersions === undefined ? undefined : parseVersionRange(field.taggedVersions);
  if (field?.tag !== NODE_ENDPOINTS_TAG || tagged === undefined) {
    throw new Error("FetchResponse has no tagged NodeEndpoints field");
  }
  return tagged.min;
})();

/** Decode the raw value of a `NodeEndpoints` tagged field. */
export function decodeNodeEndpoints(data: Uint8Array): NodeEndpoint[] {
  return decodeTaggedField(FetchResponse, CARRIER_VERSION, NODE_ENDPOINTS_TAG, data) as NodeEndpoint[];
}

/** Encode a `NodeEndpoints` tagged field value. */
export function encodeNodeEndpoints(endpoints: readonly NodeEndpoint[]): Uint8Array {
  return encodeTaggedField(FetchResponse, CARRIER_VERSION, NODE_ENDPOINTS_TAG, endpoints);
}
