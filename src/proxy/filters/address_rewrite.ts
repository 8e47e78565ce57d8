/**
 * Broker address rewriting: the responses that carry broker addresses are rewritten so that clients
 * only ever see gateway endpoints. One handler per API, each declaring its versions in one place.
 *
 * Produce and Fetch responses are only touched when they carry KIP-951 NodeEndpoints: the body is
 * walked without decoding records, and only its top-level tagged section is re-encoded.
 *
 * The cost of a rewrite does not grow with the cluster: a Metadata response is decoded up to the end of
 * its brokers, which are encoded again, and the topics and partitions after them are copied byte for
 * byte; ShareFetch and ShareAcknowledge responses are walked (records skipped by their length) to their
 * `NodeEndpoints`, and only that tail is decoded and encoded again.
 *
 * @module
 */
import type { BrokerEndpointMapper, BrokerRef, Endpoint, MappingRequest } from "../../cluster/mapping.ts";
import type { VersionRange } from "../../lib/version_range.ts";
import {
  ApiKey,
  apiName,
  decodeNodeEndpoints,
  DescribeClusterResponse,
  encodeNodeEndpoints,
  FetchResponse,
  FindCoordinatorResponse,
  type FindCoordinatorResponseData,
  locateTopLevelTaggedFields,
  MAX_API_KEY,
  type MessageSpec,
  MetadataResponse,
  type MetadataResponseBroker,
  NODE_ENDPOINTS_TAG,
  type NodeEndpoint,
  parseVersionRange,
  ProduceResponse,
  ProtocolError,
  readFieldRun,
  replaceTopLevelTaggedFields,
  responseHeaderLength,
  ShareAcknowledgeResponse,
  ShareFetchResponse,
  specVersions,
  spliceFieldRun,
} from "../../protocol/mod.ts";
import {
  type ApiInterest,
  type Filter,
  FORWARD,
  replaceWith,
  type ResponseAction,
  type ResponseFrame,
} from "../filter.ts";
import type { ReplacementFrame } from "../frame_pieces.ts";
import { FrameError } from "../pump.ts";
import { decodeWhole, encodeFrame } from "./response_frame.ts";

/** What a rewrite needs to know about the connection and the cluster. */
export interface RewriteContext {
  /** The client's address, `host:port`. */
  clientAddress: string;
  /** Chooses the advertised endpoint of every broker. */
  mapper: BrokerEndpointMapper;
  /** The brokers the node knows (for racks of coordinators). */
  knownBrokers(): readonly BrokerRef[];
  /** Called when a response names a broker the node does not know yet. */
  onUnknownBroker?(): void;
}

/** The request a response answers. */
export interface AnsweredRequest {
  /** Its API key. */
  apiKey: number;
  /** Its version. */
  apiVersion: number;
  /** Its client id (the cluster mapping may read a rack from it). */
  clientId: string | null;
}

/**
 * Rewrites one response body at `headerEnd`: the new frame (possibly in pieces, views of `body` among
 * them), or null when it carries no address.
 */
type Rewrite = (
  version: number,
  body: Uint8Array,
  headerEnd: number,
  context: RewriteContext,
  who: MappingRequest,
) => ReplacementFrame | null;

/** How the responses of one API are rewritten. */
interface AddressHandler {
  readonly apiKey: number;
  /** The versions the handler understands (clients are capped to them). */
  readonly versions: VersionRange;
  /** The first version whose responses can carry addresses. */
  readonly addressesFrom: number;
  readonly rewrite: Rewrite;
}

