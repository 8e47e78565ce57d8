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
import { type BufferPool, PUMP_BUFFER_POOL } from "./buffer_pool.ts";
import type { FrameRejectionKind } from "./rejection.ts";

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

/** Which buffer the pump reads into: its own small one, one from the pool, or one grown for a frame larger than the pool's. */
type BufferKind = "small" | "pooled" | "grown";

/**
 * Pumps frames from `source` to `sink` until the source ends at a frame boundary.
 *
 * @example
 * ```ts ignore
 * await pumpFrames(client, upstream, { inspect: () => "forward", rewrite: () => null }, { maxFrameBytes: 1 << 20 });
 * ```
 * @throws {FrameError} on a bad size, a policy rejection, or an end of stream inside a frame
 */
export async function pumpFrames(
  source: ByteSource,
  sink: ByteSink | SharedFrameSink,
  policy: FramePolicy,
  options: PumpOptions,
): Promise<void> {
  const { maxFrameBytes } = options;
  const shared = "claim" in sink ? sink : undefined;
  let held = false; // this pump holds the shared sink
  const pool = options.pool ?? PUMP_BUFFER_POOL;
  let small = new Uint8Array(options.bufferBytes ?? SMALL_BUFFER_BYTES);
  let smallView = new DataView(small.buffer);
  let outgrown = false; // a read filled the small buffer: it doubles (up to MAX_SMALL_BUFFER_BYTES)
  let buf: Uint8Array = small;
  let view: DataView = smallView;
  let kind = "small" as BufferKind;
  let spare: Uint8Array | undefined; // a grown buffer kept for the next large frame
  let start = 0; // first unprocessed byte
  let end = 0; // end of valid data
  let filled = false; // the last read filled the buffer: more bytes are probably waiting
  let streamRemaining = 0; // bytes of a forwarded frame still to come
  let rewriteDecided = false; // the frame at `start` waits whole for a rewrite
  let readsSinceLargeUse = 0; // reads since a grown buffer last held a large frame
  const segments: Uint8Array[] = [];

  /** Reads into `next` from now on, keeping the pending bytes; gives the current buffer back. */
  const switchTo = (next: Uint8Array, nextKind: BufferKind) => {
    const pending = end - start;
    if (pending > 0) next.set(buf.subarray(start, end));
    if (kind === "pooled") pool.give(buf);
    else if (kind === "grown") spare = buf.length > MAX_KEPT_BUFFER_BYTES ? undefined : buf;
    buf = next;
    view = next === small ? smallView : new DataView(next.buffer, next.byteOffset, next.length);
    kind = nextKind;
    start = 0;
    end = pending;
  };
  /**
   * Reads into the small buffer again (the pool's buffer drained). One that a read filled doubles
   * first: a connection whose requests are a few KiB (a producer's batches) then reads each in one
   * call, while one that only ever sent small frames keeps the smallest.
   */
  const backToSmall = () => {
    if (outgrown && small.length < MAX_SMALL_BUFFER_BYTES) {
      small = new Uint8Array(Math.min(small.length * 2, MAX_SMALL_BUFFER_BYTES));
      smallView = new DataView(small.buffer);
    }
    outgrown = false;
    switchTo(small, "small");
  };

  // A pump that fails while holding a shared sink keeps it: the session is ending and closes the sink.
  for (;;) {
    if (shared && !held) {
      const waiting = shared.claim();
      if (waiting) await waiting;
      held = true;
    }
    // 1. Carve what is in the buffer into segments to write.
    let forwardFrom = -1;
    for (;;) {
      if (streamRemaining > 0) {
        const n = Math.min(streamRemaining, end - start);
        if (n === 0) break;
        if (forwardFrom < 0) forwardFrom = start;
        start += n;
        streamRemaining -= n;
        continue;
      }
      if (end - start < 4) break;
      const size = view.getInt32(start);
      if (size < 0) throw new FrameError(`negative frame size ${size}`, "frame-size");
      if (size > maxFrameBytes) {
        throw new FrameError(
          `frame size ${size} exceeds the maximum of ${maxFrameBytes} bytes`,
          "frame-size",
        );
      }
      const available = Math.min(end - start - 4, size);
      const total = 4 + size;
      if (!rewriteDecided) {
        const decision = policy.inspect(buf.subarray(start + 4, start + 4 + available), size);
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
          streamRemaining = total - (end - start);
          start = end;
          break;
        }
        rewriteDecided = true;
      }
      if (available < size) break;
      let output = policy.rewrite(buf.subarray(start + 4, start + total));
      if (forwardFrom >= 0 && output !== null) {
        segments.push(buf.subarray(forwardFrom, start));
        forwardFrom = -1;
      }
      if (output instanceof Promise) {
        // A filter is waiting for something (its own request upstream, say): write what came
        // before, let other writers use the sink meanwhile, and commit only once it is ours again.
        await writeSegments(sink, segments, pool);
        segments.length = 0;
        if (held) {
          shared!.release();
          held = false;
        }
        const deferred = await output;
        if (shared) {
          const waiting = shared.claim();
          if (waiting) await waiting;
          held = true;
        }
        // Nothing was read meanwhile: `buf`, `start` and `frame` are as they were.
        output = deferred();
      }
      rewriteDecided = false;
      if (output === null) {
        if (forwardFrom < 0) forwardFrom = start;
      } else {
        pushOutput(segments, output);
      }
      start += total;
    }
    if (forwardFrom >= 0 && start > forwardFrom) segments.push(buf.subarray(forwardFrom, start));

    // 2. Write them, in order (small pieces joined: one write instead of several); let go of a shared
    // sink at a frame boundary.
    await writeSegments(sink, segments, pool);
    segments.length = 0;
    if (held && streamRemaining === 0) {
      shared!.release();
      held = false;
    }

    // 3. Choose the buffer of the next read and make room in it.
    if (start === end) {
      start = end = 0;
      // Drained: a quiet connection reads into its small buffer, one that streams keeps a large one.
      if (kind === "small") {
        if (filled) {
          outgrown = true;
          switchTo(pool.take(), "pooled");
        }
      } else if (!filled && streamRemaining === 0) {
        backToSmall();
      }
    } else {
      const pendingBytes = end - start;
      let needed = buf.length;
      if (pendingBytes >= 4 && streamRemaining === 0) {
        const size = view.getInt32(start);
        // A frame waiting whole (rewrite) needs all of it; one waiting for its header needs more room.
        needed = rewriteDecided ? Math.max(buf.length, 4 + size) : Math.max(buf.length, pendingBytes * 2);
        if (!rewriteDecided && pendingBytes < buf.length) needed = buf.length;
      }
      if (kind === "small" && filled) {
        outgrown = true;
        needed = Math.max(needed, pool.bufferBytes);
      }
      if (needed > buf.length) {
        if (needed <= pool.bufferBytes) {
          switchTo(pool.take(), "pooled");
        } else if (spare !== undefined && spare.length >= needed && spare !== buf) {
          const reused = spare;
          spare = undefined;
          switchTo(reused, "grown");
        } else {
          switchTo(new Uint8Array(needed), "grown");
        }
      } else if (start > 0 && (end === buf.length || start > buf.length / 2)) {
        buf.copyWithin(0, start, end);
        end = pendingBytes;
        start = 0;
      }
    }

    // 3b. A grown buffer (for a whole frame to rewrite, e.g. a large Fetch response) is kept for a
    // while: a consumer's next large response reuses it instead of allocating and zero-filling a new
    // one; unused for a while, it goes.
    if (kind === "grown" || spare !== undefined) {
      if (kind === "grown" && (end - start > pool.bufferBytes || rewriteDecided)) {
        readsSinceLargeUse = 0;
      } else if (++readsSinceLargeUse > LARGE_BUFFER_IDLE_READS) {
        spare = undefined;
        if (kind === "grown" && start === end) backToSmall();
        readsSinceLargeUse = 0;
      }
    }

    // 4. Read more.
    const space = buf.length - end;
    const n = await source.read(end === 0 ? buf : buf.subarray(end));
    if (n === null) {
      if (kind === "pooled") pool.give(buf);
      if (start === end && streamRemaining === 0) return;
      throw new FrameError(
        `connection ended inside a frame (${end - start + streamRemaining} bytes short or partial)`,
      );
    }
    filled = n === space;
    options.onRead?.(n);
    end += n;
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
