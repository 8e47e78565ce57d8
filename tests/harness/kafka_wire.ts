/**
 * Raw Kafka wire access for the harness and the tests: {@link RawClient}, one plaintext TCP connection
 * whose every wait is bounded (send any bytes, also bad ones, read one response frame, watch the peer
 * close, or send a request encoded with kgate's codec and keep the response bytes), and the harness's
 * small admin calls on the gateway's own upstream client (src/upstream/kafka_client.ts): Metadata v4,
 * CreateTopics v4 and DeleteTopics v1 (all non-flexible, supported by Kafka 3.9 and 4.x), one
 * short-lived connection per call.
 *
 * Requests and responses go through kgate's protocol codec (`src/protocol/`); CreateTopics and DeleteTopics,
 * which the codec does not declare, get their (few) schema fields here.
 *
 * ```ts
 * const client = await RawClient.connect("127.0.0.1", 9092);
 * const { body } = await client.request(MetadataRequest, MetadataResponse, 12, { topics: [] });
 * client.close();
 * ```
 */
import {
  ApiVersionsRequest,
  type ApiVersionsResponseData,
  CreateTopicsRequest,
  CreateTopicsResponse,
  decodeApiVersionsResponse,
  decodeResponseFrame,
  DeleteTopicsRequest,
  DeleteTopicsResponse,
  encodeRequestFrame,
  type MessageSpec,
  MetadataRequest,
  MetadataResponse,
  responseHeaderVersion,
} from "../../src/protocol/mod.ts";
import { DeadlineError, withDeadline as raceDeadline } from "../../src/lib/deadline.ts";
import { UpstreamClient } from "../../src/upstream/kafka_client.ts";

// ------------------------------------------------------------------------------------------------
// Bounded waits and the raw client
// ------------------------------------------------------------------------------------------------

/**
 * Races `promise` against a timer of `ms` (src/lib's `withDeadline`); on expiry calls `onTimeout` and
 * rejects with `<what>: no outcome within <ms> ms`. The timer is cleared as soon as `promise` settles.
 */
export async function withDeadline<T>(
  promise: Promise<T>,
  ms: number,
  what: string,
  onTimeout: () => void = () => {},
): Promise<T> {
  const timer = new AbortController();
  const id = setTimeout(() => timer.abort(), ms);
  try {
    return await raceDeadline(promise, timer.signal, `${what}: no outcome within ${ms} ms`);
  } catch (error) {
    if (error instanceof DeadlineError) onTimeout();
    throw error;
  } finally {
    clearTimeout(id);
  }
}

function isResetError(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe ||
    error instanceof Deno.errors.ConnectionAborted;
}

/** A response: the frame body as received (no size prefix) and its decoded message. */
export interface RawResponse<T> {
  bytes: Uint8Array;
  body: T;
}

/** One plaintext TCP connection to a Kafka broker or a gateway port; every wait is bounded. */
export class RawClient {
  #buf: Uint8Array = new Uint8Array(0);
  #closed = false;
  #correlationId = 1;

  private constructor(
    readonly conn: Deno.TcpConn,
    /** The peer, `host:port`, for error messages. */
    readonly peer: string,
    /** Default bound of every send and response. */
    readonly timeoutMs: number,
    /** Client id of the requests {@link request} and {@link apiVersions} encode. */
    readonly clientId: string,
  ) {}

  /** Connects within `timeoutMs` (also the default bound of every later send and response). */
  static async connect(
    hostname: string,
    port: number,
    timeoutMs = 10_000,
    clientId = "kgate-wire-test",
  ): Promise<RawClient> {
    const attempt = Deno.connect({ hostname, port, transport: "tcp" });
    const conn = await withDeadline(attempt, timeoutMs, `connect to ${hostname}:${port}`, () => {
      attempt.then((c) => c.close(), () => {});
    });
    return new RawClient(conn, `${hostname}:${port}`, timeoutMs, clientId);
  }

  /** The client's address as the gateway sees and logs it (`host:port`). */
  get address(): string {
    const a = this.conn.localAddr as Deno.NetAddr;
    return `${a.hostname}:${a.port}`;
  }

