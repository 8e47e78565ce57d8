import assert from "node:assert/strict";
import { LOOPBACK_BLOCKS, loopbackHost, loopbackHosts } from "./loopback.ts";

Deno.test("loopback blocks are disjoint and inside 127.0.0.2-127.0.0.254", () => {
  const owners = new Map<number, string>();
  for (const [owner, block] of Object.entries(LOOPBACK_BLOCKS)) {
    assert.ok(block.count >= 1, owner);
    for (let n = block.first; n < block.first + block.count; n++) {
      assert.ok(n >= 2 && n <= 254, `${owner}: 127.0.0.${n} is not a free loopback address`);
      assert.equal(
        owners.get(n),
        undefined,
        `127.0.0.${n} is in the blocks of ${owners.get(n)} and ${owner}`,
      );
      owners.set(n, owner);
    }
  }
});

Deno.test("loopbackHosts gives a block's addresses in order and refuses more than the block has", () => {
  assert.deepEqual(loopbackHosts("lifecycle"), ["127.0.0.22", "127.0.0.23"]);
  assert.deepEqual(loopbackHosts("haproxy", 2), ["127.0.0.31", "127.0.0.32"]);
  assert.equal(loopbackHost("http_api", 2), "127.0.0.43");
  assert.throws(() => loopbackHosts("kafkajs", 2), /block "kafkajs" has 1 address\(es\), 2 asked for/);
});

Deno.test("every integration test file has a block and writes no 127.0.0.x address (x > 1) by hand", async () => {
  const dir = new URL("../integration/", import.meta.url);
  for await (const entry of Deno.readDir(dir)) {
    if (!entry.name.endsWith("_test.ts")) continue;
    const owner = entry.name.slice(0, -"_test.ts".length);
    assert.ok(owner in LOOPBACK_BLOCKS, `${entry.name} has no loopback block`);
    const text = await Deno.readTextFile(new URL(entry.name, dir));
    const literal = /127\.0\.0\.(\d+)/g;
    for (const m of text.matchAll(literal)) {
      assert.ok(m[1] === "1", `${entry.name} writes ${m[0]}: ask tests/support/loopback.ts`);
    }
  }
});
