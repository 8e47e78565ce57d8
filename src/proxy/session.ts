/**
 * One client connection: its two frame pumps, the filter chain, and the bookkeeping that matches
 * responses to requests.
 *
 * Requests are answered in order on a Kafka connection, so matching is positional (with a
 * correlation id check). Besides the client's requests the broker may be sent the gateway's own
 * (a filter's {@link FilterContext.sendRequest}): their responses are matched the same way and never
 * reach the client. A request a filter answers itself takes its place in the client's order: its
 * answer is written after the responses to the requests before it, and before those after it.
 *
 * @module
 */
import { writeAll } from "../lib/bytes_io.ts";
import { closeQuietly } from "../lib/close.ts";
import {
  ApiKey,
  apiName,
  int16At,
  int32At,
  produceRequestAcks,
  ProtocolError,
  readRequestHeader,
  type RequestHeaderInfo,
} from "../protocol/mod.ts";
import {
  DispatchTable,
  type Filter,
  type FilterContext,
  type OwnRequest,
  type RequestAction,
  type ResponseAction,
} from "./filter.ts";
import {
  type DeferredOutput,
  type FrameDecision,
  FrameError,
  type FrameOutput,
  type FramePolicy,
  FramePump,
  type PumpEndListener,
} from "./pump.ts";
import { frameBody, type ReplacementFrame } from "./frame_pieces.ts";
import type { RejectionKind } from "./rejection.ts";
import { SharedSink } from "./shared_sink.ts";
import { ClientOrder } from "./client_order.ts";
import type { ByteStream } from "./transport/stream.ts";

/** Everything one session needs. */
export interface SessionOptions {
  /** The client's stream (after any transport stage: PROXY header, TLS). */
  client: ByteStream;
  /** The broker's stream. */
  upstream: ByteStream;
  /** The filters, in request order. */
  filters: readonly Filter[];
  /** Largest request frame accepted, in bytes. */
  maxFrameBytes: number;
  /** Bytes read from the client, per read. */
  onBytesIn?: (n: number) => void;
  /** Bytes read from the broker, per read. */
  onBytesOut?: (n: number) => void;
}

/** How a session ended. */
export interface SessionEnd {
  /** Who ended it: the client, the broker, the gateway (shutdown), or an error. */
  by: "client" | "upstream" | "gateway" | "error";
  /** The error message when `by === "error"`. */
  reason?: string;
  /** What kind of bad input ended it, when a client broke the protocol. */
  kind?: RejectionKind;
}

/** A request sent upstream, waiting for its response. */
interface InFlight {
  correlationId: number;
  /** The client's request header; undefined for the gateway's own request. */
  header?: RequestHeaderInfo;
  /** Its place in the client's order of responses (-1: none, the gateway's own). */
  place: number;
  /** performance.now() when it was forwarded. */
  forwardedAt: number;
  /** Milliseconds the gateway spent on it before forwarding it. */
  gatewayMs: number;
  /** For the gateway's own request: where its response goes. */
  own?: { resolve(body: Uint8Array): void; reject(error: Error): void };
}

/** A request header read by `inspect`, for the `rewrite` that follows. */
interface Inspected {
  header: RequestHeaderInfo;
  acks: number;
  startedAt: number;
  /** The filters that want it, by index. */
  wanters: readonly number[];
}

/** Correlation ids of the gateway's own requests start here (any value works: matching is positional). */
const OWN_CORRELATION_START = 0x6b676100;

/** Told once when a session has ended (both pumps stopped, both streams closed). */
export interface SessionEndListener {
  /** The session ended. */
  sessionEnded(end: SessionEnd): void;
}

/**
 * Runs both pumps until either side closes or breaks the protocol, then closes both streams.
 * Never throws.
 *
 * @example
 * ```ts ignore
 * const end = await runSession({ client, upstream, filters: [], maxFrameBytes: 1 << 20 });
 * ```
 */
