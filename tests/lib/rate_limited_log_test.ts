import assert from "node:assert/strict";
import { RateLimitedLog } from "../../src/lib/rate_limited_log.ts";

function harness(perInterval: number) {
  let now = 0;
  const lines: { message: string; values: Record<string, unknown> }[] = [];
  const log = new RateLimitedLog((message, values) => lines.push({ message, values }), {
    perInterval,
    intervalMs: 10_000,
    now: () => now,
  });
  return { log, lines, at: (ms: number) => now = ms };
}

Deno.test("the first lines of an interval are written, the rest counted and reported once, by kind", () => {
  const { log, lines, at } = harness(3);
  for (let i = 0; i < 1000; i++) {
    log.log(i % 2 ? "frame-size" : "protocol", "closed {client}", { client: `c${i}` });
  }
  assert.deepEqual(lines.map((l) => l.values.client), ["c0", "c1", "c2"]);
  at(9_999);
  log.flush();
  assert.equal(lines.length, 3, "no report before the interval is over");
  at(10_000);
  log.flush();
  assert.equal(lines.length, 4);
  assert.match(lines[3].message, /suppressed \{count\} more log lines/);
  assert.equal(lines[3].values.count, 997);
  assert.equal(lines[3].values.byKind, "frame-size: 499, protocol: 498");
  // A new interval: a fresh budget; a quiet interval reports nothing.
  log.log("protocol", "closed {client}", { client: "late" });
  assert.equal(lines.length, 5);
  at(30_000);
  log.flush();
  assert.equal(lines.length, 5);
});

Deno.test("the next line after a busy interval reports the count first, then is written", () => {
  const { log, lines, at } = harness(1);
  log.log("a", "one", {});
  log.log("a", "two", {});
  at(12_000);
  assert.equal(log.log("a", "three", {}), true);
  assert.deepEqual(lines.map((l) => l.message), [
    "one",
    "suppressed {count} more log lines about bad peers in the last {seconds} s ({byKind})",
    "three",
  ]);
  assert.equal(lines[1].values.count, 1);
});
