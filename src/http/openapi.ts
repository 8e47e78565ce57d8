/**
 * The OpenAPI 3.1 document and the HTML docs page, both generated from the route modules.
 *
 * @module
 */
import { z } from "zod";
import type { ResponseSpec, RouteModule, RouteSpec } from "./route.ts";
import { ErrorBodySchema } from "./errors.ts";
import { AUTH_REALM } from "./auth.ts";

/** Title and version of the API. */
export interface ApiInfo {
  /** API title. */
  title: string;
  /** API (kgate) version. */
  version: string;
  /** Markdown description. */
  description?: string;
}

/** An OpenAPI 3.1 document (the fields kgate fills). */
export interface OpenApiDocument {
  /** Always "3.1.0". */
  openapi: "3.1.0";
  /** Title, version, description. */
  info: ApiInfo;
  /** Tags, one per route module. */
  tags: { name: string; description: string }[];
  /** Operations by path and lower-case method. */
  paths: Record<string, Record<string, unknown>>;
  /** Shared schemas and the basic auth scheme. */
  components: {
    schemas: Record<string, unknown>;
    securitySchemes: Record<string, unknown>;
  };
}

const SECURITY_SCHEME = "basicAuth";

/** JSON Schema (2020-12, the OpenAPI 3.1 dialect) of a zod schema, without `$schema`. */
function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}

/** Every route with its module, in declaration order. */
export function listRoutes(modules: readonly RouteModule[]): { module: RouteModule; route: RouteSpec }[] {
  return modules.flatMap((module) => module.routes.map((route) => ({ module, route })));
}

/**
 * Builds the OpenAPI 3.1 document of these route modules: one operation per route with its query
 * parameters, responses (plus the shared 400, 401 and 500 ones) and security.
 */
export function buildOpenApiDocument(modules: readonly RouteModule[], info: ApiInfo): OpenApiDocument {
  const schemas: Record<string, unknown> = { Error: jsonSchema(ErrorBodySchema) };
  const errorContent = { "application/json": { schema: { $ref: "#/components/schemas/Error" } } };
  const content = (contentType: string, schema: z.ZodType | undefined, schemaName: string | undefined) => {
    if (!schema) return { [contentType]: {} };
    if (!schemaName) return { [contentType]: { schema: jsonSchema(schema) } };
    schemas[schemaName] ??= jsonSchema(schema);
    return { [contentType]: { schema: { $ref: `#/components/schemas/${schemaName}` } } };
  };
  const response = (spec: ResponseSpec) => {
    if (!spec.contentType) return { description: spec.description };
    let body = content(spec.contentType, spec.schema, spec.schemaName);
    for (const alt of spec.alternatives ?? []) {
      body = { ...body, ...content(alt.contentType, alt.schema, alt.schemaName) };
    }
    return { description: spec.description, content: body };
  };

  const paths: Record<string, Record<string, unknown>> = {};
  for (const { module, route } of listRoutes(modules)) {
    const responses: Record<string, unknown> = {};
    for (const [status, spec] of Object.entries(route.responses)) responses[status] = response(spec);
    const query = Object.entries(route.query ?? {});
    if (query.length > 0) {
      responses["400"] = {
        description: "A query parameter is invalid or repeated (the body names it)",
        content: errorContent,
      };
    }
    if (module.auth) {
      responses["401"] = {
        description: "Missing, malformed or wrong credentials",
        headers: {
          "WWW-Authenticate": { schema: { type: "string", const: `Basic realm="${AUTH_REALM}"` } },
        },
        content: errorContent,
      };
    }
    responses["500"] = { description: "Internal error (logged)", content: errorContent };
    paths[route.path] ??= {};
    paths[route.path][route.method.toLowerCase()] = {
      operationId: route.operationId,
      summary: route.summary,
      ...(route.description ? { description: route.description } : {}),
      tags: [module.tag],
      ...(query.length > 0
        ? {
          parameters: query.map(([name, spec]) => ({
            name,
            in: "query",
            required: false,
            description: `${spec.description} (${spec.expected})`,
            schema: jsonSchema(spec.schema),
            ...(spec.example !== undefined ? { example: spec.example } : {}),
          })),
        }
        : {}),
      responses,
      security: module.auth ? [{ [SECURITY_SCHEME]: [] }] : [],
    };
  }
  return {
    openapi: "3.1.0",
    info,
    tags: modules.map((m) => ({ name: m.tag, description: m.description })),
    paths,
    components: {
      schemas,
      securitySchemes: {
        [SECURITY_SCHEME]: { type: "http", scheme: "basic", description: "GATEWAY_ADMIN_API_USERS" },
      },
    },
  };
}

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

/**
 * A self-contained HTML page (inline style, no script, no external resource) listing every route of
 * these modules: method, path, authentication, summary, query parameters and responses.
 */
export function renderDocsPage(modules: readonly RouteModule[], info: ApiInfo): string {
  const e = escapeHtml;
  // Descriptions are Markdown for OpenAPI; the page renders their `code` spans only.
  const md = (text: string) => e(text).replace(/`([^`]+)`/g, "<code>$1</code>");
  const sections = modules.map((module) => {
    const routes = module.routes.map((route) => {
      const params = Object.entries(route.query ?? {}).map(([name, spec]) =>
        `<li><code>${e(name)}</code> (optional): ${e(spec.description)}; ${e(spec.expected)}</li>`
      ).join("");
      const responses = Object.entries(route.responses).map(([status, spec]) => {
        const types = [spec.contentType, ...(spec.alternatives ?? []).map((a) => a.contentType)]
          .filter((t): t is string => t !== undefined).map((t) => `<code>${e(t)}</code>`).join(", ");
        return `<li><b>${e(status)}</b> ${e(spec.description)}${types ? ` (${types})` : ""}</li>`;
      }).join("");
      const link = route.method === "GET" ? `<a href="${e(route.path)}">${e(route.path)}</a>` : e(route.path);
      return `<div class="route" id="${e(route.operationId)}">
<h3><span class="method">${e(route.method)}</span> <code>${link}</code> ${
        module.auth ? '<span class="auth">basic auth</span>' : '<span class="open">no auth</span>'
      }</h3>
<p>${md(route.summary)}</p>${route.description ? `\n<p>${md(route.description)}</p>` : ""}${
        params ? `\n<p>Query parameters:</p><ul>${params}</ul>` : ""
      }
<p>Responses:</p><ul>${responses}</ul>
</div>`;
    }).join("\n");
    return `<section><h2>${e(module.tag)}</h2><p>${md(module.description)}</p>\n${routes}</section>`;
  }).join("\n");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(info.title)} ${e(info.version)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 56rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
code { font-family: ui-monospace, monospace; }
.route { border: 1px solid #ddd; border-radius: 6px; padding: 0 1rem; margin: 1rem 0; }
.method { background: #2563eb; color: #fff; border-radius: 4px; padding: 0 .4rem; font-size: .9em; }
.auth, .open { font-size: .75em; border-radius: 4px; padding: 0 .4rem; font-weight: normal; }
.auth { background: #fde68a; } .open { background: #d1fae5; }
</style>
</head>
<body>
<h1>${e(info.title)} <small>${e(info.version)}</small></h1>
${
    info.description
      ? `<p>${md(info.description)}</p>\n`
      : ""
  }<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${sections}
</body>
</html>
`;
}
