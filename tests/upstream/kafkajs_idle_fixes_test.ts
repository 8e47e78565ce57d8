/** The kafkajs request-queue fixes: no timer while nothing is pending; timeouts still enforced. */
import assert from "node:assert/strict";
import { EventEmitter } from "node:events";
import "../../src/upstream/kafkajs_idle_fixes.ts";
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";
import { waitUntil } from "../support/wait.ts";

const silent = { debug() {}, info() {}, warn() {}, error() {} };

// deno-lint-ignore no-explicit-any
function queue(requestTimeout = 30_000): any {
  return new RequestQueue({
    instrumentationEmitter: new EventEmitter(),
    maxInFlightRequests: 1,
    requestTimeout,
    enforceRequestTimeout: true,
    clientId: "test",
    broker: "127.0.0.1:1",
    logger: silent,
  });
}

Deno.test("an idle request queue arms no timer; a throttled one with a pending request still does", () => {
  const q = queue();
  q.checkPendingRequests();
  assert.equal(q.throttleCheckTimeoutId, null, "no timer while nothing is pending");
  q.throttledUntil = Date.now() + 60_000;
  q.pending.push({ fake: true });
  q.checkPendingRequests();
  assert.notEqual(q.throttleCheckTimeoutId, null, "a pending request is checked again when throttling ends");
  clearTimeout(q.throttleCheckTimeoutId);
});

Deno.test("in-flight requests past their timeout are still timed out", async () => {
  const q = queue(1500);
  let timedOut = false;
  q.inflight.set(1, { sentAt: Date.now(), requestTimeout: 1500, timeoutRequest: () => timedOut = true });
  q.scheduleRequestTimeoutCheck();
  try {
    await waitUntil(() => timedOut, 10_000, "the request timed out");
  } finally {
    q.destroy();
  }
});
