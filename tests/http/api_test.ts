import assert from "node:assert/strict";
import { AUTH, json, makeApp } from "./fake_view.ts";

const get = (app: ReturnType<typeof makeApp>["app"], path: string) => app.request(path, { headers: AUTH });

Deno.test("GET /api/v1/cluster returns the cluster view", async () => {
  const { app, view } = makeApp();
  const res = await get(app, "/api/v1/cluster");
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), view.clusterView);
});

Deno.test("GET /api/v1/cluster before the first join", async () => {
  const { app, view } = makeApp();
  view.clusterView = { self: "node-1", members: [], generation: null, lastChange: null };
  assert.deepEqual(await json(await get(app, "/api/v1/cluster")), view.clusterView);
});

Deno.test("GET /api/v1/brokers lists id, host, port, rack by id", async () => {
  const { app } = makeApp();
  const res = await get(app, "/api/v1/brokers");
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), {
    brokers: [
      { id: 1, host: "broker-1.internal", port: 9092, rack: "rack-a" },
      { id: 2, host: "broker-2.internal", port: 9093, rack: null },
      { id: 3, host: "broker-3.internal", port: 9094, rack: "rack-c" },
    ],
  });
});

Deno.test("GET /api/v1/brokers with none known yet", async () => {
  const { app, view } = makeApp();
  view.upstream = [];
  assert.deepEqual(await json(await get(app, "/api/v1/brokers")), { brokers: [] });
});

Deno.test("GET /api/v1/mapping without parameters", async () => {
  const { app, view } = makeApp();
  const res = await get(app, "/api/v1/mapping");
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), { rack: null, clientId: null, brokers: view.mapped });
  assert.deepEqual(view.mappingQueries, [{}]);
});

Deno.test("GET /api/v1/mapping passes rack and clientId (percent-decoded) to the view", async () => {
  const { app, view } = makeApp();
  const res = await get(app, "/api/v1/mapping?rack=rack-b&clientId=billing%20consumer%20%C3%A9");
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), { rack: "rack-b", clientId: "billing consumer é", brokers: view.mapped });
  assert.deepEqual(await json(await get(app, "/api/v1/mapping?clientId=c1")), {
    rack: null,
    clientId: "c1",
    brokers: view.mapped,
  });
  assert.deepEqual(view.mappingQueries, [{ rack: "rack-b", clientId: "billing consumer é" }, {
    clientId: "c1",
  }]);
});

Deno.test("GET /api/v1/mapping accepts 255 characters, counted as code points", async () => {
  const { app, view } = makeApp();
  const emoji = "🦕".repeat(255); // 510 UTF-16 units
  const res = await get(app, `/api/v1/mapping?rack=${"r".repeat(255)}&clientId=${encodeURIComponent(emoji)}`);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.deepEqual(view.mappingQueries, [{ rack: "r".repeat(255), clientId: emoji }]);
});

Deno.test("GET /api/v1/mapping decodes invalid UTF-8 escapes as URLSearchParams does (U+FFFD)", async () => {
  const { app, view } = makeApp();
  const res = await get(app, `/api/v1/mapping?rack=%FF&clientId=${"%C3".repeat(255)}`);
  assert.equal(res.status, 200);
  assert.deepEqual((await json(res)).rack, "\uFFFD");
  assert.deepEqual(view.mappingQueries, [{ rack: "\uFFFD", clientId: "\uFFFD".repeat(255) }]);
  const tooLong = await get(app, `/api/v1/mapping?rack=${"%FF".repeat(256)}`);
  assert.equal(tooLong.status, 400);
  await tooLong.body?.cancel();
});

Deno.test("GET /api/v1/mapping ignores undeclared parameters", async () => {
  const { app, view } = makeApp();
  const res = await get(app, "/api/v1/mapping?rack=a&cacheBuster=1&x=%00");
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.deepEqual(view.mappingQueries, [{ rack: "a" }]);
});

