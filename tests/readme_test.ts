/** The README documents every setting and every task. */
import assert from "node:assert/strict";
import { flagName, SETTINGS } from "../src/config.ts";

const readme = await Deno.readTextFile(new URL("../README.md", import.meta.url));

Deno.test("README's configuration table lists every setting with its flag", () => {
  for (const setting of SETTINGS) {
    const row = readme.split("\n").find((line) => new RegExp(`^\\| \`${setting.env}\` +\\|`).test(line));
    assert.ok(row, `README has no row for ${setting.env}`);
    assert.ok(row.includes(`\`--${flagName(setting.env)}\``), `README row of ${setting.env} lacks its flag`);
  }
});

Deno.test("README names the test command and every deno task", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.ok(readme.includes("deno task test"));
  for (const task of Object.keys(config.tasks)) {
    if (["fmt", "lint", "check"].includes(task)) continue;
    assert.ok(readme.includes(`deno task ${task}`), `README does not mention deno task ${task}`);
  }
});
