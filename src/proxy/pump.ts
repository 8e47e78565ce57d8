/**
 * Moves size-prefixed Kafka frames from a byte source to a sink.
 *
 * Frames the policy lets through are forwarded as they arrive, straight from the read buffer
 * (consecutive frames in one write, a large frame streamed in pieces), so the data path never decodes
 * nor copies their bodies. Frames the policy wants whole are buffered and handed to it; it answers
 * with what to write in their place (possibly nothing, possibly later).
 *
 * @module
 */
import { type ByteSink, type ByteSource, writeAll } from "../lib/bytes_io.ts";
import { int32At } from "../protocol/bytes.ts";
import { type BufferPool, PUMP_BUFFER_POOL } from "./buffer_pool.ts";
import type { FrameRejectionKind } from "./rejection.ts";
import { logger } from "../log.ts";

const log = logger("proxy");

/** What to do with a frame, decided from its first bytes. */
export type FrameDecision = "forward" | "rewrite" | "more";

/**
 * What goes out in place of a whole frame: `null` the frame unchanged, one replacement frame, or a
 * list of byte runs written in order (whole frames, size prefixes included, or the pieces of frames;
 * the list may hold views of the frame read, the original frame itself, or be empty).
 */
export type FrameOutput = Uint8Array | readonly Uint8Array[] | null;

/**
 * The result of an asynchronous {@link FramePolicy.rewrite}: called once the pump holds its sink
 * again, so that what it commits (e.g. a request's place in the pending queue) follows every write
 * made meanwhile by other writers of the same sink.
 */
export type DeferredOutput = () => FrameOutput;

/** Decides, and rewrites, the frames of one direction of a connection. */
export interface FramePolicy {
  /**
   * Looks at the start of a frame body (`prefix`, the bytes available so far; the whole body once
   * `prefix.length === size`). Answer "more" to wait for more bytes (only while the body is
   * incomplete). May be called again with a longer prefix after "more"; side effects belong to the
   * call that answers "forward" or "rewrite". Throws {@link FrameError} to close the connection.
   */
  inspect(prefix: Uint8Array, size: number): FrameDecision;
  /**
   * Handles a whole frame that `inspect` chose to rewrite: `body` is the frame without its size
   * prefix, a view of the read buffer right after that prefix ({@link frameOfBody}), valid until the
   * returned output is written. Returns what to write in its place, or a promise of it (the pump then
   * writes what came before, lets go of its sink while waiting, and calls the {@link DeferredOutput}
   * once it holds the sink again).
   */
  rewrite(body: Uint8Array): FrameOutput | Promise<DeferredOutput>;
}

/**
 * A sink that other writers share with the pump. The pump claims it before carving what it read and
 * releases it only at a frame boundary, so nothing is ever written into the middle of a frame.
 */
export interface SharedFrameSink extends ByteSink {
  /** Takes the sink: undefined when taken at once, else a promise resolved when it is. */
  claim(): Promise<void> | undefined;
  /** Gives the sink back (to the next waiting writer). */
  release(): void;
}

/** A frame that breaks the protocol: the connection closes with this reason. */
export class FrameError extends Error {
  /** What kind of bad input it is, for the rejection metric. */
  readonly kind: FrameRejectionKind;

  /**
   * A frame error.
   *
   * @param message what was wrong
   * @param kind `frame-size` for a size over the limit or negative, `protocol` for anything else
   */
  constructor(message: string, kind: FrameRejectionKind = "protocol") {
    super(message);
    this.kind = kind;
    this.name = "FrameError";
  }
}

/**
 * Refuses a frame size that is negative or over `maxFrameBytes` (the first frame's reader and the pump
 * judge sizes alike).
 *
 * @example
 * ```ts ignore
 * checkFrameSize(int32At(buf, 0), maxFrameBytes);
 * ```
 * @throws {FrameError} of kind `frame-size`
 */
export function checkFrameSize(size: number, maxFrameBytes: number): void {
  if (size < 0) throw new FrameError(`negative frame size ${size}`, "frame-size");
  if (size > maxFrameBytes) {
    throw new FrameError(`frame size ${size} exceeds the maximum of ${maxFrameBytes} bytes`, "frame-size");
  }
}

/** Options of {@link pumpFrames}. */
export interface PumpOptions {
  /** Largest frame body accepted, in bytes. */
  maxFrameBytes: number;
  /**
   * Size of the pump's own small read buffer, read into while the connection is quiet (default
   * {@link SMALL_BUFFER_BYTES}).
   */
  bufferBytes?: number;
  /** Where large read buffers come from while bytes stream in (default {@link PUMP_BUFFER_POOL}). */
  pool?: BufferPool;
  /** Called with the number of bytes read from the source, per read. */
  onRead?: (bytes: number) => void;
}

