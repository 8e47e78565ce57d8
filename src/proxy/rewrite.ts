/**
 * Rewrites the responses that carry broker addresses so that clients only ever see gateway
 * endpoints, and caps ApiVersions to what this rewriting understands.
 *
 * Produce and Fetch responses are only touched when they carry KIP-951 NodeEndpoints: the body is
 * walked without decoding records, and only its top-level tagged section is re-encoded.
 *
 * @module
 */
import type { BrokerEndpointMapper, BrokerRef, Endpoint, MappingRequest } from "../cluster/mapping.ts";
import {
  ApiKey,
  apiName,
  ApiVersionsResponse,
  type ApiVersionsResponseData,
  ByteWriter,
  decodeApiVersionsResponse,
  decodeMessage,
  decodeNodeEndpoints,
  DescribeClusterResponse,
  encodeMessageInto,
  encodeNodeEndpoints,
  FetchResponse,
  FindCoordinatorResponse,
  type FindCoordinatorResponseData,
  isKnownApiKey,
  locateTopLevelTaggedFields,
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
} from "../protocol/mod.ts";
import { FrameError } from "./frame_pump.ts";

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
  /** Called for every rewritten response. */
  onRewrite?(apiKey: number): void;
}

/** The request a response answers. */
export interface AnsweredRequest {
  apiKey: number;
  apiVersion: number;
  clientId: string | null;
}

/** Versions the rewriting understands, and from which version a response can carry addresses. */
const REWRITTEN: ReadonlyMap<number, { min: number; max: number; from: number }> = new Map([
  [ApiKey.Produce, { min: 0, max: 13, from: 10 }],
  [ApiKey.Fetch, { min: 0, max: 18, from: 16 }],
  [ApiKey.Metadata, { min: 0, max: 13, from: 0 }],
  [ApiKey.FindCoordinator, { min: 0, max: 6, from: 0 }],
  [ApiKey.ApiVersions, { min: 0, max: 4, from: 0 }],
  [ApiKey.DescribeCluster, { min: 0, max: 2, from: 0 }],
  [ApiKey.ShareFetch, { min: 0, max: 2, from: 0 }],
  [ApiKey.ShareAcknowledge, { min: 0, max: 2, from: 0 }],
  // v2 lists the controllers' listeners (host:port): capped to v1, which carries no address.
  [ApiKey.DescribeQuorum, { min: 0, max: 1, from: Infinity }],
]);

/** True when responses of this API and version may carry broker addresses. */
export function needsRewrite(apiKey: number, apiVersion: number): boolean {
  const entry = REWRITTEN.get(apiKey);
  return entry !== undefined && apiVersion >= entry.from;
}

/**
 * The versions clients may use for an API key: what the upstream cluster supports, narrowed to what
 * the gateway can rewrite. Undefined when the key is unknown to the gateway or the cluster.
 */
export function supportedVersionRange(
  apiKey: number,
  upstream: { min: number; max: number } | undefined,
): { min: number; max: number } | undefined {
  if (!isKnownApiKey(apiKey)) return undefined;
  const own = REWRITTEN.get(apiKey);
  if (apiKey === ApiKey.ApiVersions) return own;
  if (upstream === undefined) return undefined;
  let { min, max } = upstream;
  if (own) {
    min = Math.max(min, own.min);
    max = Math.min(max, own.max);
  }
  return min <= max ? { min, max } : undefined;
}

/**
 * Rewrites one response body (header included, size prefix excluded). Returns the new frame with
 * its size prefix, or null when the response carries no address and goes out unchanged.
 *
 * @throws {FrameError} when the response cannot be decoded
 */
export function rewriteResponse(
  request: AnsweredRequest,
  body: Uint8Array,
  context: RewriteContext,
): Uint8Array | null {
  try {
    const result = rewrite(request, body, context);
    if (result !== null) context.onRewrite?.(request.apiKey);
    return result;
  } catch (error) {
    if (error instanceof ProtocolError) {
      const name = apiName(request.apiKey);
      throw new FrameError(`cannot decode ${name} v${request.apiVersion} response: ${error.message}`);
    }
    throw error;
  }
}

