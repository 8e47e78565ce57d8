/**
 * Logging set-up (LogTape): one console sink, text or JSON lines.
 *
 * @module
 */
import {
  configure,
  getConsoleSink,
  getLogger,
  getTextFormatter,
  jsonLinesFormatter,
  type Logger,
} from "@logtape/logtape";
import type { LogFormat, LogLevelName } from "./config/mod.ts";

/** Plain text lines; string values unquoted so addresses and reasons read naturally. */
const textFormatter = getTextFormatter({
  value: (value) => typeof value === "string" ? value : Deno.inspect(value),
});

/** Configures the `kgate` logger category. Safe to call more than once (later calls win). */
export async function setUpLogging(level: LogLevelName, format: LogFormat): Promise<void> {
  await configure({
    reset: true,
    sinks: {
      console: getConsoleSink({ formatter: format === "json" ? jsonLinesFormatter : textFormatter }),
      // Audit entries are JSON lines of their own whatever the log format, one event a line.
      audit: getConsoleSink({ formatter: (record) => JSON.stringify(record.properties.audit) + "\n" }),
    },
    loggers: [
      { category: ["kgate"], lowestLevel: level, sinks: ["console"] },
      {
        category: ["kgate", "audit", "event"],
        lowestLevel: "info",
        sinks: ["audit"],
        parentSinks: "override",
      },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["console"] },
    ],
  });
}

/** The logger of one kgate room, e.g. `logger("proxy")`. */
export function logger(...category: string[]): Logger {
  return getLogger(["kgate", ...category]);
}
