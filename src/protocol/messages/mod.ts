/**
 * Every Kafka message spec and decoded type (generated from Kafka's message JSON by
 * `tools/generate_protocol.ts`, see `../generated/`), the messages kgate's data path reads, and the
 * struct names kgate used before the types were generated.
 *
 * @module
 */

import {
  ApiVersionsRequest,
  ApiVersionsResponse,
  DescribeClusterRequest,
  DescribeClusterResponse,
  FetchRequest,
  FetchResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  MetadataRequest,
  MetadataResponse,
  ProduceRequest,
  ProduceResponse,
  RequestHeader,
  ResponseHeader,
  ShareAcknowledgeRequest,
  ShareAcknowledgeResponse,
  ShareFetchRequest,
  ShareFetchResponse,
} from "../generated/messages.ts";
import type {
  ApiVersionsResponseApiVersion,
  ApiVersionsResponseFinalizedFeatureKey,
  ApiVersionsResponseSupportedFeatureKey,
  DescribeClusterResponseBroker,
  FetchResponseLeaderIdAndEpoch,
} from "../generated/types.ts";
import type { MessageSpec } from "../schema.ts";

export * from "../generated/messages.ts";
export type * from "../generated/types.ts";

/** One supported API in an ApiVersions response. */
export type ApiVersionsResponseKey = ApiVersionsResponseApiVersion;
/** A supported feature of an ApiVersions response (tagged field 0). */
export type SupportedFeatureKey = ApiVersionsResponseSupportedFeatureKey;
/** A finalized feature of an ApiVersions response (tagged field 2); clients read e.g. `transaction.version`. */
export type FinalizedFeatureKey = ApiVersionsResponseFinalizedFeatureKey;
/** A broker in a DescribeCluster response. */
export type DescribeClusterBroker = DescribeClusterResponseBroker;
/** Leader id and epoch, as in the `CurrentLeader` fields of Produce, Fetch, ShareFetch and ShareAcknowledge. */
export type LeaderIdAndEpoch = FetchResponseLeaderIdAndEpoch;

/**
 * The messages kgate's data path reads or writes (headers included): every version of these is checked
 * against frames captured from real brokers (tests/protocol/fixtures/).
 */
export const ALL_MESSAGES: readonly MessageSpec<unknown>[] = [
  RequestHeader,
  ResponseHeader,
  MetadataRequest,
  MetadataResponse,
  FindCoordinatorRequest,
  FindCoordinatorResponse,
  DescribeClusterRequest,
  DescribeClusterResponse,
  ApiVersionsRequest,
  ApiVersionsResponse,
  ProduceRequest,
  ProduceResponse,
  FetchRequest,
  FetchResponse,
  ShareFetchRequest,
  ShareFetchResponse,
  ShareAcknowledgeRequest,
  ShareAcknowledgeResponse,
];
