/**
 * `/openapi.json` and `/docs`, generated from the route modules of the app (including these two).
 * Not authenticated.
 *
 * @module
 */
import { z } from "zod";
import { defineRoute, type RouteModule } from "../route.ts";
import { type ApiInfo, buildOpenApiDocument, type OpenApiDocument, renderDocsPage } from "../openapi.ts";
import { sendJson } from "../errors.ts";

/** Content-Security-Policy of the docs page: nothing but its inline style may load. */
export const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/**
 * The documentation routes; `modules` returns every module of the app (read once, on first use, so it
 * may include this one).
 */
export function docsRoutes(modules: () => readonly RouteModule[], info: ApiInfo): RouteModule {
  let document: OpenApiDocument | undefined;
  let page: string | undefined;
  return {
    tag: "docs",
    description: "This documentation: the OpenAPI document and an HTML page (not authenticated).",
    auth: false,
    routes: [
      defineRoute({
        method: "GET",
        path: "/openapi.json",
        operationId: "getOpenApi",
        summary: "OpenAPI 3.1 document of this API",
        responses: {
          200: { description: "The OpenAPI document", contentType: "application/json", schema: z.object({}) },
        },
        handler: (c) => sendJson(c, document ??= buildOpenApiDocument(modules(), info)),
      }),
      defineRoute({
        method: "GET",
        path: "/docs",
        operationId: "getDocs",
        summary: "HTML page listing the endpoints",
        responses: { 200: { description: "The page", contentType: "text/html", schema: z.string() } },
        handler: (c) => {
          c.header("Content-Security-Policy", DOCS_CSP);
          return c.html(page ??= renderDocsPage(modules(), info));
        },
      }),
    ],
  };
}
