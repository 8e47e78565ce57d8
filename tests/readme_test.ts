/**
 * The README documents every setting and every task. Its configuration table is rendered from the settings
 * schema; `deno test -A tests/readme_test.ts -- --update` rewrites it.
 */
import assert from "node:assert/strict";
import { CONFIG_TABLE_HEADER, configTable, configTableRows } from "../src/config/mod.ts";

const README = new URL("../README.md", import.meta.url);
const START = "<!-- settings table: rendered from src/config/schema.ts; see tests/readme_test.ts -->";
const END = "<!-- end of settings table -->";

/** The README's configuration table (the lines between the markers) and the text around it. */
function tableOf(readme: string): { before: string; table: string; after: string } {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  assert.ok(start >= 0 && end > start, "README lacks the settings table markers");
  const from = start + START.length;
  return { before: readme.slice(0, from), table: readme.slice(from, end).trim(), after: readme.slice(end) };
}

/** The cells of a Markdown table, padding dropped. */
function cells(table: string): string[][] {
  return table.split("\n").map((line) => line.replace(/^\| | \|$/g, "").split(" | ").map((c) => c.trim()));
}

if (Deno.args.includes("--update")) {
  const { before, after } = tableOf(await Deno.readTextFile(README));
  await Deno.writeTextFile(README, `${before}\n\n${configTable()}\n\n${after}`);
}

const readme = await Deno.readTextFile(README);

Deno.test("README's configuration table is the one rendered from the settings schema", () => {
  const [header, separator, ...rows] = cells(tableOf(readme).table);
  assert.deepEqual(header, [...CONFIG_TABLE_HEADER]);
  assert.ok(separator.every((c) => /^-+$/.test(c)), "separator row");
  assert.deepEqual(
    rows,
    configTableRows(),
    "README's settings table is stale: run deno test -A tests/readme_test.ts -- --update",
  );
});

Deno.test("README names the test command and every deno task", async () => {
  const config = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url)));
  assert.ok(readme.includes("deno task test"));
  for (const task of Object.keys(config.tasks)) {
    if (["fmt", "lint", "check"].includes(task)) continue;
    assert.ok(readme.includes(`deno task ${task}`), `README does not mention deno task ${task}`);
  }
});