function rewrite(request: AnsweredRequest, body: Uint8Array, context: RewriteContext): Uint8Array | null {
  const { apiKey, apiVersion: version } = request;
  // Only Metadata requests advance the round-robin: the other rewritten responses name the same nodes.
  const who = {
    clientId: request.clientId,
    clientAddress: context.clientAddress,
    advance: apiKey === ApiKey.Metadata,
  };
  // Header v0 or v1 by API and version (always v0 for ApiVersions); kept byte for byte.
  const headerEnd = responseHeaderLength(apiKey, version, body);
  switch (apiKey) {
    case ApiKey.ApiVersions: {
      // ApiVersions may answer with a v0 body (the fallback for a version the broker lacks).
      const { value, versionUsed } = decodeApiVersionsResponse(version, body.subarray(headerEnd));
      capApiVersions(value);
      return frame(body.subarray(0, headerEnd), ApiVersionsResponse, versionUsed, value);
    }
    case ApiKey.Metadata: {
      const value = decodeWhole(MetadataResponse, version, body, headerEnd);
      const endpoints = context.mapper(value.brokers, who);
      noteUnknown(value.brokers, context);
      for (const broker of value.brokers) assign(broker, endpoints.get(broker.nodeId));
      return frame(body.subarray(0, headerEnd), MetadataResponse, version, value);
    }
    case ApiKey.DescribeCluster: {
      const value = decodeWhole(DescribeClusterResponse, version, body, headerEnd);
      const refs = value.brokers.map((b) => ({ nodeId: b.brokerId, rack: b.rack }));
      const endpoints = context.mapper(refs, who);
      noteUnknown(refs, context);
      for (const broker of value.brokers) assign(broker, endpoints.get(broker.brokerId));
      return frame(body.subarray(0, headerEnd), DescribeClusterResponse, version, value);
    }
    case ApiKey.FindCoordinator: {
      const value = decodeWhole(FindCoordinatorResponse, version, body, headerEnd);
      rewriteCoordinators(value, version, context, who);
      return frame(body.subarray(0, headerEnd), FindCoordinatorResponse, version, value);
    }
    case ApiKey.Produce:
      return rewriteTaggedNodeEndpoints(ProduceResponse, version, body, headerEnd, context, who);
    case ApiKey.Fetch:
      return rewriteTaggedNodeEndpoints(FetchResponse, version, body, headerEnd, context, who);
    case ApiKey.ShareFetch:
    case ApiKey.ShareAcknowledge: {
      const schema =
        (apiKey === ApiKey.ShareFetch ? ShareFetchResponse : ShareAcknowledgeResponse) as MessageSpec<
          { nodeEndpoints: NodeEndpoint[] }
        >;
      const value = decodeWhole(schema, version, body, headerEnd);
      mapNodeEndpoints(value.nodeEndpoints, context, who);
      return frame(body.subarray(0, headerEnd), schema, version, value);
    }
    default:
      return null;
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

function capApiVersions(value: ApiVersionsResponseData): void {
  // A key the gateway does not know, or whose versions do not overlap what it can rewrite, is not
  // advertised at all: clients never send a request the gateway would refuse.
  value.apiKeys = value.apiKeys.filter((key) => {
    if (!isKnownApiKey(key.apiKey)) return false;
    const range = supportedVersionRange(key.apiKey, { min: key.minVersion, max: key.maxVersion });
    if (range === undefined) return false;
    key.minVersion = range.min;
    key.maxVersion = range.max;
    return true;
  });
}

function decodeWhole<T>(schema: MessageSpec<T>, version: number, body: Uint8Array, offset: number): T {
  const decoded = decodeMessage(schema, version, body, offset);
  if (decoded.offset !== body.length) {
    throw new ProtocolError(`${body.length - decoded.offset} trailing byte(s)`);
  }
  return decoded.value;
}

function frame<T>(header: Uint8Array, schema: MessageSpec<T>, version: number, value: T): Uint8Array {
  const w = new ByteWriter(512);
  w.int32(0);
  w.raw(header);
  encodeMessageInto(w, schema, version, value);
  return sized(w);
}

function sized(w: ByteWriter): Uint8Array {
  const bytes = w.finish();
  new DataView(bytes.buffer, bytes.byteOffset, 4).setInt32(0, bytes.length - 4);
  return bytes;
}