export function runSession(options: SessionOptions): Promise<SessionEnd> {
  return new Promise((resolve) => startSession(options, { sessionEnded: resolve }));
}

/**
 * {@link runSession} for a server holding many connections: the listener hears the end, so nothing
 * waits on the session meanwhile (a connection then costs no suspended frame of its owner's).
 *
 * @example
 * ```ts ignore
 * startSession({ client, upstream, filters: [], maxFrameBytes: 1 << 20 }, connection);
 * ```
 */
export function startSession(options: SessionOptions, listener: SessionEndListener): void {
  new Session(options, listener).start();
}

/**
 * The check of a connection's first request, before any broker connection: the filters'
 * {@link Filter.admitRequest} (API key and version, as soon as they arrive), then a parseable request
 * header once the whole frame is in. For `readFirstFrame`; the session checks every request
 * again (the first included) as usual. `filters` is asked for the chain only once the first frame's
 * header has come, so a connection that never sends one need not build it.
 *
 * @example
 * ```ts ignore
 * const first = await readFirstFrame(client, { maxFrameBytes, check: firstRequestCheck(() => filters) });
 * ```
 */
export function firstRequestCheck(
  filters: () => readonly Filter[],
): (apiKey: number, apiVersion: number, body?: Uint8Array) => void {
  return (apiKey, apiVersion, body) => {
    if (body === undefined) {
      for (const filter of filters()) filter.admitRequest?.(apiKey, apiVersion);
      return;
    }
    try {
      const header = readRequestHeader(body);
      if (apiKey === ApiKey.Produce) produceRequestAcks(body, header);
    } catch (error) {
      throw malformedHeader(apiKey, apiVersion, error);
    }
  };
}

/**
 * The error for a request frame too short to hold a request header.
 *
 * @example
 * ```ts ignore
 * if (size < 8) throw headerlessFrame(size);
 * ```
 */
export function headerlessFrame(size: number): FrameError {
  return new FrameError(`malformed request header: a frame of ${size} bytes cannot hold one`);
}

/** The error for a request header that does not parse. */
function malformedHeader(apiKey: number, apiVersion: number, error: unknown): FrameError {
  return new FrameError(
    `malformed request header (${apiName(apiKey)} v${apiVersion}): ${(error as Error).message}`,
  );
}

class Session implements FilterContext, PumpEndListener {
  readonly #options: SessionOptions;
  readonly #listener: SessionEndListener;
  readonly #filters: readonly Filter[];
  /** Which filters want which requests and responses. */
  readonly #requestTable: DispatchTable;
  readonly #responseTable: DispatchTable;
  /** The filters with per-frame hooks (called for every frame, without decoding it). */
  readonly #admitters: readonly Filter[];
  readonly #requestObservers: readonly Filter[];
  readonly #deliveryObservers: readonly Filter[];
  readonly #toClient: SharedSink;
  readonly #toUpstream: SharedSink;
  /** Requests sent upstream, in the order sent. */
  readonly #inFlight: InFlight[] = [];
  /** The order of the client's responses. */
  readonly #order: ClientOrder;
  #ownCorrelationId = OWN_CORRELATION_START;
  #ended = false;
  /** How the session ended: set by the first pump to end. */
  #end: SessionEnd | undefined;
  /** Pumps still running. */
  #running = 2;
  #requests: FramePump | undefined;

