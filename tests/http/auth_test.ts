import assert from "node:assert/strict";
import { credentialVerifier, timingSafeEqual } from "../../src/http/auth.ts";
import { ADMIN, AUTH, basic, json, makeApp, VIEWER } from "./fake_view.ts";

Deno.test("basic auth: valid headers in any accepted spelling are let through", async () => {
  const cases: [string, { username: string; password: string }][] = [
    [basic("admin", "pw"), { username: "admin", password: "pw" }],
    ["basic " + btoa("a:b"), { username: "a", password: "b" }],
    ["BASIC   " + btoa("a:b") + " ", { username: "a", password: "b" }],
    // The password may hold colons; the user id cannot (RFC 7617).
    [basic("u", "p:q:r"), { username: "u", password: "p:q:r" }],
    [basic("", ""), { username: "", password: "" }],
    [basic("zoë", "пароль"), { username: "zoë", password: "пароль" }],
  ];
  for (const [header, user] of cases) {
    const { app } = makeApp({ users: [user] });
    const res = await app.request("/api/v1/config", { headers: { Authorization: header } });
    assert.equal(res.status, 200, header);
    await res.body?.cancel();
  }
});

Deno.test("basic auth: malformed headers are 401, never a throw", async () => {
  // Users that each malformed header could be mistaken for.
  const { app } = makeApp({ users: [{ username: "a", password: "b" }, { username: "", password: "" }] });
  const bad = [
    "",
    "Basic",
    "Basic ",
    "Basic !!!",
    "Basic abc", // bad base64 length
    "Basic " + btoa("no-colon"),
    "Basic " + btoa("a:b") + "=", // too much padding
    "Basic " + btoa("a:b") + " trailing",
    "Bearer " + btoa("a:b"),
    "Digest username=a",
    "Basic" + btoa("a:b"),
    "Basic " + "A".repeat(10_000),
  ];
  for (const header of bad) {
    const res = await app.request("/api/v1/config", { headers: { Authorization: header } });
    assert.equal(res.status, 401, header.slice(0, 40));
    assert.equal((await json(res)).error, "unauthorized");
  }
});

Deno.test("timingSafeEqual compares every byte and the lengths", () => {
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 3])), true);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4])), false);
  assert.equal(timingSafeEqual(new Uint8Array([0, 2, 3]), new Uint8Array([1, 2, 3])), false);
  assert.equal(timingSafeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0])), false);
  assert.equal(timingSafeEqual(new Uint8Array([]), new Uint8Array([])), true);
});

Deno.test("credentialVerifier: right pairs only, across several users", async () => {
  const verify = credentialVerifier([ADMIN, VIEWER]);
  assert.equal(await verify(ADMIN.username, ADMIN.password), true);
  assert.equal(await verify(VIEWER.username, VIEWER.password), true);
  assert.equal(await verify(ADMIN.username, VIEWER.password), false);
  assert.equal(await verify(VIEWER.username, ADMIN.password), false);
  assert.equal(await verify(ADMIN.username, ADMIN.password + "x"), false);
  assert.equal(await verify(ADMIN.username.toUpperCase(), ADMIN.password), false);
  assert.equal(await verify("", ""), false);
  assert.equal(await credentialVerifier([])("admin", "kgate"), false);
});

const API_PATHS = ["/api/v1/cluster", "/api/v1/brokers", "/api/v1/mapping", "/api/v1/config"];

Deno.test("/api/*: 200 with the right credentials of any user", async () => {
  const { app } = makeApp();
  for (const path of API_PATHS) {
    for (const headers of [AUTH, { Authorization: basic(VIEWER.username, VIEWER.password) }]) {
      const res = await app.request(path, { headers });
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
  }
});

Deno.test("/api/*: 401 JSON with WWW-Authenticate for missing, wrong and malformed credentials", async () => {
  const { app } = makeApp();
  const cases: [string, Record<string, string>][] = [
    ["missing", {}],
    ["wrong password", { Authorization: basic(ADMIN.username, "wrong") }],
    ["wrong username", { Authorization: basic("root", ADMIN.password) }],
    ["other user's password", { Authorization: basic(VIEWER.username, ADMIN.password) }],
    ["empty", { Authorization: "" }],
    ["scheme only", { Authorization: "Basic" }],
    ["not base64", { Authorization: "Basic ***not-base64***" }],
    ["no colon", { Authorization: "Basic " + btoa("adminpassword") }],
    ["other scheme", { Authorization: "Bearer abc.def.ghi" }],
    ["not UTF-8", { Authorization: "Basic " + btoa("\xff\xfe:\xff") }],
    ["huge", { Authorization: "Basic " + btoa("a:" + "x".repeat(20_000)) }],
  ];
  for (const [name, headers] of cases) {
    for (const path of API_PATHS) {
      const res = await app.request(path, { headers });
      assert.equal(res.status, 401, `${name} ${path}`);
      assert.equal(res.headers.get("www-authenticate"), 'Basic realm="kgate"');
      assert.deepEqual(await json(res), {
        error: "unauthorized",
        message: "valid HTTP basic credentials are required",
      });
    }
  }
});

Deno.test("/api/*: unknown paths and wrong methods below /api ask for credentials first", async () => {
  const { app } = makeApp();
  assert.equal((await app.request("/api/v1/secret-endpoint")).status, 401);
  assert.equal((await app.request("/api/v1/cluster", { method: "POST" })).status, 401);
  const found = await app.request("/api/v1/secret-endpoint", { headers: AUTH });
  assert.equal(found.status, 404);
  await found.body?.cancel();
  const method = await app.request("/api/v1/cluster", { method: "POST", headers: AUTH });
  assert.equal(method.status, 405);
  await method.body?.cancel();
});

Deno.test("/api/*: no configured user refuses everyone", async () => {
  const { app } = makeApp({ users: [] });
  const res = await app.request("/api/v1/config", { headers: AUTH });
  assert.equal(res.status, 401);
  await res.body?.cancel();
});

Deno.test("/versions, /openapi.json and /docs need no credentials", async () => {
  const { app } = makeApp({ securedMetrics: true });
  for (const path of ["/versions", "/openapi.json", "/docs"]) {
    const res = await app.request(path, { headers: { Authorization: "Basic garbage!" } });
    assert.equal(res.status, 200, path);
    await res.body?.cancel();
  }
});
