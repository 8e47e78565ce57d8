/**
 * Generates kgate's Kafka protocol definitions (`src/protocol/generated/`) from Kafka's own message JSON
 * (`common/message/*.json` inside the kafka-clients jar):
 *
 * - `messages.ts`: a {@link MessageSpec} for every message (requests, responses, headers, data),
 * - `types.ts`: the TypeScript type of every decoded message and struct,
 * - `api_keys.ts`: the `as const` API key table (`ApiKey.Metadata === 3`).
 *
 * ```sh
 * deno task generate                    # from tests/kafka/libs/<version>/kafka-clients-<version>.jar
 * deno task generate --kafka 4.3.1      # another release (default: the harness's defaultKafkaVersion())
 * deno task generate --check            # exit 1 when the committed files differ
 * deno task generate --refresh-legacy /path/kafka-clients-3.9.1.jar   # rewrite tools/protocol/
 * ```
 *
 * The jar comes from the harness (`tests/harness/kafka_jars.ts`, Maven) and is fetched when missing;
 * nothing else is downloaded. `tests/protocol/generated_test.ts` regenerates from the release named in
 * `generated/api_keys.ts` (`GENERATED_FROM_KAFKA`) and fails on any difference.
 *
 * **Versions Kafka 4 removed.** Kafka 4.0 dropped old versions (KIP-896: Produce 0-2, Fetch 0-3, ...) and
 * four inter-broker APIs that kgate still forwards for Kafka 3.9 brokers. Their 3.9.1 definitions are
 * committed in `tools/protocol/kafka-3.9.1-messages.json` (only the messages with versions 4.x lacks,
 * comments stripped; rewrite it with `--refresh-legacy`). Each message is merged from both releases:
 * versions the new release declares come from it, the others from 3.9.1. The merged `validVersions` is
 * the union; every field's `versions`, `nullableVersions`, `taggedVersions` and `flexibleVersions` is
 * recomputed as the set of merged versions in which it holds (the release that owns a version decides),
 * keeping the new release's string when it already says the same. Field order follows both releases
 * (fields only one release has keep their place); any conflict (type, tag, order, a version set that
 * is not a range) stops the generator.
 *
 * **Local adjustments** ({@link ADJUSTMENTS}) are applied after the merge; each says why.
 *
 * @module
 */

import { readZipEntry, zipEntries } from "./zip_reader.ts";

// ---------------------------------------------------------------------------------------------
// Kafka message JSON
// ---------------------------------------------------------------------------------------------

/** A field as in Kafka's message JSON. */
export interface KafkaField {
  name: string;
  type: string;
  versions: string;
  nullableVersions?: string;
  taggedVersions?: string;
  tag?: number;
  default?: string | number | boolean;
  flexibleVersions?: string;
  ignorable?: boolean;
  entityType?: string;
  mapKey?: boolean;
  zeroCopy?: boolean;
  about?: string;
  fields?: KafkaField[];
}

/** A message as in Kafka's message JSON. */
export interface KafkaMessage {
  apiKey?: number;
  type: "request" | "response" | "header" | "data";
  name: string;
  validVersions: string;
  flexibleVersions?: string;
  latestVersionUnstable?: boolean;
  listeners?: string[];
  fields: KafkaField[];
  commonStructs?: { name: string; versions: string; fields: KafkaField[] }[];
}

/** Strip `//` and `/* *\/` comments outside strings (Kafka's JSON files carry license and version notes). */
export function stripJsonComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === "\\" ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && text[i + 1] === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** The message JSONs of a kafka-clients jar, by message name, and the jar's Kafka version. */
export interface JarMessages {
  /** Kafka version, from the jar's `kafka/kafka-version.properties`. */
  version: string;
  /** Messages by name. */
  messages: Map<string, KafkaMessage>;
}

/** Read the message JSONs and the Kafka version of a kafka-clients jar. */
export async function readJarMessages(jar: Uint8Array): Promise<JarMessages> {
  const out = new Map<string, KafkaMessage>();
  const dec = new TextDecoder();
  let version = "";
  for (const e of zipEntries(jar)) {
    if (e.name === "kafka/kafka-version.properties") {
      version = dec.decode(await readZipEntry(jar, e)).match(/^version=(\S+)/m)?.[1] ?? "";
    }
    if (!/^common\/message\/[A-Za-z0-9]+\.json$/.test(e.name)) continue;
    const m = JSON.parse(stripJsonComments(dec.decode(await readZipEntry(jar, e)))) as KafkaMessage;
    out.set(m.name, m);
  }
  if (out.size === 0) throw new Error("no common/message/*.json in the jar");
  if (!version) throw new Error("no kafka/kafka-version.properties in the jar");
  return { version, messages: out };
}

