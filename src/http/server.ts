/**
 * Serves an app over HTTP/1.1 (HTTPS when a PEM certificate and key are given) on the edge of
 * `http1.ts`, whose request-head deadline `Deno.serve` lacks (see there).
 *
 * @module
 */
import { logger } from "../log.ts";
import { serveHttp1 } from "./http1.ts";

/** Anything with a fetch handler, e.g. the Hono app of `createHttpApp`. */
export interface FetchApp {
  /** Answers one request; `info` is Deno's connection info (Hono exposes it as `c.env`). */
  fetch(request: Request, info: Deno.ServeHandlerInfo<Deno.NetAddr>): Response | Promise<Response>;
}

/** Where and how to listen. */
export interface HttpServerOptions {
  /** Address to bind, e.g. `0.0.0.0` or `127.0.0.1`. */
  hostname: string;
  /** Port; 0 picks a free one. */
  port: number;
  /** PEM certificate file (`GATEWAY_HTTPS_CERT_FILE`); with `keyFile`, serve HTTPS (config gives both or neither). */
  certFile?: string;
  /** PEM private key file (`GATEWAY_HTTPS_KEY_FILE`). */
  keyFile?: string;
  /** Aborting it shuts the server down. */
  signal?: AbortSignal;
}

/** A running HTTP API server. */
export interface HttpServerHandle {
  /** The port bound (the real one when 0 was asked). */
  port: number;
  /** Base URL, e.g. `https://127.0.0.1:8888`. */
  url: string;
  /** Stops accepting, lets in-flight requests finish, resolves when closed. Safe to call more than once. */
  shutdown(): Promise<void>;
}

/** The HTTP server could not start; `setting` names the configuration at fault. */
export class HttpServerError extends Error {
  /**
   * An error naming the setting at fault.
   *
   * @param setting the setting at fault, e.g. `GATEWAY_HTTPS_CERT_FILE`
   * @param message what went wrong
   */
  constructor(readonly setting: string, message: string) {
    super(message);
    this.name = "HttpServerError";
  }
}

const log = logger("http");

async function readPem(setting: string, path: string): Promise<string> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new HttpServerError(setting, `cannot read ${setting} ${JSON.stringify(path)}: ${reason}`);
  }
  if (!text.includes("-----BEGIN ")) {
    throw new HttpServerError(setting, `${setting} ${JSON.stringify(path)} is not a PEM file`);
  }
  return text;
}

/**
 * Starts serving `app`. With `certFile` and `keyFile` it serves HTTPS (the configuration gives both or
 * neither); an unreadable or non-PEM file, a certificate the TLS stack refuses, or a port that cannot be
 * bound is an {@link HttpServerError} naming the setting.
 *
 * @example
 * ```ts ignore
 * const server = await startHttpServer(app, { hostname: "127.0.0.1", port: 0 });
 * console.log(server.url);
 * await server.shutdown();
 * ```
 */
export async function startHttpServer(app: FetchApp, options: HttpServerOptions): Promise<HttpServerHandle> {
  const { certFile, keyFile } = options;
  const tls = certFile !== undefined && keyFile !== undefined
    ? {
      cert: await readPem("GATEWAY_HTTPS_CERT_FILE", certFile),
      key: await readPem("GATEWAY_HTTPS_KEY_FILE", keyFile),
    }
    : undefined;
  const scheme = tls ? "https" : "http";

  let listener: Deno.Listener;
  try {
    listener = tls
      ? Deno.listenTls({ hostname: options.hostname, port: options.port, transport: "tcp", ...tls })
      : Deno.listen({ hostname: options.hostname, port: options.port, transport: "tcp" });
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (
      tls && !(error instanceof Deno.errors.AddrInUse) && !(error instanceof Deno.errors.PermissionDenied)
    ) {
      throw new HttpServerError(
        "GATEWAY_HTTPS_CERT_FILE",
        `cannot serve HTTPS with GATEWAY_HTTPS_CERT_FILE ${JSON.stringify(certFile)} and ` +
          `GATEWAY_HTTPS_KEY_FILE ${JSON.stringify(keyFile)}: ${reason}`,
      );
    }
    throw new HttpServerError(
      "GATEWAY_HTTP_PORT",
      `cannot listen on ${options.hostname}:${options.port} (GATEWAY_HTTP_PORT): ${reason}`,
    );
  }
  const server = serveHttp1(listener, scheme, async (request, remoteAddr) => {
    try {
      return await app.fetch(request, { remoteAddr, completed: Promise.resolve() });
    } catch (error) {
      log.error("HTTP request failed: {error}", { error });
      return new Response(JSON.stringify({ error: "internal server error" }), {
        status: 500,
        headers: { "Content-Type": "application/json" },
      });
    }
  });

  const port = (listener.addr as Deno.NetAddr).port;
  const host = options.hostname.includes(":") ? `[${options.hostname}]` : options.hostname;
  const url = `${scheme}://${host}:${port}`;
  // "serving", not "listening": the Kafka listeners' log line says when the node takes clients.
  log.info("HTTP API serving on {url}", { url });

  let closing: Promise<void> | undefined;
  const shutdown = () =>
    closing ??= (async () => {
      options.signal?.removeEventListener("abort", onAbort);
      await server.close();
      log.info("HTTP API on {url} stopped", { url });
    })();
  const onAbort = () => void shutdown();
  if (options.signal?.aborted) await shutdown();
  else options.signal?.addEventListener("abort", onAbort, { once: true });

  return { port, url, shutdown };
}