  constructor(options: SessionOptions, listener: SessionEndListener) {
    this.#options = options;
    this.#listener = listener;
    this.#filters = options.filters;
    this.#requestTable = DispatchTable.of(options.filters.map((f) => f.onRequest ? f.requests : undefined));
    this.#responseTable = DispatchTable.of(
      options.filters.map((f) => f.onResponse ? f.responses : undefined),
    );
    this.#admitters = sharedList(options.filters.filter((f) => f.admitRequest));
    this.#requestObservers = sharedList(options.filters.filter((f) => f.requestHeader));
    // Responses pass the filters in reverse order.
    this.#deliveryObservers = sharedList(options.filters.filter((f) => f.responseDelivered).reverse());
    this.#toClient = new SharedSink(options.client);
    this.#order = new ClientOrder(this.#toClient);
    this.#toUpstream = new SharedSink(options.upstream);
  }

  start(): void {
    const { client, upstream, maxFrameBytes } = this.#options;
    this.#requests = new FramePump(client, this.#toUpstream, new RequestPolicy(this), {
      maxFrameBytes,
      onRead: this.#options.onBytesIn,
    }, this);
    // Responses are only bounded by a sanity limit: fetch.max.bytes may exceed the request limit.
    const responses = new FramePump(upstream, this.#toClient, new ResponsePolicy(this), {
      maxFrameBytes: 0x7fffffff,
      onRead: this.#options.onBytesOut,
    }, this);
    this.#requests.start();
    responses.start();
  }

  /** The first pump to end ends the session; the listener hears once both have stopped. */
  pumpEnded(pump: FramePump, error: unknown): void {
    if (this.#end === undefined) {
      const side = pump === this.#requests ? "client" : "upstream";
      this.#end = error === undefined ? { by: side } : toEnd(side, error);
      this.#ended = true;
      closeQuietly(this.#options.client);
      closeQuietly(this.#options.upstream);
      this.#toClient.close();
      this.#toUpstream.close();
      for (const request of this.#inFlight.splice(0)) request.own?.reject(new Error("the connection ended"));
    }
    if (--this.#running === 0) this.#listener.sessionEnded(this.#end);
  }

  // ---- client to broker ----

  /** A client request's first bytes: checked, observed, and forwarded or kept whole for the filters. */
  inspectRequest(prefix: Uint8Array, size: number): Inspected | "forward" | "more" {
    const startedAt = performance.now();
    // Key and version first: the rest of the header's layout depends on them.
    if (prefix.length < 4) {
      if (size < 4) throw headerlessFrame(size);
      return "more";
    }
    const apiKey = int16At(prefix, 0);
    const apiVersion = int16At(prefix, 2);
    const admitters = this.#admitters;
    for (let i = 0; i < admitters.length; i++) admitters[i].admitRequest!(apiKey, apiVersion);
    let header: RequestHeaderInfo;
    let acks = -1;
    try {
      header = readRequestHeader(prefix);
      if (apiKey === ApiKey.Produce) acks = produceRequestAcks(prefix, header);
    } catch (error) {
      if (error instanceof ProtocolError && prefix.length < size) return "more";
      throw malformedHeader(apiKey, apiVersion, error);
    }
    const observers = this.#requestObservers;
    for (let i = 0; i < observers.length; i++) observers[i].requestHeader!(header);
    const wanters = this.#requestTable.wanters(apiKey, apiVersion);
    if (wanters !== undefined) return { header, acks, startedAt, wanters };
    this.#commitRequest(header, acks, startedAt, startedAt);
    return "forward";
  }

  /** The request goes upstream now: it takes the next place in the pending queue and the client's order. */
  #commitRequest(
    header: RequestHeaderInfo,
    acks: number,
    startedAt: number,
    forwardedAt = performance.now(),
  ): void {
    // Produce with acks=0 gets no response.
    if (acks === 0) return;
    this.#inFlight.push({
      correlationId: header.correlationId,
      header,
      place: this.#order.take(),
      forwardedAt,
      gatewayMs: forwardedAt - startedAt,
    });
  }

  /** Runs the request filters that want this request, in order. */
  filterRequest(inspected: Inspected, body: Uint8Array): FrameOutput | Promise<DeferredOutput> {
    const { header, wanters } = inspected;
    let replacement: ReplacementFrame | null = null;
    let replaced = false; // `body` is not yet the replacement's
    for (let w = 0; w < wanters.length; w++) {
      const index = wanters[w];
      // A replacement made of pieces is joined only when a later filter wants the frame.
      if (replaced) {
        body = frameBody(replacement!);
        replaced = false;
      }
      const action = this.#filters[index].onRequest!({ header, body }, this);
      if (action instanceof Promise) return this.#filterRequestAsync(inspected, action, w, replacement, body);
      if (action.kind === "respond") return this.#answer(inspected, action.frame, index);
      if (action.frame) {
        replacement = action.frame;
        replaced = true;
      }
    }
    this.#commitRequest(header, inspected.acks, inspected.startedAt);
    return replacement;
  }

  /** {@link Session.filterRequest} from wanter `from` on, once one has answered with a promise. */
  async #filterRequestAsync(
    inspected: Inspected,
    pending: Promise<RequestAction>,
    from: number,
    replacement: ReplacementFrame | null,
    body: Uint8Array,
  ): Promise<DeferredOutput> {
    const { header, wanters } = inspected;
    for (let w = from; w < wanters.length; w++) {
      const index = wanters[w];
      const action = w === from
        ? await pending
        : await this.#filters[index].onRequest!({ header, body }, this);
      if (action.kind === "respond") {
        const answered = this.#answer(inspected, action.frame, index);
        return answered instanceof Promise ? await answered : () => answered;
      }
      // Nothing was read meanwhile: a view of the read buffer is still valid.
      if (action.frame) {
        replacement = action.frame;
        body = bodyIfNext(replacement, w + 1 < wanters.length);
      }
    }
    const output = replacement;
    // Committed once the pump holds the upstream sink again: after any request of the gateway's own.
    return () => {
      this.#commitRequest(header, inspected.acks, inspected.startedAt);
      return output;
    };
  }

  /**
   * A filter answered the request: the answer passes the response filters of the filters before it
   * (in reverse order), then waits for its turn to the client. Nothing goes upstream.
   */
  #answer(
    inspected: Inspected,
    answer: Uint8Array,
    answeredBy: number,
  ): FrameOutput | Promise<DeferredOutput> {
    const { header, acks, startedAt } = inspected;
    const enqueue = (replacement: ReplacementFrame | null): FrameOutput => {
      if (acks === 0) return [];
      this.#deliver(header, 0, performance.now() - startedAt, replacement !== null);
      this.#order.answer(this.#order.take(), replacement ?? answer);
      return [];
    };
    const wanters = this.#responseTable.wanters(header.apiKey, header.apiVersion);
    const filtered = wanters === undefined
      ? null
      : this.#filterResponse(header, answer.subarray(4), wanters, answeredBy);
    if (filtered instanceof Promise) return filtered.then((replacement) => () => enqueue(replacement));
    return enqueue(filtered);
  }

  // ---- the gateway's own requests ----

  /** {@link FilterContext.sendRequest}. */
  async sendRequest(request: OwnRequest): Promise<Uint8Array> {
    if (this.#ended) throw new Error("the connection ended");
    const correlationId = this.#ownCorrelationId;
    this.#ownCorrelationId = (this.#ownCorrelationId + 1) | 0;
    const frame = request.encode(correlationId);
    const sink = this.#toUpstream;
    const waiting = sink.claim();
    if (waiting) await waiting;
    let response: Promise<Uint8Array>;
    try {
      response = new Promise((resolve, reject) => {
        const forwardedAt = performance.now();
        this.#inFlight.push({
          correlationId,
          place: -1,
          forwardedAt,
          gatewayMs: 0,
          own: { resolve, reject },
        });
      });
      await writeAll(sink, frame);
    } finally {
      sink.release();
    }
    return await response;
  }

  // ---- broker to client ----

  /**
   * A broker response's first bytes: matched with the oldest request in flight, then forwarded or kept
   * whole (for the filters, the client's order, or the gateway's own request).
   */
  inspectResponse(prefix: Uint8Array, size: number, policy: ResponsePolicy): FrameDecision {
    if (prefix.length < 4) {
      if (size < 4) throw new FrameError(`response frame of ${size} bytes has no correlation id`);
      return "more";
    }
    const correlationId = int32At(prefix, 0);
    const head = this.#inFlight[0];
    if (head === undefined) {
      throw new FrameError(`response with correlation id ${correlationId} but no request pending`);
    }
    if (head.correlationId !== correlationId) {
      throw new FrameError(`response correlation id ${correlationId}, expected ${head.correlationId}`);
    }
    this.#inFlight.shift();
    policy.current = head;
    if (head.header === undefined) return "rewrite"; // the gateway's own: kept from the client
    policy.upstreamMs = performance.now() - head.forwardedAt;
    const { apiKey, apiVersion } = head.header;
    const wanters = this.#responseTable.wanters(apiKey, apiVersion);
    policy.wanters = wanters;
    if (wanters === undefined && !this.#order.waiting) {
      this.#order.pass(head.place);
      this.#deliver(head.header, policy.upstreamMs, head.gatewayMs, false);
      return "forward";
    }
    return "rewrite";
  }

  /** A whole response kept by {@link Session.inspectResponse}: filtered, then placed in the client's order. */
  rewriteResponse(
    head: InFlight,
    upstreamMs: number,
    wanters: readonly number[] | undefined,
    body: Uint8Array,
  ): FrameOutput | Promise<DeferredOutput> {
    if (head.header === undefined) {
      head.own!.resolve(body.slice());
      return [];
    }
    const startedAt = performance.now();
    const filtered = wanters === undefined
      ? null
      : this.#filterResponse(head.header, body, wanters, Infinity);
    if (filtered instanceof Promise) {
      return filtered.then((replacement) => () =>
        this.#placeResponse(head, upstreamMs, startedAt, body, replacement)
      );
    }
    return this.#placeResponse(head, upstreamMs, startedAt, body, filtered);
  }

  /** A response leaves the filters (`replacement` null: unchanged) and takes its place. */
  #placeResponse(
    head: InFlight,
    upstreamMs: number,
    startedAt: number,
    body: Uint8Array,
    replacement: ReplacementFrame | null,
  ): FrameOutput {
    this.#deliver(
      head.header!,
      upstreamMs,
      head.gatewayMs + performance.now() - startedAt,
      replacement !== null,
    );
    return this.#order.around(head.place, replacement, body);
  }

  /**
   * Runs the response filters among `wanters` below index `below`, last first: the replacement frame,
   * or null when none replaced the response.
   */
  #filterResponse(
    request: RequestHeaderInfo,
    body: Uint8Array,
    wanters: readonly number[],
    below: number,
  ): ReplacementFrame | null | Promise<ReplacementFrame | null> {
    let replacement: ReplacementFrame | null = null;
    let replaced = false; // `body` is not yet the replacement's
    for (let w = wanters.length - 1; w >= 0; w--) {
      if (wanters[w] >= below) continue;
      // A replacement made of pieces is joined only when a later filter wants the frame.
      if (replaced) {
        body = frameBody(replacement!);
        replaced = false;
      }
      const action = this.#filters[wanters[w]].onResponse!({ request, body }, this);
      if (action instanceof Promise) {
        return this.#filterResponseAsync(request, body, action, wanters, w, replacement);
      }
      if (action.frame) {
        replacement = action.frame;
        replaced = true;
      }
    }
    return replacement;
  }

  /** {@link Session.#filterResponse} from wanter `from` down, once one has answered with a promise. */
  async #filterResponseAsync(
    request: RequestHeaderInfo,
    body: Uint8Array,
    pending: Promise<ResponseAction>,
    wanters: readonly number[],
    from: number,
    replacement: ReplacementFrame | null,
  ): Promise<ReplacementFrame | null> {
    for (let w = from; w >= 0; w--) {
      const action = w === from
        ? await pending
        : await this.#filters[wanters[w]].onResponse!({ request, body }, this);
      if (action.frame) {
        replacement = action.frame;
        body = bodyIfNext(replacement, w > 0);
      }
    }
    return replacement;
  }

  #deliver(request: RequestHeaderInfo, upstreamMs: number, gatewayMs: number, rewritten: boolean): void {
    const observers = this.#deliveryObservers;
    for (let i = 0; i < observers.length; i++) {
      observers[i].responseDelivered!(request, upstreamMs / 1000, gatewayMs / 1000, rewritten);
    }
  }
}