/** Replace references to `commonStructs` by the struct's fields, so every struct field carries its layout. */
function inlineCommonStructs(m: KafkaMessage): KafkaMessage {
  const common = new Map((m.commonStructs ?? []).map((s) => [s.name, s.fields]));
  const inline = (fields: KafkaField[]): KafkaField[] =>
    fields.map((f) => {
      const base = f.type.replace(/^\[\]/, "");
      if (f.fields) return { ...f, fields: inline(f.fields) };
      if (!/^[A-Z]/.test(base)) return f;
      const struct = common.get(base);
      if (!struct) throw new Error(`${m.name}.${f.name}: struct ${base} has no fields`);
      return { ...f, fields: inline(struct) };
    });
  const { commonStructs: _, ...rest } = m;
  return { ...rest, fields: inline(m.fields ?? []) };
}

// ---------------------------------------------------------------------------------------------
// Version sets
// ---------------------------------------------------------------------------------------------

interface Range {
  lo: number;
  hi: number; // Infinity for "N+"
}

function parseRange(s: string | undefined): Range {
  if (s === undefined || s === "none") return { lo: 1, hi: 0 };
  let m: RegExpMatchArray | null;
  if ((m = s.match(/^(\d+)\+$/))) return { lo: Number(m[1]), hi: Infinity };
  if ((m = s.match(/^(\d+)-(\d+)$/))) return { lo: Number(m[1]), hi: Number(m[2]) };
  if ((m = s.match(/^(\d+)$/))) return { lo: Number(m[1]), hi: Number(m[1]) };
  throw new Error(`invalid version range ${JSON.stringify(s)}`);
}

function has(s: string | undefined, v: number): boolean {
  const r = parseRange(s);
  return v >= r.lo && v <= r.hi;
}

/** Versions `lo..hi` of a message, and which release owns each. */
interface Merge {
  lo: number;
  hi: number;
  /** True when version `v` comes from the new release. */
  isNew(v: number): boolean;
  where: string;
}

/**
 * The merged version string of one property: the versions where the owning release says it holds.
 * Keeps the new (else old) string when it already says exactly that over the merged versions.
 */
function mergeVersions(
  mg: Merge,
  oldS: string | undefined,
  newS: string | undefined,
  what: string,
): string | undefined {
  const set: number[] = [];
  for (let v = mg.lo; v <= mg.hi; v++) if (has(mg.isNew(v) ? newS : oldS, v)) set.push(v);
  const same = (s: string | undefined) => {
    for (let v = mg.lo; v <= mg.hi; v++) if (has(s, v) !== set.includes(v)) return false;
    return true;
  };
  if (newS !== undefined && same(newS)) return newS;
  if (oldS !== undefined && same(oldS)) return oldS;
  if (set.length === 0) return undefined;
  const lo = set[0], hi = set[set.length - 1];
  if (hi - lo + 1 !== set.length) throw new Error(`${mg.where}${what}: versions ${set} are not a range`);
  const open = parseRange(newS ?? oldS).hi === Infinity && hi === mg.hi;
  return open ? `${lo}+` : lo === hi ? `${lo}` : `${lo}-${hi}`;
}

// ---------------------------------------------------------------------------------------------
// Merging two releases
// ---------------------------------------------------------------------------------------------

