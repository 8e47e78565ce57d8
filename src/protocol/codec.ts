/**
 * The generic reader/writer: one implementation serving every message and every version, driven by
 * compiled schema plans ({@link ./schema.ts}).
 *
 * - Fields absent in a version decode to Kafka's default and are ignored on encode.
 * - Every struct in a flexible version ends with a tagged section. Known tags decode into their named
 *   property; unknown tags are kept in `_unknownTaggedFields` and re-emitted, merged with the known ones
 *   in ascending tag order. Known tagged fields equal to their default are not written (as in Kafka).
 * - `records` fields are opaque bytes: a subarray view of the input, never parsed.
 * - Canonical input (what Kafka writes) re-encodes byte for byte. Two non-canonical forms are
 *   normalized: tagged fields out of ascending order on the wire are accepted and re-emitted sorted,
 *   and a known tagged field explicitly written with its default value is not re-emitted. Duplicate
 *   tags are rejected.
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";
import {
  type EncodeValue,
  messagePlan,
  type MessageSpec,
  type RawTaggedField,
  type Struct,
  type StructPlan,
  type TypePlan,
} from "./schema.ts";

/** Result of {@link decodeMessage}: the decoded value and the offset just past it. */
export interface Decoded<T> {
  /** The decoded message. */
  value: T;
  /** Offset just past the message in the input. */
  offset: number;
}

// ---------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------

/** Read one value of compiled type `t`. */
export function readValue(r: ByteReader, t: TypePlan): unknown {
  switch (t.kind) {
    case "bool":
      return r.bool();
    case "int8":
      return r.int8();
    case "int16":
      return r.int16();
    case "uint16":
      return r.uint16();
    case "int32":
      return r.int32();
    case "uint32":
      return r.uint32();
    case "int64":
      return r.int64();
    case "float64":
      return r.float64();
    case "uuid":
      return r.uuid();
    case "string":
      if (t.compact) return t.nullable ? r.compactNullableString() : r.compactString();
      return t.nullable ? r.nullableString() : r.string();
    case "bytes":
    case "records":
      if (t.compact) return t.nullable ? r.compactNullableBytes() : r.compactBytes();
      return t.nullable ? r.nullableBytes() : r.bytes();
    case "array": {
      const at = r.offset;
      const n = t.compact ? r.compactArrayLength() : r.arrayLength();
      if (n < 0) {
        if (t.nullable) return null;
        throw new ProtocolError(`non-nullable array is null at offset ${at}`);
      }
      const elem = t.elem!;
      const min = elem.fixedSize >= 0 ? elem.fixedSize : elem.kind === "struct" ? elem.struct!.minSize : 1;
      if (n * min > r.remaining) {
        throw new ProtocolError(
          `array of ${n} elements cannot fit in ${r.remaining} remaining bytes at ${at}`,
        );
      }
      const out: unknown[] = [];
      for (let i = 0; i < n; i++) out.push(readValue(r, elem));
      return out;
    }
    case "struct": {
      if (t.nullable) {
        const marker = r.int8();
        if (marker < 0) return null;
      }
      return readStruct(r, t.struct!);
    }
  }
}

/** Read one struct laid out by `plan`, including its tagged section in flexible versions. */
export function readStruct(r: ByteReader, plan: StructPlan): Struct {
  const obj: Struct = {};
  for (const f of plan.fields) {
    obj[f.prop] = f.mode === "regular" ? readValue(r, f.type) : f.makeDefault();
  }
  if (plan.flexible) readTaggedSection(r, plan, obj);
  return obj;
}

