/**
 * The open client connections of a node: the caps on how many (per node, per client IP) and the
 * timeouts (idle; no complete frame yet). One coarse sweep for the whole node checks the timeouts
 * every second over activity stamps the data path sets per read — no timer per connection, none per
 * read.
 *
 * @module
 */
import { closeQuietly } from "../lib/close.ts";
import type { RejectionKind } from "./rejection.ts";

/** Something to close. */
type Closeable = { close(): void };

/** The limits of a node's client connections. */
export interface ConnectionLimits {
  /** Most open client connections. */
  maxConnections: number;
  /** Most open client connections per client IP (0: unlimited). */
  maxConnectionsPerIp: number;
  /** A connection with no bytes either way for this long is closed (0: never). */
  idleMs: number;
  /** A connection without a complete request frame this long after it was accepted is closed. */
  firstFrameMs: number;
}

/** Why the sweep closed a connection. */
export type TimeoutKind = Extract<RejectionKind, "idle-timeout" | "first-frame-timeout">;

/** The tracker's record of one open connection. */
export class TrackedConnection {
  /**
   * The tracker's coarse clock when bytes last went either way (set by the data path, per read): the
   * time of the sweep before that read, so the read itself came at or after it, before the next sweep.
   */
  lastActive: number;
  /** When it was accepted (a real clock read). */
  readonly acceptedAt: number;
  /** The `lastActive` stamp the sweep last saw (@internal). */
  seenActive: number;
  /**
   * No byte went either way since this time, as far as the sweep can tell: the sweep that first saw
   * the current `lastActive` stamp (every read stamped with it came before that sweep). @internal
   */
  quietSince: number;
  /** The IP it is counted under (undefined: not counted per IP). */
  ip: string | undefined;
  /** A complete request frame has arrived: the first-frame timeout no longer applies. */
  framed = false;
  /** Set when the sweep closed the connection. */
  timedOut: TimeoutKind | undefined;
  /** The accepted stream (set by the owner): {@link TrackedConnection.close} closes it. */
  accepted: Closeable | undefined;
  /** The client's stream after the transport stages (PROXY header, TLS), when not the accepted one. */
  client: Closeable | undefined;
  /** The broker's stream, once connected. */
  upstream: Closeable | undefined;

  /** @internal */
  constructor(now: number, ip: string | undefined) {
    this.lastActive = now;
    this.acceptedAt = now;
    this.seenActive = now;
    this.quietSince = now;
    this.ip = ip;
  }

  /** Closes the connection's streams (one already closed is skipped). */
  close(): void {
    closeQuietly(this.client);
    closeQuietly(this.accepted);
    closeQuietly(this.upstream);
  }
}

/** Options of {@link ConnectionTracker}. */
export interface ConnectionTrackerOptions {
  /** How often the timeouts are checked (default 1000 ms). */
  sweepMs?: number;
  /** The clock, in milliseconds (default `performance.now`). */
  now?: () => number;
  /** Called once per sweep with what the sweep did (e.g. for the rate-limited log's flush). */
  onSweep?: () => void;
}

/**
 * Caps and timeouts of a node's client connections.
 *
 * @example
 * ```ts
 * const tracker = new ConnectionTracker({ maxConnections: 100_000, maxConnectionsPerIp: 0, idleMs: 600_000, firstFrameMs: 10_000 });
 * const admitted = tracker.admit("10.0.0.1");
 * if (typeof admitted !== "string") {
 *   admitted.accepted = conn; // closed by admitted.close() (the sweep's timeouts call it)
 *   tracker.release(admitted);
 * }
 * ```
 */
export class ConnectionTracker {
  readonly #limits: ConnectionLimits;
  readonly #sweepMs: number;
  readonly #now: () => number;
  readonly #onSweep: (() => void) | undefined;
  readonly #open = new Set<TrackedConnection>();
  /** Connections with no complete frame yet (the only ones the first-frame timeout looks at). */
  readonly #unframed = new Set<TrackedConnection>();
  readonly #perIp = new Map<string, number>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #users = 0;
  /**
   * The coarse clock the data path stamps activity with: the time of the last sweep (a field read
   * per read instead of a clock call).
   */
  clock: number;

  /**
   * A tracker with no connections; {@link ConnectionTracker.start} starts its sweep.
   *
   * @param limits caps and timeouts
   * @param options sweep interval and clock
   */
  constructor(limits: ConnectionLimits, options: ConnectionTrackerOptions = {}) {
    this.#limits = limits;
    this.#sweepMs = options.sweepMs ?? 1000;
    this.#now = options.now ?? (() => performance.now());
    this.#onSweep = options.onSweep;
    this.clock = this.#now();
  }

