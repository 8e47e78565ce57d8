import assert from "node:assert/strict";
import { GatewayMetrics } from "../../src/metrics.ts";
import { AUTH, basic, FakeView, json, makeApp, VIEWER } from "./fake_view.ts";

Deno.test("GET /metrics serves the view's text with its content type", async () => {
  const { app, view } = makeApp();
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), view.metricsType);
  assert.equal(await res.text(), view.metricsText);
});

Deno.test("GET /metrics renders a real registry (prom-client)", async () => {
  const metrics = new GatewayMetrics();
  metrics.connectionOpened();
  metrics.bytesIn(1234);
  const view = new FakeView();
  view.metrics = () => metrics.render();
  const { app } = makeApp({}, view);
  const res = await app.request("/metrics");
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), metrics.registry.contentType);
  const body = await res.text();
  assert.match(body, /^kgate_client_connections_open 1$/m);
  assert.match(body, /^kgate_bytes_in_total 1234$/m);
});

Deno.test("unsecured /metrics needs no credentials and ignores bad ones", async () => {
  const { app } = makeApp({ securedMetrics: false });
  for (const authorization of [undefined, basic("nobody", "nope"), "Basic %%%", "Bearer token"]) {
    const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
    const res = await app.request("/metrics", { headers });
    assert.equal(res.status, 200, `Authorization: ${authorization}`);
    await res.body?.cancel();
  }
});

Deno.test("secured /metrics: 401 without credentials, with wrong or malformed ones", async () => {
  const { app } = makeApp({ securedMetrics: true });
  for (
    const authorization of [
      undefined,
      basic("admin", "wrong"),
      basic("nobody", "s3cret:with:colons"),
      "Basic ???",
    ]
  ) {
    const headers: Record<string, string> = authorization ? { Authorization: authorization } : {};
    const res = await app.request("/metrics", { headers });
    assert.equal(res.status, 401, `Authorization: ${authorization}`);
    assert.equal(res.headers.get("www-authenticate"), 'Basic realm="kgate"');
    assert.equal((await json(res)).error, "unauthorized");
  }
});

Deno.test("secured /metrics: 200 with any configured user's credentials", async () => {
  const { app, view } = makeApp({ securedMetrics: true });
  for (const headers of [AUTH, { Authorization: basic(VIEWER.username, VIEWER.password) }]) {
    const res = await app.request("/metrics", { headers });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), view.metricsText);
  }
});

Deno.test("HEAD /metrics answers like GET without a body", async () => {
  const { app, view } = makeApp();
  const res = await app.request("/metrics", { method: "HEAD" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), view.metricsType);
  assert.equal(await res.text(), "");
});

Deno.test("a failing metrics render is a 500 JSON, not a crash", async () => {
  const { app, view } = makeApp();
  view.fail.add("metrics");
  const res = await app.request("/metrics");
  assert.equal(res.status, 500);
  assert.deepEqual(await json(res), {
    error: "internal server error",
    message: "the request failed; see the node's log",
  });
});