function readTaggedSection(r: ByteReader, plan: StructPlan, obj: Struct): void {
  const at = r.offset;
  const count = r.uvarint();
  if (count === 0) return;
  if (count * 2 > r.remaining) {
    throw new ProtocolError(`${count} tagged fields cannot fit in ${r.remaining} remaining bytes at ${at}`);
  }
  let unknown: RawTaggedField[] | undefined;
  const seen = new Set<number>();
  for (let i = 0; i < count; i++) {
    const tag = r.uvarint();
    const size = r.uvarint();
    const start = r.take(size);
    if (seen.has(tag)) throw new ProtocolError(`duplicate tag ${tag} in ${plan.name} at offset ${at}`);
    seen.add(tag);
    const f = plan.taggedByTag.get(tag);
    if (f) {
      const sub = new ByteReader(r.buf, start, start + size);
      obj[f.prop] = readValue(sub, f.type);
      if (sub.remaining !== 0) {
        throw new ProtocolError(`tagged field ${plan.name}.${f.name} has ${sub.remaining} trailing byte(s)`);
      }
    } else {
      (unknown ??= []).push({ tag, data: r.buf.subarray(start, start + size) });
    }
  }
  if (unknown) obj._unknownTaggedFields = unknown;
}

/**
 * Decode a message body of `schema` at `version`, starting at `offset`. Returns the value and the
 * offset just past it (the caller decides whether trailing bytes are an error).
 */
export function decodeMessage<T>(
  schema: MessageSpec<T>,
  version: number,
  bytes: Uint8Array,
  offset = 0,
): Decoded<T> {
  const plan = messagePlan(schema, version);
  const r = new ByteReader(bytes, offset);
  const value = readStruct(r, plan) as T;
  return { value, offset: r.offset };
}

// ---------------------------------------------------------------------------------------------
// Writing
// ---------------------------------------------------------------------------------------------

function fail(path: string, msg: string): never {
  throw new ProtocolError(`${path}: ${msg}`);
}

/** Write one value of compiled type `t`; `path` names the field in error messages. */
export function writeValue(w: ByteWriter, t: TypePlan, v: unknown, path: string): void {
  if (v === null && !t.nullable) fail(path, "null is not allowed in this version");
  try {
    switch (t.kind) {
      case "bool":
        return w.bool(v as boolean);
      case "int8":
        return w.int8(v as number);
      case "int16":
        return w.int16(v as number);
      case "uint16":
        return w.uint16(v as number);
      case "int32":
        return w.int32(v as number);
      case "uint32":
        return w.uint32(v as number);
      case "int64":
        return w.int64(v as bigint);
      case "float64":
        return w.float64(v as number);
      case "uuid":
        return w.uuid(v as string);
      case "string":
        if (t.compact) return w.compactNullableString(v as string | null);
        return w.nullableString(v as string | null);
      case "bytes":
      case "records":
        if (t.compact) return w.compactNullableBytes(v as Uint8Array | null);
        return w.nullableBytes(v as Uint8Array | null);
    }
  } catch (e) {
    if (e instanceof ProtocolError) fail(path, e.message);
    throw e;
  }
  if (t.kind === "array") {
    if (v === null) {
      if (t.compact) w.compactArrayLength(-1);
      else w.arrayLength(-1);
      return;
    }
    if (!Array.isArray(v)) fail(path, "expected an array");
    if (t.compact) w.compactArrayLength(v.length);
    else w.arrayLength(v.length);
    const elem = t.elem!;
    for (let i = 0; i < v.length; i++) writeValue(w, elem, v[i], `${path}[${i}]`);
    return;
  }
  // struct
  if (t.nullable) {
    if (v === null) return w.int8(-1);
    w.int8(1);
  }
  if (v === null || typeof v !== "object") fail(path, "expected an object");
  writeStruct(w, t.struct!, v as Struct, path);
}

