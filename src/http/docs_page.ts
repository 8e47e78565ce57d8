/**
 * The HTML docs page, rendered from the OpenAPI document: one section per tag, one entry per operation.
 *
 * @module
 */
import type { OpenAPIHono } from "@hono/zod-openapi";

/** An OpenAPI 3.1 document as `@hono/zod-openapi` generates it. */
export type OpenApiDocument = ReturnType<OpenAPIHono["getOpenAPI31Document"]>;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`);
}

const e = escapeHtml;
/** Descriptions are Markdown for OpenAPI; the page renders their `code` spans only. */
const md = (text: string | undefined) => e(text ?? "").replace(/`([^`]+)`/g, "<code>$1</code>");

type Operation = NonNullable<NonNullable<OpenApiDocument["paths"]>[string]["get"]>;

function renderOperation(method: string, path: string, op: Operation): string {
  const params = (op.parameters ?? []).map((p) =>
    "name" in p
      ? `<li><code>${e(p.name)}</code> (${p.required ? "required" : "optional"}): ${md(p.description)}</li>`
      : ""
  ).join("");
  const responses = Object.entries(op.responses ?? {}).map(([status, response]) => {
    const types = Object.keys("content" in response ? response.content ?? {} : {})
      .map((t) => `<code>${e(t)}</code>`).join(", ");
    return `<li><b>${e(status)}</b> ${md(response.description)}${types ? ` (${types})` : ""}</li>`;
  }).join("");
  const link = method === "get" ? `<a href="${e(path)}">${e(path)}</a>` : e(path);
  const auth = op.security?.length
    ? '<span class="auth">basic auth</span>'
    : '<span class="open">no auth</span>';
  return `<div class="route" id="${e(op.operationId ?? "")}">
<h3><span class="method">${e(method.toUpperCase())}</span> <code>${link}</code> ${auth}</h3>
<p>${md(op.summary)}</p>${op.description ? `\n<p>${md(op.description)}</p>` : ""}${
    params ? `\n<p>Query parameters:</p><ul>${params}</ul>` : ""
  }
<p>Responses:</p><ul>${responses}</ul>
</div>`;
}

/**
 * A self-contained HTML page (inline style, no script, no external resource) listing every operation of
 * the document: method, path, authentication, summary, parameters and responses, grouped by tag.
 *
 * @example
 * ```ts ignore
 * const html = renderDocsPage(app.getOpenAPI31Document({ openapi: "3.1.0", info }));
 * ```
 */
export function renderDocsPage(doc: OpenApiDocument): string {
  const operations = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
    (["get", "put", "post", "delete", "patch"] as const).flatMap((method) =>
      item[method] ? [{ method, path, op: item[method] }] : []
    )
  );
  const sections = (doc.tags ?? []).map((tag) => {
    const routes = operations.filter(({ op }) => op.tags?.includes(tag.name))
      .map(({ method, path, op }) => renderOperation(method, path, op)).join("\n");
    return `<section><h2>${e(tag.name)}</h2><p>${md(tag.description)}</p>\n${routes}</section>`;
  }).join("\n");
  const { title, version, description } = doc.info;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(title)} ${e(version)}</title>
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
<h1>${e(title)} <small>${e(version)}</small></h1>
${
    description
      ? `<p>${md(description)}</p>\n`
      : ""
  }<p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1).</p>
${sections}
</body>
</html>
`;
}