  /** Open connections. */
  get size(): number {
    return this.#open.size;
  }

  /** Open connections counted under `ip`. */
  countOf(ip: string): number {
    return this.#perIp.get(ip) ?? 0;
  }

  /**
   * Counts a new connection from `ip` (undefined: counted per node only, e.g. until a PROXY header
   * names the original source), or says which cap refuses it.
   */
  admit(ip: string | undefined): TrackedConnection | "max-connections" | "max-connections-per-ip" {
    if (this.#open.size >= this.#limits.maxConnections) return "max-connections";
    if (ip !== undefined && this.#overIpCap(ip)) return "max-connections-per-ip";
    // A real clock read per accept (not the coarse clock): a timeout must never count the time
    // between the last sweep and the accept.
    const connection = new TrackedConnection(this.#now(), ip);
    this.#open.add(connection);
    this.#unframed.add(connection);
    if (ip !== undefined) this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    return connection;
  }

  /**
   * Counts `connection` under `ip` from now on (the original source a PROXY header named), or says
   * that the per-IP cap refuses it (it is then not counted under any IP; release it).
   */
  recount(connection: TrackedConnection, ip: string): "max-connections-per-ip" | undefined {
    if (connection.ip === ip) return undefined;
    this.#uncountIp(connection);
    if (this.#overIpCap(ip)) return "max-connections-per-ip";
    connection.ip = ip;
    this.#perIp.set(ip, (this.#perIp.get(ip) ?? 0) + 1);
    return undefined;
  }

  /** A complete request frame arrived: the connection leaves the first-frame timeout. */
  framed(connection: TrackedConnection): void {
    connection.framed = true;
    this.#unframed.delete(connection);
  }

  /** The connection closed: it no longer counts. Safe to call twice. */
  release(connection: TrackedConnection): void {
    if (!this.#open.delete(connection)) return;
    this.#unframed.delete(connection);
    this.#uncountIp(connection);
  }

  /** Starts the sweep (each caller of start calls {@link ConnectionTracker.stop} once). */
  start(): void {
    if (this.#users++ > 0) return;
    const timer = setInterval(() => this.sweep(), this.#sweepMs);
    // The sweep must not keep a process alive that has nothing else to do.
    Deno.unrefTimer(timer);
    this.#timer = timer;
  }

  /** Stops the sweep once every caller of start has stopped. */
  stop(): void {
    if (this.#users === 0 || --this.#users > 0) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /**
   * Closes the connections past a timeout (run every `sweepMs` once started; public for tests).
   * Never early: the first-frame timeout counts from a real clock read at accept; the idle timeout
   * from the sweep that first saw the connection's latest activity stamp (a read stamped with the
   * coarse clock came before that sweep). Late by at most one sweep interval.
   */
  sweep(): void {
    const now = this.#now();
    const { idleMs, firstFrameMs } = this.#limits;
    for (const connection of this.#unframed) {
      if (now - connection.acceptedAt >= firstFrameMs) this.#timeOut(connection, "first-frame-timeout");
    }
    if (idleMs > 0) {
      for (const connection of this.#open) {
        if (connection.lastActive !== connection.seenActive) {
          connection.seenActive = connection.lastActive;
          connection.quietSince = now;
        } else if (now - connection.quietSince >= idleMs) {
          this.#timeOut(connection, "idle-timeout");
        }
      }
    }
    // After the checks: reads from now on are stamped with this sweep's time.
    this.clock = now;
    this.#onSweep?.();
  }

  #timeOut(connection: TrackedConnection, kind: TimeoutKind): void {
    if (connection.timedOut !== undefined) return;
    connection.timedOut = kind;
    this.#unframed.delete(connection);
    try {
      connection.close();
    } catch {
      // Already closed: its owner releases it.
    }
  }

  #overIpCap(ip: string): boolean {
    const cap = this.#limits.maxConnectionsPerIp;
    return cap > 0 && (this.#perIp.get(ip) ?? 0) >= cap;
  }

  #uncountIp(connection: TrackedConnection): void {
    const ip = connection.ip;
    if (ip === undefined) return;
    connection.ip = undefined;
    const count = (this.#perIp.get(ip) ?? 1) - 1;
    if (count === 0) this.#perIp.delete(ip);
    else this.#perIp.set(ip, count);
  }
}