function mergeField(mg: Merge, o: KafkaField | undefined, n: KafkaField | undefined): KafkaField | undefined {
  const f = (n ?? o)!;
  const where = `${mg.where}.${f.name}`;
  const m: Merge = { ...mg, where };
  const versions = mergeVersions(m, o?.versions, n?.versions, "");
  if (versions === undefined) return undefined; // in no merged version
  if (o && n) {
    const live = (s: string | undefined, isNew: boolean) => {
      for (let v = mg.lo; v <= mg.hi; v++) if (mg.isNew(v) === isNew && has(s, v)) return true;
      return false;
    };
    const oldLive = live(o.versions, false) || live(o.taggedVersions, false);
    if (oldLive && o.type.replace(/^\[\]/, "").match(/^[a-z]/) && o.type !== n.type) {
      throw new Error(`${where}: type ${o.type} (old) vs ${n.type} (new)`);
    }
    if (oldLive && (o.tag ?? -1) !== (n.tag ?? -1) && o.taggedVersions && n.taggedVersions) {
      throw new Error(`${where}: tag ${o.tag} (old) vs ${n.tag} (new)`);
    }
    if (oldLive && String(o.default ?? "") !== String(n.default ?? "")) {
      throw new Error(`${where}: default ${o.default} (old) vs ${n.default} (new)`);
    }
  }
  const out: KafkaField = { ...f, versions };
  const props = ["nullableVersions", "taggedVersions", "flexibleVersions"] as const;
  for (const p of props) {
    const s = mergeVersions(m, o?.[p], n?.[p], ` ${p}`);
    if (s === undefined) delete out[p];
    else out[p] = s;
  }
  if (out.taggedVersions === undefined) delete out.tag;
  else out.tag = (n?.taggedVersions ? n.tag : o?.tag)!;
  if (o?.fields || n?.fields) out.fields = mergeFieldLists(m, o?.fields ?? [], n?.fields ?? []);
  return out;
}

/** Merge two ordered field lists: common fields in the same order, one-sided fields keep their place. */
function mergeFieldLists(mg: Merge, olds: KafkaField[], news: KafkaField[]): KafkaField[] {
  const oldNames = new Set(olds.map((f) => f.name));
  const newNames = new Set(news.map((f) => f.name));
  const out: KafkaField[] = [];
  const push = (f: KafkaField | undefined) => f && out.push(f);
  let i = 0, j = 0;
  while (i < olds.length || j < news.length) {
    const o = olds[i], n = news[j];
    if (o && n && o.name === n.name) {
      push(mergeField(mg, o, n));
      i++, j++;
    } else if (o && !newNames.has(o.name)) {
      push(mergeField(mg, o, undefined));
      i++;
    } else if (n && !oldNames.has(n.name)) {
      push(mergeField(mg, undefined, n));
      j++;
    } else {
      throw new Error(`${mg.where}: fields ${o?.name} and ${n?.name} are in a different order`);
    }
  }
  return out;
}

/**
 * One message from an old and a new release: versions the new release declares come from it, the
 * others from the old one.
 */
export function mergeMessage(old: KafkaMessage, neu: KafkaMessage): KafkaMessage {
  const ro = parseRange(old.validVersions), rn = parseRange(neu.validVersions);
  if (rn.lo > rn.hi) return { ...old, name: neu.name };
  if (ro.lo > ro.hi) return neu;
  const lo = Math.min(ro.lo, rn.lo), hi = Math.max(ro.hi, rn.hi);
  for (let v = lo; v <= hi; v++) {
    if (!has(old.validVersions, v) && !has(neu.validVersions, v)) {
      throw new Error(`${neu.name}: version ${v} is in neither release`);
    }
  }
  const mg: Merge = { lo, hi, isNew: (v) => v >= rn.lo && v <= rn.hi, where: neu.name };
  const validVersions = lo === hi ? `${lo}` : `${lo}-${hi}`;
  const flexibleVersions =
    mergeVersions(mg, old.flexibleVersions, neu.flexibleVersions, " flexibleVersions") ??
      "none";
  const out: KafkaMessage = {
    ...neu,
    validVersions,
    flexibleVersions,
    fields: mergeFieldLists(mg, old.fields, neu.fields),
  };
  // The new release's unstable latest version stays unstable; an old unstable version is now stable.
  if (!neu.latestVersionUnstable) delete out.latestVersionUnstable;
  return out;
}

function messageKey(m: KafkaMessage): string {
  return m.apiKey !== undefined ? `${m.apiKey}/${m.type}` : m.name;
}

// ---------------------------------------------------------------------------------------------
// Local adjustments
// ---------------------------------------------------------------------------------------------

/** A change kgate makes to Kafka's definitions, and why. */
interface Adjustment {
  why: string;
  apply(messages: KafkaMessage[]): void;
}

function eachField(fields: KafkaField[], fn: (f: KafkaField) => void): void {
  for (const f of fields) {
    fn(f);
    if (f.fields) eachField(f.fields, fn);
  }
}

