/**
 * Route definitions: each route module declares its routes (method, path, query parameters, responses,
 * handler) in one place, so the Hono app, the OpenAPI document and the docs page are all built from the
 * same data.
 *
 * @module
 */
import type { Context } from "hono";
import type { z } from "zod";

/** HTTP methods a route may declare. */
export type RouteMethod = "GET" | "POST" | "PUT" | "DELETE" | "PATCH";

/** One query parameter of a route. Every declared parameter is optional and given at most once. */
export interface QueryParamSpec {
  /** What the parameter means (OpenAPI, docs page). */
  description: string;
  /** What values are allowed, for 400 messages, e.g. "1 to 255 printable characters". */
  expected: string;
  /** Validates the raw (percent-decoded) value; also rendered as the OpenAPI schema. */
  schema: z.ZodType<string>;
  /** An example value. */
  example?: string;
}

/** One documented response of a route. */
export interface ResponseSpec {
  /** What the response means. */
  description: string;
  /** Media type of the body, e.g. `application/json`; absent = no body documented. */
  contentType?: string;
  /** Shape of the body (documentation; JSON handlers also parse their output with it). */
  schema?: z.ZodType;
  /** Name of the schema under `components.schemas` of the OpenAPI document. */
  schemaName?: string;
  /** Further media types this response may use (content negotiation), with their schema. */
  alternatives?: { contentType: string; schema?: z.ZodType; schemaName?: string }[];
}

/** What a handler receives besides the Hono context: the validated query. */
export interface RouteInput<Q extends string> {
  /** Validated query parameters; absent ones are undefined. */
  query: { [K in Q]?: string };
}

/** One route: what it is (documentation) and what it does (handler). */
export interface RouteSpec<Q extends string = string> {
  /** HTTP method. HEAD is answered for every GET route. */
  method: RouteMethod;
  /** Path, static (no path parameters). */
  path: string;
  /** Unique operation id (OpenAPI). */
  operationId: string;
  /** One-line summary. */
  summary: string;
  /** Longer description. */
  description?: string;
  /** Query parameters by name; undeclared parameters are ignored. */
  query?: { [K in Q]: QueryParamSpec };
  /** Documented responses by status; 400 (when there are query parameters), 401 (when authenticated) and 500 are added. */
  responses: Record<number, ResponseSpec>;
  /** Serves a request whose query is valid (and whose credentials were checked when the module requires them). */
  handler(c: Context, input: RouteInput<Q>): Response | Promise<Response>;
}

/** A group of routes sharing a tag and an authentication requirement. */
export interface RouteModule {
  /** Tag (OpenAPI) and section title (docs page). */
  tag: string;
  /** What the group is for. */
  description: string;
  /** Every route of the module requires HTTP basic auth. */
  auth: boolean;
  /**
   * A path pattern guarded as a whole when `auth` is set, e.g. `/api/*`, so unknown paths below it answer
   * 401 before 404 and do not reveal what exists. Without it each route path is guarded.
   */
  guard?: string;
  /** The routes. */
  routes: RouteSpec[];
}

/**
 * Declares a route with typed query parameters.
 *
 * @example
 * ```ts
 * const route = defineRoute({
 *   method: "GET",
 *   path: "/hello",
 *   operationId: "hello",
 *   summary: "Says hello",
 *   responses: { 200: { description: "Hello", contentType: "text/plain" } },
 *   handler: (c) => c.text("hello"),
 * });
 * ```
 */
export function defineRoute<const Q extends string = never>(spec: RouteSpec<Q>): RouteSpec {
  return spec as unknown as RouteSpec;
}

/** A query that failed validation: the parameter at fault and why. */
export interface QueryError {
  /** Parameter name. */
  parameter: string;
  /** Human-readable reason. */
  message: string;
}

/**
 * Validates the declared query parameters of a URL: each at most once and matching its schema.
 * Undeclared parameters are ignored.
 */
export function parseQuery(
  url: URL,
  params: Record<string, QueryParamSpec> | undefined,
): { ok: true; query: Record<string, string | undefined> } | { ok: false; error: QueryError } {
  const query: Record<string, string | undefined> = {};
  if (!params) return { ok: true, query };
  for (const [name, spec] of Object.entries(params)) {
    const values = url.searchParams.getAll(name);
    if (values.length === 0) continue;
    if (values.length > 1) {
      return {
        ok: false,
        error: { parameter: name, message: `query parameter ${name} must be given at most once` },
      };
    }
    if (!spec.schema.safeParse(values[0]).success) {
      return {
        ok: false,
        error: { parameter: name, message: `invalid query parameter ${name}: expected ${spec.expected}` },
      };
    }
    query[name] = values[0];
  }
  return { ok: true, query };
}
