/**
 * One client connection: its own upstream connection, the request and response pumps, and the
 * correlation of responses to requests.
 *
 * @module
 */
import {
  ApiKey,
  apiName,
  isKnownApiKey,
  produceRequestAcks,
  ProtocolError,
  readRequestHeader,
} from "../protocol/mod.ts";
import { type ByteSource, FrameError, type FramePolicy, pumpFrames } from "./frame_pump.ts";
import { needsRewrite, type RewriteContext, rewriteResponse } from "./rewrite.ts";

/** A request waiting for its response. */
export interface PendingRequest {
  correlationId: number;
  apiKey: number;
  apiVersion: number;
  clientId: string | null;
  /** performance.now() when the request was forwarded. */
  forwardedAt: number;
  /** Milliseconds the gateway spent on the request before forwarding it. */
  gatewayMs: number;
}

/** Per-request observations, for metrics. */
export interface RequestObserver {
  /** A request was forwarded upstream. */
  request(apiKey: number): void;
  /** Its response went back to the client; times in seconds. */
  response(apiKey: number, upstreamSeconds: number, gatewaySeconds: number, rewritten: boolean): void;
}

/** Versions a request may use, by API key (undefined: the key is unknown). */
export type VersionRange = { min: number; max: number };

/** What the request policy needs to know. */
export interface RequestPolicyContext {
  /** Supported version range of an API key, or undefined when the gateway does not know the key. */
  supportedVersions(apiKey: number): VersionRange | undefined;
  /** Observes requests and responses (metrics). */
  observer?: RequestObserver;
}

/**
 * Policy of the client-to-broker direction: validate each request header, remember which requests
 * expect a response, forward every request byte for byte.
 */
export function requestPolicy(pending: PendingRequest[], context: RequestPolicyContext): FramePolicy {
  return {
    inspect(prefix, size) {
      const startedAt = performance.now();
      // Key and version first: the rest of the header's layout depends on them.
      if (prefix.length < 4) {
        if (size < 4) {
          throw new FrameError(`malformed request header: a frame of ${size} bytes cannot hold one`);
        }
        return "more";
      }
      const apiKey = (prefix[0] << 24 >> 16) | prefix[1];
      const apiVersion = (prefix[2] << 24 >> 16) | prefix[3];
      const range = isKnownApiKey(apiKey) ? context.supportedVersions(apiKey) : undefined;
      if (range === undefined) throw new FrameError(`unknown API key ${apiKey}`);
      const name = apiName(apiKey);
      // ApiVersions of any version is answered (a too new one with the v0 fallback).
      if (apiKey !== ApiKey.ApiVersions && (apiVersion < range.min || apiVersion > range.max)) {
        throw new FrameError(
          `unsupported ${name} version ${apiVersion} (supported ${range.min}-${range.max})`,
        );
      }
      let header;
      let acks = -1;
      try {
        header = readRequestHeader(prefix);
        if (apiKey === ApiKey.Produce) acks = produceRequestAcks(prefix, header);
      } catch (error) {
        if (error instanceof ProtocolError && prefix.length < size) return "more";
        throw new FrameError(
          `malformed request header (${name} v${apiVersion}): ${(error as Error).message}`,
        );
      }
      // v0 is followed by unframed SASL tokens the proxy cannot delimit. librdkafka needs v0 advertised
      // but sends v1 (KIP-152), as every client since Kafka 1.0 does.
      if (apiKey === ApiKey.SaslHandshake && apiVersion === 0) {
        throw new FrameError(
          "SaslHandshake v0 (unframed SASL tokens) is not supported: use SaslHandshake v1",
        );
      }
      const forwardedAt = performance.now();
      const request = {
        correlationId: header.correlationId,
        apiKey,
        apiVersion,
        clientId: header.clientId,
        forwardedAt,
        gatewayMs: forwardedAt - startedAt,
      };
      if (acks !== 0) pending.push(request);
      context.observer?.request(apiKey);
      return "forward";
    },
    rewrite() {
      throw new Error("requests are never rewritten");
    },
  };
}

