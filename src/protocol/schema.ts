/**
 * Declarative Kafka message schemas, in the shape of Kafka's own message JSON
 * (`clients/src/main/resources/common/message/*.json`), plus their compilation into per-version
 * plans used by the generic codec ({@link ./codec.ts}) and the skip walker ({@link ./tagged_tail.ts}).
 *
 * @module
 */

import { inRange, type VersionRange } from "../lib/version_range.ts";
import { ZERO_UUID } from "./bytes.ts";
import { ProtocolError } from "./errors.ts";

/** A raw tagged field: its tag and the undecoded bytes of its value. */
export interface RawTaggedField {
  /** Tag number. */
  tag: number;
  /** Encoded value (a view into the source buffer when decoded). */
  data: Uint8Array;
}

/**
 * A decoded struct: Kafka field names in lowerCamelCase. In flexible versions, tagged fields not known
 * to the schema are kept in `_unknownTaggedFields` (present only when there are some).
 */
export type Struct = { [field: string]: unknown; _unknownTaggedFields?: RawTaggedField[] };

/**
 * What the encoder accepts for a message of decoded type `T`: any field may be left out, at any depth
 * (it encodes as its default, as in Kafka's generated code).
 */
export type EncodeInput<T> = T extends Uint8Array | bigint | string | number | boolean | null | undefined ? T
  : T extends readonly (infer E)[] ? EncodeInput<E>[]
  : { [K in keyof T]?: EncodeInput<T[K]> };

/**
 * The value parameter of the encoders for a spec of decoded type `T`: a whole `T`, or any part of it
 * (see {@link EncodeInput}). `T` is taken from the spec only.
 */
export type EncodeValue<T> = NoInfer<T> | EncodeInput<NoInfer<T>>;

/** A Kafka JSON `default` value. */
export type DefaultValue = string | number | boolean | null;

/** One field of a message or struct, as in Kafka's message JSON. */
export interface FieldSpec {
  /** Kafka field name (PascalCase); decoded objects use its lowerCamelCase form. */
  readonly name: string;
  /**
   * Kafka type: `bool`, `int8`, `int16`, `uint16`, `int32`, `uint32`, `int64`, `float64`, `uuid`,
   * `string`, `bytes`, `records`, `[]<type>` for arrays, or a struct name (with {@link fields}).
   */
  readonly type: string;
  /** Versions in which the field exists, e.g. `"0+"`, `"4-7"`, `"3"`. */
  readonly versions: string;
  /** Versions in which the field may be null. */
  readonly nullableVersions?: string;
  /** Versions in which the field is a tagged field (requires {@link tag}). */
  readonly taggedVersions?: string;
  /** Tag number, for tagged fields. */
  readonly tag?: number;
  /** Kafka default (`"null"`, `"-1"`, `"0x7fffffff"`, `"true"`, ...). */
  readonly default?: DefaultValue;
  /** Field-level override of the message's flexible versions (Kafka uses `"none"` for header ClientId). */
  readonly flexibleVersions?: string;
  /** Kafka's `ignorable` flag (informational). */
  readonly ignorable?: boolean;
  /** Struct fields, for struct and array-of-struct types. */
  readonly fields?: readonly FieldSpec[];
  /** Documentation. */
  readonly about?: string;
  /** Kafka's `entityType` (`topicName`, `groupId`, `brokerId`, ...): what the value names. */
  readonly entityType?: string;
}

/** A message schema, as in Kafka's message JSON. `T` is the decoded value's TypeScript type. */
export interface MessageSpec<T = Struct> {
  /** Kafka message name, e.g. `MetadataResponse`. */
  readonly name: string;
  /** API key, for request/response messages. */
  readonly apiKey?: number;
  /** Message kind. */
  readonly type: "request" | "response" | "header" | "data";
  /** Versions this schema describes, e.g. `"0-13"`. */
  readonly validVersions: string;
  /** Versions that use the flexible (compact + tagged fields) encoding, e.g. `"9+"` or `"none"`. */
  readonly flexibleVersions: string;
  /** True when the highest version is still unstable in Kafka (brokers enable it only on request). */
  readonly latestVersionUnstable?: boolean;
  /** Top-level fields. */
  readonly fields: readonly FieldSpec[];
  /** Phantom marker carrying the decoded type; never set. */
  readonly __decoded?: T;
}

