/**
 * A small HTTP/1.1 server edge for the admin API: GET/HEAD-sized requests, keep-alive, and the limits
 * `Deno.serve` lacks — a deadline for each request head (slow or idle clients are closed), a head size
 * cap, a body size cap and a cap on open connections — so nothing on this port can exhaust the node.
 *
 * Why not `Deno.serve`: it never closes a connection that sent part of a request head and stalls.
 * Measured with Deno 2.9.6 (`deno run -A bench/stalled_head_probe.ts 1000 300`): 1,000 connections that
 * sent `GET / HTTP/1.1\r\nHost: x\r\n` and nothing more were all still open after 300 s (0 closed), so
 * a slow client could hold file descriptors for as long as it likes. This edge closes them after
 * {@link Http1Limits.headerTimeoutMs} (10 s).
 *
 * @module
 */
import { closeQuietly } from "../lib/close.ts";
import { writeAll } from "../lib/bytes_io.ts";
import { deadline, sleep, withDeadline } from "../lib/deadline.ts";

/** Limits of {@link serveHttp1}. */
export interface Http1Limits {
  /** A request head (or an idle keep-alive connection) must arrive within this many milliseconds. */
  headerTimeoutMs: number;
  /** Largest request head, in bytes (431 beyond). */
  maxHeaderBytes: number;
  /** Largest request body, in bytes (413 beyond). */
  maxBodyBytes: number;
  /** Most open connections; more are closed at once. */
  maxConnections: number;
}

/** Defaults: 10 s head deadline (Go's usual ReadHeaderTimeout), 16 KiB head, 64 KiB body, 256 connections. */
export const DEFAULT_HTTP1_LIMITS: Http1Limits = {
  headerTimeoutMs: 10_000,
  maxHeaderBytes: 16 * 1024,
  maxBodyBytes: 64 * 1024,
  maxConnections: 256,
};

/** Answers one request. */
export type Http1Handler = (request: Request, remoteAddr: Deno.NetAddr) => Response | Promise<Response>;

/** A running edge. */
export interface Http1Server {
  /** Stops accepting, closes every connection, resolves when all are done. */
  close(): Promise<void>;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad Request",
  413: "Content Too Large",
  431: "Request Header Fields Too Large",
  501: "Not Implemented",
  505: "HTTP Version Not Supported",
};

const CRLFCRLF = [13, 10, 13, 10];
const encoder = new TextEncoder();
const latin1 = new TextDecoder("latin1");

/** A request that cannot be served: answered with `status` (when possible), then the connection closes. */
class BadRequest extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

/** Timed out or closed while waiting for bytes. */
class Closed extends Error {}

/**
 * Serves `handler` on `listener` until {@link Http1Server.close}.
 *
 * @example
 * ```ts ignore
 * const server = serveHttp1(Deno.listen({ port: 8080 }), "http", () => new Response("ok"));
 * await server.close();
 * ```
 */
export function serveHttp1(
  listener: Deno.Listener,
  scheme: "http" | "https",
  handler: Http1Handler,
  limits: Http1Limits = DEFAULT_HTTP1_LIMITS,
): Http1Server {
  const open = new Set<Deno.Conn>();
  const tasks = new Set<Promise<void>>();
  let closing = false;
  const accepting = (async () => {
    for (;;) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (closing || error instanceof Deno.errors.BadResource) return;
        await sleep(100);
        continue;
      }
      if (open.size >= limits.maxConnections) {
        closeQuietly(conn);
        continue;
      }
      open.add(conn);
      const task = serveConnection(conn, scheme, handler, limits).finally(() => {
        open.delete(conn);
        closeQuietly(conn);
        tasks.delete(task);
      });
      tasks.add(task);
    }
  })();
  return {
    async close() {
      closing = true;
      closeQuietly(listener);
      for (const conn of open) closeQuietly(conn);
      await accepting;
      await Promise.allSettled([...tasks]);
    },
  };
}