/** kgate's changes to Kafka's definitions, applied after the merge. */
export const ADJUSTMENTS: readonly Adjustment[] = [
  {
    why: "`records` fields are read as nullable in every version: Kafka releases disagree (Produce and " +
      "Fetch records are nullable in 3.9, not in 4.x; ShareFetch's never), and a null is harmless to forward.",
    apply(messages) {
      for (const m of messages) {
        eachField(m.fields, (f) => {
          if (f.type === "records") f.nullableVersions = f.versions;
        });
      }
    },
  },
];

// ---------------------------------------------------------------------------------------------
// Emitting TypeScript
// ---------------------------------------------------------------------------------------------

function lit(v: unknown): string {
  return JSON.stringify(v);
}

function fieldSpecLiteral(f: KafkaField): string {
  const parts = [`name: ${lit(f.name)}`, `type: ${lit(f.type)}`, `versions: ${lit(f.versions)}`];
  if (f.nullableVersions !== undefined) parts.push(`nullableVersions: ${lit(f.nullableVersions)}`);
  if (f.taggedVersions !== undefined) parts.push(`taggedVersions: ${lit(f.taggedVersions)}`, `tag: ${f.tag}`);
  if (f.default !== undefined) parts.push(`default: ${lit(f.default)}`);
  if (f.flexibleVersions !== undefined) parts.push(`flexibleVersions: ${lit(f.flexibleVersions)}`);
  if (f.entityType !== undefined) parts.push(`entityType: ${lit(f.entityType)}`);
  if (f.fields) parts.push(`fields: [${f.fields.map(fieldSpecLiteral).join(", ")}]`);
  return `{ ${parts.join(", ")} }`;
}

const PRIMITIVE_TS: Record<string, string> = {
  bool: "boolean",
  int8: "number",
  int16: "number",
  uint16: "number",
  int32: "number",
  uint32: "number",
  float64: "number",
  int64: "bigint",
  uuid: "string",
  string: "string",
  bytes: "Uint8Array",
  records: "Uint8Array",
};

function isNullDefault(d: unknown): boolean {
  return d === null || d === "null";
}

/** The decoded property type of a field, as the codec produces it (see src/protocol/schema.ts). */
function propType(f: KafkaField, structType: (f: KafkaField) => string): string {
  const isArray = f.type.startsWith("[]");
  const base = f.type.replace(/^\[\]/, "");
  const elem = PRIMITIVE_TS[base] ?? structType(f);
  const t = isArray ? `${elem}[]` : elem;
  const nullable = f.nullableVersions !== undefined ||
    f.type === "records" ||
    ((isArray || base === "string" || base === "bytes") && isNullDefault(f.default));
  const scalar = !isArray &&
    ["bool", "int8", "int16", "uint16", "int32", "uint32", "float64", "int64", "uuid"]
      .includes(base);
  return nullable && !scalar ? `${t} | null` : t;
}

function docLine(text: string): string {
  return text.replaceAll("*/", "*\\/").replace(/\s+/g, " ").trim();
}

function versionNote(f: KafkaField): string {
  const parts = [`v${f.versions}`];
  if (f.taggedVersions) parts.push(`tagged ${f.tag} in v${f.taggedVersions}`);
  if (f.nullableVersions) parts.push(`nullable in v${f.nullableVersions}`);
  if (f.default !== undefined) parts.push(`default ${f.default === "" ? '""' : f.default}`);
  return parts.join(", ");
}

function apiBaseName(m: KafkaMessage): string {
  return m.name.replace(/(Request|Response)$/, "");
}

/** Type name of a struct of message `m`: `MetadataResponse` + `MetadataResponseBroker` -> `MetadataResponseBroker`. */
function structTypeName(m: KafkaMessage, struct: string): string {
  if (struct.startsWith(m.name) && /^[A-Z]/.test(struct.slice(m.name.length))) return struct;
  const api = apiBaseName(m);
  if (m.apiKey !== undefined && struct.startsWith(api) && /^[A-Z]/.test(struct.slice(api.length))) {
    return m.name + struct.slice(api.length);
  }
  return m.name + struct;
}

