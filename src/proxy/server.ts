/**
 * The Kafka listeners of one node: one port per broker, each connection proxied to its broker over
 * a dedicated upstream connection.
 *
 * @module
 */
import { logger } from "../log.ts";
import { closeQuietly } from "../lib/close.ts";
import { settleWithin, sleep } from "../lib/deadline.ts";
import { RateLimitedLog } from "../lib/rate_limited_log.ts";
import { type ConnectionLimits, ConnectionTracker, type TrackedConnection } from "./connection_tracker.ts";
import type { Filter } from "./filter.ts";
import { readFirstFrame } from "./first_frame.ts";
import { FrameError } from "./pump.ts";
import type { RejectionKind } from "./rejection.ts";
import { firstRequestCheck, type SessionEnd, type SessionEndListener, startSession } from "./session.ts";
import {
  type ProxiedConnection,
  proxyHeaderStage,
  type ProxyProtocolOptions,
} from "./transport/proxy_header.ts";
import { type ByteStream, formatAddress, prefixedStream, type StreamListener } from "./transport/stream.ts";
import { listenTcp } from "./transport/tcp.ts";
import { type TlsServerOptions, tlsServerStage, type TlsSessionInfo } from "./transport/tls.ts";
import { tcpUpstream, type UpstreamConnector } from "./transport/upstream.ts";

export { formatAddress } from "./transport/stream.ts";
export type { ProxyProtocolOptions } from "./transport/proxy_header.ts";
export type { TlsServerOptions, TlsSessionInfo } from "./transport/tls.ts";
export type { RejectionKind } from "./rejection.ts";
export type { ConnectionLimits } from "./connection_tracker.ts";

const log = logger("proxy");
const infoLine = (message: string, values: Record<string, unknown>) => log.info(message, values);

/** The limits of a node whose settings do not say otherwise (the settings' defaults). */
export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = Object.freeze({
  maxConnections: 100_000,
  maxConnectionsPerIp: 0,
  idleMs: 600_000,
  firstFrameMs: 10_000,
});

/**
 * What every listener of a node shares: the caps and timeouts of its client connections, and the
 * rate-limited log of bad peers (refusals, framing errors, failed handshakes, timeouts).
 */
export interface NodeConnections {
  /** Open connections, caps and timeouts. */
  readonly tracker: ConnectionTracker;
  /** Log lines about bad peers: the first few per interval, then a count. */
  readonly badPeers: RateLimitedLog;
}

/**
 * The shared connection state of a node's listeners (its sweep also reports the suppressed log
 * lines); `badPeerLogLimit` lines about bad peers are written per 10 s.
 *
 * @example
 * ```ts ignore
 * const connections = nodeConnections({ maxConnections: 100_000, maxConnectionsPerIp: 0, idleMs: 600_000, firstFrameMs: 10_000 });
 * new ProxyServer({ ...options, connections });
 * ```
 */
export function nodeConnections(limits: ConnectionLimits, badPeerLogLimit = 10): NodeConnections {
  const badPeers = new RateLimitedLog((message, values) => log.warn(message, values), {
    perInterval: badPeerLogLimit,
  });
  const tracker = new ConnectionTracker(limits, { onSweep: () => badPeers.flush() });
  return { tracker, badPeers };
}

/** The longest {@link ProxyServer.close} waits for connection tasks. */
const SHUTDOWN_WAIT_MS = 3000;

/** A broker the proxy can connect to. */
export interface UpstreamBroker {
  /** Its broker id. */
  nodeId: number;
  /** Host or IP to connect to. */
  host: string;
  /** Port to connect to. */
  port: number;
}