// The versions are the generated specs' (Kafka's message JSON).
const HANDLERS: readonly AddressHandler[] = [
  {
    apiKey: ApiKey.Produce,
    versions: specVersions(ProduceResponse),
    addressesFrom: taggedNodeEndpointsFrom(ProduceResponse),
    rewrite: (version, body, headerEnd, context, who) =>
      rewriteTaggedNodeEndpoints(ProduceResponse, version, body, headerEnd, context, who),
  },
  {
    apiKey: ApiKey.Fetch,
    versions: specVersions(FetchResponse),
    addressesFrom: taggedNodeEndpointsFrom(FetchResponse),
    rewrite: (version, body, headerEnd, context, who) =>
      rewriteTaggedNodeEndpoints(FetchResponse, version, body, headerEnd, context, who),
  },
  {
    apiKey: ApiKey.Metadata,
    versions: specVersions(MetadataResponse),
    addressesFrom: 0,
    rewrite(version, body, headerEnd, context, who) {
      // Only the brokers are decoded: the cluster id, controller and topics after them are copied.
      const run = readFieldRun(MetadataResponse, version, body, headerEnd, "Brokers", "Brokers");
      const brokers = run.value.brokers as MetadataResponseBroker[];
      const endpoints = context.mapper(brokers, who);
      noteUnknown(brokers, context);
      for (const broker of brokers) assign(broker, endpoints.get(broker.nodeId));
      return spliceFieldRun(body, run);
    },
  },
  {
    apiKey: ApiKey.FindCoordinator,
    versions: specVersions(FindCoordinatorResponse),
    addressesFrom: 0,
    rewrite(version, body, headerEnd, context, who) {
      const value = decodeWhole(FindCoordinatorResponse, version, body, headerEnd);
      rewriteCoordinators(value, version, context, who);
      return encodeFrame(body.subarray(0, headerEnd), FindCoordinatorResponse, version, value);
    },
  },
  {
    apiKey: ApiKey.DescribeCluster,
    versions: specVersions(DescribeClusterResponse),
    addressesFrom: 0,
    rewrite(version, body, headerEnd, context, who) {
      const value = decodeWhole(DescribeClusterResponse, version, body, headerEnd);
      const refs = value.brokers.map((b) => ({ nodeId: b.brokerId, rack: b.rack }));
      const endpoints = context.mapper(refs, who);
      noteUnknown(refs, context);
      for (const broker of value.brokers) assign(broker, endpoints.get(broker.brokerId));
      return encodeFrame(body.subarray(0, headerEnd), DescribeClusterResponse, version, value);
    },
  },
  {
    apiKey: ApiKey.ShareFetch,
    versions: specVersions(ShareFetchResponse),
    addressesFrom: 0,
    rewrite: (version, body, headerEnd, context, who) =>
      rewriteNodeEndpointsField(ShareFetchResponse, version, body, headerEnd, context, who),
  },
  {
    apiKey: ApiKey.ShareAcknowledge,
    versions: specVersions(ShareAcknowledgeResponse),
    addressesFrom: 0,
    rewrite: (version, body, headerEnd, context, who) =>
      rewriteNodeEndpointsField(ShareAcknowledgeResponse, version, body, headerEnd, context, who),
  },
];

/** The handlers by API key. */
const HANDLER_BY_KEY: readonly (AddressHandler | undefined)[] = Array.from(
  { length: MAX_API_KEY + 1 },
  (_, apiKey) => HANDLERS.find((h) => h.apiKey === apiKey),
);

/** The versions the rewriting understands: its handlers', and DescribeQuorum's without addresses. */
export const ADDRESS_REWRITE_UNDERSTANDS: readonly ApiInterest[] = [
  ...HANDLERS.map(({ apiKey, versions }) => ({ apiKey, versions })),
  // v2 lists the controllers' listeners (host:port): capped to v1, which carries no address.
  { apiKey: ApiKey.DescribeQuorum, versions: { min: 0, max: 1 } },
];

/** The responses that may carry addresses. */
const ADDRESS_REWRITE_RESPONSES: readonly ApiInterest[] = HANDLERS.map((h) => ({
  apiKey: h.apiKey,
  versions: { min: h.addressesFrom, max: h.versions.max },
}));

/**
 * The address rewrite filter of one connection.
 *
 * @example
 * ```ts ignore
 * const filter = addressRewrite({ clientAddress, mapper, knownBrokers: () => directory.brokers() });
 * ```
 */
export function addressRewrite(context: RewriteContext): Filter {
  return new AddressRewrite(context);
}

/** {@link addressRewrite}'s filter: made per connection, so a class (its methods are not closures). */
class AddressRewrite implements Filter {
  readonly name = "address-rewrite";
  readonly responses = ADDRESS_REWRITE_RESPONSES;
  readonly understands = ADDRESS_REWRITE_UNDERSTANDS;
  readonly #context: RewriteContext;

  constructor(context: RewriteContext) {
    this.#context = context;
  }