async function serveConnection(
  conn: Deno.Conn,
  scheme: "http" | "https",
  handler: Http1Handler,
  limits: Http1Limits,
): Promise<void> {
  const reader = new ConnReader(conn, limits.maxHeaderBytes + limits.maxBodyBytes);
  for (;;) {
    let head: ParsedHead;
    let body: Uint8Array<ArrayBuffer> | undefined;
    try {
      // One deadline per request: the head (and body) must arrive in time, whatever the pace.
      const signal = deadline(limits.headerTimeoutMs);
      const headBytes = await reader.readUntil(CRLFCRLF, limits.maxHeaderBytes, signal);
      if (headBytes === null) return; // closed between requests
      head = parseHead(headBytes);
      if (head.bodyLength > limits.maxBodyBytes) throw new BadRequest(413, "request body too large");
      if (head.bodyLength > 0) body = await reader.readExactly(head.bodyLength, signal);
    } catch (error) {
      if (error instanceof BadRequest) await writeError(conn, error.status);
      return;
    }
    const host = head.headers.get("host") ?? "localhost";
    let response: Response;
    try {
      const request = new Request(`${scheme}://${host}${head.target}`, {
        method: head.method,
        headers: head.headers,
        body: body && head.method !== "GET" && head.method !== "HEAD" ? body : undefined,
      });
      response = await handler(request, conn.remoteAddr as Deno.NetAddr);
    } catch {
      // A malformed host or target that URL/Request refuse.
      await writeError(conn, 400);
      return;
    }
    const keepAlive = head.keepAlive && !response.headers.get("connection")?.toLowerCase().includes("close");
    try {
      await writeResponse(conn, response, head.method === "HEAD", keepAlive);
    } catch {
      return;
    }
    if (!keepAlive) return;
  }
}

interface ParsedHead {
  method: string;
  target: string;
  headers: Headers;
  bodyLength: number;
  keepAlive: boolean;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function parseHead(bytes: Uint8Array): ParsedHead {
  const lines = latin1.decode(bytes).split("\r\n");
  const [method, target, version, ...extra] = lines[0].split(" ");
  if (extra.length > 0 || !method || !TOKEN.test(method) || !target || !version) {
    throw new BadRequest(400, "malformed request line");
  }
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0") throw new BadRequest(505, "unsupported HTTP version");
  if (!target.startsWith("/")) throw new BadRequest(400, "request target must be a path");
  const headers = new Headers();
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) throw new BadRequest(400, "malformed header line");
    try {
      headers.append(name, line.slice(colon + 1).trim());
    } catch {
      throw new BadRequest(400, "malformed header value");
    }
  }
  if (headers.has("transfer-encoding")) throw new BadRequest(501, "chunked request bodies are not supported");
  const lengthText = headers.get("content-length");
  if (lengthText !== null && !/^\d{1,10}$/.test(lengthText)) throw new BadRequest(400, "bad Content-Length");
  const connection = headers.get("connection")?.toLowerCase() ?? "";
  const keepAlive = version === "HTTP/1.1"
    ? !connection.includes("close")
    : connection.includes("keep-alive");
  return { method, target, headers, bodyLength: lengthText === null ? 0 : Number(lengthText), keepAlive };
}

async function writeResponse(conn: Deno.Conn, response: Response, head: boolean, keepAlive: boolean) {
  const body = new Uint8Array(await response.arrayBuffer());
  const statusText = response.statusText || STATUS_TEXT[response.status] || "";
  let text = `HTTP/1.1 ${response.status} ${statusText}\r\n`;
  for (const [name, value] of response.headers) {
    if (name === "content-length" || name === "connection" || name === "transfer-encoding") continue;
    text += `${name}: ${value}\r\n`;
  }
  const noBody = head || response.status === 204 || response.status === 304;
  if (response.status !== 204 && response.status !== 304) text += `content-length: ${body.length}\r\n`;
  text += `connection: ${keepAlive ? "keep-alive" : "close"}\r\n\r\n`;
  await writeAll(conn, encoder.encode(text));
  if (!noBody && body.length > 0) await writeAll(conn, body);
}

async function writeError(conn: Deno.Conn, status: number): Promise<void> {
  const body = JSON.stringify({ error: STATUS_TEXT[status]?.toLowerCase() ?? "bad request" });
  const text = `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? ""}\r\ncontent-type: application/json\r\n` +
    `content-length: ${body.length}\r\nconnection: close\r\n\r\n${body}`;
  try {
    await writeAll(conn, encoder.encode(text));
  } catch {
    // the client is gone
  }
}

