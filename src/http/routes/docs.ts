/**
 * `/openapi.json` and `/docs`: the OpenAPI document generated from the app's route declarations
 * (including these two) and an HTML page rendered from it. Not authenticated.
 *
 * @module
 */
import { z } from "@hono/zod-openapi";
import { moduleRoute, type RouteModule } from "../route.ts";
import { type OpenApiDocument, renderDocsPage } from "../docs_page.ts";

/** Content-Security-Policy of the docs page: nothing but its inline style may load. */
export const DOCS_CSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'";

/**
 * The documentation routes; `document` generates the app's OpenAPI document (called once, on first use,
 * when every route is registered).
 */
export function docsRoutes(document: () => OpenApiDocument): RouteModule {
  const module = {
    tag: "docs",
    description: "This documentation: the OpenAPI document and an HTML page (not authenticated).",
    guards: [],
  };
  const openapi = moduleRoute(module, {
    method: "get",
    path: "/openapi.json",
    operationId: "getOpenApi",
    summary: "OpenAPI 3.1 document of this API",
    responses: {
      200: {
        description: "The OpenAPI document",
        content: { "application/json": { schema: z.looseObject({}) } },
      },
    },
  });
  const docs = moduleRoute(module, {
    method: "get",
    path: "/docs",
    operationId: "getDocs",
    summary: "HTML page listing the endpoints",
    responses: { 200: { description: "The page", content: { "text/html": { schema: z.string() } } } },
  });
  let generated: OpenApiDocument | undefined;
  let page: string | undefined;
  return {
    ...module,
    register(app) {
      app.openapi(openapi, (c) => c.json(generated ??= document(), 200));
      app.openapi(docs, (c) => {
        c.header("Content-Security-Policy", DOCS_CSP);
        return c.html(page ??= renderDocsPage(generated ??= document()), 200);
      });
    },
  };
}
