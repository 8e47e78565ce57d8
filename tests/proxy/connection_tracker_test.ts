import assert from "node:assert/strict";
import { ConnectionTracker } from "../../src/proxy/connection_tracker.ts";

const limits = { maxConnections: 10, maxConnectionsPerIp: 2, idleMs: 1000, firstFrameMs: 500 };

Deno.test("per-IP counting moves to the original source a PROXY header names", () => {
  const tracker = new ConnectionTracker(limits);
  // Behind a load balancer: counted per node only until the header is read.
  const connections = [1, 2, 3].map(() => tracker.admit(undefined));
  for (const c of connections) assert.notEqual(typeof c, "string");
  const [a, b, c] = connections as Exclude<(typeof connections)[number], string>[];
  assert.equal(tracker.recount(a, "192.0.2.1"), undefined);
  assert.equal(tracker.recount(b, "192.0.2.1"), undefined);
  assert.equal(tracker.recount(c, "192.0.2.1"), "max-connections-per-ip");
  assert.equal(tracker.recount(c, "192.0.2.2"), undefined);
  assert.equal(tracker.countOf("192.0.2.1"), 2);
  tracker.release(a);
  tracker.release(a); // twice: no double count
  assert.equal(tracker.countOf("192.0.2.1"), 1);
  assert.equal(tracker.size, 2);
});

Deno.test("the sweep closes each timed-out connection once, with its kind", () => {
  let now = 0;
  const tracker = new ConnectionTracker(limits, { now: () => now });
  const closes: string[] = [];
  const quiet = tracker.admit("10.0.0.1");
  const framed = tracker.admit("10.0.0.2");
  assert.ok(typeof quiet !== "string" && typeof framed !== "string");
  quiet.close = () => closes.push("quiet");
  framed.close = () => closes.push("framed");
  tracker.framed(framed);
  now = 600;
  tracker.sweep();
  assert.deepEqual(closes, ["quiet"]);
  assert.equal(quiet.timedOut, "first-frame-timeout");
  framed.lastActive = tracker.clock; // activity at 600
  now = 1599;
  tracker.sweep();
  assert.deepEqual(closes, ["quiet"]);
  now = 1600;
  tracker.sweep();
  assert.deepEqual(closes, ["quiet", "framed"]);
  assert.equal(framed.timedOut, "idle-timeout");
  tracker.sweep();
  assert.equal(closes.length, 2, "closed once");
});

Deno.test("the node cap refuses beyond maxConnections; idle timeout 0 never closes", () => {
  let now = 0;
  const tracker = new ConnectionTracker({ ...limits, maxConnectionsPerIp: 0, idleMs: 0 }, { now: () => now });
  const all = Array.from({ length: 10 }, (_, i) => tracker.admit(`10.0.0.${i % 2}`));
  assert.ok(all.every((c) => typeof c !== "string"));
  assert.equal(tracker.admit("10.0.0.9"), "max-connections");
  for (const c of all) if (typeof c !== "string") tracker.framed(c);
  now = 1e9;
  tracker.sweep();
  assert.ok(all.every((c) => typeof c !== "string" && c.timedOut === undefined));
});
