/**
 * Property test of the data path against hostile bytes: 1,000,000 frames, valid ones from the generated
 * codec and mutated ones (sizes, API keys and versions, header bytes, header tagged fields, bodies,
 * truncation, garbage), pushed through the frame readers (`readFirstFrame` for the first request, as
 * the node reads it before connecting upstream, then `pumpFrames` inside the session) and the gateway's
 * standard filters (`gatewayFilters`), in both directions, over in-memory streams.
 *
 * Each fast-check case is one connection: a client writes a few hundred request frames (in chunks of a
 * random size), a fake broker answers every request it receives with a response of the same API and
 * version (valid or mutated). Checked per case:
 * - the session ends, within a deadline (no hang), once the client closes;
 * - it ends only the documented ways: the client or broker closing, or a `FrameError` (a documented
 *   message; kind `frame-size` or `protocol` for the client's side); no filter throws anything else;
 * - the client receives whole frames only, answering its requests in order (a prefix of what the broker
 *   answered);
 * and over the whole run: the JavaScript heap (after a full GC) grows by less than a bound.
 */
import assert from "node:assert/strict";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import fc from "fast-check";
import { singleHostMapping } from "../../src/cluster/mapping.ts";
import { withDeadline } from "../../src/lib/deadline.ts";
import { GatewayMetrics } from "../../src/metrics.ts";
import {
  ApiKey,
  encodeMessage,
  encodeRequestFrame,
  GENERATED_MESSAGES,
  type MessageSpec,
  produceRequestAcks,
  readRequestHeader,
  requestHeaderVersion,
  responseHeaderVersion,
  specVersions,
} from "../../src/protocol/mod.ts";
import type { Filter } from "../../src/proxy/filter.ts";
import { gatewayFilters, supportedVersionRange } from "../../src/proxy/filters/mod.ts";
import { FrameError } from "../../src/proxy/pump.ts";
import { firstRequestCheck, runSession, type SessionEnd } from "../../src/proxy/session.ts";
import { readFirstFrame } from "../../src/proxy/first_frame.ts";
import { type ByteStream, prefixedStream } from "../../src/proxy/transport/stream.ts";
import { messageArbitrary } from "../protocol/arbitrary.ts";
import { Channel, concat } from "./fake_streams.ts";

/** Frames pushed through the reader and the filters, in both directions, over the whole run. */
const TARGET_FRAMES = 1_000_000;
/** Largest request frame the session accepts (small, so that oversized sizes are cheap to hit). */
const MAX_FRAME_BYTES = 64 * 1024;
/** A case (one connection) that has not ended this long after its client closed has hung. */
const CASE_DEADLINE_MS = 10_000;
/** Growth of the heap (used + external, after a full GC) allowed over the whole run. */
const HEAP_GROWTH_BOUND = 24 * 1024 * 1024;

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

// ---- the corpus: valid frames from the generated codec ----

interface RequestSample {
  apiKey: number;
  apiVersion: number;
  /** The whole frame, size prefix included (correlation id patched per use). */
  frame: Uint8Array;
  /** Offset of the byte after the client id (start of a v2 header's tagged section, or of the body). */
  afterClientId: number;
}

const requestSpecs = GENERATED_MESSAGES.filter((s) => s.type === "request" && s.apiKey !== undefined);
const responseSpecByKey = new Map<number, MessageSpec<unknown>>(
  GENERATED_MESSAGES.filter((s) => s.type === "response" && s.apiKey !== undefined).map((
    s,
  ) => [s.apiKey!, s]),
);

/** What the fake broker supports: every version of every API in the generated specs. */
function upstreamVersions(apiKey: number) {
  const spec = requestSpecs.find((s) => s.apiKey === apiKey);
  return spec === undefined ? undefined : specVersions(spec);
}

/** The versions clients may use through the standard chain, as a node over that broker computes them. */
function supported(apiKey: number) {
  return supportedVersionRange(apiKey, upstreamVersions(apiKey));
}

function admitted(apiKey: number, apiVersion: number): boolean {
  if (apiKey === ApiKey.SaslHandshake && apiVersion === 0) return false;
  const range = supported(apiKey);
  return range !== undefined && (apiKey === ApiKey.ApiVersions ||
    (apiVersion >= range.min && apiVersion <= range.max));
}

