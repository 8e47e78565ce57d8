/**
 * Helpers for testing a node's HTTP API over real sockets: bounded `fetch` with basic auth (every body
 * seen is kept, so a test can assert a secret never left the node), a Prometheus text parser, and raw
 * TCP clients for the HTTP port (garbage bytes, half requests that never finish).
 *
 * ```ts
 * const api = new HttpApi("http://127.0.0.41:8888");
 * const res = await api.get("/api/v1/brokers", { auth: { username: "admin", password: "kgate" } });
 * const metrics = parsePrometheus((await api.get("/metrics")).body);
 * sampleValue(metrics, "kgate_requests_total", { api: "Produce" });
 * ```
 */
import { withDeadline } from "../harness/mod.ts";

/** HTTP basic credentials. */
export interface Credentials {
  username: string;
  password: string;
}

/** A response read whole. */
export interface HttpResult {
  status: number;
  headers: Headers;
  body: string;
}

/** Options of {@link HttpApi.get}. */
export interface RequestOptions {
  /** Basic credentials to send. */
  auth?: Credentials;
  /** `Accept` header. */
  accept?: string;
  /** Method (default GET). */
  method?: string;
  /** Further headers. */
  headers?: Record<string, string>;
  /** Bound of the whole exchange, body included. */
  timeoutMs?: number;
}

/** `Authorization: Basic ...` of these credentials (UTF-8). */
export function basicAuthorization(credentials: Credentials): string {
  const bytes = new TextEncoder().encode(`${credentials.username}:${credentials.password}`);
  return `Basic ${btoa(Array.from(bytes, (b) => String.fromCharCode(b)).join(""))}`;
}

/** A node's HTTP API: bounded requests, every response body recorded in {@link bodies}. */
export class HttpApi {
  /** Every response body received, in order. */
  readonly bodies: string[] = [];

  constructor(readonly baseUrl: string, readonly timeoutMs = 10_000) {}

  /** One request, read whole within the timeout. */
  async get(path: string, options: RequestOptions = {}): Promise<HttpResult> {
    const headers = new Headers(options.headers);
    if (options.auth) headers.set("Authorization", basicAuthorization(options.auth));
    if (options.accept) headers.set("Accept", options.accept);
    const response = await fetch(`${this.baseUrl}${path}`, {
      method: options.method ?? "GET",
      headers,
      signal: AbortSignal.timeout(options.timeoutMs ?? this.timeoutMs),
    });
    const body = await response.text();
    this.bodies.push(body);
    return { status: response.status, headers: response.headers, body };
  }

  /** A JSON response: fails unless the media type is JSON and the body parses. */
  async json<T>(path: string, options: RequestOptions = {}): Promise<HttpResult & { json: T }> {
    const result = await this.get(path, options);
    const type = result.headers.get("content-type") ?? "";
    if (!type.startsWith("application/json")) {
      throw new Error(`GET ${path}: ${result.status} with content-type ${type}, not JSON: ${result.body}`);
    }
    return { ...result, json: JSON.parse(result.body) as T };
  }
}

/** One sample of a Prometheus text exposition. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** A parsed exposition: the samples and the `# TYPE` of each metric family. */
export interface Exposition {
  samples: Sample[];
  types: Map<string, string>;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?[ \t]+(\S+)(?:[ \t]+-?\d+)?$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?\s*/gy;

/**
 * Parses the Prometheus text format (0.0.4). Fails on a line that is neither a comment nor a sample, on
 * bad label syntax, and on a sample of a family without a `# TYPE` line.
 */
export function parsePrometheus(text: string): Exposition {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    if (line.startsWith("#")) {
      const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
      if (type) types.set(type[1], type[2]);
      continue;
    }
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`not a Prometheus sample line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    if (m[2] !== undefined && m[2] !== "") {
      LABEL.lastIndex = 0;
      let consumed = 0;
      for (let l = LABEL.exec(m[2]); l !== null; l = LABEL.exec(m[2])) {
        labels[l[1]] = l[2].replace(/\\(.)/g, (_, c: string) => c === "n" ? "\n" : c);
        consumed = LABEL.lastIndex;
      }
      if (consumed !== m[2].length) throw new Error(`bad labels in Prometheus line: ${JSON.stringify(line)}`);
    }
    const value = Number(m[3] === "+Inf" ? Infinity : m[3] === "-Inf" ? -Infinity : m[3]);
    if (Number.isNaN(value) && m[3] !== "NaN") throw new Error(`bad value in Prometheus line: ${line}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, "");
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`sample without # TYPE: ${line}`);
    samples.push({ name: m[1], labels, value });
  }
  return { samples, types };
}

