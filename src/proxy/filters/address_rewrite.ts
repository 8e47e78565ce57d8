/**
 * Broker address rewriting: the responses that carry broker addresses are rewritten so that clients
 * only ever see gateway endpoints. One handler per API, each declaring its versions in one place.
 *
 * Produce and Fetch responses are only touched when they carry KIP-951 NodeEndpoints: the body is
 * walked without decoding records, and only its top-level tagged section is re-encoded.
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
  NODE_ENDPOINTS_TAG,
  type NodeEndpoint,
  ProduceResponse,
  ProtocolError,
  replaceTopLevelTaggedFields,
  responseHeaderLength,
  ShareAcknowledgeResponse,
  ShareFetchResponse,
} from "../../protocol/mod.ts";
import { type ApiInterest, type Filter, FORWARD, replaceWith } from "../filter.ts";
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

/** Rewrites one response body at `headerEnd`: the new frame, or null when it carries no address. */
type Rewrite = (
  version: number,
  body: Uint8Array,
  headerEnd: number,
  context: RewriteContext,
  who: MappingRequest,
) => Uint8Array | null;

/** How the responses of one API are rewritten. */
interface AddressHandler {
  readonly apiKey: number;
  /** The versions the handler understands (clients are capped to them). */
  readonly versions: VersionRange;
  /** The first version whose responses can carry addresses. */
  readonly addressesFrom: number;
  readonly rewrite: Rewrite;
}

// The version ranges below repeat Kafka's message specs until the generated protocol provides them.
const HANDLERS: readonly AddressHandler[] = [
  {
    apiKey: ApiKey.Produce,
    versions: { min: 0, max: 13 }, // TODO(generated protocol): specVersions(ProduceResponse)
    addressesFrom: 10,
    rewrite: (version, body, headerEnd, context, who) =>
      rewriteTaggedNodeEndpoints(ProduceResponse, version, body, headerEnd, context, who),
  },
  {
    apiKey: ApiKey.Fetch,
    versions: { min: 0, max: 18 }, // TODO(generated protocol): specVersions(FetchResponse)
    addressesFrom: 16,
    rewrite: (version, body, headerEnd, context, who) =>
      rewriteTaggedNodeEndpoints(FetchResponse, version, body, headerEnd, context, who),
  },
  {
    apiKey: ApiKey.Metadata,
    versions: { min: 0, max: 13 }, // TODO(generated protocol): specVersions(MetadataResponse)
    addressesFrom: 0,
    rewrite(version, body, headerEnd, context, who) {
      const value = decodeWhole(MetadataResponse, version, body, headerEnd);
      const endpoints = context.mapper(value.brokers, who);
      noteUnknown(value.brokers, context);
      for (const broker of value.brokers) assign(broker, endpoints.get(broker.nodeId));
      return encodeFrame(body.subarray(0, headerEnd), MetadataResponse, version, value);
    },
  },
  {
    apiKey: ApiKey.FindCoordinator,
    versions: { min: 0, max: 6 }, // TODO(generated protocol): specVersions(FindCoordinatorResponse)
    addressesFrom: 0,
    rewrite(version, body, headerEnd, context, who) {
      const value = decodeWhole(FindCoordinatorResponse, version, body, headerEnd);
      rewriteCoordinators(value, version, context, who);
      return encodeFrame(body.subarray(0, headerEnd), FindCoordinatorResponse, version, value);
    },
  },
  {
    apiKey: ApiKey.DescribeCluster,
    versions: { min: 0, max: 2 }, // TODO(generated protocol): specVersions(DescribeClusterResponse)
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
    versions: { min: 0, max: 2 }, // TODO(generated protocol): specVersions(ShareFetchResponse)
    addressesFrom: 0,
    rewrite: (version, body, headerEnd, context, who) =>
      rewriteNodeEndpointsField(ShareFetchResponse, version, body, headerEnd, context, who),
  },
  {
    apiKey: ApiKey.ShareAcknowledge,
    versions: { min: 0, max: 2 }, // TODO(generated protocol): specVersions(ShareAcknowledgeResponse)
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
  return {
    name: "address-rewrite",
    responses: ADDRESS_REWRITE_RESPONSES,
    understands: ADDRESS_REWRITE_UNDERSTANDS,
    onResponse({ request, body }) {
      const frame = rewriteResponse(request, body, context);
      return frame === null ? FORWARD : replaceWith(frame);
    },
  };
}

/**
 * Rewrites one response body (header included, size prefix excluded). Returns the new frame with
 * its size prefix, or null when the response carries no address and goes out unchanged.
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
): Uint8Array | null {
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

/** ShareFetch and ShareAcknowledge: `NodeEndpoints` is a regular last top-level field. */
function rewriteNodeEndpointsField(
  spec: MessageSpec<unknown>,
  version: number,
  body: Uint8Array,
  headerEnd: number,
  context: RewriteContext,
  who: MappingRequest,
): Uint8Array {
  const schema = spec as MessageSpec<{ nodeEndpoints: NodeEndpoint[] }>;
  const value = decodeWhole(schema, version, body, headerEnd);
  mapNodeEndpoints(value.nodeEndpoints, context, who);
  return encodeFrame(body.subarray(0, headerEnd), schema, version, value);
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