/** The client-to-broker direction's {@link FramePolicy}: a class, so a connection holds no closures for it. */
class RequestPolicy implements FramePolicy {
  readonly #session: Session;
  /** The request `inspect` kept for the filters, until `rewrite`. */
  #current: Inspected | undefined;

  constructor(session: Session) {
    this.#session = session;
  }

  inspect(prefix: Uint8Array, size: number): FrameDecision {
    const inspected = this.#session.inspectRequest(prefix, size);
    if (typeof inspected === "string") return inspected;
    this.#current = inspected;
    return "rewrite";
  }

  rewrite(body: Uint8Array): FrameOutput | Promise<DeferredOutput> {
    const inspected = this.#current!;
    this.#current = undefined;
    return this.#session.filterRequest(inspected, body);
  }
}

/** The broker-to-client direction's {@link FramePolicy}. */
class ResponsePolicy implements FramePolicy {
  readonly #session: Session;
  /** The request whose response `inspect` matched, until `rewrite`. */
  current: InFlight | undefined;
  /** Milliseconds the broker took on it. */
  upstreamMs = 0;
  /** The filters that want the response. */
  wanters: readonly number[] | undefined;

  constructor(session: Session) {
    this.#session = session;
  }

  inspect(prefix: Uint8Array, size: number): FrameDecision {
    return this.#session.inspectResponse(prefix, size, this);
  }

