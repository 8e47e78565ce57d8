/**
 * The Kafka listeners of one node: one port per broker, each connection proxied to its broker over
 * a dedicated upstream connection.
 *
 * @module
 */
import { logger } from "../log.ts";
import { closeQuietly } from "../lib/close.ts";
import { settleWithin, sleep } from "../lib/deadline.ts";
import type { Filter } from "./filter.ts";
import type { RejectionKind } from "./rejection.ts";
import { runSession, type SessionEnd } from "./session.ts";
import {
  type ProxiedConnection,
  proxyHeaderStage,
  type ProxyProtocolOptions,
} from "./transport/proxy_header.ts";
import { type ByteStream, formatAddress, type StreamListener } from "./transport/stream.ts";
import { listenTcp } from "./transport/tcp.ts";
import { type TlsServerOptions, tlsServerStage, type TlsSessionInfo } from "./transport/tls.ts";
import { tcpUpstream, type UpstreamConnector } from "./transport/upstream.ts";

export { formatAddress } from "./transport/stream.ts";
export type { ProxyProtocolOptions } from "./transport/proxy_header.ts";
export type { TlsServerOptions, TlsSessionInfo } from "./transport/tls.ts";
export type { RejectionKind } from "./rejection.ts";

const log = logger("proxy");

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
  /** A connection was refused before it was proxied; `kind` names why, for metrics. */
  rejected?(info: ConnectionInfo, reason: string, kind: RejectionKind): void;
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
  readonly #open = new Set<ByteStream>();
  readonly #tasks = new Set<Promise<void>>();
  #closing = false;

  /**
   * Listeners not yet bound ({@link ProxyServer.listen} binds them).
   *
   * @param options what the listeners need from the rest of the node
   */
  constructor(options: ProxyServerOptions) {
    this.#options = options;
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
    for (const listener of this.#listeners) closeQuietly(listener);
    for (const stream of this.#open) closeQuietly(stream);
    await settleWithin(Promise.allSettled([...this.#tasks]), AbortSignal.timeout(SHUTDOWN_WAIT_MS));
  }

  #track(task: Promise<void>): void {
    // A bug in a connection task (an event callback throwing, say) must end that connection only,
    // never reach the runtime as an unhandled rejection.
    const tracked = task.catch((error) => {
      log.error("connection task failed: {error}", { error: String((error as Error)?.stack ?? error) });
    }).finally(() => this.#tasks.delete(tracked));
    this.#tasks.add(tracked);
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
      this.#track(this.#serve(stream, port));
    }
  }

  async #serve(accepted: ByteStream, port: number): Promise<void> {
    const options = this.#options;
    const info: ConnectionInfo = {
      clientAddress: formatAddress(accepted.remote),
      localAddress: formatAddress(accepted.local),
      acceptedAt: performance.now(),
    };
    this.#open.add(accepted);
    let upstream: ByteStream | undefined;
    let client = accepted;
    try {
      if (options.proxyProtocol) {
        const stage = await proxyHeaderStage(accepted, options.proxyProtocol);
        if (!stage.ok) {
          this.#reject(info, stage.reason, stage.kind);
          return;
        }
        info.proxied = stage.proxied;
        client = stage.stream;
      }
      if (options.tls) {
        // After the PROXY header: a load balancer sends it before relaying the client's ClientHello.
        const stage = await tlsServerStage(client, options.tls);
        if (!stage.ok) {
          this.#reject(info, stage.reason, stage.kind);
          return;
        }
        info.tls = stage.tls;
        client = stage.stream;
        this.#open.add(client);
      }
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
      if (this.#closing) return;
      this.#open.add(upstream);
      options.events?.opened?.(info);
      let bytesIn = 0;
      let bytesOut = 0;
      const end = await runSession({
        client,
        upstream,
        maxFrameBytes: options.maxFrameBytes,
        // Behind a load balancer the mapping must see the client, not the balancer.
        filters: options.filters(
          info.proxied?.command === "PROXY" && info.proxied.source ? info.proxied.source : info.clientAddress,
        ),
        onBytesIn: (n) => {
          bytesIn += n;
          options.events?.bytesIn?.(n);
        },
        onBytesOut: (n) => {
          bytesOut += n;
          options.events?.bytesOut?.(n);
        },
      });
      if (this.#closing && end.by !== "error") end.by = "gateway";
      this.#logEnd(info, port, end);
      options.events?.closed?.(info, end, { in: bytesIn, out: bytesOut });
    } finally {
      if (client !== accepted) closeQuietly(client);
      closeQuietly(accepted);
      closeQuietly(upstream);
      this.#open.delete(client);
      this.#open.delete(accepted);
      if (upstream) this.#open.delete(upstream);
    }
  }

  #reject(info: ConnectionInfo, reason: string, kind: RejectionKind = "upstream"): void {
    log.warn("closing connection from {client}: {reason}", { client: describeClient(info), reason });
    this.#options.events?.rejected?.(info, reason, kind);
  }

  #logEnd(info: ConnectionInfo, port: number, end: ConnectionEnd): void {
    const values = {
      client: describeClient(info),
      port,
      brokerId: info.broker?.nodeId,
      reason: end.reason ?? "",
    };
    if (end.by === "error") {
      log.warn("closed connection from {client} (port {port}, broker {brokerId}): {reason}", values);
    } else if (end.by === "upstream") {
      log.info("broker {brokerId} closed the connection of {client} {reason}", values);
    } else {
      log.debug("connection from {client} closed by {by}", { ...values, by: end.by });
    }
  }
}