/**
 * The read buffer of a quiet connection. An idle connection's pending read holds it (Deno pins the
 * buffer of a pending read), so it is the memory an idle connection costs per direction; most
 * requests and the responses to an idle client's requests fit in it.
 */
export const SMALL_BUFFER_BYTES = 256;
/** The small buffer of a connection that sends larger frames grows up to this size. */
const MAX_SMALL_BUFFER_BYTES = 16 * 1024;
/** Pieces to write are joined into one write up to this size (beyond it, copying costs more than a call). */
const JOIN_MAX_BYTES = 16 * 1024;
/** Reads after which an unused grown buffer (larger than the pool's) is given back. */
const LARGE_BUFFER_IDLE_READS = 256;
/** A grown buffer above this size is given back as soon as it is empty. */
const MAX_KEPT_BUFFER_BYTES = 16 * 1024 * 1024;

/** What a pump waits for: a read, a write, the shared sink, or a deferred rewrite (then it steps again). */
type WaitingFor = 0 | 1 | 2 | 3;
const READ = 0;
const WRITE = 1;
const CLAIM = 2;
const STEP = 3;

/** Which buffer the pump reads into: its own small one, one from the pool, or one grown for a frame larger than the pool's. */
type BufferKind = "small" | "pooled" | "grown";

/** Told when a {@link FramePump} ends. */
export interface PumpEndListener {
  /**
   * The pump stopped: `error` is undefined when its source ended at a frame boundary, else what ended
   * it ({@link FrameError} for bad input, or the source's or sink's error).
   */
  pumpEnded(pump: FramePump, error: unknown): void;
}

/**
 * Pumps frames from `source` to `sink` until the source ends at a frame boundary.
 *
 * @example
 * ```ts ignore
 * await pumpFrames(client, upstream, { inspect: () => "forward", rewrite: () => null }, { maxFrameBytes: 1 << 20 });
 * ```
 * @throws {FrameError} on a bad size, a policy rejection, or an end of stream inside a frame
 */
export function pumpFrames(
  source: ByteSource,
  sink: ByteSink | SharedFrameSink,
  policy: FramePolicy,
  options: PumpOptions,
): Promise<void> {
  return new Promise((resolve, reject) => {
    new FramePump(source, sink, policy, options, {
      pumpEnded: (_pump, error) => error === undefined ? resolve() : reject(error),
    }).start();
  });
}

/**
 * One direction of a connection: {@link pumpFrames} as an object, which tells its listener when it
 * ends. A connection holds two for its whole life, so their state lives in fields (no closures, no
 * captured scopes), and a pump waiting for bytes holds no suspended frame: only its pending read,
 * whose callback carves and writes what came, then reads again.
 *
 * @example
 * ```ts ignore
 * new FramePump(client, upstream, policy, { maxFrameBytes: 1 << 20 }, session).start();
 * ```
 */
export class FramePump {
  readonly #source: ByteSource;
  readonly #sink: ByteSink;
  /** The sink when other writers share it. */
  readonly #shared: SharedFrameSink | undefined;
  readonly #policy: FramePolicy;
  readonly #maxFrameBytes: number;
  readonly #pool: BufferPool;
  readonly #onRead: ((bytes: number) => void) | undefined;
  readonly #listener: PumpEndListener;
  /** This pump holds the shared sink. */
  #held = false;
  /** The small buffer, read into while the connection is quiet. */
  #small: Uint8Array;
  /** A read filled the small buffer: it doubles (up to MAX_SMALL_BUFFER_BYTES) when read into again. */
  #outgrown = false;
  /** The buffer read into now. */
  #buf: Uint8Array;
  #kind: BufferKind = "small";
  /** A grown buffer kept for the next large frame. */
  #spare: Uint8Array | undefined;
  /** First unprocessed byte of `#buf`. */
  #start = 0;
  /** End of valid data in `#buf`. */
  #end = 0;
  /** The last read filled the buffer: more bytes are probably waiting. */
  #filled = false;
  /** Bytes of a forwarded frame still to come. */
  #streamRemaining = 0;
  /** The frame at `#start` waits whole for a rewrite. */
  #rewriteDecided = false;
  /** Reads since a grown buffer last held a large frame. */
  #readsSinceLargeUse = 0;
  /** What to write next, in order. */
  readonly #segments: Uint8Array[] = [];
  /** Room in the buffer for the pending read. */
  #space = 0;
  /** The listener has been told. */
  #finished = false;
  /** What the pending promise is. */
  #waitingFor: WaitingFor = READ;