/** Largest version number a `"N+"` range reaches. */
export const MAX_VERSION = 32767;

const rangeCache = new Map<string, VersionRange | undefined>();

/**
 * Parse a Kafka version range: `"none"` (undefined), `"N"`, `"N+"` (up to {@link MAX_VERSION}) or `"N-M"`.
 *
 * @example
 * ```ts
 * parseVersionRange("9+"); // { min: 9, max: 32767 }
 * ```
 */
export function parseVersionRange(s: string): VersionRange | undefined {
  if (rangeCache.has(s)) return rangeCache.get(s);
  let r: VersionRange | undefined;
  let m: RegExpMatchArray | null;
  if (s === "none") r = undefined;
  else if ((m = s.match(/^(\d+)\+$/))) r = { min: Number(m[1]), max: MAX_VERSION };
  else if ((m = s.match(/^(\d+)-(\d+)$/))) r = { min: Number(m[1]), max: Number(m[2]) };
  else if ((m = s.match(/^(\d+)$/))) r = { min: Number(m[1]), max: Number(m[1]) };
  else throw new Error(`invalid version range: ${JSON.stringify(s)}`);
  rangeCache.set(s, r);
  return r;
}

/** True when `version` lies in the range `s` (undefined = empty range). */
export function inVersions(s: string | undefined, version: number): boolean {
  if (s === undefined) return false;
  const r = parseVersionRange(s);
  return r !== undefined && inRange(version, r);
}

/**
 * The versions a message spec declares (its `validVersions`), e.g. for deriving which versions a
 * data-path filter can handle.
 *
 * @example
 * ```ts
 * specVersions(MetadataResponse); // { min: 0, max: 13 }
 * ```
 */
export function specVersions(spec: MessageSpec<unknown>): VersionRange {
  const r = parseVersionRange(spec.validVersions);
  if (r === undefined) throw new Error(`${spec.name} declares no version`);
  return r;
}

/** All versions of `validVersions`, ascending. */
export function versionList(spec: MessageSpec<unknown>): number[] {
  const r = parseVersionRange(spec.validVersions);
  const out: number[] = [];
  if (r === undefined) return out;
  for (let v = r.min; v <= r.max; v++) out.push(v);
  return out;
}

/** True when `version` of the message uses the flexible encoding. */
export function isFlexible(spec: MessageSpec<unknown>, version: number): boolean {
  return inVersions(spec.flexibleVersions, version);
}