/** What the listeners need from the rest of the node. */
export interface ProxyServerOptions {
  /** Address the Kafka ports listen on. */
  bindHost: string;
  /** The first Kafka port (bootstrap and broker `minBrokerId`). */
  portStart: number;
  /** How many consecutive ports to listen on. */
  portCount: number;
  /** The broker id served by `portStart` (when there is no `route`). */
  minBrokerId: number;
  /**
   * The broker a connection asks for, from the port it came in on and its TLS session (host routing
   * reads the server name); undefined routes it to any broker (bootstrap). Default: port routing,
   * `minBrokerId + (port - portStart)`.
   */
  route?(port: number, tls?: TlsSessionInfo): number | undefined;
  /** Largest request frame accepted, in bytes. */
  maxFrameBytes: number;
  /** How long connecting to a broker may take. */
  upstreamConnectTimeoutMs: number;
  /** The broker with this id, if the node knows it. */
  broker(nodeId: number): UpstreamBroker | undefined;
  /** Any live broker, for bootstrap ports. */
  anyBroker(): UpstreamBroker | undefined;
  /**
   * Called when a connection arrives on the port of a broker the node does not know: refreshes the
   * broker list (unless fresh) when the broker may be coming back; never throws.
   */
  refreshBrokers?(brokerId: number): Promise<void>;
  /**
   * The filters of one connection, in request order; `clientAddress` is the client as the mapping
   * must see it (behind a load balancer, the original source from the PROXY header).
   */
  filters(clientAddress: string): readonly Filter[];
  /** Connection events (audit, metrics). */
  events?: ProxyEvents;
  /** Require a PROXY protocol header first on every connection. */
  proxyProtocol?: ProxyProtocolOptions;
  /** Serve TLS: a handshake on every connection (after the PROXY header, when one is required). */
  tls?: TlsServerOptions;
  /** The client transport (default: plain TCP). */
  listen?: (hostname: string, port: number) => StreamListener;
  /** The upstream transport (default: plain TCP). */
  connectUpstream?: UpstreamConnector;
  /**
   * Caps, timeouts and the bad-peer log, shared by every listener of the node (default: this
   * server's own, with {@link DEFAULT_CONNECTION_LIMITS}).
   */
  connections?: NodeConnections;
}

/** How a proxied connection ended. */
export type ConnectionEnd = SessionEnd;

/** What is known of one client connection. */
export interface ConnectionInfo {
  /** The TCP peer, `ip:port`. */
  clientAddress: string;
  /** The node's end, `ip:port`. */
  localAddress: string;
  /** What the PROXY header said, when one was read. */
  proxied?: ProxiedConnection;
  /** What the TLS handshake established, on a TLS listener. */
  tls?: TlsSessionInfo;
  /** The broker it is routed to. */
  broker?: UpstreamBroker;
  /** When it was accepted (performance.now()). */
  acceptedAt: number;
}

/** Connection-level events (audit, metrics). */
export interface ProxyEvents {
  /** The connection is proxied to its broker. */
  opened?(info: ConnectionInfo): void;
  /** A proxied connection ended. */
  closed?(info: ConnectionInfo, end: ConnectionEnd, bytes: { in: number; out: number }): void;
  /** Bytes read from a client (called per read). */
  bytesIn?(n: number): void;
  /** Bytes read from a broker for a client (called per read). */
  bytesOut?(n: number): void;
  /**
   * A connection was refused before it was proxied; `kind` names why, for metrics. `logged`: its log
   * line was written (false: the bad-peer rate limit suppressed it, so should its audit line be).
   */
  rejected?(info: ConnectionInfo, reason: string, kind: RejectionKind, logged: boolean): void;
}

/**
 * How a connection is named in log lines: the peer, plus the original addresses from a PROXY header
 * and the subject of a verified client certificate.
 */
export function describeClient(info: ConnectionInfo): string {
  const proxied = info.proxied;
  const subject = info.tls?.clientCertificateSubject;
  const certificate = subject === undefined ? "" : ` (client certificate: ${subject})`;
  if (proxied?.command !== "PROXY") return `${info.clientAddress}${certificate}`;
  return `${info.clientAddress} (original source: [${proxied.source ?? "unknown"}], original destination: [${
    proxied.destination ?? "unknown"
  }])${certificate}`;
}