  /**
   * A pump, not yet started.
   *
   * @param source where frames come from
   * @param sink where they go (a {@link SharedFrameSink} when other writers share it)
   * @param policy what to do with each frame
   * @param options limits and buffers
   * @param listener told once when the pump ends
   */
  constructor(
    source: ByteSource,
    sink: ByteSink | SharedFrameSink,
    policy: FramePolicy,
    options: PumpOptions,
    listener: PumpEndListener,
  ) {
    this.#source = source;
    this.#sink = sink;
    this.#shared = "claim" in sink ? sink : undefined;
    this.#policy = policy;
    this.#maxFrameBytes = options.maxFrameBytes;
    this.#pool = options.pool ?? PUMP_BUFFER_POOL;
    this.#onRead = options.onRead;
    this.#listener = listener;
    this.#small = new Uint8Array(options.bufferBytes ?? SMALL_BUFFER_BYTES);
    this.#buf = this.#small;
  }

  /** Starts pumping; the listener hears when it ends. */
  start(): void {
    this.#step();
  }

  /** Reads into `next` from now on, keeping the pending bytes; gives the current buffer back. */
  #switchTo(next: Uint8Array, nextKind: BufferKind): void {
    const buf = this.#buf;
    const pending = this.#end - this.#start;
    if (pending > 0) next.set(buf.subarray(this.#start, this.#end));
    if (this.#kind === "pooled") this.#pool.give(buf);
    else if (this.#kind === "grown") this.#spare = buf.length > MAX_KEPT_BUFFER_BYTES ? undefined : buf;
    this.#buf = next;
    this.#kind = nextKind;
    this.#start = 0;
    this.#end = pending;
  }

  /**
   * Reads into the small buffer again (the pool's buffer drained). One that a read filled doubles
   * first: a connection whose requests are a few KiB (a producer's batches) then reads each in one
   * call, while one that only ever sent small frames keeps the smallest.
   */
  #backToSmall(): void {
    if (this.#outgrown && this.#small.length < MAX_SMALL_BUFFER_BYTES) {
      this.#small = new Uint8Array(Math.min(this.#small.length * 2, MAX_SMALL_BUFFER_BYTES));
    }
    this.#outgrown = false;
    this.#switchTo(this.#small, "small");
  }

  /**
   * Carves what the buffer holds and writes it, then reads more: synchronous up to the first thing to
   * wait for, whose callback goes on from there. A quiet pump thus holds no suspended frame, only its
   * pending read's two callbacks. A pump that fails while holding a shared sink keeps it: the session
   * is ending and closes the sink.
   */
  #step(): void {
    try {
      if (this.#shared && !this.#held) {
        const waiting = this.#shared.claim();
        if (waiting) return this.#wait(CLAIM, waiting);
        this.#held = true;
      }
      // 1. Carve what is in the buffer into segments to write.
      const deferred = this.#carve();
      if (deferred !== undefined) return this.#wait(STEP, this.#completeDeferred(deferred));
      // 2. Write them, in order (small pieces joined: one write instead of several).
      if (this.#segments.length > 0) {
        return this.#wait(WRITE, writeSegments(this.#sink, this.#segments, this.#pool));
      }
    } catch (error) {
      return this.#finish(error ?? new Error("pump failed"));
    }
    this.#written();
  }

  /** What is carved is written: let go of a shared sink at a frame boundary, then read more. */
  #written(): void {
    try {
      this.#segments.length = 0;
      if (this.#held && this.#streamRemaining === 0) {
        this.#shared!.release();
        this.#held = false;
      }
      // 3. Choose the buffer of the next read and make room in it.
      this.#prepareRead();
      // 4. Read more.
      const end = this.#end;
      this.#space = this.#buf.length - end;
      this.#wait(READ, this.#source.read(end === 0 ? this.#buf : this.#buf.subarray(end)));
    } catch (error) {
      this.#finish(error ?? new Error("pump failed"));
    }
  }

  /**
   * A filter is waiting for something (its own request upstream, say): write what came before, let
   * other writers use the sink meanwhile, and commit only once it is ours again.
   */
  async #completeDeferred(deferred: Promise<DeferredOutput>): Promise<void> {
    // Handled from now on: a filter failing while the write below is pending must not be an unhandled
    // rejection (fatal to the node); `await deferred` still throws it.
    deferred.catch(() => {});
    await writeSegments(this.#sink, this.#segments, this.#pool);
    this.#segments.length = 0;
    if (this.#held) {
      this.#shared!.release();
      this.#held = false;
    }
    const commit = await deferred;
    if (this.#shared) {
      const waiting = this.#shared.claim();
      if (waiting) await waiting;
      this.#held = true;
    }
    // Nothing was read meanwhile: the buffer and `#start` are as they were.
    this.#rewritten(commit());
  }