  rewrite(body: Uint8Array): FrameOutput | Promise<DeferredOutput> {
    const head = this.current!;
    this.current = undefined;
    return this.#session.rewriteResponse(head, this.upstreamMs, this.wanters, body);
  }
}

/** Lists of filters already in use, by their first filter. */
const listsByFirst = new WeakMap<Filter, (readonly Filter[])[]>();
const NO_FILTERS: readonly Filter[] = Object.freeze([]);

/**
 * The list of filters with these elements that another session already holds, else this one: the
 * connections of a listener share their per-frame hooks' filters (only the address rewrite, which has
 * none, is made per connection), so each session need not keep its own copies.
 */
function sharedList(list: Filter[]): readonly Filter[] {
  if (list.length === 0) return NO_FILTERS;
  let lists = listsByFirst.get(list[0]);
  if (lists === undefined) listsByFirst.set(list[0], lists = []);
  for (const known of lists) {
    if (known.length === list.length && known.every((filter, i) => filter === list[i])) return known;
  }
  // A chain made per connection would grow this without bound: keep a few.
  if (lists.length < 8) lists.push(list);
  return list;
}

/** The body of a replacement for the next filter (joined if in pieces); none when no filter follows. */
function bodyIfNext(frame: ReplacementFrame, another: boolean): Uint8Array {
  return another ? frameBody(frame) : EMPTY;
}

const EMPTY = new Uint8Array(0);

/** Maps how a pump ended to how the session ended. */
function toEnd(side: "client" | "upstream", error: unknown): SessionEnd {
  if (error instanceof FrameError) {
    return {
      by: "error",
      reason: `${side}: ${error.message}`,
      kind: side === "client" ? error.kind : undefined,
    };
  }
  if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
    return { by: side };
  }
  if (error instanceof Deno.errors.ConnectionReset || error instanceof Deno.errors.BrokenPipe) {
    return { by: side, reason: `${side} reset the connection` };
  }
  return { by: "error", reason: `${side}: ${(error as Error)?.message ?? String(error)}` };
}
