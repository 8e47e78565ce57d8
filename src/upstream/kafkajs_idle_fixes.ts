/**
 * Two fixes to kafkajs 2.2.4's request queue (one per broker connection) that make an idle gateway
 * cheap. Applied once, on import, to the module kafkajs itself uses (same npm package instance).
 *
 * - `scheduleCheckPendingRequests` re-arms a timer with a negative delay (Node clamps it to 1 ms)
 *   whenever the queue is not throttled, even with nothing pending: every broker connection then runs a
 *   timer about a thousand times a second forever (Deno reports it as TimeoutNegativeWarning). Nothing
 *   needs checking while nothing is pending: `push` sends at once or enqueues and schedules, and a
 *   response or timeout checks the queue again.
 * - `scheduleRequestTimeoutCheck` scans the in-flight requests every 100 ms for each connection's whole
 *   life; once a second is precise enough for timeouts of several seconds (the request timeout is
 *   30 s, the shortest custom one a few seconds).
 *
 * @module
 */
// kafkajs ships no types for its internals: the prototype is patched as plain functions.
import RequestQueue from "kafkajs/src/network/requestQueue/index.js";

/** How often in-flight requests are checked for their timeout. */
const TIMEOUT_CHECK_MS = 1000;

interface RequestQueueInternals {
  pending: unknown[];
  throttledUntil: number;
  requestTimeout: number;
  enforceRequestTimeout: boolean;
  requestTimeoutIntervalId: ReturnType<typeof setInterval> | undefined;
  inflight: Map<number, { sentAt: number; requestTimeout: number; timeoutRequest(): void }>;
  isConnected(): boolean;
  destroy(): void;
  scheduleCheckPendingRequests(): void;
  scheduleRequestTimeoutCheck(): void;
}

const proto = (RequestQueue as { prototype: RequestQueueInternals }).prototype;
const FIXED = Symbol.for("kgate.kafkajs-idle-fixes");

if (!(FIXED in proto)) {
  Object.defineProperty(proto, FIXED, { value: true });
  const schedulePending = proto.scheduleCheckPendingRequests;
  proto.scheduleCheckPendingRequests = function (this: RequestQueueInternals) {
    if (this.pending.length === 0) return;
    schedulePending.call(this);
  };
  proto.scheduleRequestTimeoutCheck = function (this: RequestQueueInternals) {
    if (!this.enforceRequestTimeout) return;
    this.destroy();
    this.requestTimeoutIntervalId = setInterval(() => {
      const now = Date.now();
      this.inflight.forEach((request) => {
        if (now - request.sentAt > request.requestTimeout) request.timeoutRequest();
      });
      if (!this.isConnected()) this.destroy();
    }, Math.min(this.requestTimeout, TIMEOUT_CHECK_MS));
  };
}