  /** Goes on once `promise` settles, as `what` says: two callbacks per pump, made once. */
  #wait(what: WaitingFor, promise: Promise<unknown>): void {
    this.#waitingFor = what;
    promise.then(this.#settled, this.#failed);
  }

  readonly #settled = (value: unknown): void => {
    // Nothing may escape a promise callback: it would be an unhandled rejection, fatal to the process.
    try {
      switch (this.#waitingFor) {
        case READ:
          return this.#readDone(value as number | null);
        case WRITE:
          return this.#written();
        case CLAIM:
          this.#held = true;
          return this.#step();
        default:
          return this.#step();
      }
    } catch (error) {
      this.#finish(error ?? new Error("pump failed"));
    }
  };

  readonly #failed = (error: unknown): void => this.#finish(error ?? new Error("pump failed"));

  /** A read came back: `null` at the end of the source. */
  #readDone(n: number | null): void {
    if (n === null) {
      if (this.#kind === "pooled") this.#pool.give(this.#buf);
      if (this.#start === this.#end && this.#streamRemaining === 0) return this.#finish(undefined);
      return this.#finish(
        new FrameError(
          `connection ended inside a frame (${
            this.#end - this.#start + this.#streamRemaining
          } bytes short or partial)`,
        ),
      );
    }
    this.#filled = n === this.#space;
    this.#end += n;
    try {
      this.#onRead?.(n);
    } catch (error) {
      return this.#finish(error ?? new Error("pump failed"));
    }
    this.#step();
  }

  /** Tells the listener how the pump ended (once). */
  #finish(failure: unknown): void {
    if (this.#finished) return;
    this.#finished = true;
    try {
      this.#listener.pumpEnded(this, failure);
    } catch (error) {
      // A bug in the listener: this connection's end is lost, the node goes on.
      log.error("a frame pump's end listener failed: {error}", {
        error: String((error as Error)?.stack ?? error),
      });
    }
  }

  /**
   * Carves the buffer's frames into `#segments`, up to the first incomplete one. Returns the promise
   * of a rewrite that is not ready yet (the frame at `#start`, `#rewriteDecided` set; the segments
   * before it are queued).
   */
  #carve(): Promise<DeferredOutput> | undefined {
    const buf = this.#buf;
    const segments = this.#segments;
    const end = this.#end;
    let start = this.#start;
    let forwardFrom = -1;
    try {
      for (;;) {
        if (this.#streamRemaining > 0) {
          const n = Math.min(this.#streamRemaining, end - start);
          if (n === 0) break;
          if (forwardFrom < 0) forwardFrom = start;
          start += n;
          this.#streamRemaining -= n;
          continue;
        }
        if (end - start < 4) break;
        const size = int32At(buf, start);
        if (size < 0 || size > this.#maxFrameBytes) checkFrameSize(size, this.#maxFrameBytes);
        const available = Math.min(end - start - 4, size);
        const total = 4 + size;
        if (!this.#rewriteDecided) {
          const decision = this.#policy.inspect(buf.subarray(start + 4, start + 4 + available), size);
          if (decision === "more") {
            if (available === size) throw new FrameError("frame policy asked for bytes past the frame end");
            break;
          }
          if (decision === "forward") {
            if (forwardFrom < 0) forwardFrom = start;
            if (end - start >= total) {
              start += total;
              continue;
            }
            this.#streamRemaining = total - (end - start);
            start = end;
            break;
          }
          this.#rewriteDecided = true;
        }
        if (available < size) break;
        const output = this.#policy.rewrite(buf.subarray(start + 4, start + total));
        if (forwardFrom >= 0 && output !== null) {
          segments.push(buf.subarray(forwardFrom, start));
          forwardFrom = -1;
        }
        if (output instanceof Promise) return output;
        this.#rewriteDecided = false;
        if (output === null) {
          if (forwardFrom < 0) forwardFrom = start;
        } else {
          pushOutput(segments, output);
        }
        start += total;
      }
      if (forwardFrom >= 0 && start > forwardFrom) segments.push(buf.subarray(forwardFrom, start));
      return undefined;
    } finally {
      this.#start = start;
    }
  }

  /** The deferred rewrite of the frame at `#start` is in: queue its output and step past it. */
  #rewritten(output: FrameOutput): void {
    this.#rewriteDecided = false;
    const buf = this.#buf;
    const start = this.#start;
    const total = 4 + int32At(buf, start);
    if (output === null) this.#segments.push(buf.subarray(start, start + total));
    else pushOutput(this.#segments, output);
    this.#start = start + total;
  }

  /** Chooses the buffer of the next read and makes room in it. */
  #prepareRead(): void {
    const pool = this.#pool;
    if (this.#start === this.#end) {
      this.#start = this.#end = 0;
      // Drained: a quiet connection reads into its small buffer, one that streams keeps a large one.
      if (this.#kind === "small") {
        if (this.#filled) {
          this.#outgrown = true;
          this.#switchTo(pool.take(), "pooled");
        }
      } else if (!this.#filled && this.#streamRemaining === 0) {
        this.#backToSmall();
      }
    } else {
      const buf = this.#buf;
      const start = this.#start;
      const pendingBytes = this.#end - start;
      let needed = buf.length;
      if (pendingBytes >= 4 && this.#streamRemaining === 0) {
        const size = int32At(buf, start);
        // A frame waiting whole (rewrite) needs all of it; one waiting for its header needs more room.
        needed = this.#rewriteDecided
          ? Math.max(buf.length, 4 + size)
          : Math.max(buf.length, pendingBytes * 2);
        if (!this.#rewriteDecided && pendingBytes < buf.length) needed = buf.length;
      }
      if (this.#kind === "small" && this.#filled) {
        this.#outgrown = true;
        needed = Math.max(needed, pool.bufferBytes);
      }
      if (needed > buf.length) {
        const spare = this.#spare;
        if (needed <= pool.bufferBytes) {
          this.#switchTo(pool.take(), "pooled");
        } else if (spare !== undefined && spare.length >= needed && spare !== buf) {
          this.#spare = undefined;
          this.#switchTo(spare, "grown");
        } else {
          this.#switchTo(new Uint8Array(needed), "grown");
        }
      } else if (start > 0 && (this.#end === buf.length || start > buf.length / 2)) {
        buf.copyWithin(0, start, this.#end);
        this.#end = pendingBytes;
        this.#start = 0;
      }
    }

    // A grown buffer (for a whole frame to rewrite, e.g. a large Fetch response) is kept for a while: a
    // consumer's next large response reuses it instead of allocating and zero-filling a new one; unused
    // for a while, it goes.
    if (this.#kind === "grown" || this.#spare !== undefined) {
      if (this.#kind === "grown" && (this.#end - this.#start > pool.bufferBytes || this.#rewriteDecided)) {
        this.#readsSinceLargeUse = 0;
      } else if (++this.#readsSinceLargeUse > LARGE_BUFFER_IDLE_READS) {
        this.#spare = undefined;
        if (this.#kind === "grown" && this.#start === this.#end) this.#backToSmall();
        this.#readsSinceLargeUse = 0;
      }
    }
  }
}

/**
 * Writes `segments` in order. Several small ones ({@link JOIN_MAX_BYTES} together) are copied into a
 * pooled buffer and written at once (a rewritten frame in pieces, say): one write call, not several.
 */
async function writeSegments(
  sink: ByteSink,
  segments: readonly Uint8Array[],
  pool: BufferPool,
): Promise<void> {
  if (segments.length === 1) return await writeAll(sink, segments[0]);
  let total = 0;
  for (let i = 0; i < segments.length; i++) total += segments[i].length;
  if (segments.length === 0 || total > Math.min(pool.bufferBytes, JOIN_MAX_BYTES)) {
    for (const segment of segments) await writeAll(sink, segment);
    return;
  }
  const joined = pool.take();
  let offset = 0;
  for (let i = 0; i < segments.length; i++) {
    joined.set(segments[i], offset);
    offset += segments[i].length;
  }
  await writeAll(sink, joined.subarray(0, total));
  // Only once written: a pending write holds the buffer.
  pool.give(joined);
}

function pushOutput(segments: Uint8Array[], output: Uint8Array | readonly Uint8Array[]): void {
  if (output instanceof Uint8Array) segments.push(output);
  else for (const one of output) segments.push(one);
}

/**
 * The whole frame (size prefix included) of a body handed to {@link FramePolicy.rewrite}: a view of
 * the same buffer, no copy.
 *
 * @example
 * ```ts ignore
 * rewrite: (body) => [frameOfBody(body), extra],
 * ```
 */
export function frameOfBody(body: Uint8Array): Uint8Array {
  return new Uint8Array(body.buffer, body.byteOffset - 4, body.length + 4);
}
