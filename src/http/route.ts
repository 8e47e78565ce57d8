/**
 * Route modules: a group of routes with one OpenAPI tag and one authentication rule, each route
 * declared once with `createRoute` (method, path, query schema, responses) so that the Hono router, the
 * query validation, the OpenAPI document and the docs page all come from the same declaration.
 *
 * @module
 */
import { createRoute, type OpenAPIHono, type RouteConfig, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { ErrorBodySchema } from "./schemas.ts";

/** Realm announced in `WWW-Authenticate`. */
export const AUTH_REALM = "kgate";
/** Name of the basic auth scheme in the OpenAPI document. */
export const SECURITY_SCHEME = "basicAuth";

/** A group of routes sharing an OpenAPI tag and an authentication rule. */
export interface RouteModule {
  /** Tag (OpenAPI) and section title (docs page). */
  tag: string;
  /** What the group is for. */
  description: string;
  /**
   * Path patterns that require HTTP basic auth, guarded before the routes are matched (so unknown paths
   * below `/api/*` answer 401 before 404 and do not reveal what exists); empty when the group is open.
   */
  guards: string[];
  /** Adds the group's routes to the app. */
  register(app: OpenAPIHono): void;
}

/**
 * Makes the query validator see the values `URLSearchParams` decodes, as the API always has: Hono keeps an
 * invalid UTF-8 escape (`%FF`) as its three characters where `URLSearchParams` gives U+FFFD, so the query
 * is re-encoded by `URLSearchParams` first (valid escapes decode the same either way).
 */
const urlSearchParamsDecoding: MiddlewareHandler = async (c, next) => {
  const url = new URL(c.req.url);
  if (url.search.includes("%")) {
    url.search = new URLSearchParams(url.search).toString();
    c.req.raw = new Request(url, c.req.raw);
  }
  await next();
};

const errorContent = { "application/json": { schema: ErrorBodySchema } };

/**
 * Declares a route of `module`: its tag, its security and the error responses every such route may
 * give (400 when it has query parameters, 401 when it is authenticated, 500 always) are added to it, and
 * its query is decoded as `URLSearchParams` does.
 *
 * @example
 * ```ts ignore
 * const hello = moduleRoute(module, {
 *   method: "get",
 *   path: "/hello",
 *   operationId: "hello",
 *   summary: "Says hello",
 *   responses: { 200: { description: "Hello", content: { "text/plain": { schema: z.string() } } } },
 * });
 * app.openapi(hello, (c) => c.text("hello"));
 * ```
 */
export function moduleRoute<R extends RouteConfig>(
  module: Pick<RouteModule, "tag" | "guards">,
  route: R,
): R {
  const secured = module.guards.length > 0;
  // Typed as declared: the handler answers the route's own responses; the errors are answered elsewhere.
  return createRoute({
    ...route,
    ...(route.request?.query ? { middleware: [urlSearchParamsDecoding] } : {}),
    tags: [module.tag],
    security: secured ? [{ [SECURITY_SCHEME]: [] }] : [],
    responses: {
      ...route.responses,
      ...(route.request?.query
        ? {
          400: {
            description: "A query parameter is invalid or repeated (the body names it)",
            content: errorContent,
          },
        }
        : {}),
      ...(secured
        ? {
          401: {
            description: "Missing, malformed or wrong credentials",
            headers: z.object({
              "WWW-Authenticate": z.literal(`Basic realm="${AUTH_REALM}"`),
            }),
            content: errorContent,
          },
        }
        : {}),
      500: { description: "Internal error (logged)", content: errorContent },
    },
  }) as R;
}