/**
 * Policy of the broker-to-client direction: match each response to the oldest pending request and
 * rewrite the responses that carry broker addresses.
 */
export function responsePolicy(
  pending: PendingRequest[],
  context: RewriteContext,
  observer?: RequestObserver,
): FramePolicy {
  let current: PendingRequest | undefined;
  let upstreamMs = 0;
  return {
    inspect(prefix, size) {
      if (prefix.length < 4) {
        if (size < 4) throw new FrameError(`response frame of ${size} bytes has no correlation id`);
        return "more";
      }
      const correlationId = new DataView(prefix.buffer, prefix.byteOffset, 4).getInt32(0);
      const head = pending[0];
      if (head === undefined) {
        throw new FrameError(`response with correlation id ${correlationId} but no request pending`);
      }
      if (head.correlationId !== correlationId) {
        throw new FrameError(`response correlation id ${correlationId}, expected ${head.correlationId}`);
      }
      pending.shift();
      upstreamMs = performance.now() - head.forwardedAt;
      if (needsRewrite(head.apiKey, head.apiVersion)) {
        current = head;
        return "rewrite";
      }
      observer?.response(head.apiKey, upstreamMs / 1000, head.gatewayMs / 1000, false);
      return "forward";
    },
    rewrite(body) {
      if (current === undefined) throw new FrameError("rewrite without a request");
      const startedAt = performance.now();
      const frame = rewriteResponse(current, body, context);
      const gatewayMs = current.gatewayMs + performance.now() - startedAt;
      observer?.response(current.apiKey, upstreamMs / 1000, gatewayMs / 1000, frame !== null);
      return frame;
    },
  };
}

/** Everything one proxied connection needs. */
export interface ConnectionOptions {
  client: Deno.TcpConn;
  /** Where client bytes are read from (default: `client`; after a PROXY header, its remaining bytes first). */
  clientSource?: ByteSource;
  upstream: Deno.TcpConn;
  maxFrameBytes: number;
  requestContext: RequestPolicyContext;
  rewriteContext: RewriteContext;
  onBytesIn?: (n: number) => void;
  onBytesOut?: (n: number) => void;
}

/** How a connection ended. */
export interface ConnectionEnd {
  /** Who ended it: the client, the broker, the gateway (shutdown), or an error. */
  by: "client" | "upstream" | "gateway" | "error";
  /** The error message when `by === "error"`. */
  reason?: string;
  /** What kind of bad input ended it, when a client broke the protocol. */
  kind?: "frame-size" | "protocol";
}

/**
 * Runs both pumps until either side closes or breaks the protocol, then closes both sockets.
 * Never throws.
 */
export async function proxyConnection(options: ConnectionOptions): Promise<ConnectionEnd> {
  const { client, upstream, maxFrameBytes } = options;
  const pending: PendingRequest[] = [];
  const requests = pumpFrames(
    options.clientSource ?? client,
    upstream,
    requestPolicy(pending, options.requestContext),
    {
      maxFrameBytes,
      onRead: options.onBytesIn,
    },
  ).then(() => ({ by: "client" }) as ConnectionEnd);
  // Responses are only bounded by a sanity limit: fetch.max.bytes may exceed the request limit.
  const responses = pumpFrames(
    upstream,
    client,
    responsePolicy(pending, options.rewriteContext, options.requestContext.observer),
    {
      maxFrameBytes: 0x7fffffff,
      onRead: options.onBytesOut,
    },
  ).then(() => ({ by: "upstream" }) as ConnectionEnd);
  const toEnd = (side: "client" | "upstream") => (error: unknown): ConnectionEnd => {
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
  };
  const end = await Promise.race([
    requests.catch(toEnd("client")),
    responses.catch(toEnd("upstream")),
  ]);
  closeQuietly(client);
  closeQuietly(upstream);
  // Let the other pump settle so nothing is left unhandled.
  await Promise.allSettled([requests, responses]);
  return end;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // already closed
  }
}