/** The value of the sample `name` with exactly these labels, or undefined when there is none. */
export function sampleValue(
  exposition: Exposition,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const want = Object.entries(labels);
  const found = exposition.samples.find((s) =>
    s.name === name && Object.keys(s.labels).length === want.length &&
    want.every(([k, v]) => s.labels[k] === v)
  );
  return found?.value;
}

/** How a raw connection ended. */
export interface RawOutcome {
  /** What the server sent before closing (latin1). */
  received: string;
  /** "eof" (orderly close) or "reset". */
  end: "eof" | "reset";
  /** Milliseconds from the write to the close. */
  ms: number;
}

function isReset(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted;
}

/**
 * Connects, writes `bytes`, and reads until the server closes the connection. Fails when it is still
 * open after `timeoutMs`.
 */
export async function sendUntilClosed(
  hostname: string,
  port: number,
  bytes: Uint8Array,
  timeoutMs = 5_000,
): Promise<RawOutcome> {
  const conn = await withDeadline(Deno.connect({ hostname, port }), timeoutMs, `connect ${hostname}:${port}`);
  const t0 = Date.now();
  let received = "";
  const exchange = async (): Promise<"eof" | "reset"> => {
    try {
      let n = 0;
      while (n < bytes.length) n += await conn.write(bytes.subarray(n));
    } catch (error) {
      if (!isReset(error)) throw error;
    }
    const buf = new Uint8Array(16 * 1024);
    for (;;) {
      let n: number | null;
      try {
        n = await conn.read(buf);
      } catch (error) {
        if (isReset(error)) return "reset";
        throw error;
      }
      if (n === null) return "eof";
      received += Array.from(buf.subarray(0, n), (b) => String.fromCharCode(b)).join("");
    }
  };
  try {
    const end = await withDeadline(
      exchange(),
      timeoutMs,
      `the server closing the connection after ${bytes.length} bytes (received so far: ${
        JSON.stringify(received.slice(0, 200))
      })`,
      () => closeQuietly(conn),
    );
    return { received, end, ms: Date.now() - t0 };
  } finally {
    closeQuietly(conn);
  }
}

/**
 * A request that is never finished (slowloris): the request line and some headers, then (when
 * `dribbleMs` is set) one more header byte every `dribbleMs`, never the blank line. {@link closed}
 * resolves when the connection ends, saying who ended it.
 */
export class HalfRequest {
  readonly sentAt: number;
  /** Resolves when the connection ended: by the server (`peer`) or by {@link close}. */
  readonly closed: Promise<{ by: "peer" | "client"; afterMs: number; received: string }>;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closedByClient = false;

  private constructor(readonly conn: Deno.TcpConn, dribbleMs: number | undefined) {
    const sentAt = Date.now();
    this.sentAt = sentAt;
    let received = "";
    this.closed = (async () => {
      const buf = new Uint8Array(4096);
      try {
        for (;;) {
          const n = await conn.read(buf);
          if (n === null) break;
          received += Array.from(buf.subarray(0, n), (b) => String.fromCharCode(b)).join("");
        }
      } catch { /* reset, or closed by us */ }
      clearInterval(this.#timer);
      return {
        by: this.#closedByClient ? "client" as const : "peer" as const,
        afterMs: Date.now() - sentAt,
        received,
      };
    })();
    if (dribbleMs !== undefined) {
      const more = new TextEncoder().encode("X-Slow-Header-Name: never-ending-value");
      let i = 0;
      this.#timer = setInterval(() => {
        conn.write(more.subarray(i % more.length, i % more.length + 1)).catch(() => {});
        i++;
      }, dribbleMs);
    }
  }

  /** Opens the connection and sends the unfinished request (bounded). */
  static async open(hostname: string, port: number, dribbleMs?: number): Promise<HalfRequest> {
    const conn = await withDeadline(Deno.connect({ hostname, port }), 5_000, `connect ${hostname}:${port}`);
    const head = new TextEncoder().encode(
      `GET /health/live HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUser-Agent: half-request\r\n`,
    );
    await withDeadline(conn.write(head), 5_000, "write of a half request");
    return new HalfRequest(conn, dribbleMs);
  }

  /** Closes it from the client side (idempotent). */
  close(): void {
    this.#closedByClient = true;
    clearInterval(this.#timer);
    closeQuietly(this.conn);
  }
}

function closeQuietly(closer: { close(): void }): void {
  try {
    closer.close();
  } catch { /* closed */ }
}
