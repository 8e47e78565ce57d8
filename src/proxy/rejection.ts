/**
 * Why kgate refused a client connection, or closed it for bad input: one type for the listeners, the
 * session, the frame pump and the `kgate_rejected_connections_total{reason}` metric.
 *
 * @module
 */

/**
 * - `frame-size`: a frame size over the limit, or negative;
 * - `protocol`: any other broken frame or refused request;
 * - `proxy-header`: a missing, malformed or too slow PROXY protocol header;
 * - `untrusted-source`: a PROXY header expected from a peer that is not a trusted proxy;
 * - `tls-handshake`: a failed or too slow TLS handshake, or a client certificate refused;
 * - `upstream`: no broker to route to, or the broker could not be reached;
 * - `max-connections`: refused at once, the node has `GATEWAY_MAX_CONNECTIONS` open;
 * - `max-connections-per-ip`: refused, the client IP has `GATEWAY_MAX_CONNECTIONS_PER_IP` open;
 * - `first-frame-timeout`: no complete request frame within `GATEWAY_FIRST_FRAME_TIMEOUT_MS`;
 * - `idle-timeout`: no bytes either way for `GATEWAY_CONNECTIONS_MAX_IDLE_MS`.
 */
export type RejectionKind =
  | "frame-size"
  | "protocol"
  | "proxy-header"
  | "untrusted-source"
  | "tls-handshake"
  | "upstream"
  | "max-connections"
  | "max-connections-per-ip"
  | "first-frame-timeout"
  | "idle-timeout";

/** The kinds of bad input found inside the Kafka frames of a proxied connection. */
export type FrameRejectionKind = Extract<RejectionKind, "frame-size" | "protocol">;
