/**
 * The filter chain's contract: what a filter declares, what it is given, and what it may answer.
 *
 * A session runs its filters in order for requests and in reverse order for responses. A filter
 * declares the API keys and versions it wants to see whole, per direction; a frame no filter wants
 * is forwarded from the read buffer without being decoded. Cheap hooks on every request header
 * (admission, observation) and on every delivered response (observation) need no declaration.
 *
 * @module
 */
import type { VersionRange } from "../lib/version_range.ts";
import { MAX_API_KEY, type RequestHeaderInfo } from "../protocol/mod.ts";
import type { ReplacementFrame } from "./frame_pieces.ts";

/** API versions a filter wants to see whole (or, in {@link Filter.understands}, can handle). */
export interface ApiInterest {
  /** The API key. */
  readonly apiKey: number;
  /** The versions, both ends included. */
  readonly versions: VersionRange;
}

/** A whole request frame. */
export interface RequestFrame {
  /** Its parsed header. */
  readonly header: RequestHeaderInfo;
  /** The frame without its size prefix: the request header, then the request. */
  readonly body: Uint8Array;
}

/** A whole response frame, with the request it answers. */
export interface ResponseFrame {
  /** The header of the request it answers. */
  readonly request: RequestHeaderInfo;
  /** The frame without its size prefix: the response header, then the response. */
  readonly body: Uint8Array;
}

/**
 * What a filter does with a request: pass it on (unchanged, or `frame` instead), or answer it itself
 * with a response frame (size prefix included) that the client receives in order, after the responses
 * to its earlier requests; the request then never reaches the broker.
 *
 * A replacement `frame` may be pieces ({@link ReplacementFrame}), views of the body received among
 * them: they are written before the pump reads again. A later filter that wants the frame whole gets
 * the pieces concatenated.
 */
export type RequestAction =
  | { readonly kind: "forward"; readonly frame?: ReplacementFrame }
  | { readonly kind: "respond"; readonly frame: Uint8Array };

/** What a filter does with a response: pass it on, unchanged or as `frame` (one array or pieces). */
export type ResponseAction = { readonly kind: "forward"; readonly frame?: ReplacementFrame };

/** Passes a frame on unchanged. */
export const FORWARD: { readonly kind: "forward" } = Object.freeze({ kind: "forward" });

/**
 * Passes on `frame` (size prefix included) instead of the frame received: one array, or pieces
 * written one after the other (the size prefix, at the start of the first, counts them all).
 *
 * @example
 * ```ts ignore
 * return replaceWith(encodeResponseFrame(header, MetadataResponse, version, value));
 * return replaceWith([newHead, body.subarray(keptFrom)]); // the kept bytes are not copied
 * ```
 */
export function replaceWith(
  frame: ReplacementFrame,
): { readonly kind: "forward"; readonly frame: ReplacementFrame } {
  return { kind: "forward", frame };
}

/**
 * Answers a request without forwarding it: `frame` is the whole response, size prefix included.
 *
 * @example
 * ```ts ignore
 * return respond(encodeResponseFrame({ correlationId }, ApiVersionsResponse, 3, value));
 * ```
 */
export function respond(frame: Uint8Array): RequestAction {
  return { kind: "respond", frame };
}

/** A request of the gateway's own, sent upstream on the client's connection. */
export interface OwnRequest {
  /** Its API key. */
  readonly apiKey: number;
  /** Its version. */
  readonly apiVersion: number;
  /** The whole frame (size prefix included) with this correlation id. */
  encode(correlationId: number): Uint8Array;
}

/** What the session offers a filter while it handles a frame. */
export interface FilterContext {
  /**
   * Sends a request of the gateway's own to the broker and resolves with its response (header
   * included, size prefix excluded). The client never sees it. Rejects when the connection ends.
   *
   * From {@link Filter.onResponse}, send but do not wait for the answer there: responses are read in
   * order, so it can only come once the response at hand has been delivered.
   */
  sendRequest(request: OwnRequest): Promise<Uint8Array>;
}

/** One stage of the chain. Every member is optional: a filter implements what it needs. */
export interface Filter {
  /** Its name, for logs and tests. */
  readonly name: string;
  /** Requests it wants whole ({@link Filter.onRequest}). */
  readonly requests?: readonly ApiInterest[];
  /** Responses it wants whole ({@link Filter.onResponse}), by the key and version of their request. */
  readonly responses?: readonly ApiInterest[];
  /** The versions it can handle, per API key: the ApiVersions cap advertises no more than these. */
  readonly understands?: readonly ApiInterest[];
  /**
   * Every request, from its key and version alone (before the rest of its header is parsed): throw
   * a `FrameError` to refuse it, which closes the connection.
   */
  admitRequest?(apiKey: number, apiVersion: number): void;
  /** Every request, once its header is parsed: may refuse it as {@link Filter.admitRequest} does. */
  requestHeader?(header: RequestHeaderInfo): void;
  /** A wanted request, whole. */
  onRequest?(request: RequestFrame, context: FilterContext): RequestAction | Promise<RequestAction>;
  /** A wanted response, whole. */
  onResponse?(response: ResponseFrame, context: FilterContext): ResponseAction | Promise<ResponseAction>;
  /**
   * Every response as it goes to the client, after the response filters: the request it answers,
   * the seconds from forwarding the request to the first bytes of the response (0 when answered
   * locally), the seconds the gateway spent on both, and whether a filter replaced the response.
   */
  responseDelivered?(
    request: RequestHeaderInfo,
    upstreamSeconds: number,
    gatewaySeconds: number,
    rewritten: boolean,
  ): void;
}