const SAMPLES_PER_VERSION = 2;
const arbitraryOptions = { maxArray: 2, maxString: 6, maxBytes: 32 };

/** Valid requests the guard admits (the stream's ordinary frames), and ones it refuses. */
const validRequests: RequestSample[] = [];
const refusedRequests: RequestSample[] = [];
/** Valid response bodies (no header), by `apiKey * 100_000 + apiVersion`. */
const responseBodies = new Map<number, Uint8Array[]>();

for (const spec of requestSpecs) {
  const apiKey = spec.apiKey!;
  const responseSpec = responseSpecByKey.get(apiKey)!;
  const { min, max } = specVersions(spec);
  for (let version = min; version <= max; version++) {
    const values = fc.sample(messageArbitrary(spec, version, arbitraryOptions), SAMPLES_PER_VERSION);
    values.forEach((value, i) => {
      const headerTags = requestHeaderVersion(apiKey, version) === 2 && i === 1
        ? [{ tag: 5, data: new Uint8Array([1, 2, 3]) }]
        : undefined;
      const clientId = i === 0 ? "c" : "client-with-a-longer-id";
      const frame = encodeRequestFrame(
        { correlationId: 0, clientId, _unknownTaggedFields: headerTags },
        spec,
        version,
        value as never,
      );
      const sample = { apiKey, apiVersion: version, frame, afterClientId: 4 + 10 + clientId.length };
      (admitted(apiKey, version) ? validRequests : refusedRequests).push(sample);
    });
    const bodies = fc.sample(messageArbitrary(responseSpec, version, arbitraryOptions), SAMPLES_PER_VERSION)
      .map((value) => encodeMessage(responseSpec, version, value as never));
    responseBodies.set(apiKey * 100_000 + version, bodies);
  }
}

// ---- mutations ----

/** What is done to one frame before it is written (requests) or answered (responses). */
type Mutation =
  | { kind: "none" }
  | { kind: "size"; size: number }
  | { kind: "size-delta"; delta: number }
  | { kind: "api-key"; value: number }
  | { kind: "api-version"; value: number }
  | { kind: "header-byte"; offset: number; value: number }
  | { kind: "client-id-length"; value: number }
  | { kind: "header-tags"; bytes: Uint8Array }
  | { kind: "body-byte"; offset: number; value: number }
  | { kind: "tail-bytes"; bytes: Uint8Array }
  | { kind: "cut-body"; keep: number }
  | { kind: "append"; bytes: Uint8Array }
  | { kind: "garbage"; bytes: Uint8Array }
  | { kind: "refused" }
  | { kind: "truncate-stream"; keep: number };

const int32 = fc.integer({ min: -2147483648, max: 2147483647 });
const int16 = fc.integer({ min: -32768, max: 32767 });
const someBytes = fc.uint8Array({ minLength: 1, maxLength: 12 });

const NONE: Mutation = { kind: "none" };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    arbitrary: fc.oneof(
      int32,
      fc.constantFrom(-1, -2147483648, 0, 1, 3, MAX_FRAME_BYTES + 1, 2147483647),
    ).map((size) => ({ kind: "size" as const, size })),
    weight: 1,
  },
  {
    arbitrary: fc.integer({ min: -8, max: 8 }).map((delta) => ({ kind: "size-delta" as const, delta })),
    weight: 1,
  },
  { arbitrary: int16.map((value) => ({ kind: "api-key" as const, value })), weight: 1 },
  { arbitrary: int16.map((value) => ({ kind: "api-version" as const, value })), weight: 1 },
  {
    arbitrary: fc.record({ offset: fc.nat({ max: 24 }), value: fc.nat({ max: 255 }) })
      .map((m) => ({ kind: "header-byte" as const, ...m })),
    weight: 2,
  },
  {
    arbitrary: fc.oneof(int16, fc.constantFrom(-1, -2, 0, 0x7fff))
      .map((value) => ({ kind: "client-id-length" as const, value })),
    weight: 1,
  },
  { arbitrary: someBytes.map((bytes) => ({ kind: "header-tags" as const, bytes })), weight: 2 },
  {
    arbitrary: fc.record({ offset: fc.nat(), value: fc.nat({ max: 255 }) })
      .map((m) => ({ kind: "body-byte" as const, ...m })),
    weight: 3,
  },
  { arbitrary: someBytes.map((bytes) => ({ kind: "tail-bytes" as const, bytes })), weight: 2 },
  { arbitrary: fc.nat().map((keep) => ({ kind: "cut-body" as const, keep })), weight: 1 },
  { arbitrary: someBytes.map((bytes) => ({ kind: "append" as const, bytes })), weight: 1 },
  {
    arbitrary: fc.uint8Array({ minLength: 0, maxLength: 40 }).map((bytes) => ({
      kind: "garbage" as const,
      bytes,
    })),
    weight: 1,
  },
  { arbitrary: fc.constant({ kind: "refused" as const }), weight: 1 },
  { arbitrary: fc.nat().map((keep) => ({ kind: "truncate-stream" as const, keep })), weight: 1 },
);

