/**
 * The settings in words: the `--help` text and the README's configuration table, both rendered from
 * {@link SETTINGS}.
 *
 * @module
 */
import { SETTINGS, type SettingSpec } from "./schema.ts";
import { flagName } from "./setting.ts";

function defaultShown(setting: SettingSpec): string {
  return setting.required ? "required" : setting.defaultText ?? "unset";
}

/**
 * `--help` text listing every setting with its flag and default.
 *
 * @example
 * ```ts
 * console.log(helpText("1.0.0"));
 * ```
 */
export function helpText(version: string): string {
  const lines = [
    `kgate ${version}: a Kafka protocol gateway`,
    "",
    "Usage: kgate [--flag value ...]   (every flag has an equal environment variable)",
    "",
    "Settings:",
  ];
  for (const s of SETTINGS) {
    const def = s.required ? "required" : `default: ${defaultShown(s)}`;
    lines.push(`  --${flagName(s.env)}  (${s.env})`);
    lines.push(`      ${s.description}. ${def}. Allowed: ${s.allowed}`);
  }
  lines.push("", "  --help      Show this help", "  --version   Show the version");
  return lines.join("\n");
}

/** Header of the README's configuration table. */
export const CONFIG_TABLE_HEADER = ["Variable", "Flag", "Default", "Allowed", "Description"] as const;

/** Text that Markdown would read as HTML or emphasis is shown as code. */
function markdown(text: string): string {
  return /[<"{*]/.test(text) ? `\`${text}\`` : text;
}

/**
 * The cells of the README's configuration table, one row per setting.
 *
 * @example
 * ```ts
 * configTableRows()[0][0]; // "`KAFKA_BOOTSTRAP_SERVERS`"
 * ```
 */
export function configTableRows(): string[][] {
  return SETTINGS.map((s) => {
    const details = s.details ? ` (${s.details})` : "";
    const secret = s.secret ? "; a secret, never shown" : "";
    const cells = [
      `\`${s.env}\``,
      `\`--${flagName(s.env)}\``,
      markdown(defaultShown(s)),
      markdown(s.allowed),
      `${s.description}${details}${secret}`,
    ];
    for (const cell of cells) {
      if (cell.includes("|")) throw new Error(`a README table cell cannot hold "|": ${cell}`);
    }
    return cells;
  });
}

/**
 * The README's configuration table as Markdown, columns padded as `deno fmt` pads them.
 *
 * @example
 * ```ts
 * console.log(configTable());
 * ```
 */
export function configTable(): string {
  const rows = [[...CONFIG_TABLE_HEADER], ...configTableRows()];
  const widths = CONFIG_TABLE_HEADER.map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
  return [line(rows[0]), line(widths.map((w) => "-".repeat(w))), ...rows.slice(1).map(line)].join("\n");
}