function emitTypes(messages: KafkaMessage[], header: string): string {
  const out: string[] = [];
  const seen = new Map<string, string>();
  const claim = (name: string, owner: string) => {
    const prev = seen.get(name);
    if (prev !== undefined && prev !== owner) {
      throw new Error(`type name ${name} used by ${prev} and ${owner}`);
    }
    seen.set(name, owner);
  };
  for (const m of messages) {
    const flexible = m.flexibleVersions !== undefined && m.flexibleVersions !== "none";
    const structs: string[] = [];
    const emitStruct = (typeName: string, doc: string, fields: KafkaField[], path: string) => {
      const lines = [`/** ${doc} */`, `export type ${typeName} = {`];
      for (const f of fields) {
        const structType = (sf: KafkaField) => {
          const name = structTypeName(m, sf.type.replace(/^\[\]/, ""));
          const owner = `${m.name}:${path}.${sf.name}`;
          if (seen.has(name) && seen.get(name)!.startsWith(`${m.name}:`)) {
            // Kafka reuses a struct name inside one message only for the same struct (common structs).
            return name;
          }
          claim(name, owner);
          const at = `${path}.${sf.name}${sf.type.startsWith("[]") ? "[]" : ""}`;
          emitStruct(name, `\`${at}\` (struct \`${sf.type.replace(/^\[\]/, "")}\`).`, sf.fields ?? [], at);
          return name;
        };
        const about = f.about ? `${docLine(f.about)} ` : "";
        lines.push(`  /** ${about}(${versionNote(f)}) */`);
        lines.push(`  ${propName(f.name)}: ${propType(f, structType)};`);
      }
      if (flexible) {
        lines.push(
          "  /** Tagged fields unknown to the schema, re-emitted on encode (present only when there are some). */",
        );
        lines.push("  _unknownTaggedFields?: RawTaggedField[];");
      }
      lines.push("};");
      structs.push(lines.join("\n"));
    };
    claim(`${m.name}Data`, `${m.name}:`);
    const versions = `versions ${m.validVersions}, flexible ${m.flexibleVersions ?? "none"}`;
    emitStruct(`${m.name}Data`, `Decoded \`${m.name}\` (${versions}).`, m.fields, m.name);
    out.push(...structs.reverse());
  }
  return header +
    `/**\n * The decoded type of every Kafka message and struct (Kafka field names in lowerCamelCase; a field\n` +
    ` * absent from a version holds its default). Object type aliases rather than interfaces, so that a\n` +
    ` * decoded struct is also a \`Struct\`.\n *\n * @module\n */\n\nimport type { RawTaggedField } from "../schema.ts";\n\n` +
    out.join("\n\n") + "\n";
}