  onResponse({ request, body }: ResponseFrame): ResponseAction {
    const frame = rewriteResponse(request, body, this.#context);
    return frame === null ? FORWARD : replaceWith(frame);
  }
}

/**
 * Rewrites one response body (header included, size prefix excluded). Returns the new frame with
 * its size prefix, or null when the response carries no address and goes out unchanged. Metadata,
 * ShareFetch and ShareAcknowledge frames come in pieces: the bytes kept are views of `body`.
 *
 * @example
 * ```ts ignore
 * const frame = rewriteResponse({ apiKey: 3, apiVersion: 12, clientId: "c" }, body, context);
 * ```
 * @throws {FrameError} when the response cannot be decoded
 */
export function rewriteResponse(
  request: AnsweredRequest,
  body: Uint8Array,
  context: RewriteContext,
): ReplacementFrame | null {
  const { apiKey, apiVersion: version } = request;
  const handler = HANDLER_BY_KEY[apiKey];
  if (handler === undefined || version < handler.addressesFrom) return null;
  try {
    // Only Metadata requests advance the round-robin: the other rewritten responses name the same nodes.
    const who = {
      clientId: request.clientId,
      clientAddress: context.clientAddress,
      advance: apiKey === ApiKey.Metadata,
    };
    // Header v0 or v1 by API and version; kept byte for byte.
    const headerEnd = responseHeaderLength(apiKey, version, body);
    return handler.rewrite(version, body, headerEnd, context, who);
  } catch (error) {
    if (error instanceof ProtocolError) {
      throw new FrameError(`cannot decode ${apiName(apiKey)} v${version} response: ${error.message}`);
    }
    throw error;
  }
}

function assign(target: { host: string; port: number }, endpoint: Endpoint | undefined): void {
  if (endpoint === undefined) throw new ProtocolError("the broker mapping returned no endpoint");
  target.host = endpoint.host;
  target.port = endpoint.port;
}

function noteUnknown(brokers: readonly BrokerRef[], context: RewriteContext): void {
  if (!context.onUnknownBroker) return;
  const known = new Set(context.knownBrokers().map((b) => b.nodeId));
  if (brokers.some((b) => !known.has(b.nodeId))) context.onUnknownBroker();
}

/** The broker refs for these node ids, with racks from the known brokers. */
function refsFor(nodeIds: number[], context: RewriteContext): BrokerRef[] {
  const known = new Map(context.knownBrokers().map((b) => [b.nodeId, b]));
  return nodeIds.map((nodeId) => {
    const broker = known.get(nodeId);
    if (broker === undefined) context.onUnknownBroker?.();
    return { nodeId, rack: broker?.rack ?? null };
  });
}

function rewriteCoordinators(
  value: FindCoordinatorResponseData,
  version: number,
  context: RewriteContext,
  who: MappingRequest,
): void {
  const live = (nodeId: number) => nodeId >= 0;
  // v0-3 carry one coordinator at the top level; v4+ a list (the top-level fields are then absent
  // and decode to defaults, node 0 among them, which must not be mapped).
  if (version >= 4) {
    const ids = value.coordinators.map((c) => c.nodeId).filter(live);
    if (ids.length === 0) return;
    const endpoints = context.mapper(refsFor(ids, context), who);
    for (const c of value.coordinators) if (live(c.nodeId)) assign(c, endpoints.get(c.nodeId));
  } else if (live(value.nodeId)) {
    const endpoints = context.mapper(refsFor([value.nodeId], context), who);
    assign(value, endpoints.get(value.nodeId));
  }
}

function mapNodeEndpoints(
  nodeEndpoints: NodeEndpoint[],
  context: RewriteContext,
  who: MappingRequest,
): void {
  const endpoints = context.mapper(nodeEndpoints, who);
  noteUnknown(nodeEndpoints, context);
  for (const node of nodeEndpoints) assign(node, endpoints.get(node.nodeId));
}

/**
 * ShareFetch and ShareAcknowledge: `NodeEndpoints` is the last regular top-level field. The partitions
 * (and records) before it are skipped; it and the top-level tagged section are decoded and encoded again.
 */
function rewriteNodeEndpointsField(
  spec: MessageSpec<unknown>,
  version: number,
  body: Uint8Array,
  headerEnd: number,
  context: RewriteContext,
  who: MappingRequest,
): Uint8Array[] {
  const run = readFieldRun(spec, version, body, headerEnd, "NodeEndpoints");
  mapNodeEndpoints(run.value.nodeEndpoints as NodeEndpoint[], context, who);
  return spliceFieldRun(body, run);
}

/** The first version in which `NodeEndpoints` (a top-level tagged field) can carry addresses. */
function taggedNodeEndpointsFrom(spec: MessageSpec<unknown>): number {
  const field = spec.fields.find((f) => f.name === "NodeEndpoints");
  const tagged = field?.taggedVersions === undefined ? undefined : parseVersionRange(field.taggedVersions);
  if (field?.tag !== NODE_ENDPOINTS_TAG || tagged === undefined) {
    throw new Error(`${spec.name} has no tagged NodeEndpoints field`);
  }
  return tagged.min;
}

/** Produce (v10+) and Fetch (v16+): re-encode only the top-level tagged section, and only when it has NodeEndpoints. */
function rewriteTaggedNodeEndpoints(
  schema: MessageSpec<unknown>,
  version: number,
  body: Uint8Array,
  headerEnd: number,
  context: RewriteContext,
  who: MappingRequest,
): Uint8Array | null {
  const located = locateTopLevelTaggedFields(schema, version, body, headerEnd);
  const index = located.fields.findIndex((f) => f.tag === NODE_ENDPOINTS_TAG);
  if (index < 0) return null;
  const nodeEndpoints = decodeNodeEndpoints(located.fields[index].data);
  mapNodeEndpoints(nodeEndpoints, context, who);
  const fields = located.fields.slice();
  fields[index] = { tag: NODE_ENDPOINTS_TAG, data: encodeNodeEndpoints(nodeEndpoints) };
  return replaceTopLevelTaggedFields(body, located, fields, true);
}
