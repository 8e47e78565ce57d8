/**
 * A tiny, dependency-free Kafka admin client for the test harness: Metadata v4, CreateTopics v4 and
 * DeleteTopics v1 (all non-flexible, supported by Kafka 3.9 and 4.x). One short-lived TCP connection
 * per call, plaintext only, every call bounded by a timeout.
 *
 * Independent of kgate's own codec on purpose: the harness must not depend on the code under test.
 */

export interface MetadataBroker {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface MetadataPartition {
  errorCode: number;
  partition: number;
  leader: number;
  replicas: number[];
  isr: number[];
}

export interface MetadataTopic {
  errorCode: number;
  name: string;
  internal: boolean;
  partitions: MetadataPartition[];
}

export interface Metadata {
  brokers: MetadataBroker[];
  clusterId: string | null;
  controllerId: number;
  topics: MetadataTopic[];
}

class Writer {
  private parts: number[] = [];
  int8(v: number): this {
    this.parts.push(v & 0xff);
    return this;
  }
  int16(v: number): this {
    return this.int8(v >> 8).int8(v);
  }
  int32(v: number): this {
    return this.int8(v >>> 24).int8(v >>> 16).int8(v >>> 8).int8(v);
  }
  string(s: string | null): this {
    if (s === null) return this.int16(-1);
    const b = new TextEncoder().encode(s);
    this.int16(b.length);
    for (const x of b) this.int8(x);
    return this;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

class Reader {
  private off = 0;
  private view: DataView;
  constructor(private buf: Uint8Array) {
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }
  int8(): number {
    return this.view.getInt8(this.off++);
  }
  int16(): number {
    const v = this.view.getInt16(this.off);
    this.off += 2;
    return v;
  }
  int32(): number {
    const v = this.view.getInt32(this.off);
    this.off += 4;
    return v;
  }
  nullableString(): string | null {
    const n = this.int16();
    if (n < 0) return null;
    const s = new TextDecoder().decode(this.buf.subarray(this.off, this.off + n));
    this.off += n;
    return s;
  }
  string(): string {
    return this.nullableString() ?? "";
  }
  array<T>(f: () => T): T[] {
    const n = this.int32();
    const out: T[] = [];
    for (let i = 0; i < n; i++) out.push(f());
    return out;
  }
}

let correlation = 1;

/** Parses "host:port" (the first entry of a comma-separated bootstrap list). */
export function parseHostPort(hostPort: string): { host: string; port: number } {
  const first = hostPort.split(",")[0].trim();
  const i = first.lastIndexOf(":");
  if (i < 0) throw new Error(`expected host:port, got ${hostPort}`);
  return { host: first.slice(0, i).replace(/^\[|\]$/g, ""), port: parseInt(first.slice(i + 1), 10) };
}

async function readExactly(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const r = await conn.read(out.subarray(got));
    if (r === null) throw new Error(`connection closed after ${got} of ${n} bytes`);
    got += r;
  }
  return out;
}

/** Sends one request and returns the response body (after the v0 response header). */
export async function kafkaRequest(
  hostPort: string,
  apiKey: number,
  apiVersion: number,
  body: Uint8Array,
  timeoutMs = 10_000,
): Promise<Uint8Array> {
  const { host, port } = parseHostPort(hostPort);
  const corr = correlation++ & 0x7fffffff;
  const header = new Writer().int16(apiKey).int16(apiVersion).int32(corr).string("kgate-test-harness")
    .bytes();
  const frame = new Uint8Array(4 + header.length + body.length);
  new DataView(frame.buffer).setInt32(0, header.length + body.length);
  frame.set(header, 4);
  frame.set(body, 4 + header.length);

  let conn: Deno.Conn | undefined;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      conn?.close();
    } catch { /* closed */ }
  }, timeoutMs);
  try {
    conn = await Deno.connect({ hostname: host, port });
    if (timedOut) throw new Error("timeout");
    let written = 0;
    while (written < frame.length) written += await conn.write(frame.subarray(written));
    const size = new DataView((await readExactly(conn, 4)).buffer).getInt32(0);
    const resp = await readExactly(conn, size);
    const gotCorr = new DataView(resp.buffer).getInt32(0);
    if (gotCorr !== corr) throw new Error(`correlation id mismatch: ${gotCorr} != ${corr}`);
    return resp.subarray(4);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(
      `Kafka request api=${apiKey} v${apiVersion} to ${host}:${port} failed: ${timedOut ? "timeout" : msg}`,
    );
  } finally {
    clearTimeout(timer);
    if (!timedOut) {
      try {
        conn?.close();
      } catch { /* closed */ }
    }
  }
}