/** The Kafka listeners of one node. */
export class ProxyServer {
  readonly #options: ProxyServerOptions;
  readonly #listeners: StreamListener[] = [];
  readonly #connections: NodeConnections;
  /** This server's open connections (the tracker may be shared with other servers). */
  readonly #open = new Set<TrackedConnection>();
  /** Tasks (accept loops, connections) still running, and who waits for none to be left. */
  #tasks = 0;
  #noTasks: (() => void) | undefined;
  /** Settles once no task is left after close(). */
  #tasksDone: Promise<void> | undefined;
  #started = false;
  #closing = false;

  /**
   * Listeners not yet bound ({@link ProxyServer.listen} binds them).
   *
   * @param options what the listeners need from the rest of the node
   */
  constructor(options: ProxyServerOptions) {
    this.#options = options;
    this.#connections = options.connections ?? nodeConnections(DEFAULT_CONNECTION_LIMITS);
  }

  /** The ports listened on. */
  get ports(): number[] {
    return this.#listeners.map((l) => l.port);
  }

  /** Binds every port; fails (closing what was bound) if one cannot be bound. */
  listen(): void {
    const { bindHost, portStart, portCount } = this.#options;
    const listen = this.#options.listen ?? listenTcp;
    try {
      for (let port = portStart; port < portStart + portCount; port++) {
        const listener = listen(bindHost, port);
        this.#listeners.push(listener);
        this.#track(this.#acceptLoop(listener, port));
      }
    } catch (error) {
      for (const l of this.#listeners) l.close();
      this.#listeners.length = 0;
      throw new Error(`cannot listen on ${bindHost}:${portStart}-${portStart + portCount - 1}: ${error}`);
    }
    this.#connections.tracker.start();
    this.#started = true;
    log.info("listening on {bindHost} ports {first}-{last}", {
      bindHost,
      first: portStart,
      last: portStart + portCount - 1,
    });
  }

  /**
   * Stops accepting, closes every connection, and waits for their tasks — at most
   * `SHUTDOWN_WAIT_MS`: a task still connecting to a broker must not hold up the exit.
   */
  async close(): Promise<void> {
    this.#closing = true;
    if (this.#started) this.#connections.tracker.stop();
    this.#started = false;
    for (const listener of this.#listeners) closeQuietly(listener);
    for (const connection of this.#open) connection.close();
    // One promise for every caller: a second close() must not take the first one's resolver.
    this.#tasksDone ??= this.#tasks === 0 ? Promise.resolve() : new Promise<void>((r) => this.#noTasks = r);
    await settleWithin(this.#tasksDone, AbortSignal.timeout(SHUTDOWN_WAIT_MS));
  }

  /**
   * Runs an accept loop counted for {@link ProxyServer.close} (connections are counted from their
   * accept to their end, see `#serve`). A bug in it is logged, never reaches the runtime as an
   * unhandled rejection.
   */
  async #track(task: Promise<void>): Promise<void> {
    this.#tasks++;
    try {
      await task;
    } catch (error) {
      log.error("connection task failed: {error}", { error: String((error as Error)?.stack ?? error) });
    } finally {
      if (--this.#tasks === 0) this.#noTasks?.();
    }
  }

  async #acceptLoop(listener: StreamListener, port: number): Promise<void> {
    for (;;) {
      let stream: ByteStream;
      try {
        stream = await listener.accept();
      } catch (error) {
        if (this.#closing || error instanceof Deno.errors.BadResource) return;
        // e.g. out of file descriptors: back off instead of spinning.
        log.warn("accept failed on port {port}: {error}", { port, error: String(error) });
        await sleep(100);
        continue;
      }
      // Counted until the connection ends: `#serve` hands a live one over to its LiveConnection.
      this.#tasks++;
      this.#serve(stream, port);
    }
  }

  /** A connection's task is done (it never started a session, or its session ended). */
  #taskDone(): void {
    if (--this.#tasks === 0) this.#noTasks?.();
  }

  /** Closes a connection's streams and stops counting it. */
  #release(tracked: TrackedConnection): void {
    tracked.close();
    this.#connections.tracker.release(tracked);
    this.#open.delete(tracked);
  }

  /** What every live connection reports to its server: one object per server, none per connection. */
  readonly #connectionEvents: LiveConnectionEvents = {
    ended: (connection, end) => this.#sessionEnded(connection, end),
  };

  /** A live connection's session ended. */
  #sessionEnded(connection: LiveConnection, end: SessionEnd): void {
    const tracked = connection.tracked;
    try {
      if (tracked.timedOut !== undefined) {
        end = { by: "gateway", reason: timeoutReason(tracked.timedOut), kind: tracked.timedOut };
      } else if (this.#closing && end.by !== "error") end.by = "gateway";
      this.#logEnd(connection.info, connection.port, end);
      this.#options.events?.closed?.(connection.info, end, {
        in: connection.bytesIn,
        out: connection.bytesOut,
      });
    } catch (error) {
      log.error("connection task failed: {error}", { error: String((error as Error)?.stack ?? error) });
    } finally {
      this.#release(tracked);
      this.#taskDone();
    }
  }

  /**
   * One connection until its session starts: then a {@link LiveConnection} sees it to the end, so this
   * frame is not held for the connection's life. Never throws.
   */
  async #serve(accepted: ByteStream, port: number): Promise<void> {
    const options = this.#options;
    const { tracker } = this.#connections;
    let tracked: TrackedConnection | undefined;
    let handedOver = false;
    // Everything in the try: nothing thrown here may become an unhandled rejection (fatal to the node)
    // or leave the connection counted.
    try {
      // Every field from the start: one shape, no property array added later per connection.
      const info: ConnectionInfo = {
        clientAddress: formatAddress(accepted.remote),
        localAddress: formatAddress(accepted.local),
        proxied: undefined,
        tls: undefined,
        broker: undefined,
        acceptedAt: performance.now(),
      };
      // With the PROXY protocol the original source counts per IP, once the header has named it.
      const admitted = tracker.admit(options.proxyProtocol ? undefined : accepted.remote.hostname);
      if (typeof admitted === "string") {
        closeQuietly(accepted);
        this.#reject(info, capReason(admitted), admitted);
        return;
      }
      tracked = admitted;
      tracked.accepted = accepted;
      this.#open.add(tracked);
      let client = accepted;
      if (options.proxyProtocol) {
        const stage = await proxyHeaderStage(accepted, options.proxyProtocol);
        if (!stage.ok) {
          this.#reject(info, stage.reason, stage.kind, tracked);
          return;
        }
        info.proxied = stage.proxied;
        client = stage.stream;
        tracked.client = client;
        const source = stage.proxied.command === "PROXY" ? stage.proxied.source : undefined;
        const refused = tracker.recount(tracked, source ? hostOf(source) : accepted.remote.hostname);
        if (refused) {
          this.#reject(info, capReason(refused), refused);
          return;
        }
      }
      if (options.tls) {
        // After the PROXY header: a load balancer sends it before relaying the client's ClientHello.
        const stage = await tlsServerStage(client, options.tls);
        if (!stage.ok) {
          this.#reject(info, stage.reason, stage.kind, tracked, stage.abortedByPeer);
          return;
        }
        info.tls = stage.tls;
        client = stage.stream;
        tracked.client = client;
      }
      // Behind a load balancer the mapping must see the client, not the balancer. Built when the first
      // frame's header has come: a connection that never sends one (a probe, a stalled peer; the bulk of
      // a node's connections at scale) costs no filter chain.
      let filters: readonly Filter[] | undefined;
      const connectionFilters = () =>
        filters ??= options.filters(
          info.proxied?.command === "PROXY" && info.proxied.source ? info.proxied.source : info.clientAddress,
        );
      // Routed now (a lookup), connected only once a valid frame has come.
      const brokerId = options.route
        ? options.route(port, info.tls)
        : options.minBrokerId + (port - options.portStart);
      // A broker that came back since the last refresh is unknown until the next one: look again
      // before treating its port as a bootstrap port, or the client would be stuck on another broker.
      let broker = brokerId === undefined ? undefined : options.broker(brokerId);
      if (broker === undefined && brokerId !== undefined && options.refreshBrokers) {
        await options.refreshBrokers(brokerId);
        broker = options.broker(brokerId);
      }
      broker ??= options.anyBroker();
      if (broker === undefined) {
        this.#reject(info, "no live broker known");
        return;
      }
      info.broker = broker;
      // No broker connection before one complete, valid request frame.
      let first: Uint8Array | null;
      try {
        first = await readFirstFrame(client, {
          maxFrameBytes: options.maxFrameBytes,
          check: firstRequestCheck(connectionFilters),
        });
      } catch (error) {
        if (tracked.timedOut !== undefined) this.#reject(info, "", "first-frame-timeout", tracked);
        else if (error instanceof FrameError) this.#badFirstFrame(info, port, error);
        return; // else the client reset the connection
      }
      if (first === null) {
        // Closed before sending a byte: a health check or a port probe, or the sweep.
        this.#reject(info, "connection closed before a request", "closed-before-request", tracked);
        return;
      }
      tracker.framed(tracked);
      let upstream: ByteStream;
      try {
        upstream = await (options.connectUpstream ?? tcpUpstream)(broker, options.upstreamConnectTimeoutMs);
      } catch (error) {
        this.#reject(
          info,
          `cannot connect to broker ${broker.nodeId} at ${broker.host}:${broker.port}: ${
            (error as Error).message
          }`,
        );
        return;
      }
      tracked.upstream = upstream;
      if (this.#closing || tracked.timedOut !== undefined) return;
      options.events?.opened?.(info);
      const connection = new LiveConnection(
        info,
        port,
        tracked,
        tracker,
        options.events,
        this.#connectionEvents,
      );
      startSession({
        client: prefixedStream(first, client),
        upstream,
        maxFrameBytes: options.maxFrameBytes,
        filters: connectionFilters(),
        onBytesIn: connection.in,
        onBytesOut: connection.out,
      }, connection);
      handedOver = true;
    } catch (error) {
      log.error("connection task failed: {error}", { error: String((error as Error)?.stack ?? error) });
    } finally {
      if (!handedOver) {
        if (tracked === undefined) closeQuietly(accepted);
        else this.#release(tracked);
        this.#taskDone();
      }
    }
  }

