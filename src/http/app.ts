/**
 * The HTTP API app: Hono, assembled from the route modules. Pure (no sockets): serve it with
 * `startHttpServer`, or test it with `app.request(...)`.
 *
 * @module
 */
import { type Context, Hono } from "hono";
import type { NodeView } from "./node_view.ts";
import { basicAuth, type BasicAuthUser } from "./auth.ts";
import { sendError } from "./errors.ts";
import { parseQuery, type RouteModule, type RouteSpec } from "./route.ts";
import type { ApiInfo } from "./openapi.ts";
import { healthRoutes } from "./routes/health.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { apiRoutes } from "./routes/api.ts";
import { versionsRoutes, type VersionsSource } from "./routes/versions.ts";
import { docsRoutes } from "./routes/docs.ts";
import { KGATE_VERSION } from "../version.ts";
import { logger } from "../log.ts";

/**
 * The HTTP API app as `createHttpApp` returns it: a Hono app (typed as what callers use, so the public API
 * does not expose Hono's generics; `createHonoApp` returns the same app typed as `Hono`).
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

const log = logger("http");

/** Title and version of the OpenAPI document and the docs page. */
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

/** The route modules of the app, in the order they are served and documented. */
export function httpRouteModules(view: NodeView, options: HttpAppOptions): RouteModule[] {
  const modules: RouteModule[] = [
    healthRoutes(view),
    metricsRoutes(view, { secured: options.securedMetrics }),
    versionsRoutes(options.versions),
    apiRoutes(view),
  ];
  modules.push(docsRoutes(() => modules, apiInfo(options.versions.kgate)));
  return modules;
}

/** Wraps a route handler: validates the declared query parameters (400 naming the parameter) first. */
function serve(route: RouteSpec) {
  return async (c: Context): Promise<Response> => {
    const parsed = parseQuery(new URL(c.req.url), route.query);
    if (!parsed.ok) {
      return sendError(c, 400, {
        error: "bad request",
        parameter: parsed.error.parameter,
        message: parsed.error.message,
      });
    }
    return await route.handler(c, { query: parsed.query });
  };
}

/**
 * Builds the HTTP API app over a node view.
 *
 * Authentication: `/api/*` always, `/metrics` when `securedMetrics`; `/health/*`, `/versions`,
 * `/openapi.json` and `/docs` never. Unknown path: 404 JSON; known path with another method: 405 JSON
 * with `Allow`; a thrown error: 500 JSON with a generic message, logged.
 */
export function createHttpApp(view: NodeView, options: HttpAppOptions): HttpApp {
  return createHonoApp(view, options);
}

/** {@link createHttpApp} typed as the Hono app it is, e.g. to mount it into another Hono app. */
export function createHonoApp(view: NodeView, options: HttpAppOptions): Hono {
  const app = new Hono();
  const auth = basicAuth(options.users);
  const modules = httpRouteModules(view, options);

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

  const allowed = new Map<string, Set<string>>();
  const operationIds = new Set<string>();
  for (const module of modules) {
    if (module.auth) {
      for (const pattern of module.guard ? [module.guard] : module.routes.map((r) => r.path)) {
        app.use(pattern, auth);
      }
    }
    for (const route of module.routes) {
      const methods = allowed.get(route.path) ?? new Set<string>();
      if (methods.has(route.method) || operationIds.has(route.operationId)) {
        throw new Error(`duplicate route ${route.method} ${route.path} (${route.operationId})`);
      }
      methods.add(route.method);
      if (route.method === "GET") methods.add("HEAD");
      allowed.set(route.path, methods);
      operationIds.add(route.operationId);
      app.on(route.method, route.path, serve(route));
    }
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
    log.error("{method} {path} failed: {error}", { method: c.req.method, path: c.req.path, error });
    return sendError(c, 500, {
      error: "internal server error",
      message: "the request failed; see the node's log",
    });
  });

  return app;
}
