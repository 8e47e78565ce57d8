/**
 * fast-check arbitraries generated from a message schema for one version: respects field presence,
 * nullability, tagged fields and Kafka defaults, and adds random unknown tagged fields to every struct
 * of a flexible version.
 */

import fc from "fast-check";
import { uuidToString } from "../../src/protocol/bytes.ts";
import {
  messagePlan,
  type MessageSpec,
  type RawTaggedField,
  type Struct,
  type StructPlan,
  type TypePlan,
} from "../../src/protocol/schema.ts";

/** Size knobs for generated values. */
export interface ArbitraryOptions {
  /** Max elements per array (default 3). */
  maxArray?: number;
  /** Max characters per string (default 8). */
  maxString?: number;
  /** Max bytes per bytes/records value (default 24). */
  maxBytes?: number;
  /** Add random unknown tagged fields in flexible versions (default true). */
  unknownTags?: boolean;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function typeArbitrary(t: TypePlan, o: Required<ArbitraryOptions>): fc.Arbitrary<unknown> {
  let base: fc.Arbitrary<unknown>;
  switch (t.kind) {
    case "bool":
      base = fc.boolean();
      break;
    case "int8":
      base = fc.integer({ min: -128, max: 127 });
      break;
    case "int16":
      base = fc.integer({ min: -32768, max: 32767 });
      break;
    case "uint16":
      base = fc.integer({ min: 0, max: 65535 });
      break;
    case "int32":
      base = fc.integer({ min: -2147483648, max: 2147483647 });
      break;
    case "uint32":
      base = fc.integer({ min: 0, max: 4294967295 });
      break;
    case "int64":
      base = fc.bigInt({ min: INT64_MIN, max: INT64_MAX });
      break;
    case "float64":
      base = fc.double();
      break;
    case "uuid":
      base = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => uuidToString(b));
      break;
    case "string":
      base = fc.string({ unit: "grapheme", maxLength: o.maxString });
      break;
    case "bytes":
    case "records":
      base = fc.uint8Array({ maxLength: o.maxBytes });
      break;
    case "array":
      base = fc.array(typeArbitrary(t.elem!, o), { maxLength: o.maxArray });
      break;
    case "struct":
      base = structArbitrary(t.struct!, o);
      break;
  }
  return t.nullable ? fc.option(base, { nil: null, freq: 4 }) : base;
}

function unknownTaggedArbitrary(plan: StructPlan): fc.Arbitrary<RawTaggedField[]> {
  const known = new Set(plan.taggedByTag.keys());
  const tag = fc.oneof(fc.integer({ min: 0, max: 40 }), fc.integer({ min: 128, max: 70000 }))
    .filter((t) => !known.has(t));
  return fc.uniqueArray(
    fc.record({ tag, data: fc.uint8Array({ maxLength: 6 }) }, { noNullPrototype: true }),
    {
      selector: (f) => f.tag,
      maxLength: 2,
    },
  ).map((fields) => fields.sort((a, b) => a.tag - b.tag));
}

/** Arbitrary for one struct plan. */
export function structArbitrary(plan: StructPlan, o: Required<ArbitraryOptions>): fc.Arbitrary<Struct> {
  const model: Record<string, fc.Arbitrary<unknown>> = {};
  for (const f of plan.fields) {
    model[f.prop] = f.mode === "absent"
      ? fc.constant(0).map(() => f.makeDefault())
      : typeArbitrary(f.type, o);
  }
  const rec = fc.record(model, { noNullPrototype: true }) as fc.Arbitrary<Struct>;
  if (!plan.flexible || !o.unknownTags) return rec;
  return fc.tuple(rec, unknownTaggedArbitrary(plan)).map(([s, unknown]) => {
    if (unknown.length > 0) s._unknownTaggedFields = unknown;
    return s;
  });
}

/** Arbitrary values of `spec` at `version`. */
export function messageArbitrary<T>(
  spec: MessageSpec<T>,
  version: number,
  options: ArbitraryOptions = {},
): fc.Arbitrary<T> {
  const o: Required<ArbitraryOptions> = {
    maxArray: options.maxArray ?? 3,
    maxString: options.maxString ?? 8,
    maxBytes: options.maxBytes ?? 24,
    unknownTags: options.unknownTags ?? true,
  };
  return structArbitrary(messagePlan(spec, version), o) as fc.Arbitrary<T>;
}