for (const parameter of ["rack", "clientId"]) {
  const bad: [string, string][] = [
    ["empty", ""],
    ["too long", "x".repeat(256)],
    ["too many code points", encodeURIComponent("🦕".repeat(256))],
    ["NUL", "%00"],
    ["newline", "a%0Ab"],
    ["carriage return", "a%0Db"],
    ["tab", "a%09b"],
    ["DEL", "a%7Fb"],
    ["C1 control", "a%C2%85b"],
    ["zero-width space (format)", "a%E2%80%8Bb"],
    ["line separator", "a%E2%80%A8b"],
    ["bidi override", "%E2%80%AEab"],
  ];
  for (const [name, value] of bad) {
    Deno.test(`GET /api/v1/mapping: 400 naming ${parameter} when it is ${name}`, async () => {
      const { app, view } = makeApp();
      const res = await get(app, `/api/v1/mapping?${parameter}=${value}`);
      assert.equal(res.status, 400);
      assert.deepEqual(await json(res), {
        error: "bad request",
        parameter,
        message: `invalid query parameter ${parameter}: expected 1 to 255 printable characters`,
      });
      assert.deepEqual(view.mappingQueries, [], "the view is not asked");
    });
  }

  Deno.test(`GET /api/v1/mapping: 400 naming ${parameter} when it is repeated`, async () => {
    const { app } = makeApp();
    const res = await get(app, `/api/v1/mapping?${parameter}=a&${parameter}=b`);
    assert.equal(res.status, 400);
    assert.deepEqual(await json(res), {
      error: "bad request",
      parameter,
      message: `query parameter ${parameter} must be given at most once`,
    });
  });
}

Deno.test("GET /api/v1/mapping: the first bad parameter is named when both are bad", async () => {
  const { app } = makeApp();
  const res = await get(app, "/api/v1/mapping?clientId=&rack=");
  assert.equal(res.status, 400);
  assert.equal((await json(res)).parameter, "rack");
});

Deno.test("GET /api/v1/config returns the view's (redacted) configuration", async () => {
  const { app, view } = makeApp();
  const res = await get(app, "/api/v1/config");
  assert.equal(res.status, 200);
  assert.deepEqual(await json(res), view.settings);
});

Deno.test("API responses are not cached and not sniffed", async () => {
  const { app } = makeApp();
  const res = await get(app, "/api/v1/config");
  assert.equal(res.headers.get("cache-control"), "no-store");
  assert.equal(res.headers.get("x-content-type-options"), "nosniff");
  await res.body?.cancel();
});

Deno.test("a view that throws is a 500 JSON with a generic message, on every API route", async () => {
  const routes: [Parameters<ReturnType<typeof makeApp>["view"]["fail"]["add"]>[0], string][] = [
    ["cluster", "/api/v1/cluster"],
    ["brokers", "/api/v1/brokers"],
    ["mapping", "/api/v1/mapping?rack=a"],
    ["config", "/api/v1/config"],
  ];
  for (const [method, path] of routes) {
    const { app, view } = makeApp();
    view.fail.add(method);
    const res = await get(app, path);
    assert.equal(res.status, 500, path);
    const body = await json(res);
    assert.equal(body.error, "internal server error");
    assert.ok(!JSON.stringify(body).includes("secret"), "the error detail stays in the log");
  }
});

Deno.test("a view answer that breaks the documented shape is a 500, not a malformed body", async () => {
  const { app, view } = makeApp();
  view.upstream = [{ nodeId: "1" as unknown as number, host: "h", port: 1, rack: null }];
  const res = await get(app, "/api/v1/brokers");
  assert.equal(res.status, 500);
  await res.body?.cancel();
});

Deno.test("fields the view adds beyond the documented shape are not shown", async () => {
  const { app, view } = makeApp();
  view.clusterView = { ...view.clusterView, internalToken: "do-not-show" } as typeof view.clusterView;
  const body = await json(await get(app, "/api/v1/cluster"));
  assert.equal("internalToken" in body, false);
});
