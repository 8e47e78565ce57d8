/** The config tests' one way to see a refusal. */
import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../../src/config/mod.ts";

/** The ConfigError `raw` is refused with; fails the test when `raw` is accepted. */
export function refusal(raw: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(raw);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    return error;
  }
  assert.fail(`accepted ${JSON.stringify(raw)}`);
}
