import assert from "node:assert/strict";
import { configure, type LogRecord, reset } from "@logtape/logtape";
import { AUTH, json, makeApp } from "./fake_view.ts";

Deno.test("unknown paths: 404 JSON naming the path", async () => {
  const { app } = makeApp();
  for (
    const path of [
      "/",
      "/nope",
      "/health",
      "/health/live/",
      "/health/LIVE",
      "/metrics/x",
      "/api",
      "/docs.html",
    ]
  ) {
    const res = await app.request(path, { headers: AUTH });
    assert.equal(res.status, 404, path);
    assert.deepEqual(await json(res), { error: "not found", path });
  }
});

Deno.test("unknown paths with odd characters come back JSON-escaped", async () => {
  const { app } = makeApp();
  const res = await app.request("/%3Cscript%3E%22");
  assert.equal(res.status, 404);
  const body = await json(res);
  assert.equal(body.error, "not found");
  assert.equal(typeof body.path, "string");
});

Deno.test("HEAD on an unknown path: 404 without a body", async () => {
  const { app } = makeApp();
  const res = await app.request("/nope", { method: "HEAD" });
  assert.equal(res.status, 404);
  assert.equal(await res.text(), "");
});

Deno.test("known paths with another method: 405 JSON with Allow", async () => {
  const { app } = makeApp();
  const paths = [
    "/health/live",
    "/health/ready",
    "/metrics",
    "/versions",
    "/openapi.json",
    "/docs",
    "/api/v1/mapping",
  ];
  for (const path of paths) {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"]) {
      const res = await app.request(path, {
        method,
        headers: AUTH,
        body: method === "POST" ? "x" : undefined,
      });
      assert.equal(res.status, 405, `${method} ${path}`);
      assert.equal(res.headers.get("allow"), "GET, HEAD");
      assert.deepEqual(await json(res), {
        error: "method not allowed",
        method,
        path,
        allow: ["GET", "HEAD"],
      });
    }
  }
});

Deno.test("a handler that throws: 500 JSON with a generic message, the error logged, the app still serving", async () => {
  const records: LogRecord[] = [];
  await configure({
    reset: true,
    sinks: { capture: (r) => records.push(r) },
    loggers: [
      { category: ["kgate", "http"], lowestLevel: "error", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  try {
    const { app, view } = makeApp();
    view.fail.add("readiness");
    const res = await app.request("/health/ready");
    assert.equal(res.status, 500);
    const body = await json(res);
    assert.deepEqual(body, {
      error: "internal server error",
      message: "the request failed; see the node's log",
    });
    assert.equal(records.length, 1);
    assert.equal(records[0].level, "error");
    assert.equal(records[0].properties.path, "/health/ready");
    assert.match(
      String((records[0].properties.error as Error).message),
      /secret internal detail of readiness/,
    );

    view.fail.clear();
    assert.equal((await app.request("/health/ready")).status, 200);
  } finally {
    await reset();
  }
});

Deno.test("every response carries nosniff and no-store", async () => {
  const { app } = makeApp();
  for (const path of ["/health/live", "/nope", "/api/v1/config", "/docs"]) {
    const res = await app.request(path);
    assert.equal(res.headers.get("x-content-type-options"), "nosniff", path);
    assert.equal(res.headers.get("cache-control"), "no-store", path);
    await res.body?.cancel();
  }
});
