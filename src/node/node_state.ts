/**
 * What a node knows of its own progress (HTTP URL, port count, listening, stopping). The composition
 * root sets it step by step; readiness, the node view, the published identity and the mapping read it.
 *
 * @module
 */

/** How {@link Gateway.close} asked the node to stop. */
export interface StopRequest {
  /** How long connected clients are served after leaving the group, in milliseconds. */
  readonly drainMs: number;
  /** Cuts the drain short when it aborts (a second signal). */
  readonly signal?: AbortSignal;
}

/**
 * The mutable facts of one node.
 *
 * @example
 * ```ts
 * const node = new NodeState();
 * node.listening = true;
 * node.stopping = { drainMs: 10_000 };
 * node.draining; // true
 * ```
 */
export class NodeState {
  /** When the node started. */
  readonly startedAt: Date = new Date();
  /** The HTTP API's URL as other nodes reach it ("" until it listens). */
  httpUrl = "";
  /** The number of Kafka ports (0 until the brokers are known). */
  portCount = 0;
  /** The Kafka ports listen. */
  listening = false;
  /** Set when the node is asked to stop; null while it serves. */
  stopping: StopRequest | null = null;

  /** The node is stopping: NOTREADY, and it has left (or is leaving) its gateway group. */
  get draining(): boolean {
    return this.stopping !== null;
  }
}