/**
 * Metadata v4 from one broker. `topics` null = all topics. Never auto-creates topics.
 * Note: Kafka lists only live (unfenced) brokers.
 */
export async function fetchMetadata(
  hostPort: string,
  topics: string[] | null = null,
  timeoutMs = 10_000,
): Promise<Metadata> {
  const w = new Writer();
  if (topics === null) w.int32(-1);
  else {
    w.int32(topics.length);
    for (const t of topics) w.string(t);
  }
  w.int8(0); // allow_auto_topic_creation = false
  const r = new Reader(await kafkaRequest(hostPort, 3, 4, w.bytes(), timeoutMs));
  r.int32(); // throttle
  const brokers = r.array(() => ({
    nodeId: r.int32(),
    host: r.string(),
    port: r.int32(),
    rack: r.nullableString(),
  }));
  const clusterId = r.nullableString();
  const controllerId = r.int32();
  const topicsOut = r.array(() => ({
    errorCode: r.int16(),
    name: r.string(),
    internal: r.int8() !== 0,
    partitions: r.array(() => ({
      errorCode: r.int16(),
      partition: r.int32(),
      leader: r.int32(),
      replicas: r.array(() => r.int32()),
      isr: r.array(() => r.int32()),
    })),
  }));
  return { brokers, clusterId, controllerId, topics: topicsOut };
}

export interface TopicResult {
  name: string;
  errorCode: number;
  errorMessage: string | null;
}

/** Kafka error codes the harness cares about. */
export const ErrorCode = {
  NONE: 0,
  UNKNOWN_TOPIC_OR_PARTITION: 3,
  LEADER_NOT_AVAILABLE: 5,
  TOPIC_ALREADY_EXISTS: 36,
} as const;

/** CreateTopics v4 (any broker forwards it to the controller). */
export async function createTopicsRequest(
  hostPort: string,
  topics: { name: string; partitions: number; replicationFactor: number; configs?: Record<string, string> }[],
  timeoutMs = 30_000,
): Promise<TopicResult[]> {
  const w = new Writer().int32(topics.length);
  for (const t of topics) {
    w.string(t.name).int32(t.partitions).int16(t.replicationFactor);
    w.int32(0); // assignments
    const cfg = Object.entries(t.configs ?? {});
    w.int32(cfg.length);
    for (const [k, v] of cfg) w.string(k).string(v);
  }
  w.int32(timeoutMs).int8(0); // timeout_ms, validate_only
  const r = new Reader(await kafkaRequest(hostPort, 19, 4, w.bytes(), timeoutMs + 5_000));
  r.int32(); // throttle
  return r.array(() => ({ name: r.string(), errorCode: r.int16(), errorMessage: r.nullableString() }));
}

/** DeleteTopics v1. */
export async function deleteTopicsRequest(
  hostPort: string,
  names: string[],
  timeoutMs = 30_000,
): Promise<TopicResult[]> {
  const w = new Writer().int32(names.length);
  for (const n of names) w.string(n);
  w.int32(timeoutMs);
  const r = new Reader(await kafkaRequest(hostPort, 20, 1, w.bytes(), timeoutMs + 5_000));
  r.int32(); // throttle
  return r.array(() => ({ name: r.string(), errorCode: r.int16(), errorMessage: null }));
}