function setSize(frame: Uint8Array): Uint8Array {
  new DataView(frame.buffer, frame.byteOffset).setInt32(0, frame.length - 4);
  return frame;
}

/**
 * Applies `m` to a copy of `frame` (size prefix included). `headerEnd`: where a header's tagged section
 * or the body starts. Returns the bytes to write and whether the stream must end right after them.
 */
function mutate(frame: Uint8Array, headerEnd: number, m: Mutation): { bytes: Uint8Array; last: boolean } {
  const f = frame.slice();
  const view = new DataView(f.buffer);
  const body = f.length - 4;
  switch (m.kind) {
    case "none":
    case "refused":
      return { bytes: f, last: false };
    case "size":
      view.setInt32(0, m.size);
      return { bytes: f, last: false };
    case "size-delta":
      view.setInt32(0, body + m.delta);
      return { bytes: f, last: false };
    case "api-key":
      if (body >= 2) view.setInt16(4, m.value);
      return { bytes: f, last: false };
    case "api-version":
      if (body >= 4) view.setInt16(6, m.value);
      return { bytes: f, last: false };
    case "header-byte":
      if (4 + m.offset < f.length) f[4 + m.offset] = m.value;
      return { bytes: f, last: false };
    case "client-id-length":
      if (body >= 10) view.setInt16(12, m.value);
      return { bytes: f, last: false };
    case "header-tags": {
      const at = Math.min(headerEnd, f.length);
      const n = Math.min(m.bytes.length, f.length - at);
      f.set(m.bytes.subarray(0, n), at);
      return { bytes: f, last: false };
    }
    case "body-byte":
      if (body > 0) f[4 + (m.offset % body)] = m.value;
      return { bytes: f, last: false };
    case "tail-bytes": {
      const n = Math.min(m.bytes.length, body);
      f.set(m.bytes.subarray(0, n), f.length - n);
      return { bytes: f, last: false };
    }
    case "cut-body":
      return { bytes: setSize(f.slice(0, 4 + (body === 0 ? 0 : m.keep % body))), last: false };
    case "append":
      return { bytes: setSize(concat([f, m.bytes])), last: false };
    case "garbage":
      return {
        bytes: m.bytes.length % 2 === 0 ? m.bytes.slice() : setSize(concat([new Uint8Array(4), m.bytes])),
        last: false,
      };
    case "truncate-stream":
      return { bytes: f.slice(0, m.keep % f.length), last: true };
  }
}

// ---- in-memory streams with half-close ----

/** A connection: `a` writes what `b` reads and back; each end may end its own writing. */
function connection(): [ByteStream & { endWriting(): void }, ByteStream & { endWriting(): void }] {
  const ab = new Channel();
  const ba = new Channel();
  const end = (incoming: Channel, outgoing: Channel, port: number) => ({
    remote: { hostname: "127.0.0.1", port: 3 - port },
    local: { hostname: "127.0.0.1", port },
    read: (p: Uint8Array) => incoming.read(p),
    write: (p: Uint8Array) => outgoing.write(p),
    endWriting: () => outgoing.close(),
    close() {
      ab.close();
      ba.close();
    },
  });
  return [end(ba, ab, 1), end(ab, ba, 2)];
}