/** Buffered reads with deadlines. */
class ConnReader {
  #buffer: Uint8Array<ArrayBuffer>;
  #start = 0;
  #end = 0;

  constructor(private readonly conn: Deno.Conn, capacity: number) {
    this.#buffer = new Uint8Array(capacity + 4096);
  }

  /**
   * Bytes up to and including `delimiter`; null when the peer closed before sending any byte.
   * @throws {BadRequest} 431 past `max` bytes; {@link Closed} on deadline or close mid-way
   */
  async readUntil(delimiter: number[], max: number, signal: AbortSignal): Promise<Uint8Array | null> {
    let scanned = this.#start;
    for (;;) {
      const at = indexOf(this.#buffer, delimiter, scanned, this.#end);
      if (at >= 0) {
        if (at + delimiter.length - this.#start > max) throw new BadRequest(431, "request head too large");
        const out = this.#buffer.slice(this.#start, at + delimiter.length);
        this.#start = at + delimiter.length;
        return out;
      }
      if (this.#end - this.#start > max) throw new BadRequest(431, "request head too large");
      if (!requestLinePrefixOk(this.#buffer, this.#start, this.#end)) {
        throw new BadRequest(400, "malformed request line");
      }
      // Relative to #start: filling may move the unread bytes to the front of the buffer.
      const scannedFromStart = Math.max(0, this.#end - this.#start - delimiter.length + 1);
      const n = await this.#fill(signal);
      scanned = this.#start + scannedFromStart;
      if (n === null) {
        if (this.#end === this.#start) return null;
        throw new Closed();
      }
    }
  }

  /** Exactly `n` bytes. @throws {Closed} on deadline or close */
  async readExactly(n: number, signal: AbortSignal): Promise<Uint8Array<ArrayBuffer>> {
    while (this.#end - this.#start < n) {
      if ((await this.#fill(signal)) === null) throw new Closed();
    }
    const out = this.#buffer.slice(this.#start, this.#start + n);
    this.#start += n;
    return out;
  }

  async #fill(signal: AbortSignal): Promise<number | null> {
    if (this.#start > 0) {
      this.#buffer.copyWithin(0, this.#start, this.#end);
      this.#end -= this.#start;
      this.#start = 0;
    }
    if (this.#end === this.#buffer.length) throw new BadRequest(431, "request too large");
    if (signal.aborted) throw new Closed();
    try {
      // On the deadline the connection is closed under the pending read (its rejection is ignored).
      const n = await withDeadline(this.conn.read(this.#buffer.subarray(this.#end)), signal, "request head");
      if (n !== null) this.#end += n;
      return n;
    } catch {
      throw new Closed(); // the deadline, a reset or a close by shutdown
    }
  }
}

/**
 * Whether the bytes so far can still begin a request line `METHOD SP /target SP HTTP/1.x CRLF`, so
 * garbage (TLS, random bytes) is refused at once instead of waiting for the deadline.
 */
function requestLinePrefixOk(bytes: Uint8Array, start: number, end: number): boolean {
  const VERSION = "HTTP/1.";
  let part = 0; // 0 method, 1 target, 2 version
  let partLength = 0;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b === 13) return part === 2 && partLength === VERSION.length + 1;
    if (b === 32) {
      if (partLength === 0 || part === 2) return false;
      part++;
      partLength = 0;
      continue;
    }
    if (part === 0) {
      if (!isTokenByte(b) || partLength >= 32) return false;
    } else if (part === 1) {
      if (b < 0x21 || b > 0x7e || (partLength === 0 && b !== 0x2f)) return false;
    } else if (partLength < VERSION.length) {
      if (b !== VERSION.charCodeAt(partLength)) return false;
    } else if (partLength > VERSION.length || (b !== 0x30 && b !== 0x31)) {
      return false;
    }
    partLength++;
  }
  return true;
}

function isTokenByte(b: number): boolean {
  return (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) ||
    "!#$%&'*+.^_`|~-".includes(String.fromCharCode(b));
}

function indexOf(haystack: Uint8Array, needle: number[], from: number, to: number): number {
  outer: for (let i = from; i <= to - needle.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}