/** Versions from this one up share one slot of a {@link DispatchTable} (no API is near it). */
const VERSION_SLOTS = 64;

/**
 * Which filters want a frame, by API key and version: one array lookup per frame, `undefined` when
 * none does (the frame is then forwarded without being decoded). Built from each filter's declared
 * interests for one direction; tables are shared, since filters declare their interests as constants.
 *
 * @example
 * ```ts
 * const table = DispatchTable.of([undefined, [{ apiKey: 3, versions: { min: 0, max: 13 } }]]);
 * table.wanters(3, 12); // [1]: the filter at index 1
 * table.wanters(1, 12); // undefined
 * ```
 */
export class DispatchTable {
  static readonly #ids = new WeakMap<readonly ApiInterest[], number>();
  static readonly #tables = new Map<string, DispatchTable>();
  static #nextId = 0;

  /** The (shared) table for filters whose interests are `lists`, by filter index. */
  static of(lists: readonly (readonly ApiInterest[] | undefined)[]): DispatchTable {
    const key = lists.map((list) => {
      if (list === undefined || list.length === 0) return "";
      let id = DispatchTable.#ids.get(list);
      if (id === undefined) DispatchTable.#ids.set(list, id = DispatchTable.#nextId++);
      return id;
    }).join(",");
    let table = DispatchTable.#tables.get(key);
    if (table === undefined) DispatchTable.#tables.set(key, table = new DispatchTable(lists));
    return table;
  }

  /** Per (key, version) slot: 0 when no filter wants it, else 1 + its entry in `#wanters`. */
  readonly #slots = new Uint8Array((MAX_API_KEY + 1) * VERSION_SLOTS);
  /** The distinct lists of filter indexes. */
  readonly #wanters: (readonly number[])[] = [];

  private constructor(lists: readonly (readonly ApiInterest[] | undefined)[]) {
    const bySlot: number[][] = [];
    lists.forEach((list, index) => {
      for (const { apiKey, versions } of list ?? []) {
        if (apiKey < 0 || apiKey > MAX_API_KEY) continue;
        const last = Math.min(versions.max, VERSION_SLOTS - 1);
        for (let v = Math.max(versions.min, 0); v <= last; v++) {
          const slot = (bySlot[apiKey * VERSION_SLOTS + v] ??= []);
          if (slot.at(-1) !== index) slot.push(index);
        }
      }
    });
    const ids = new Map<string, number>();
    bySlot.forEach((wanters, slot) => {
      const key = wanters.join(",");
      let id = ids.get(key);
      if (id === undefined) {
        ids.set(key, id = this.#wanters.push(wanters));
        if (id > 255) throw new Error("too many distinct filter interests");
      }
      this.#slots[slot] = id;
    });
  }

  /** The indexes of the filters that want `apiKey` at `apiVersion`, ascending; undefined when none. */
  wanters(apiKey: number, apiVersion: number): readonly number[] | undefined {
    if (apiKey < 0 || apiKey > MAX_API_KEY || apiVersion < 0) return undefined;
    const id = this.#slots[apiKey * VERSION_SLOTS + Math.min(apiVersion, VERSION_SLOTS - 1)];
    return id === 0 ? undefined : this.#wanters[id - 1];
  }
}

/**
 * The versions every one of `declarations` understands, per API key (intersected; a key missing from
 * a declaration is not restricted by it).
 *
 * @example
 * ```ts
 * understoodVersions([[{ apiKey: 3, versions: { min: 0, max: 13 } }]]).get(3); // { min: 0, max: 13 }
 * ```
 */
export function understoodVersions(
  declarations: Iterable<readonly ApiInterest[] | undefined>,
): ReadonlyMap<number, VersionRange> {
  const result = new Map<number, VersionRange>();
  for (const declaration of declarations) {
    for (const { apiKey, versions } of declaration ?? []) {
      const known = result.get(apiKey);
      result.set(
        apiKey,
        known === undefined
          ? versions
          : { min: Math.max(known.min, versions.min), max: Math.min(known.max, versions.max) },
      );
    }
  }
  return result;
}