/** Reads frames until the stream ends: the bodies, and how many bytes were left over (a partial frame). */
async function readAllFrames(stream: ByteStream): Promise<{ bodies: Uint8Array[]; leftover: number }> {
  let buf: Uint8Array = new Uint8Array(0);
  const bodies: Uint8Array[] = [];
  const chunk = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await stream.read(chunk);
    if (n === null) return { bodies, leftover: buf.length };
    buf = concat([buf, chunk.subarray(0, n)]);
    for (;;) {
      if (buf.length < 4) break;
      const size = new DataView(buf.buffer, buf.byteOffset).getInt32(0);
      assert.ok(size >= 0, `the gateway wrote a frame of size ${size} to the client`);
      if (buf.length < 4 + size) break;
      bodies.push(buf.slice(4, 4 + size));
      buf = buf.subarray(4 + size);
    }
  }
}

// ---- one case: one connection ----

interface CasePlan {
  /** Picks the valid frames (a seed: the frames need no shrinking, the mutations do). */
  seed: number;
  /** Requests written. */
  count: number;
  /** Mutated requests, by index. */
  requests: { at: number; mutation: Mutation }[];
  /** Mutated responses, by the index of the response. */
  responses: { at: number; mutation: Mutation }[];
  /** Bytes per client write. */
  chunk: number;
}

interface CaseResult {
  /** Frames that went through the reader and the filters: requests to the broker, responses to the client. */
  frames: number;
  end: SessionEnd;
}

/** Messages of every `FrameError` the pump, the session and the filters throw. */
const DOCUMENTED_FRAME_ERRORS = [
  /^negative frame size -\d+$/,
  /^frame size \d+ exceeds the maximum of \d+ bytes$/,
  /^connection ended inside a frame \(\d+ bytes short or partial\)$/,
  /^connection ended inside a frame \(\d+ bytes short, the first frame\)$/,
  /^malformed request header(: a frame of \d+ bytes cannot hold one| \(.+ v-?\d+\): .+)$/,
  /^unknown API key -?\d+$/,
  /^unsupported .+ version -?\d+ \(supported \d+-\d+\)$/,
  /^SaslHandshake v0 \(unframed SASL tokens\) is not supported: use SaslHandshake v1$/,
  /^response frame of \d+ bytes has no correlation id$/,
  /^response with correlation id -?\d+ but no request pending$/,
  /^response correlation id -?\d+, expected -?\d+$/,
  /^cannot decode .+ v\d+ response: .+$/,
];

/** Wraps every hook of a filter to record what it throws that is not a `FrameError`. */
function watched(filter: Filter, untyped: Error[]): Filter {
  const wrapped: Record<string, unknown> = { ...filter };
  for (const [name, value] of Object.entries(filter)) {
    if (typeof value !== "function") continue;
    wrapped[name] = (...args: unknown[]) => {
      const note = (error: unknown) => {
        if (!(error instanceof FrameError)) untyped.push(error as Error);
        throw error;
      };
      try {
        const result = value.apply(filter, args);
        return result instanceof Promise ? result.catch(note) : result;
      } catch (error) {
        note(error);
      }
    };
  }
  return wrapped as unknown as Filter;
}

const metrics = new GatewayMetrics();
const mapper = singleHostMapping({ host: "gw.test", portStart: 6969, minBrokerId: 0 });