  /**
   * Logs (rate-limited) and reports a refused connection; a stage that failed because the sweep
   * closed the connection is reported as that timeout.
   */
  #reject(
    info: ConnectionInfo,
    reason: string,
    kind: RejectionKind = "upstream",
    tracked?: TrackedConnection,
    abortedByPeer = false,
  ): void {
    if (tracked?.timedOut !== undefined) {
      kind = tracked.timedOut;
      reason = timeoutReason(tracked.timedOut);
      abortedByPeer = false;
    }
    const values = { client: describeClient(info), reason };
    if (kind === "closed-before-request") {
      // A load balancer's health check or a port probe: not bad input, not worth a line by default.
      log.debug("connection from {client} closed before sending anything: {reason}", values);
      this.#options.events?.rejected?.(info, reason, kind, false);
      return;
    }
    // A client that gave up in the middle of a handshake is no bad input: info, within the budget.
    const logged = this.#connections.badPeers.log(
      kind,
      "closing connection from {client}: {reason}",
      values,
      abortedByPeer ? infoLine : undefined,
    );
    this.#options.events?.rejected?.(info, reason, kind, logged);
  }

  /** Logs (rate-limited) and reports a connection closed for a bad first frame, before any broker connection. */
  #badFirstFrame(info: ConnectionInfo, port: number, error: FrameError): void {
    const reason = `client: ${error.message}`;
    const logged = this.#connections.badPeers.log(
      error.kind,
      "closed connection from {client} (port {port}, broker {brokerId}): {reason}",
      { client: describeClient(info), port, brokerId: info.broker?.nodeId, reason },
    );
    this.#options.events?.rejected?.(info, reason, error.kind, logged);
  }

  #logEnd(info: ConnectionInfo, port: number, end: ConnectionEnd): void {
    const values = {
      client: describeClient(info),
      port,
      brokerId: info.broker?.nodeId,
      reason: end.reason ?? "",
    };
    if (end.by === "error") {
      this.#connections.badPeers.log(
        end.kind ?? "error",
        "closed connection from {client} (port {port}, broker {brokerId}): {reason}",
        values,
      );
    } else if (end.by === "upstream") {
      log.info("broker {brokerId} closed the connection of {client} {reason}", values);
    } else {
      log.debug("connection from {client} closed by {by}", { ...values, by: end.by });
    }
  }
}