/** Kafka JSON name to decoded property name: `NodeId` -> `nodeId`, `ApiKeys` -> `apiKeys`. */
export function propName(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

// ---------------------------------------------------------------------------------------------
// Compiled plans
// ---------------------------------------------------------------------------------------------

/** Wire kinds of compiled types. */
export type Kind =
  | "bool"
  | "int8"
  | "int16"
  | "uint16"
  | "int32"
  | "uint32"
  | "int64"
  | "float64"
  | "uuid"
  | "string"
  | "bytes"
  | "records"
  | "array"
  | "struct";

const FIXED_SIZES: Partial<Record<Kind, number>> = {
  bool: 1,
  int8: 1,
  int16: 2,
  uint16: 2,
  int32: 4,
  uint32: 4,
  int64: 8,
  float64: 8,
  uuid: 16,
};

/** A type compiled for one message version. */
export interface TypePlan {
  /** Wire kind. */
  readonly kind: Kind;
  /** Null allowed in this version. */
  readonly nullable: boolean;
  /** Compact (flexible) length encoding for strings, bytes, records and arrays. */
  readonly compact: boolean;
  /** Size in bytes for fixed-size kinds, else -1. */
  readonly fixedSize: number;
  /** Element type, for arrays. */
  readonly elem?: TypePlan;
  /** Struct layout, for structs. */
  readonly struct?: StructPlan;
}

/** How a field appears in one version. */
export type FieldMode = "regular" | "tagged" | "absent";

/** A field compiled for one message version. */
export interface FieldPlan {
  /** Kafka field name. */
  readonly name: string;
  /** Decoded property name. */
  readonly prop: string;
  /** How the field appears on the wire in this version. */
  readonly mode: FieldMode;
  /** Tag number (tagged fields only; -1 otherwise). */
  readonly tag: number;
  /** Compiled type for this version. */
  readonly type: TypePlan;
  /** A fresh copy of the field's default value for this version. */
  makeDefault(): unknown;
  /** True when `v` equals the default (tagged fields equal to their default are not written). */
  isDefault(v: unknown): boolean;
}

/** A struct (or the message itself) compiled for one version. */
export interface StructPlan {
  /** Message or struct name. */
  readonly name: string;
  /** True when the version is flexible: compact encodings and a trailing tagged section. */
  readonly flexible: boolean;
  /** All fields in declaration order. */
  readonly fields: readonly FieldPlan[];
  /** Fields present on the wire in this version, in order. */
  readonly regular: readonly FieldPlan[];
  /** Tagged fields of this version, ascending by tag. */
  readonly tagged: readonly FieldPlan[];
  /** Tagged fields of this version by tag number. */
  readonly taggedByTag: ReadonlyMap<number, FieldPlan>;
  /** Minimum encoded size of one instance (used to bound array counts). */
  readonly minSize: number;
}

interface CompileCtx {
  readonly version: number;
  readonly flexible: boolean;
}

function parseIntDefault(d: DefaultValue | undefined, field: string): number {
  if (d === undefined || d === null || d === "") return 0;
  if (typeof d === "number") return d;
  if (typeof d !== "string") throw new Error(`invalid default for ${field}: ${String(d)}`);
  const n = /^-?0x/i.test(d)
    ? (d.startsWith("-") ? -parseInt(d.slice(3), 16) : parseInt(d.slice(2), 16))
    : Number(d);
  if (!Number.isFinite(n)) throw new Error(`invalid default for ${field}: ${d}`);
  return n;
}

function isNullDefault(d: DefaultValue | undefined): boolean {
  return d === null || d === "null";
}

function compileType(
  type: string,
  spec: FieldSpec,
  ctx: CompileCtx,
  nullable: boolean,
  compact: boolean,
): TypePlan {
  if (type.startsWith("[]")) {
    const elem = compileType(type.slice(2), spec, ctx, false, compact);
    return { kind: "array", nullable, compact, fixedSize: -1, elem };
  }
  switch (type) {
    case "bool":
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
    case "int64":
    case "float64":
    case "uuid":
      return { kind: type, nullable: false, compact, fixedSize: FIXED_SIZES[type]! };
    case "string":
    case "bytes":
    case "records":
      return { kind: type, nullable, compact, fixedSize: -1 };
    default: {
      if (!spec.fields) throw new Error(`field ${spec.name}: unknown type ${type} without fields`);
      const struct = compileStruct(type, spec.fields, ctx);
      return { kind: "struct", nullable, compact, fixedSize: -1, struct };
    }
  }
}

function defaultFactory(
  spec: FieldSpec,
  t: TypePlan,
): { make: () => unknown; isDefault: (v: unknown) => boolean } {
  const d = spec.default;
  switch (t.kind) {
    case "bool": {
      const b = d === true || d === "true";
      return { make: () => b, isDefault: (v) => v === b };
    }
    case "int8":
    case "int16":
    case "uint16":
    case "int32":
    case "uint32":
    case "float64": {
      const n = parseIntDefault(d, spec.name);
      return { make: () => n, isDefault: (v) => v === n };
    }
    case "int64": {
      const n = d === undefined || d === null || d === "" ? 0n : BigInt(d as string | number);
      return { make: () => n, isDefault: (v) => v === n };
    }
    case "uuid":
      return { make: () => ZERO_UUID, isDefault: (v) => v === ZERO_UUID };
    case "string": {
      const s = isNullDefault(d) ? null : typeof d === "string" ? d : "";
      return { make: () => s, isDefault: (v) => v === s };
    }
    case "bytes":
    case "records": {
      // Kafka's generated code defaults records to null; bytes to empty unless "null".
      const isNull = t.kind === "records" || isNullDefault(d);
      return {
        make: () => (isNull ? null : new Uint8Array(0)),
        isDefault: (v) => (isNull ? v === null : v instanceof Uint8Array && v.length === 0),
      };
    }
    case "array": {
      const isNull = isNullDefault(d);
      return {
        make: () => (isNull ? null : []),
        isDefault: (v) => (isNull ? v === null : Array.isArray(v) && v.length === 0),
      };
    }
    case "struct": {
      const plan = t.struct!;
      return { make: () => makeDefaultStruct(plan), isDefault: (v) => isDefaultStruct(plan, v) };
    }
  }
}

/** A struct whose every field holds its default value. */
export function makeDefaultStruct(plan: StructPlan): Struct {
  const obj: Struct = {};
  for (const f of plan.fields) obj[f.prop] = f.makeDefault();
  return obj;
}

function isDefaultStruct(plan: StructPlan, v: unknown): boolean {
  if (v === null || typeof v !== "object") return false;
  const s = v as Struct;
  if (s._unknownTaggedFields && s._unknownTaggedFields.length > 0) return false;
  for (const f of plan.fields) {
    if (f.mode === "absent") continue;
    const fv = s[f.prop];
    if (fv !== undefined && !f.isDefault(fv)) return false;
  }
  return true;
}

function compileField(spec: FieldSpec, ctx: CompileCtx): FieldPlan {
  const v = ctx.version;
  const tagged = inVersions(spec.taggedVersions, v);
  const present = tagged || inVersions(spec.versions, v);
  if (tagged && (spec.tag === undefined || !ctx.flexible)) {
    throw new Error(`field ${spec.name}: tagged in v${v} but has no tag or the version is not flexible`);
  }
  const nullable = present && inVersions(spec.nullableVersions, v);
  const compact = spec.flexibleVersions !== undefined ? inVersions(spec.flexibleVersions, v) : ctx.flexible;
  const type = compileType(spec.type, spec, ctx, nullable, compact);
  const { make, isDefault } = defaultFactory(spec, type);
  return {
    name: spec.name,
    prop: propName(spec.name),
    mode: tagged ? "tagged" : present ? "regular" : "absent",
    tag: tagged ? spec.tag! : -1,
    type,
    makeDefault: make,
    isDefault,
  };
}

function minTypeSize(t: TypePlan): number {
  if (t.fixedSize >= 0) return t.fixedSize;
  if (t.kind === "struct") return t.nullable ? 1 : t.struct!.minSize;
  // strings, bytes, records: int16/int32 length or a 1-byte uvarint; arrays: int32 or uvarint count.
  if (!t.compact) return t.kind === "string" ? 2 : 4;
  return 1;
}

function compileStruct(name: string, fields: readonly FieldSpec[], ctx: CompileCtx): StructPlan {
  const compiled = fields.map((f) => compileField(f, ctx));
  const regular = compiled.filter((f) => f.mode === "regular");
  const tagged = compiled.filter((f) => f.mode === "tagged").sort((a, b) => a.tag - b.tag);
  const taggedByTag = new Map<number, FieldPlan>();
  for (const f of tagged) {
    if (taggedByTag.has(f.tag)) throw new Error(`struct ${name}: duplicate tag ${f.tag}`);
    taggedByTag.set(f.tag, f);
  }
  let minSize = ctx.flexible ? 1 : 0;
  for (const f of regular) minSize += minTypeSize(f.type);
  return { name, flexible: ctx.flexible, fields: compiled, regular, tagged, taggedByTag, minSize };
}

const planCache = new WeakMap<MessageSpec<unknown>, Map<number, StructPlan>>();

/**
 * The compiled plan of a message for one version (cached). Throws {@link ProtocolError} when the
 * version is outside the schema's `validVersions`.
 */
export function messagePlan(spec: MessageSpec<unknown>, version: number): StructPlan {
  let byVersion = planCache.get(spec);
  if (!byVersion) planCache.set(spec, byVersion = new Map());
  let plan = byVersion.get(version);
  if (!plan) {
    if (!Number.isInteger(version) || !inVersions(spec.validVersions, version)) {
      throw new ProtocolError(
        `${spec.name} does not support version ${version} (valid: ${spec.validVersions})`,
      );
    }
    plan = compileStruct(spec.name, spec.fields, { version, flexible: isFlexible(spec, version) });
    byVersion.set(version, plan);
  }
  return plan;
}
