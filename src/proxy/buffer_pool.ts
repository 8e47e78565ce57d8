/**
 * Read buffers shared by the connections of a node. A connection reads into a small buffer of its
 * own while it is quiet (an idle connection's pending read holds only that) and takes a large one
 * from the pool only while bytes stream in, giving it back once it has drained.
 *
 * @module
 */

/**
 * A free list of equal-sized buffers, bounded so that a burst does not keep its buffers for ever.
 *
 * @example
 * ```ts
 * const pool = new BufferPool(64 * 1024, 8);
 * const buf = pool.take();
 * pool.give(buf);
 * ```
 */
export class BufferPool {
  /** Size of every buffer of the pool. */
  readonly bufferBytes: number;
  readonly #maxFree: number;
  readonly #free: Uint8Array[] = [];

  /**
   * An empty pool.
   *
   * @param bufferBytes size of its buffers
   * @param maxFree most free buffers kept (more given back are dropped)
   */
  constructor(bufferBytes: number, maxFree: number) {
    this.bufferBytes = bufferBytes;
    this.#maxFree = maxFree;
  }

  /** A buffer of {@link BufferPool.bufferBytes} (its content is whatever the last user left). */
  take(): Uint8Array {
    return this.#free.pop() ?? new Uint8Array(this.bufferBytes);
  }

  /** Gives a buffer taken from this pool back; the caller must not use it afterwards. */
  give(buf: Uint8Array): void {
    if (buf.length === this.bufferBytes && this.#free.length < this.#maxFree) this.#free.push(buf);
  }

  /** Free buffers held. */
  get free(): number {
    return this.#free.length;
  }
}

/** Large read buffers of the proxy's pumps: 128 KiB each, at most 16 (2 MiB) kept free. */
export const PUMP_BUFFER_POOL: BufferPool = new BufferPool(128 * 1024, 16);
