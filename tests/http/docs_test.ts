import assert from "node:assert/strict";
import { KGATE_VERSION } from "../../src/version.ts";
import { json, KAFKA_VERSIONS, makeApp } from "./fake_view.ts";

type Doc = {
  openapi: string;
  info: { title: string; version: string };
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
};

async function openapi(
  securedMetrics = false,
): Promise<{ doc: Doc; routes: { method: string; path: string }[] }> {
  const { app } = makeApp({ securedMetrics });
  const res = await app.request("/openapi.json");
  assert.equal(res.status, 200);
  const doc = JSON.parse(await res.text()) as Doc;
  // One entry per method and path (a route with a query validator has two handlers).
  const served = new Set(app.routes.filter((r) => r.method !== "ALL").map((r) => `${r.method} ${r.path}`));
  const routes = [...served].map((route) => {
    const [method, path] = route.split(" ");
    return { method, path };
  });
  return { doc, routes };
}

Deno.test("GET /versions: kgate, Deno, V8, TypeScript and the Kafka API versions by name", async () => {
  const { app } = makeApp();
  const res = await app.request("/versions");
  assert.equal(res.status, 200);
  const body = await json(res);
  assert.deepEqual(body, {
    kgate: KGATE_VERSION,
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    typescript: Deno.version.typescript,
    kafkaProtocol: {
      Produce: { min: 3, max: 11 },
      Metadata: { min: 0, max: 12 },
      ApiVersions: { min: 0, max: 4 },
    },
  });
  assert.deepEqual(Object.keys(body.kafkaProtocol as object), ["Produce", "Metadata", "ApiVersions"]);
});

Deno.test("GET /versions reads the provider on every request", async () => {
  let versions = new Map<number, { min: number; max: number }>();
  const { app } = makeApp({ versions: { kgate: "9.9.9-test", kafkaProtocolVersions: () => versions } });
  let body = await json(await app.request("/versions"));
  assert.equal(body.kgate, "9.9.9-test");
  assert.deepEqual(body.kafkaProtocol, {});
  versions = new Map(KAFKA_VERSIONS);
  versions.set(1000, { min: 0, max: 1 });
  body = await json(await app.request("/versions"));
  assert.deepEqual((body.kafkaProtocol as Record<string, unknown>)["Unknown(1000)"], { min: 0, max: 1 });
});

Deno.test("GET /openapi.json is an OpenAPI 3.1.0 document listing every served route", async () => {
  const { doc, routes } = await openapi();
  assert.equal(doc.openapi, "3.1.0");
  assert.equal(doc.info.version, KGATE_VERSION);
  const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`)
  ).sort();
  const served = routes.map((r) => `${r.method} ${r.path}`).sort();
  assert.deepEqual(documented, served);
  assert.deepEqual(served, [
    "GET /api/v1/brokers",
    "GET /api/v1/cluster",
    "GET /api/v1/config",
    "GET /api/v1/mapping",
    "GET /docs",
    "GET /health/live",
    "GET /health/ready",
    "GET /metrics",
    "GET /openapi.json",
    "GET /versions",
  ]);
});

Deno.test("OpenAPI: unique operation ids, every $ref resolves, every operation documents 200 and 500", async () => {
  const { doc } = await openapi();
  const ids = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const op of Object.values(ops)) {
      const id = op.operationId as string;
      assert.ok(!ids.has(id), `duplicate ${id}`);
      ids.add(id);
      const responses = op.responses as Record<string, unknown>;
      assert.ok(responses["200"], `${path} 200`);
      assert.ok(responses["500"], `${path} 500`);
    }
  }
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1]);
  assert.ok(refs.length > 0);
  for (const ref of refs) {
    const name = ref.replace("#/components/schemas/", "");
    assert.ok(ref.startsWith("#/components/schemas/") && doc.components.schemas[name], `unresolved ${ref}`);
  }
  for (const name of ["Error", "Readiness", "Cluster", "Brokers", "Mapping", "Config", "Versions"]) {
    assert.ok(doc.components.schemas[name], name);
  }
});

Deno.test("OpenAPI: security follows the app's authentication", async () => {
  for (const secured of [false, true]) {
    const { doc } = await openapi(secured);
    assert.deepEqual(doc.components.securitySchemes.basicAuth, {
      type: "http",
      scheme: "basic",
      description: "GATEWAY_ADMIN_API_USERS",
    });
    for (const [path, ops] of Object.entries(doc.paths)) {
      const op = ops.get;
      const authenticated = path.startsWith("/api/") || (secured && path === "/metrics");
      assert.deepEqual(op.security, authenticated ? [{ basicAuth: [] }] : [], `${path} secured=${secured}`);
      assert.equal("401" in (op.responses as object), authenticated, `${path} 401`);
    }
  }
});

Deno.test("OpenAPI: /api/v1/mapping documents its query parameters and the 400", async () => {
  const { doc } = await openapi();
  const op = doc.paths["/api/v1/mapping"].get;
  const params = op.parameters as {
    name: string;
    in: string;
    required: boolean;
    schema: { pattern: string };
  }[];
  assert.deepEqual(params.map((p) => [p.name, p.in, p.required]), [
    ["rack", "query", false],
    ["clientId", "query", false],
    ["clientHost", "query", false],
    ["listener", "query", false],
  ]);
  for (const p of params) {
    const re = new RegExp(p.schema.pattern, "u");
    assert.ok(re.test("rack-a"));
    assert.ok(!re.test("a\nb"));
    assert.ok(!re.test("x".repeat(256)));
  }
  assert.ok((op.responses as Record<string, unknown>)["400"]);
  assert.equal(doc.paths["/api/v1/cluster"].get.parameters, undefined);
});

Deno.test("OpenAPI: readiness documents both text and JSON, 200 and 503", async () => {
  const { doc } = await openapi();
  const responses = doc.paths["/health/ready"].get.responses as Record<string, { content: object }>;
  for (const status of ["200", "503"]) {
    assert.deepEqual(Object.keys(responses[status].content), ["text/plain", "application/json"]);
  }
});

Deno.test("GET /docs: a self-contained HTML page listing every route", async () => {
  const { app } = makeApp();
  const res = await app.request("/docs");
  assert.equal(res.status, 200);
  assert.match(res.headers.get("content-type")!, /^text\/html/);
  assert.match(res.headers.get("content-security-policy")!, /default-src 'none'/);
  const html = await res.text();
  assert.match(html, /^<!doctype html>/);
  const { doc } = await openapi();
  for (const [path, ops] of Object.entries(doc.paths)) {
    assert.ok(html.includes(`<code><a href="${path}">${path}</a></code>`), path);
    assert.ok(html.includes(`id="${ops.get.operationId}"`), path);
  }
  assert.ok(html.includes('href="/openapi.json"'));
  assert.doesNotMatch(html, /<script|<link|<img|<iframe|src=|url\(|https?:\/\//i, "nothing external");
  assert.match(html, /<code>rack<\/code>/);
});

Deno.test("the documents are the same on every request", async () => {
  const { app } = makeApp();
  const a = await (await app.request("/openapi.json")).text();
  const b = await (await app.request("/openapi.json")).text();
  assert.equal(a, b);
});