async function runCase(plan: CasePlan, untyped: Error[]): Promise<CaseResult> {
  const [client, gatewayClientSide] = connection();
  const [gatewayUpstreamSide, broker] = connection();
  const filters = gatewayFilters({
    supportedVersions: supported,
    metrics,
    rewrite: {
      clientAddress: "10.1.2.3:40000",
      mapper,
      knownBrokers: () => [{ nodeId: 1, rack: null }, { nodeId: 2, rack: "r" }],
      onUnknownBroker: () => {},
    },
  }).map((f) => watched(f, untyped));
  // As the node serves a connection: the first frame read whole and checked, then the session.
  const ended = (async (): Promise<SessionEnd> => {
    let first: Uint8Array | null;
    try {
      first = await readFirstFrame(gatewayClientSide, {
        maxFrameBytes: MAX_FRAME_BYTES,
        check: firstRequestCheck(() => filters),
      });
    } catch (error) {
      gatewayClientSide.close();
      gatewayUpstreamSide.close();
      if (!(error instanceof FrameError)) throw error;
      return { by: "error", reason: `client: ${error.message}`, kind: error.kind };
    }
    if (first === null) {
      gatewayClientSide.close();
      gatewayUpstreamSide.close();
      return { by: "client" };
    }
    return await runSession({
      client: prefixedStream(first, gatewayClientSide),
      upstream: gatewayUpstreamSide,
      filters,
      maxFrameBytes: MAX_FRAME_BYTES,
    });
  })();

  const requestMutations = new Map(plan.requests.map(({ at, mutation }) => [at, mutation]));
  const responseMutations = new Map(plan.responses.map(({ at, mutation }) => [at, mutation]));
  let random = plan.seed | 1;
  const nextRandom = () => {
    // xorshift32: the frames picked follow from the seed.
    random ^= random << 13;
    random ^= random >>> 17;
    random ^= random << 5;
    return random >>> 0;
  };

  // The broker answers each request it receives, in order (none for Produce with acks=0).
  const answered: number[] = [];
  const brokerDone = (async () => {
    const { bodies } = await readAllFramesLive(broker, async (body) => {
      const header = readRequestHeader(body);
      if (header.apiKey === ApiKey.Produce && produceRequestAcks(body, header) === 0) return;
      const m = responseMutations.get(answered.length) ?? NONE;
      answered.push(header.correlationId);
      // A version the broker lacks (ApiVersions is admitted at any version) gets its oldest body.
      const samples = responseBodies.get(header.apiKey * 100_000 + header.apiVersion) ??
        responseBodies.get(
          header.apiKey * 100_000 + specVersions(responseSpecByKey.get(header.apiKey)!).min,
        )!;
      const responseBody = samples[header.correlationId & 1];
      const headerBytes = responseHeaderVersion(header.apiKey, header.apiVersion) === 1 ? 5 : 4;
      const frame = new Uint8Array(4 + headerBytes + responseBody.length);
      const view = new DataView(frame.buffer);
      view.setInt32(0, frame.length - 4);
      view.setInt32(4, header.correlationId);
      frame.set(responseBody, 4 + headerBytes);
      const { bytes, last } = mutate(frame, 4 + headerBytes, m.kind === "refused" ? { kind: "none" } : m);
      try {
        await broker.write(bytes);
        if (last) broker.endWriting();
      } catch {
        // the session ended
      }
    });
    return bodies.length;
  })();
  const received = readAllFrames(client);

  // The client writes its requests in chunks, then waits until everything in flight has been handled
  // (the pipes are in memory: one macrotask turn drains every promise chain), then ends its writing.
  let bytes: Uint8Array = new Uint8Array(0);
  const sent: number[] = [];
  for (let i = 0; i < plan.count; i++) {
    const pick = nextRandom();
    const m = requestMutations.get(i) ?? NONE;
    const pool = m.kind === "refused" ? refusedRequests : validRequests;
    const sample = pool[pick % pool.length];
    const frame = sample.frame.slice();
    new DataView(frame.buffer).setInt32(8, i);
    sent.push(i);
    const { bytes: out, last } = mutate(frame, sample.afterClientId, m);
    bytes = concat([bytes, out]);
    if (last) break;
  }
  for (let at = 0; at < bytes.length; at += plan.chunk) {
    try {
      await client.write(bytes.subarray(at, at + plan.chunk));
    } catch {
      break; // the session ended
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 0));
  client.endWriting();

  const end = await withDeadline(ended, AbortSignal.timeout(CASE_DEADLINE_MS), "the session hung");
  const [brokerFrames, { bodies: responses, leftover }] = await Promise.all([brokerDone, received]);

  // Responses reach the client whole and in the order of the requests answered.
  // (A response the broker itself cut short is streamed through as it came: only whole ones otherwise.)
  if (end.by === "client" && plan.responses.length === 0) {
    assert.equal(leftover, 0, "the client got a partial frame");
  }
  const delivered = responses.map((r) => new DataView(r.buffer).getInt32(0));
  assert.deepEqual(delivered, answered.slice(0, delivered.length), "responses out of order");
  return { frames: brokerFrames + responses.length, end };
}

