/**
 * The HTTP API app: an `OpenAPIHono` app assembled from the route modules. Pure (no sockets): serve it
 * with `startHttpServer`, or test it with `app.request(...)`.
 *
 * @module
 */
import { type Hook, OpenAPIHono } from "@hono/zod-openapi";
import type { Context, Env } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { NodeView } from "./node_view.ts";
import { basicAuth, type BasicAuthUser } from "./auth.ts";
import { type RouteModule, SECURITY_SCHEME } from "./route.ts";
import type { ErrorBody } from "./schemas.ts";
import type { OpenApiDocument } from "./docs_page.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { apiRoutes } from "./routes/api.ts";
import { versionsRoutes, type VersionsSource } from "./routes/versions.ts";
import { docsRoutes } from "./routes/docs.ts";
import { KGATE_VERSION } from "../version.ts";
import { logger } from "../log.ts";

/**
 * The HTTP API app as `createHttpApp` returns it: a Hono app (typed as what callers use, so the public API
 * does not expose Hono's generics; `createHonoApp` returns the same app typed as `OpenAPIHono`).
 */
export interface HttpApp {
  /** Answers one request (what `Deno.serve` calls); `env` is passed to Hono as `c.env`. */
  fetch(request: Request, env?: unknown): Response | Promise<Response>;
  /** Answers a request built from a path or URL, without a socket (tests). */
  request(input: string | URL | Request, init?: RequestInit): Response | Promise<Response>;
}

/** What the app needs besides the node view. */
export interface HttpAppOptions {
  /** Users of `/api/*` (and of `/metrics` when secured); an empty list refuses every request there. */
  users: readonly BasicAuthUser[];
  /** Require basic auth on `/metrics`. */
  securedMetrics: boolean;
  /** Where `/versions` gets the versions it shows. */
  versions: VersionsSource;
}

/** Title, version and description of the API (the OpenAPI document's `info`). */
export type ApiInfo = {
  /** API title. */
  title: string;
  /** API (kgate) version. */
  version: string;
  /** Markdown description. */
  description: string;
};

const log = logger("http");

/**
 * Title and version of the OpenAPI document and the docs page.
 *
 * @example
 * ```ts
 * apiInfo("1.2.3").title; // "kgate HTTP API"
 * ```
 */
export function apiInfo(version: string = KGATE_VERSION): ApiInfo {
  return {
    title: "kgate HTTP API",
    version,
    description: "Probes, metrics, versions and the admin API of one kgate node. Errors are JSON " +
      '`{"error": ...}`: 400 names the bad query parameter, 401 asks for basic credentials, 404 unknown ' +
      "path, 405 known path with another method (`Allow` lists the methods), 500 internal error. " +
      "HEAD is answered for every GET route.",
  };
}

/** Sends an error body (every error status has this one JSON shape). */
function sendError(
  c: Context,
  status: ContentfulStatusCode,
  body: ErrorBody,
  headers?: Record<string, string>,
) {
  return c.json(body, status, headers);
}

/**
 * A query that fails its route's schema: 400 naming the first parameter at fault (in declared order),
 * repeated or invalid.
 */
const badQuery: Hook<unknown, Env, string, Response | undefined> = (result, c) => {
  if (result.success) return undefined;
  const issue = result.error.issues[0];
  const parameter = String(issue.path[0]);
  const repeated = Array.isArray((result as { data?: Record<string, unknown> }).data?.[parameter]);
  return sendError(c, 400, {
    error: "bad request",
    parameter,
    message: repeated
      ? `query parameter ${parameter} must be given at most once`
      : `invalid query parameter ${parameter}: expected ${issue.message}`,
  });
};

/**
 * Builds the HTTP API app over a node view.
 *
 * Authentication: `/api/*` always, `/metrics` when `securedMetrics`; `/health/*`, `/versions`,
 * `/openapi.json` and `/docs` never. Unknown path: 404 JSON; known path with another method: 405 JSON
 * with `Allow`; a thrown error: 500 JSON with a generic message, logged.
 *
 * @example
 * ```ts ignore
 * const app = createHttpApp(view, { users, securedMetrics: false, versions });
 * const res = await app.request("/health/live");
 * ```
 */
export function createHttpApp(view: NodeView, options: HttpAppOptions): HttpApp {
  return createHonoApp(view, options);
}

/** {@link createHttpApp} typed as the `OpenAPIHono` app it is, e.g. to mount it into another Hono app. */
export function createHonoApp(view: NodeView, options: HttpAppOptions): OpenAPIHono {
  const app = new OpenAPIHono({ defaultHook: badQuery });
  const auth = basicAuth(options.users);
  const info = apiInfo(options.versions.kgate);
  const modules: RouteModule[] = [
    healthRoutes(view),
    metricsRoutes(view, { secured: options.securedMetrics }),
    versionsRoutes(options.versions),
    apiRoutes(view),
    docsRoutes((): OpenApiDocument =>
      app.getOpenAPI31Document({
        openapi: "3.1.0",
        info,
        tags: modules.map(({ tag, description }) => ({ name: tag, description })),
      })
    ),
  ];

  app.use("*", async (c, next) => {
    const started = performance.now();
    await next();
    c.res.headers.set("X-Content-Type-Options", "nosniff");
    if (!c.res.headers.has("Cache-Control")) c.res.headers.set("Cache-Control", "no-store");
    log.debug("{method} {path} {status} {ms} ms", {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - started) * 10) / 10,
    });
  });
  app.openAPIRegistry.registerComponent("securitySchemes", SECURITY_SCHEME, {
    type: "http",
    scheme: "basic",
    description: "GATEWAY_ADMIN_API_USERS",
  });
  for (const module of modules) {
    for (const guard of module.guards) app.use(guard, auth);
    module.register(app);
  }

  // Methods by path, from the routes served (HEAD is answered for every GET).
  const allowed = new Map<string, Set<string>>();
  for (const { method, path } of app.routes) {
    if (method === "ALL") continue;
    const methods = allowed.get(path) ?? new Set<string>();
    methods.add(method);
    if (method === "GET") methods.add("HEAD");
    allowed.set(path, methods);
  }

  app.notFound((c) => {
    const methods = allowed.get(c.req.path);
    if (!methods) return sendError(c, 404, { error: "not found", path: c.req.path });
    const allow = [...methods];
    return sendError(c, 405, {
      error: "method not allowed",
      method: c.req.method,
      path: c.req.path,
      allow,
    }, { Allow: allow.join(", ") });
  });

  app.onError((error, c) => {
    // Hono's basic auth answers 401 by throwing its response.
    if (error instanceof HTTPException) return error.getResponse();
    log.error("{method} {path} failed: {error}", { method: c.req.method, path: c.req.path, error });
    return sendError(c, 500, {
      error: "internal server error",
      message: "the request failed; see the node's log",
    });
  });

  return app;
}
