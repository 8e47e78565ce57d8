/**
 * Message schemas covered by the codec.
 *
 * @module
 */

import type { MessageSpec } from "../schema.ts";
import { ApiVersionsRequest, ApiVersionsResponse } from "./api_versions.ts";
import { DescribeClusterRequest, DescribeClusterResponse } from "./describe_cluster.ts";
import { FetchRequest, FetchResponse } from "./fetch.ts";
import { FindCoordinatorRequest, FindCoordinatorResponse } from "./find_coordinator.ts";
import { RequestHeader, ResponseHeader } from "./headers.ts";
import { MetadataRequest, MetadataResponse } from "./metadata.ts";
import { ProduceRequest, ProduceResponse } from "./produce.ts";
import { ShareAcknowledgeRequest, ShareAcknowledgeResponse } from "./share_acknowledge.ts";
import { ShareFetchRequest, ShareFetchResponse } from "./share_fetch.ts";

export * from "./api_versions.ts";
export * from "./common.ts";
export * from "./describe_cluster.ts";
export * from "./fetch.ts";
export * from "./find_coordinator.ts";
export * from "./headers.ts";
export * from "./metadata.ts";
export * from "./produce.ts";
export * from "./share_acknowledge.ts";
export * from "./share_fetch.ts";

/** Every message schema defined here (headers included). */
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
