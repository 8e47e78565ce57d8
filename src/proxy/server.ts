/**
 * The Kafka listeners of one node: one port per broker, each connection proxied to its broker over
 * a dedicated upstream connection.
 *
 * @module
 */
import { logger } from "../log.ts";
import { type ConnectionEnd, proxyConnection, type RequestPolicyContext } from "./connection.ts";
import type { RewriteContext } from "./rewrite.ts";

const log = logger("proxy");

/** A broker the proxy can connect to. */
export interface UpstreamBroker {
  nodeId: number;
  host: string;
  port: number;
}

/** What the listeners need from the rest of the node. */
export interface ProxyServerOptions {
  bindHost: string;
  portStart: number;
  portCount: number;
  minBrokerId: number;
  maxFrameBytes: number;
  upstreamConnectTimeoutMs: number;
  /** The broker with this id, if the node knows it. */
  broker(nodeId: number): UpstreamBroker | undefined;
  /** Any live broker, for bootstrap ports. */
  anyBroker(): UpstreamBroker | undefined;
  requestContext: RequestPolicyContext;
  /** Builds the rewrite context of one connection. */
  rewriteContext(clientAddress: string): RewriteContext;
  /** Connection events, for metrics. */
  events?: ProxyEvents;
}

/** Connection-level events. */
export interface ProxyEvents {
  opened?(info: { clientAddress: string; localAddress: string; broker: UpstreamBroker }): void;
  closed?(info: { clientAddress: string; end: ConnectionEnd; bytesIn: number; bytesOut: number }): void;
  upstreamError?(info: { broker: UpstreamBroker; reason: string }): void;
}

/** Formats a Deno address as `host:port`. */
export function formatAddress(addr: Deno.Addr): string {
  if (addr.transport === "tcp" || addr.transport === "udp") {
    return addr.hostname.includes(":") ? `[${addr.hostname}]:${addr.port}` : `${addr.hostname}:${addr.port}`;
  }
  return "unix";
}

/** Connects with a timeout. */
async function connectWithTimeout(host: string, port: number, timeoutMs: number): Promise<Deno.TcpConn> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const attempt = Deno.connect({ hostname: host, port, transport: "tcp" });
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`connect timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    return await Promise.race([attempt, timeout]);
  } catch (error) {
    attempt.then((conn) => conn.close(), () => {});
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The Kafka listeners of one node. */
export class ProxyServer {
  readonly #options: ProxyServerOptions;
  readonly #listeners: Deno.TcpListener[] = [];
  readonly #open = new Set<Deno.Conn>();
  readonly #clients = new Set<Deno.Conn>();
  readonly #tasks = new Set<Promise<void>>();
  #closing = false;

  constructor(options: ProxyServerOptions) {
    this.#options = options;
  }

  /** The ports listened on. */
  get ports(): number[] {
    return this.#listeners.map((l) => (l.addr as Deno.NetAddr).port);
  }

  /** Number of open client connections. */
  get openConnections(): number {
    return this.#clients.size;
  }

  /** Binds every port; fails (closing what was bound) if one cannot be bound. */
  listen(): void {
    const { bindHost, portStart, portCount } = this.#options;
    try {
      for (let port = portStart; port < portStart + portCount; port++) {
        const listener = Deno.listen({ hostname: bindHost, port, transport: "tcp" });
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

  /** Stops accepting, closes every connection, and waits for their tasks. */
  async close(): Promise<void> {
    this.#closing = true;
    for (const listener of this.#listeners) {
      try {
        listener.close();
      } catch { /* closed */ }
    }
    for (const conn of this.#open) {
      try {
        conn.close();
      } catch { /* closed */ }
    }
    await Promise.allSettled([...this.#tasks]);
  }

  #track(task: Promise<void>): void {
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  async #acceptLoop(listener: Deno.TcpListener, port: number): Promise<void> {
    for (;;) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch (error) {
        if (this.#closing || error instanceof Deno.errors.BadResource) return;
        log.warn("accept failed on port {port}: {error}", { port, error: String(error) });
        continue;
      }
      this.#track(this.#serve(conn, port));
    }
  }

  async #serve(client: Deno.TcpConn, port: number): Promise<void> {
    const options = this.#options;
    const clientAddress = formatAddress(client.remoteAddr);
    const localAddress = formatAddress(client.localAddr);
    const brokerId = options.minBrokerId + (port - options.portStart);
    const broker = options.broker(brokerId) ?? options.anyBroker();
    if (broker === undefined) {
      log.warn("closing connection from {clientAddress}: no live broker known", { clientAddress });
      client.close();
      return;
    }
    this.#open.add(client);
    this.#clients.add(client);
    let upstream: Deno.TcpConn;
    try {
      client.setNoDelay(true);
      upstream = await connectWithTimeout(broker.host, broker.port, options.upstreamConnectTimeoutMs);
      upstream.setNoDelay(true);
    } catch (error) {
      const reason = `cannot connect to broker ${broker.nodeId} at ${broker.host}:${broker.port}: ${
        (error as Error).message
      }`;
      log.warn("closing connection from {clientAddress}: {reason}", { clientAddress, reason });
      options.events?.upstreamError?.({ broker, reason });
      this.#open.delete(client);
      this.#clients.delete(client);
      try {
        client.close();
      } catch { /* closed */ }
      return;
    }
    if (this.#closing) {
      client.close();
      upstream.close();
      this.#open.delete(client);
      this.#clients.delete(client);
      return;
    }
    this.#open.add(upstream);
    options.events?.opened?.({ clientAddress, localAddress, broker });
    let bytesIn = 0;
    let bytesOut = 0;
    const end = await proxyConnection({
      client,
      upstream,
      maxFrameBytes: options.maxFrameBytes,
      requestContext: options.requestContext,
      rewriteContext: options.rewriteContext(clientAddress),
      onBytesIn: (n) => bytesIn += n,
      onBytesOut: (n) => bytesOut += n,
    });
    this.#open.delete(client);
    this.#clients.delete(client);
    this.#open.delete(upstream);
    if (end.by === "error") {
      log.warn("closed connection from {clientAddress} (port {port}, broker {brokerId}): {reason}", {
        clientAddress,
        port,
        brokerId: broker.nodeId,
        reason: end.reason,
      });
    } else if (end.by === "upstream" && !this.#closing) {
      log.info("broker {brokerId} closed the connection of {clientAddress}{reason}", {
        brokerId: broker.nodeId,
        clientAddress,
        reason: end.reason ? `: ${end.reason}` : "",
      });
    } else {
      log.debug("connection from {clientAddress} closed by {by}", { clientAddress, by: end.by });
    }
    options.events?.closed?.({ clientAddress, end, bytesIn, bytesOut });
  }
}