function propName(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

function emitMessages(messages: KafkaMessage[], header: string): string {
  const out: string[] = [];
  const typeNames: string[] = [];
  for (const m of messages) {
    const dataType = `${m.name}Data`;
    typeNames.push(dataType);
    const specType = m.type === "request" ? `EncodeInput<${dataType}>` : dataType;
    const parts = [`name: ${lit(m.name)}`];
    if (m.apiKey !== undefined) parts.push(`apiKey: ${m.apiKey}`);
    parts.push(
      `type: ${lit(m.type)}`,
      `validVersions: ${lit(m.validVersions)}`,
      `flexibleVersions: ${lit(m.flexibleVersions ?? "none")}`,
    );
    if (m.latestVersionUnstable) parts.push(`latestVersionUnstable: true`);
    parts.push(`fields: [${m.fields.map(fieldSpecLiteral).join(", ")}]`);
    const doc = m.type === "request"
      ? `\`${m.name}\` v${m.validVersions} (decodes to a {@link ${dataType}}; fields left out encode as their default).`
      : `\`${m.name}\` v${m.validVersions}.`;
    out.push(`/** ${doc} */\nexport const ${m.name}: MessageSpec<${specType}> = { ${parts.join(", ")} };`);
  }
  const all =
    `/** Every message above. */\nexport const GENERATED_MESSAGES: readonly MessageSpec<unknown>[] = [${
      messages.map((m) => m.name).join(", ")
    }];`;
  return header +
    `/**\n * The spec of every Kafka message, in the shape of Kafka's message JSON.\n *\n * @module\n */\n\n` +
    `import type { EncodeInput, MessageSpec } from "../schema.ts";\n` +
    `import type { ${typeNames.join(", ")} } from "./types.ts";\n\n` + out.join("\n\n") + "\n\n" + all + "\n";
}

/** A name-only API key: known from Kafka trunk, not yet in a release the generator reads. */
export interface ExtraApiKey {
  apiKey: number;
  name: string;
  firstFlexible: number | null;
  note: string;
}

function emitApiKeys(
  messages: KafkaMessage[],
  extra: readonly ExtraApiKey[],
  header: string,
  version: string,
): string {
  const requests = new Map<number, KafkaMessage>();
  const responses = new Map<number, KafkaMessage>();
  for (const m of messages) {
    if (m.type === "request") requests.set(m.apiKey!, m);
    if (m.type === "response") responses.set(m.apiKey!, m);
  }
  const rows: string[] = [];
  const names: string[] = [];
  const max = Math.max(...requests.keys(), ...extra.map((e) => e.apiKey));
  for (let key = 0; key <= max; key++) {
    const rq = requests.get(key);
    const x = extra.find((e) => e.apiKey === key);
    if (rq) {
      const rs = responses.get(key);
      if (!rs) throw new Error(`api key ${key}: no response`);
      const name = apiBaseName(rq);
      const r = parseRange(rq.validVersions);
      const flex = parseRange(rq.flexibleVersions);
      rows.push(
        `  { key: ${key}, name: ${lit(name)}, minVersion: ${r.lo}, maxVersion: ${r.hi}, firstFlexible: ${
          flex.lo > flex.hi ? "null" : flex.lo
        }, request: ${rq.name}, response: ${rs.name} },`,
      );
      names.push(`  ${name}: ${key},`);
    } else if (x) {
      rows.push(
        `  // ${x.note}\n  { key: ${key}, name: ${
          lit(x.name)
        }, minVersion: 0, maxVersion: -1, firstFlexible: ${x.firstFlexible}, request: undefined, response: undefined },`,
      );
      names.push(`  ${x.name}: ${key},`);
    } else {
      throw new Error(`api key ${key}: no message`);
    }
  }
  const imports = [...requests.values(), ...responses.values()].map((m) => m.name).sort();
  return header +
    `/**\n * Every Kafka API key with its name, versions, first flexible version and message specs.\n *\n * @module\n */\n\n` +
    `import { ${imports.join(", ")} } from "./messages.ts";\n\n` +
    `/** The Kafka release whose kafka-clients jar these files were generated from. */\n` +
    `export const GENERATED_FROM_KAFKA = ${lit(version)};\n\n` +
    `/** Every API key, indexed by key. \`maxVersion < minVersion\` when the generator has no spec for it. */\n` +
    `export const API_KEY_TABLE = [\n${rows.join("\n")}\n] as const;\n\n` +
    `/** API key numbers by name, e.g. \`ApiKey.Metadata === 3\`. */\nexport const ApiKey = {\n${
      names.join("\n")
    }\n} as const;\n`;
}

// ---------------------------------------------------------------------------------------------
// Driver
// ---------------------------------------------------------------------------------------------

const ROOT = new URL("../", import.meta.url);
/** The committed 3.9.1 definitions of messages Kafka 4 narrowed or removed. */
export const LEGACY_FILE = new URL("tools/protocol/kafka-3.9.1-messages.json", ROOT);
/** Where the generated files go. */
export const OUT_DIR = new URL("src/protocol/generated/", ROOT);

/** API keys of Kafka trunk that no release read here defines yet (name and header versions only). */
export const EXTRA_API_KEYS: readonly ExtraApiKey[] = [
  {
    apiKey: 93,
    name: "GetReplicaLogInfo",
    firstFlexible: 0,
    note: "93: in Apache Kafka trunk, not in a release read here; known so the request guard forwards it.",
  },
];

/** The committed legacy messages file. */
export interface LegacyFile {
  kafka: string;
  note: string;
  messages: KafkaMessage[];
}

/** Merge the releases, apply {@link ADJUSTMENTS}, and return the generated files by name. */
export async function generateProtocol(
  current: JarMessages,
  legacy: LegacyFile,
): Promise<Map<string, string>> {
  const byKey = new Map<string, KafkaMessage>();
  for (const m of current.messages.values()) byKey.set(messageKey(m), inlineCommonStructs(m));
  for (const raw of legacy.messages) {
    const old = inlineCommonStructs(raw);
    const neu = byKey.get(messageKey(old));
    byKey.set(messageKey(old), neu ? mergeMessage(old, neu) : old);
  }
  const messages = [...byKey.values()].filter((m) =>
    parseRange(m.validVersions).lo <= parseRange(m.validVersions).hi
  )
    .sort((a, b) =>
      (a.apiKey ?? -1) - (b.apiKey ?? -1) || (a.type < b.type ? -1 : a.type > b.type ? 1 : 0) ||
      a.name.localeCompare(b.name)
    );
  for (const a of ADJUSTMENTS) a.apply(messages);
  const header =
    `// Generated by tools/generate_protocol.ts from the message JSON of kafka-clients ${current.version} ` +
    `and ${legacy.kafka} (tools/protocol/). Do not edit.\n`;
  const files = new Map<string, string>([
    ["types.ts", emitTypes(messages, header)],
    ["messages.ts", emitMessages(messages, header)],
    ["api_keys.ts", emitApiKeys(messages, EXTRA_API_KEYS, header, current.version)],
  ]);
  for (const [name, text] of files) files.set(name, await format(text, "ts"));
  return files;
}

/** `text` formatted by `deno fmt` with the repository's settings. */
async function format(text: string, ext: "ts" | "json"): Promise<string> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["fmt", `--ext=${ext}`, "-"],
    cwd: decodeURIComponent(ROOT.pathname),
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const writer = child.stdin.getWriter();
  await writer.write(new TextEncoder().encode(text));
  await writer.close();
  const out = await child.output();
  if (!out.success) throw new Error(`deno fmt failed: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout);
}

/**
 * The kafka-clients jar of a Kafka version (default: the harness's, `defaultKafkaVersion()`), fetched
 * with the harness (Maven) when it is not cached yet.
 */
export async function kafkaClientsJar(version?: string): Promise<string> {
  const { defaultKafkaVersion, ensureKafkaJars } = await import("../tests/harness/kafka_jars.ts");
  const v = version ?? defaultKafkaVersion();
  return `${await ensureKafkaJars(v)}/kafka-clients-${v}.jar`;
}

/** Generate from a kafka-clients jar and the committed legacy file. */
export async function generateFromJar(jarPath: string): Promise<Map<string, string>> {
  const legacy = JSON.parse(await Deno.readTextFile(LEGACY_FILE)) as LegacyFile;
  return generateProtocol(await readJarMessages(await Deno.readFile(jarPath)), legacy);
}

/** Write the legacy file from an old kafka-clients jar: the messages with versions the current jar lacks. */
async function refreshLegacy(oldJarPath: string, currentJarPath: string): Promise<void> {
  const old = (await readJarMessages(await Deno.readFile(oldJarPath))).messages;
  const current = new Map(
    [...(await readJarMessages(await Deno.readFile(currentJarPath))).messages.values()].map((m) => [
      messageKey(m),
      m,
    ]),
  );
  const keep: KafkaMessage[] = [];
  for (const m of [...old.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    const ro = parseRange(m.validVersions);
    const rn = parseRange(current.get(messageKey(m))?.validVersions);
    if (ro.lo <= ro.hi && (rn.lo > rn.hi || ro.lo < rn.lo || ro.hi > rn.hi)) keep.push(m);
  }
  const version = (await readJarMessages(await Deno.readFile(oldJarPath))).version;
  const file: LegacyFile = {
    kafka: version,
    note: `Message JSON of kafka-clients ${version} (comments stripped) for the messages with versions ` +
      `the current release lacks. Written by tools/generate_protocol.ts --refresh-legacy.`,
    messages: keep,
  };
  await Deno.writeTextFile(LEGACY_FILE, await format(JSON.stringify(file), "json"));
  console.log(`wrote ${keep.length} messages to ${LEGACY_FILE.pathname}`);
}

if (import.meta.main) {
  const args = [...Deno.args];
  const flag = (name: string) => {
    const i = args.indexOf(name);
    if (i < 0) return undefined;
    const v = args[i + 1];
    args.splice(i, 2);
    return v;
  };
  const check = args.includes("--check");
  const jar = flag("--jar") ?? await kafkaClientsJar(flag("--kafka"));
  const legacyJar = flag("--refresh-legacy");
  if (legacyJar) await refreshLegacy(legacyJar, jar);
  const files = await generateFromJar(jar);
  let stale = 0;
  for (const [name, text] of files) {
    const url = new URL(name, OUT_DIR);
    let before = "";
    try {
      before = await Deno.readTextFile(url);
    } catch { /* new file */ }
    if (before === text) continue;
    stale++;
    if (check) console.error(`${url.pathname} is out of date`);
    else {
      await Deno.mkdir(OUT_DIR, { recursive: true });
      await Deno.writeTextFile(url, text);
      console.log(`wrote ${url.pathname} (${text.split("\n").length} lines)`);
    }
  }
  if (check && stale > 0) Deno.exit(1);
}