  /** Writes all of `bytes` (bounded). */
  async send(bytes: Uint8Array, timeoutMs = this.timeoutMs): Promise<void> {
    await withDeadline(this.#write(bytes), timeoutMs, `write of ${bytes.length} bytes`, () => this.close());
  }

  /** Like {@link send}, but a connection the peer already reset is fine (it may close first). */
  async sendTolerant(bytes: Uint8Array, timeoutMs = this.timeoutMs): Promise<void> {
    try {
      await this.send(bytes, timeoutMs);
    } catch (error) {
      if (!isResetError(error)) throw error;
    }
  }

  /** Reads one response frame; returns its body (correlation id first). */
  async readFrame(timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    return await withDeadline(this.#read(), timeoutMs, `${this.peer}: response`, () => this.close());
  }

  /** Sends `frame` and reads its response (both within `timeoutMs`), checking the correlation id. */
  async roundTrip(frame: Uint8Array, correlationId: number, timeoutMs = this.timeoutMs): Promise<Uint8Array> {
    const exchange = async () => {
      await this.#write(frame);
      return await this.#read();
    };
    const body = await withDeadline(exchange(), timeoutMs, `${this.peer}: response`, () => this.close());
    const got = new DataView(body.buffer, body.byteOffset, 4).getInt32(0);
    if (got !== correlationId) {
      throw new Error(`${this.peer}: response correlation id ${got}, expected ${correlationId}`);
    }
    return body;
  }

  /**
   * Sends one request encoded with kgate's codec and returns its response, decoded with `responseSchema`
   * at the same version.
   */
  async request<Req, Res>(
    requestSchema: MessageSpec<Req>,
    responseSchema: MessageSpec<Res>,
    version: number,
    body: Req,
    timeoutMs = this.timeoutMs,
  ): Promise<RawResponse<Res>> {
    const correlationId = this.#correlationId++;
    const frame = encodeRequestFrame(
      { correlationId, clientId: this.clientId },
      requestSchema,
      version,
      body,
    );
    const bytes = await this.roundTrip(frame, correlationId, timeoutMs);
    const headerVersion = responseHeaderVersion(requestSchema.apiKey!, version);
    return { bytes, body: decodeResponseFrame(bytes, headerVersion, responseSchema, version).body };
  }

  /** ApiVersions v3: the supported version range of every API key. */
  async apiVersions(): Promise<Map<number, { min: number; max: number }>> {
    const correlationId = this.#correlationId++;
    const frame = encodeRequestFrame({ correlationId, clientId: this.clientId }, ApiVersionsRequest, 3, {
      clientSoftwareName: this.clientId,
      clientSoftwareVersion: "1.0",
    });
    const bytes = await this.roundTrip(frame, correlationId);
    const { value } = decodeApiVersionsResponse(3, bytes.subarray(4)) as { value: ApiVersionsResponseData };
    if (value.errorCode !== 0) throw new Error(`${this.peer}: ApiVersions error ${value.errorCode}`);
    return new Map(value.apiKeys.map((k) => [k.apiKey, { min: k.minVersion, max: k.maxVersion }]));
  }

  /** Half-closes: the peer reads end of stream, the client can still read. */
  async closeWrite(): Promise<void> {
    try {
      await this.conn.closeWrite();
    } catch (error) {
      if (!isResetError(error) && !(error instanceof Deno.errors.NotConnected)) throw error;
    }
  }

  /**
   * Waits until the peer closes the connection: "eof" (orderly close) or "reset". Fails when data
   * arrives instead, or when the connection is still open after `timeoutMs`.
   */
  async closedByPeer(timeoutMs = 5_000): Promise<"eof" | "reset"> {
    if (this.#buf.length > 0) throw new Error(`${this.#buf.length} unread byte(s) from the gateway`);
    const wait = async (): Promise<"eof" | "reset"> => {
      const chunk = new Uint8Array(4096);
      try {
        const n = await this.conn.read(chunk);
        if (n === null) return "eof";
        throw new Error(`expected the gateway to close the connection, got ${n} byte(s) of data`);
      } catch (error) {
        if (isResetError(error)) return "reset";
        throw error;
      }
    };
    try {
      return await withDeadline(
        wait(),
        timeoutMs,
        "close of the connection by the gateway",
        () => this.close(),
      );
    } finally {
      this.close();
    }
  }

  /** Closes the socket (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.conn.close();
    } catch { /* closed */ }
  }

  async #write(bytes: Uint8Array): Promise<void> {
    let n = 0;
    while (n < bytes.length) n += await this.conn.write(bytes.subarray(n));
  }