/** Like {@link readAllFrames}, handing each frame to `onFrame` as it arrives. */
async function readAllFramesLive(
  stream: ByteStream,
  onFrame: (body: Uint8Array) => Promise<void>,
): Promise<{ bodies: Uint8Array[] }> {
  let buf: Uint8Array = new Uint8Array(0);
  const bodies: Uint8Array[] = [];
  const chunk = new Uint8Array(64 * 1024);
  for (;;) {
    const n = await stream.read(chunk);
    if (n === null) return { bodies };
    buf = concat([buf, chunk.subarray(0, n)]);
    for (;;) {
      if (buf.length < 4) break;
      const size = new DataView(buf.buffer, buf.byteOffset).getInt32(0);
      if (buf.length < 4 + size) break;
      const body = buf.slice(4, 4 + size);
      bodies.push(body);
      buf = buf.subarray(4 + size);
      await onFrame(body);
    }
  }
}

function checkEnd(end: SessionEnd): void {
  if (end.by !== "error") return;
  const reason = end.reason ?? "";
  const side = reason.startsWith("client: ") ? "client" : reason.startsWith("upstream: ") ? "upstream" : "";
  assert.ok(side !== "", `an error end names its side: ${reason}`);
  const message = reason.slice(side.length + 2);
  assert.ok(
    DOCUMENTED_FRAME_ERRORS.some((pattern) => pattern.test(message)),
    `undocumented error: ${reason}`,
  );
  if (side === "client") assert.ok(end.kind === "frame-size" || end.kind === "protocol", `kind ${end.kind}`);
}

const FRAMES_PER_CASE = 500;
const mutated = fc.record({ at: fc.nat({ max: FRAMES_PER_CASE - 1 }), mutation }, { noNullPrototype: true });
const casePlan: fc.Arbitrary<CasePlan> = fc.record({
  seed: fc.integer(),
  count: fc.integer({ min: 1, max: FRAMES_PER_CASE }),
  requests: fc.array(mutated, { maxLength: 3 }),
  responses: fc.array(mutated, { maxLength: 2 }),
  chunk: fc.oneof(
    { arbitrary: fc.constantFrom(5, 64, 1000), weight: 1 },
    { arbitrary: fc.constantFrom(16 * 1024, 1 << 30), weight: 4 },
  ),
}, { noNullPrototype: true });

Deno.test("1,000,000 random and mutated frames through the frame reader and the filters: typed errors only, no hang, bounded memory", async () => {
  const untyped: Error[] = [];
  const ends = new Map<string, number>();
  let frames = 0;
  let cases = 0;

  // Warm up (compiled code, metric children), then take the baseline.
  await runCase(fc.sample(casePlan, 1)[0], untyped);
  gc();
  const before = Deno.memoryUsage();

  const started = performance.now();
  while (frames < TARGET_FRAMES) {
    await fc.assert(
      fc.asyncProperty(casePlan, async (plan) => {
        const { frames: n, end } = await runCase(plan, untyped);
        checkEnd(end);
        assert.deepEqual(
          untyped.map((e) => `${e.name}: ${e.message}`),
          [],
          "a filter threw an untyped error",
        );
        frames += n;
        cases++;
        const key = end.by === "error" ? `${end.reason!.split(":")[0]} error` : `closed by ${end.by}`;
        ends.set(key, (ends.get(key) ?? 0) + 1);
      }),
      { numRuns: 200 },
    );
  }
  const seconds = (performance.now() - started) / 1000;

  gc();
  const after = Deno.memoryUsage();
  const growth = after.heapUsed + after.external - before.heapUsed - before.external;
  console.log(
    `${frames} frames in ${cases} connections, ${seconds.toFixed(1)} s; ends: ${
      JSON.stringify(Object.fromEntries(ends))
    }; heap+external growth ${(growth / 1024 / 1024).toFixed(1)} MiB`,
  );
  assert.ok(frames >= TARGET_FRAMES);
  // Every way to end happened: the property test reached the error paths as well as the clean ones.
  assert.ok((ends.get("client error") ?? 0) > 0 && (ends.get("upstream error") ?? 0) > 0);
  assert.ok((ends.get("closed by client") ?? 0) > 0);
  assert.ok(growth < HEAP_GROWTH_BOUND, `heap grew by ${growth} bytes`);
});
