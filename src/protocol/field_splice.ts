/**
 * Rewriting some top-level fields of a message body without decoding the rest of it.
 *
 * A run is a sequence of consecutive regular top-level fields (declaration order). The fields before
 * it are skipped by their lengths (no objects, no copies); the run is decoded with the generic codec,
 * so it is checked and re-encoded exactly as a whole decode and encode would; the bytes after it are
 * kept as they are. A run that reaches the end of the message includes the top-level tagged section.
 *
 * The proxy rewrites Metadata responses this way (the run is `Brokers`: the topics and partitions
 * after it are copied, whatever their number), and ShareFetch and ShareAcknowledge responses (the run
 * is `NodeEndpoints` to the end: the records before it are skipped, not decoded).
 *
 * @module
 */

import { ByteReader, ByteWriter } from "./bytes.ts";
import { readStruct, writeStruct } from "./codec.ts";
import { ProtocolError } from "./errors.ts";
import { type FieldPlan, messagePlan, type MessageSpec, type Struct, type StructPlan } from "./schema.ts";
import { skipValue } from "./tagged_tail.ts";
import { concatBytes } from "../lib/bytes_io.ts";

/** A run of top-level fields read out of a body: the bytes `[start, end)` decode to `value`. */
export interface FieldRun {
  /** Offset of the run's first field in the body. */
  readonly start: number;
  /** Offset just past the run (the body's end for a run to the end of the message). */
  readonly end: number;
  /** The run's fields, decoded (and, for a run to the end, the message's tagged fields). */
  readonly value: Struct;
  /** The run, as a struct plan of its own (used to encode it again). */
  readonly plan: StructPlan;
}

// Run plans by message plan, then by "first/last" (last empty: to the end).
const runPlans = new WeakMap<StructPlan, Map<string, { plan: StructPlan; skip: number }>>();

function runPlan(message: StructPlan, first: string, last: string | undefined) {
  let byRun = runPlans.get(message);
  if (!byRun) runPlans.set(message, byRun = new Map());
  const key = `${first}/${last ?? ""}`;
  let run = byRun.get(key);
  if (run) return run;
  const from = message.regular.findIndex((f) => f.name === first);
  const to = last === undefined
    ? message.regular.length - 1
    : message.regular.findIndex((f) => f.name === last);
  if (from < 0 || to < from) {
    throw new ProtocolError(
      `${message.name} has no regular fields ${first}..${last ?? "end"} in this version`,
    );
  }
  const regular = message.regular.slice(from, to + 1);
  const toEnd = last === undefined;
  // readStruct reads `fields` in order (regular ones from the wire); writeStruct writes `regular`, then
  // the tagged section when `flexible`. Tagged fields belong to the run only when it reaches the end.
  const fields: FieldPlan[] = toEnd
    ? message.fields.filter((f) => f.mode !== "regular" || regular.includes(f))
    : regular;
  const plan: StructPlan = {
    name: message.name,
    flexible: toEnd && message.flexible,
    fields,
    regular,
    tagged: toEnd ? message.tagged : [],
    taggedByTag: toEnd ? message.taggedByTag : new Map(),
    minSize: 0,
  };
  byRun.set(key, run = { plan, skip: from });
  return run;
}

/**
 * Reads the regular top-level fields `first` to `last` of a message body at `offset` (the fields before
 * them skipped, not decoded). Without `last`, the run goes to the end of the message (its tagged section
 * included), which must be the end of `body`.
 *
 * @example
 * ```ts ignore
 * const run = readFieldRun(MetadataResponse, 12, body, headerEnd, "Brokers", "Brokers");
 * run.value.brokers; // the decoded brokers; the topics after them are not read
 * ```
 * @throws {ProtocolError} when the bytes do not hold the fields
 */
export function readFieldRun(
  schema: MessageSpec<unknown>,
  version: number,
  body: Uint8Array,
  offset: number,
  first: string,
  last?: string,
): FieldRun {
  const message = messagePlan(schema, version);
  const { plan, skip } = runPlan(message, first, last);
  const r = new ByteReader(body, offset);
  for (let i = 0; i < skip; i++) skipValue(r, message.regular[i].type);
  const start = r.offset;
  const value = readStruct(r, plan);
  if (last === undefined && r.offset !== body.length) {
    throw new ProtocolError(`${body.length - r.offset} trailing byte(s)`);
  }
  return { start, end: r.offset, value, plan };
}

/** Kept bytes up to this length are copied into a neighbouring piece rather than written on their own. */
const COPY_AT_MOST = 4096;

/**
 * A whole frame (int32 size prefix included) as pieces to write one after the other: `body` with the
 * bytes of `run` replaced by the encoding of `value` (the run's fields; by default its decoded value,
 * changed in place). The bytes kept before and after the run are views of `body`, not copies (short
 * ones are copied, to save a write): the pieces are valid as long as `body` is.
 *
 * @example
 * ```ts ignore
 * for (const broker of run.value.brokers as MetadataResponseBroker[]) broker.host = "gateway";
 * const pieces = spliceFieldRun(body, run); // [size prefix + header + new brokers, view of the topics]
 * ```
 * @throws {ProtocolError} when a value does not fit its field
 */
export function spliceFieldRun(body: Uint8Array, run: FieldRun, value: Struct = run.value): Uint8Array[] {
  const w = new ByteWriter(128);
  writeStruct(w, run.plan, value);
  const fields = w.finish();
  const before = body.subarray(0, run.start);
  const after = body.subarray(run.end);
  const size = new Uint8Array(4);
  new DataView(size.buffer).setInt32(0, before.length + fields.length + after.length);
  // Consecutive bytes to copy are joined into one piece; long kept bytes stay views of `body`.
  const pieces: Uint8Array[] = [];
  let copies: Uint8Array[] = [];
  const flush = () => {
    if (copies.length > 0) pieces.push(concatBytes(copies));
    copies = [];
  };
  for (const [part, kept] of [[size, false], [before, true], [fields, false], [after, true]] as const) {
    if (part.length === 0) continue;
    if (kept && part.length > COPY_AT_MOST) {
      flush();
      pieces.push(part);
    } else {
      copies.push(part);
    }
  }
  flush();
  return pieces;
}