  async #read(): Promise<Uint8Array> {
    for (;;) {
      if (this.#buf.length >= 4) {
        const size = new DataView(this.#buf.buffer, this.#buf.byteOffset, 4).getInt32(0);
        if (this.#buf.length >= 4 + size) {
          const body = this.#buf.slice(4, 4 + size);
          this.#buf = this.#buf.slice(4 + size);
          return body;
        }
      }
      const chunk = new Uint8Array(64 * 1024);
      const n = await this.conn.read(chunk);
      if (n === null) throw new Error(`${this.peer}: connection closed before a whole response arrived`);
      const next = new Uint8Array(this.#buf.length + n);
      next.set(this.#buf);
      next.set(chunk.subarray(0, n), this.#buf.length);
      this.#buf = next;
    }
  }
}

// ------------------------------------------------------------------------------------------------
// The harness's admin calls
// ------------------------------------------------------------------------------------------------

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

/** Parses "host:port" (the first entry of a comma-separated bootstrap list). */
export function parseHostPort(hostPort: string): { host: string; port: number } {
  const first = hostPort.split(",")[0].trim();
  const i = first.lastIndexOf(":");
  if (i < 0) throw new Error(`expected host:port, got ${hostPort}`);
  return { host: first.slice(0, i).replace(/^\[|\]$/g, ""), port: parseInt(first.slice(i + 1), 10) };
}

/**
 * Sends one request on a connection of its own (src/upstream's client: ApiVersions first, then the
 * request, each bounded by `timeoutMs`) and returns the decoded response body.
 */
async function kafkaRequest<Req, Res>(
  hostPort: string,
  requestSchema: MessageSpec<Req>,
  responseSchema: MessageSpec<Res>,
  version: number,
  body: Req,
  timeoutMs: number,
  clientId = "kgate-test-harness",
): Promise<Res> {
  const { host, port } = parseHostPort(hostPort);
  let client: UpstreamClient | undefined;
  try {
    client = await UpstreamClient.connect(host, port, { clientId, timeoutMs });
    return await client.call(requestSchema, responseSchema, version, body);
  } catch (e) {
    const msg = e instanceof Error ? e.message : String(e);
    throw new Error(`Kafka request ${requestSchema.name} v${version} to ${host}:${port} failed: ${msg}`);
  } finally {
    client?.close();
  }
}

/**
 * Metadata v4 from one broker (or gateway), one request on a connection of its own. `topics` null = all
 * topics, [] = brokers only. Never auto-creates topics. Note: Kafka lists only live (unfenced) brokers.
 */
export async function fetchMetadata(
  hostPort: string,
  topics: string[] | null = null,
  timeoutMs = 10_000,
  clientId?: string,
): Promise<Metadata> {
  const md = await kafkaRequest(
    hostPort,
    MetadataRequest,
    MetadataResponse,
    4,
    {
      topics: topics === null ? null : topics.map((name) => ({ name })),
      allowAutoTopicCreation: false,
    },
    timeoutMs,
    clientId,
  );
  return {
    brokers: md.brokers.map(({ nodeId, host, port, rack }) => ({ nodeId, host, port, rack })),
    clusterId: md.clusterId,
    controllerId: md.controllerId,
    topics: md.topics.map((t) => ({
      errorCode: t.errorCode,
      name: t.name ?? "",
      internal: t.isInternal,
      partitions: t.partitions.map((p) => ({
        errorCode: p.errorCode,
        partition: p.partitionIndex,
        leader: p.leaderId,
        replicas: p.replicaNodes,
        isr: p.isrNodes,
      })),
    })),
  };
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
  const res = await kafkaRequest(hostPort, CreateTopicsRequest, CreateTopicsResponse, 4, {
    topics: topics.map((t) => ({
      name: t.name,
      numPartitions: t.partitions,
      replicationFactor: t.replicationFactor,
      assignments: [],
      configs: Object.entries(t.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs,
    validateOnly: false,
  }, timeoutMs + 5_000);
  return res.topics.map(({ name, errorCode, errorMessage }) => ({ name, errorCode, errorMessage }));
}

/** DeleteTopics v1. */
export async function deleteTopicsRequest(
  hostPort: string,
  names: string[],
  timeoutMs = 30_000,
): Promise<TopicResult[]> {
  const res = await kafkaRequest(hostPort, DeleteTopicsRequest, DeleteTopicsResponse, 1, {
    topicNames: names,
    timeoutMs,
  }, timeoutMs + 5_000);
  // v1 always names the topic (the name is nullable only from v6, with topic ids).
  return res.responses.map(({ name, errorCode }) => ({ name: name ?? "", errorCode, errorMessage: null }));
}
