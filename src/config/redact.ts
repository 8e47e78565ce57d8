/**
 * The configuration as printable key/values (the HTTP API's `/api/v1/config`, logs) with secrets masked.
 *
 * @module
 */
import { type GatewayConfig, SETTINGS } from "./schema.ts";

/**
 * The configuration keyed by environment variable, every secret that is set shown as `<redacted>`.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./parse.ts";
 * const shown = redactedConfig(parseConfig({ KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" }));
 * console.log(shown.GATEWAY_ADMIN_API_USERS); // "<redacted>"
 * ```
 */
export function redactedConfig(config: GatewayConfig): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const setting of SETTINGS) {
    const value = config[setting.key];
    // null, not undefined: an unset setting still shows in JSON.
    out[setting.env] = setting.secret && value !== undefined ? "<redacted>" : value ?? null;
  }
  return out;
}
