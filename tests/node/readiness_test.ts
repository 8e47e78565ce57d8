/** Readiness: each check, and the reason given when it fails. */
import assert from "node:assert/strict";
import type { MembershipView } from "../../src/cluster/membership.ts";
import { readiness } from "../../src/node/readiness.ts";

const BROKER = { nodeId: 1, host: "kafka-1", port: 9092, rack: null };
const reachable = { status: { lastRefresh: new Date(), lastError: null }, brokers: () => [BROKER] };
const serving = { listening: true, draining: false };
const joined: MembershipView = {
  members: [],
  generation: 1,
  lastChange: null,
  joined: true,
  lastSeen: new Date(),
  lastError: null,
  unreachableSince: null,
};
const SESSION_MS = 10_000;

Deno.test("ready when every check passes; no group check without internal load balancing", () => {
  assert.deepEqual(readiness(reachable, serving, null, SESSION_MS), {
    ready: true,
    checks: { upstreamReachable: true, brokersKnown: true, listening: true, notDraining: true },
    reasons: [],
  });
  assert.equal(readiness(reachable, serving, joined, SESSION_MS).checks.groupJoined, true);
});

Deno.test("before the cluster answered: the upstream, broker and listening checks fail", () => {
  const none = { status: { lastRefresh: null, lastError: null }, brokers: () => [] };
  const result = readiness(none, { listening: false, draining: false }, null, SESSION_MS);
  assert.equal(result.ready, false);
  assert.deepEqual(result.reasons, [
    "the Kafka cluster has not answered yet",
    "no broker known yet",
    "the Kafka ports are not listening yet",
  ]);
});

Deno.test("a draining node is NOTREADY and says only that about its group", () => {
  const result = readiness(
    reachable,
    { listening: true, draining: true },
    { ...joined, joined: false },
    SESSION_MS,
  );
  assert.deepEqual(result.reasons, ["the node is draining"]);
});

Deno.test("the group counts as lost only after a whole session unreachable", () => {
  const brief = { ...joined, lastError: "coordinator moving", unreachableSince: new Date(Date.now() - 1000) };
  assert.equal(readiness(reachable, serving, brief, SESSION_MS).ready, true);
  const lost = { ...brief, unreachableSince: new Date(Date.now() - SESSION_MS) };
  const result = readiness(reachable, serving, lost, SESSION_MS);
  assert.equal(result.checks.groupJoined, false);
  assert.match(
    result.reasons[0],
    /^cannot reach the gateway group since .* \(coordinator moving\); serving with/,
  );
});
