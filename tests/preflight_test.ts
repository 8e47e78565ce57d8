import assert from "node:assert/strict";
import { missingTools, missingToolsLine, type Tool, TOOLS } from "./preflight.ts";

const tool = (name: string, present: boolean, source: { apt?: string; pip?: string }): Tool => ({
  name,
  usedBy: "a test",
  ...source,
  present: () => Promise.resolve(present),
});

Deno.test("missingTools reports exactly the absent tools, in order", async () => {
  const tools = [
    tool("a", false, { apt: "pkg-a" }),
    tool("b", true, { apt: "pkg-b" }),
    tool("c", false, { apt: "pkg-c" }),
  ];
  assert.deepEqual((await missingTools(tools)).map((t) => t.name), ["a", "c"]);
  assert.deepEqual(await missingTools([tools[1]]), []);
});

Deno.test("missingToolsLine: one line, every missing tool, one apt command and one pip command", () => {
  const missing = [tool("kcat", false, { apt: "kcat" }), tool("kv", false, { pip: "kv==1.0" })];
  const asUser = missingToolsLine(missing, false);
  assert.equal(
    asUser,
    "missing: kcat, kv; install them with: sudo apt-get update && sudo apt-get install -y kcat && " +
      "python3 -m pip install --user --break-system-packages kv==1.0",
  );
  assert.ok(!asUser.includes("\n"));
  assert.equal(
    missingToolsLine([missing[0]], true),
    "missing: kcat; install them with: apt-get update && apt-get install -y kcat",
  );
});

Deno.test("every tool of the suite says how to install it", () => {
  for (const t of TOOLS) assert.ok(t.apt || t.pip, `${t.name} has no install source`);
  assert.ok(TOOLS.some((t) => t.name.startsWith("kubernetes-validate")));
});
