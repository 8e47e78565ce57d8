/**
 * JSON error bodies of the HTTP API, one shape for every error status.
 *
 * @module
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { z } from "zod";

/** Body of every error response. */
export const ErrorBodySchema = z.object({
  error: z.string().meta({ description: "Short error name, e.g. `not found`" }),
  message: z.string().optional().meta({ description: "What went wrong" }),
  path: z.string().optional().meta({ description: "The request path (404, 405)" }),
  method: z.string().optional().meta({ description: "The request method (405)" }),
  allow: z.array(z.string()).optional().meta({ description: "Methods the path allows (405)" }),
  parameter: z.string().optional().meta({ description: "The query parameter at fault (400)" }),
});

/** Body of every error response (the fields {@link ErrorBodySchema} documents). */
export interface ErrorBody {
  /** Short error name, e.g. `not found`. */
  error: string;
  /** What went wrong. */
  message?: string;
  /** The request path (404, 405). */
  path?: string;
  /** The request method (405). */
  method?: string;
  /** Methods the path allows (405). */
  allow?: string[];
  /** The query parameter at fault (400). */
  parameter?: string;
}

/** Sends a JSON body with a status (the shared JSON writer of every route). */
export function sendJson(
  c: Context,
  body: unknown,
  status: ContentfulStatusCode = 200,
  headers?: Record<string, string>,
): Response {
  return c.json(body as Record<string, never>, status, headers);
}

/** Sends an error body. */
export function sendError(
  c: Context,
  status: ContentfulStatusCode,
  body: ErrorBody,
  headers?: Record<string, string>,
): Response {
  return sendJson(c, body, status, headers);
}