function capReason(kind: "max-connections" | "max-connections-per-ip"): string {
  return kind === "max-connections"
    ? "the node has GATEWAY_MAX_CONNECTIONS client connections open"
    : "the client's IP has GATEWAY_MAX_CONNECTIONS_PER_IP connections open";
}

function timeoutReason(kind: "idle-timeout" | "first-frame-timeout"): string {
  return kind === "idle-timeout"
    ? "no bytes either way for GATEWAY_CONNECTIONS_MAX_IDLE_MS"
    : "no complete request frame within GATEWAY_FIRST_FRAME_TIMEOUT_MS";
}

/** The host of an `ip:port` or `[ipv6]:port` address. */
function hostOf(address: string): string {
  if (address.startsWith("[")) return address.slice(1, address.indexOf("]"));
  const colon = address.lastIndexOf(":");
  return colon < 0 ? address : address.slice(0, colon);
}

/** What a {@link LiveConnection} tells its server. */
interface LiveConnectionEvents {
  /** The connection's session ended. */
  ended(connection: LiveConnection, end: SessionEnd): void;
}

/**
 * A connection whose session runs: what its server needs at the end (who, the port, the bytes each
 * way), and the session's end listener. Counts the bytes read each way and stamps the connection
 * active for the idle timeout.
 */
