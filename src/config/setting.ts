/**
 * Declaring one setting: its value type, variable name, description and default, as one zod schema whose
 * documentation is kept in {@link settingDocs}, from which `--help`, the README table and masking read.
 *
 * @module
 */
import { z } from "zod";
import type { ValueType } from "./values.ts";

/** What a setting says about itself, as written in the schema. */
export interface SettingDoc {
  /** Environment variable name; the CLI flag is derived from it ({@link flagName}). */
  env: string;
  /** One line for `--help` and the README. */
  description: string;
  /** More for the README only (Markdown). */
  details?: string;
  /** The value is a secret: never printed in errors, logs or the HTTP API. */
  secret?: boolean;
  /** An empty value is a value (not "unset", as for other settings). */
  emptyIsValue?: boolean;
  /**
   * The default in words: what unset means (optional settings), how it is computed (computed defaults), or
   * a note after the value (constant defaults).
   */
  defaultNote?: string;
}

/** Everything `--help`, the README and masking need to know about a setting. */
export interface SettingMeta extends Omit<SettingDoc, "defaultNote"> {
  /** What values are allowed, for `--help` and error messages. */
  allowed: string;
  /** The value must be given. */
  required: boolean;
  /** The default as `--help` shows it; undefined = no default. */
  defaultText?: string;
}

/** The documentation of every setting schema, keyed by the schema. */
export const settingDocs: z.core.$ZodRegistry<SettingMeta> = z.registry<SettingMeta>();

/**
 * A setting that must be given.
 *
 * @example
 * ```ts
 * import { port } from "./values.ts";
 * const schema = required(port, { env: "EXAMPLE_PORT", description: "A port" });
 * ```
 */
export function required<S extends z.ZodType>(value: ValueType<S>, doc: SettingDoc): S {
  // A copy: value types are shared, documentation belongs to one setting.
  return documented(value.schema.clone(), meta(value, doc, true, undefined));
}

/**
 * A setting that may be unset (undefined); `doc.defaultNote` says what that means, e.g. "any peer".
 *
 * @example
 * ```ts
 * import { port } from "./values.ts";
 * const schema = optional(port, { env: "EXAMPLE_PORT", description: "A port", defaultNote: "a free port" });
 * ```
 */
export function optional<S extends z.ZodType>(
  value: ValueType<S>,
  doc: SettingDoc,
): z.ZodUnion<readonly [z.ZodUndefined, S]> {
  // A union with undefined rather than `.optional()`: the key stays in the type, its value may be undefined.
  return documented(z.union([z.undefined(), value.schema]), meta(value, doc, false, doc.defaultNote));
}

/**
 * A setting with a constant default, shown in `--help` as the value followed by `doc.defaultNote` in
 * parentheses.
 *
 * @example
 * ```ts
 * import { port } from "./values.ts";
 * const schema = withDefault(port, 8080, { env: "EXAMPLE_PORT", description: "A port" });
 * ```
 */
export function withDefault<S extends z.ZodType>(
  value: ValueType<S>,
  fallback: z.util.NoUndefined<z.output<S>>,
  doc: SettingDoc,
): z.ZodDefault<S> {
  const shown = typeof fallback === "object" ? JSON.stringify(fallback) : String(fallback);
  const text = doc.defaultNote === undefined ? shown : `${shown} (${doc.defaultNote})`;
  return documented(value.schema.default(fallback), meta(value, doc, false, text));
}

/**
 * A setting whose default is computed when it is absent; `doc.defaultNote` describes it for `--help`.
 *
 * @example
 * ```ts
 * import { nonEmpty } from "./values.ts";
 * const schema = computedDefault(nonEmpty("a name"), () => Deno.hostname(), {
 *   env: "EXAMPLE_HOST",
 *   description: "A host",
 *   defaultNote: "the hostname",
 * });
 * ```
 */
export function computedDefault<S extends z.ZodType>(
  value: ValueType<S>,
  compute: () => z.util.NoUndefined<z.output<S>>,
  doc: SettingDoc & { defaultNote: string },
): z.ZodDefault<S> {
  return documented(value.schema.default(compute), meta(value, doc, false, doc.defaultNote));
}

function documented<S extends z.ZodType>(schema: S, meta: SettingMeta): S {
  const plain: z.ZodType = schema;
  settingDocs.add(plain, meta);
  return schema;
}

function meta(
  value: ValueType<z.ZodType>,
  doc: SettingDoc,
  required: boolean,
  defaultText: string | undefined,
): SettingMeta {
  const { defaultNote: _, ...rest } = doc;
  return { ...rest, allowed: value.allowed, required, defaultText };
}

/**
 * The CLI flag of a setting: its variable in kebab case, without the `GATEWAY_` prefix.
 *
 * @example
 * ```ts
 * flagName("GATEWAY_PORT_START"); // "port-start"
 * ```
 */
export function flagName(env: string): string {
  return env.replace(/^GATEWAY_/, "").toLowerCase().replaceAll("_", "-");
}