/** Write one struct laid out by `plan`, including its tagged section in flexible versions. */
export function writeStruct(w: ByteWriter, plan: StructPlan, obj: Struct, path: string = plan.name): void {
  for (const f of plan.regular) {
    const v = obj[f.prop];
    writeValue(w, f.type, v === undefined ? f.makeDefault() : v, `${path}.${f.prop}`);
  }
  if (!plan.flexible) return;
  const unknown = obj._unknownTaggedFields;
  if (plan.tagged.length === 0 && (!unknown || unknown.length === 0)) {
    w.uvarint(0);
    return;
  }
  const fields: RawTaggedField[] = [];
  for (const f of plan.tagged) {
    const v = obj[f.prop];
    if (v === undefined || f.isDefault(v)) continue;
    const sub = new ByteWriter(64);
    writeValue(sub, f.type, v, `${path}.${f.prop}`);
    fields.push({ tag: f.tag, data: sub.finish() });
  }
  if (unknown) {
    if (!Array.isArray(unknown)) fail(path, "_unknownTaggedFields must be an array");
    for (const u of unknown) {
      if (plan.taggedByTag.has(u.tag)) fail(path, `unknown tagged field uses known tag ${u.tag}`);
      fields.push(u);
    }
  }
  writeTaggedFields(w, fields, path);
}

/**
 * Write a tagged section (uvarint count, then tag/size/data per field) in ascending tag order.
 * Duplicate tags throw {@link ProtocolError}.
 */
export function writeTaggedFields(
  w: ByteWriter,
  fields: readonly RawTaggedField[],
  path = "tagged fields",
): void {
  const sorted = fields.length > 1 ? [...fields].sort((a, b) => a.tag - b.tag) : fields;
  w.uvarint(sorted.length);
  let prev = -1;
  for (const f of sorted) {
    if (!Number.isInteger(f.tag) || f.tag < 0 || f.tag > 4294967295) fail(path, `invalid tag ${f.tag}`);
    if (f.tag === prev) fail(path, `duplicate tag ${f.tag}`);
    if (!(f.data instanceof Uint8Array)) fail(path, `tag ${f.tag}: data must be a Uint8Array`);
    prev = f.tag;
    w.uvarint(f.tag);
    w.uvarint(f.data.length);
    w.raw(f.data);
  }
}

/** Encode `value` as a message body of `schema` at `version` into an existing writer. */
export function encodeMessageInto<T>(
  w: ByteWriter,
  schema: MessageSpec<T>,
  version: number,
  value: EncodeValue<T>,
): void {
  if (value === null || typeof value !== "object") {
    throw new ProtocolError(`${schema.name}: expected an object`);
  }
  writeStruct(w, messagePlan(schema, version), value as Struct);
}

/** Encode `value` as a message body of `schema` at `version`. Fields absent in the version are ignored. */
export function encodeMessage<T>(schema: MessageSpec<T>, version: number, value: EncodeValue<T>): Uint8Array {
  const w = new ByteWriter(256);
  encodeMessageInto(w, schema, version, value);
  return w.finish();
}

// ---------------------------------------------------------------------------------------------
// Single tagged fields
// ---------------------------------------------------------------------------------------------

function topLevelTagged(schema: MessageSpec<unknown>, version: number, tag: number) {
  const f = messagePlan(schema, version).taggedByTag.get(tag);
  if (!f) throw new ProtocolError(`${schema.name} v${version} has no top-level tagged field ${tag}`);
  return f;
}

/** Decode the raw bytes of a top-level tagged field of `schema` at `version`. */
export function decodeTaggedField(
  schema: MessageSpec<unknown>,
  version: number,
  tag: number,
  data: Uint8Array,
): unknown {
  const f = topLevelTagged(schema, version, tag);
  const r = new ByteReader(data);
  const v = readValue(r, f.type);
  if (r.remaining !== 0) {
    throw new ProtocolError(`tagged field ${f.name} has ${r.remaining} trailing byte(s)`);
  }
  return v;
}

/** Encode the value of a top-level tagged field of `schema` at `version` (the field's data bytes). */
export function encodeTaggedField(
  schema: MessageSpec<unknown>,
  version: number,
  tag: number,
  value: unknown,
): Uint8Array {
  const f = topLevelTagged(schema, version, tag);
  const w = new ByteWriter(64);
  writeValue(w, f.type, value, `${schema.name}.${f.prop}`);
  return w.finish();
}
