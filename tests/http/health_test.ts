import assert from "node:assert/strict";
import { basic, json, makeApp } from "./fake_view.ts";

Deno.test("GET /health/live answers 200 LIVE as text", async () => {
  const { app } = makeApp();
  const res = await app.request("/health/live");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain/);
  assert.equal(await res.text(), "LIVE");
});

Deno.test("GET /health/live answers JSON when asked", async () => {
  const { app } = makeApp();
  const res = await app.request("/health/live", { headers: { Accept: "application/json" } });
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), { status: "LIVE" });
  assert.equal(res.headers.get("vary"), "Accept");
});

Deno.test("GET /health/live stays LIVE whatever the readiness", async () => {
  const { app, view } = makeApp();
  view.ready = { ready: false, checks: { listening: false }, reasons: ["not listening"] };
  view.fail.add("readiness");
  const res = await app.request("/health/live");
  assert.equal(res.status, 200);
  assert.equal(await res.text(), "LIVE");
});

Deno.test("GET /health/ready: 200 READY when ready", async () => {
  const { app } = makeApp();
  const res = await app.request("/health/ready");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/plain/);
  assert.equal(await res.text(), "READY");
});

Deno.test("GET /health/ready: 503 NOTREADY when not ready", async () => {
  const { app, view } = makeApp();
  view.ready = {
    ready: false,
    checks: { upstreamReachable: false, brokersKnown: true, listening: true, draining: false },
    reasons: ["upstream unreachable: connection refused"],
  };
  const res = await app.request("/health/ready");
  assert.equal(res.status, 503);
  assert.match(res.headers.get("content-type")!, /^text\/plain/);
  assert.equal(await res.text(), "NOTREADY");
});

Deno.test("GET /health/ready with Accept: application/json: READY with checks and reasons", async () => {
  const { app, view } = makeApp();
  const res = await app.request("/health/ready", { headers: { Accept: "application/json" } });
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), { status: "READY", checks: view.ready.checks, reasons: [] });
});

Deno.test("GET /health/ready with Accept: application/json: NOTREADY with checks and reasons", async () => {
  const { app, view } = makeApp();
  view.ready = {
    ready: false,
    checks: { upstreamReachable: true, brokersKnown: true, listening: true, draining: true },
    reasons: ["draining"],
  };
  const res = await app.request("/health/ready", { headers: { Accept: "application/json" } });
  assert.equal(res.status, 503);
  assert.deepEqual(await json(res), {
    status: "NOTREADY",
    checks: { upstreamReachable: true, brokersKnown: true, listening: true, draining: true },
    reasons: ["draining"],
  });
});

Deno.test("GET /health/ready follows the readiness as it changes", async () => {
  const { app, view } = makeApp();
  assert.equal((await app.request("/health/ready")).status, 200);
  view.ready = { ready: false, checks: { listening: false }, reasons: ["not listening"] };
  assert.equal((await app.request("/health/ready")).status, 503);
  view.ready = { ready: true, checks: { listening: true }, reasons: [] };
  assert.equal((await app.request("/health/ready")).status, 200);
});

Deno.test("Accept negotiation: text unless JSON is preferred", async () => {
  const { app } = makeApp();
  const cases: [string, string][] = [
    ["*/*", "READY"],
    ["text/plain", "READY"],
    ["text/*", "READY"],
    ["text/plain, application/json;q=0.5", "READY"],
    ["application/json;q=0.9, text/plain;q=0.1", '{"status":"READY"'],
    ["application/*", '{"status":"READY"'],
    ["application/json, text/plain", '{"status":"READY"'],
    ["image/png", "READY"],
    ["garbage;;;q=x", "READY"],
  ];
  for (const [accept, start] of cases) {
    const body = await (await app.request("/health/ready", { headers: { Accept: accept } })).text();
    assert.ok(body.startsWith(start), `Accept: ${accept} gave ${body}`);
  }
});

Deno.test("HEAD on the probes answers the status without a body", async () => {
  const { app, view } = makeApp();
  const live = await app.request("/health/live", { method: "HEAD" });
  assert.equal(live.status, 200);
  assert.equal(await live.text(), "");
  view.ready = { ready: false, checks: {}, reasons: ["starting"] };
  const ready = await app.request("/health/ready", { method: "HEAD" });
  assert.equal(ready.status, 503);
  assert.equal(await ready.text(), "");
});

Deno.test("probes never need credentials, even with secured metrics and bad credentials", async () => {
  const { app } = makeApp({ securedMetrics: true, users: [] });
  const variants: Record<string, string>[] = [{}, { Authorization: basic("nobody", "wrong") }, {
    Authorization: "Basic !!!",
  }];
  for (const headers of variants) {
    assert.equal((await app.request("/health/live", { headers })).status, 200);
    assert.equal((await app.request("/health/ready", { headers })).status, 200);
  }
});