class LiveConnection implements SessionEndListener {
  bytesIn = 0;
  bytesOut = 0;
  readonly info: ConnectionInfo;
  readonly port: number;
  readonly tracked: TrackedConnection;
  readonly #events: LiveConnectionEvents;
  readonly #tracker: ConnectionTracker;
  readonly #proxyEvents: ProxyEvents | undefined;

  constructor(
    info: ConnectionInfo,
    port: number,
    tracked: TrackedConnection,
    tracker: ConnectionTracker,
    proxyEvents: ProxyEvents | undefined,
    events: LiveConnectionEvents,
  ) {
    this.info = info;
    this.port = port;
    this.tracked = tracked;
    this.#tracker = tracker;
    this.#proxyEvents = proxyEvents;
    this.#events = events;
  }

  /** Bytes read from the client. */
  readonly in = (n: number): void => {
    this.bytesIn += n;
    this.tracked.lastActive = this.#tracker.clock;
    this.#proxyEvents?.bytesIn?.(n);
  };

  /** Bytes read from the broker. */
  readonly out = (n: number): void => {
    this.bytesOut += n;
    this.tracked.lastActive = this.#tracker.clock;
    this.#proxyEvents?.bytesOut?.(n);
  };

  sessionEnded(end: SessionEnd): void {
    this.#events.ended(this, end);
  }
}
