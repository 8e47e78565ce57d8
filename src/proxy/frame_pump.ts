/**
 * Moves size-prefixed Kafka frames from one socket to another.
 *
 * Frames the policy does not want to rewrite are forwarded as they arrive, straight from the read
 * buffer (consecutive frames in one write, a large frame streamed in pieces), so the data path
 * never decodes nor copies their bodies. Frames to rewrite are buffered whole and replaced.
 *
 * @module
 */

/** What to do with a frame, decided from its first bytes. */
export type FrameDecision = "forward" | "rewrite" | "more";

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
   * Replaces a whole frame body that `inspect` chose to rewrite: returns a complete frame (size
   * prefix included), or null to forward the frame unchanged.
   */
  rewrite(body: Uint8Array): Uint8Array | null;
}

/** A frame that breaks the protocol: the connection closes with this reason. */
export class FrameError extends Error {
  /**
   * @param message what was wrong
   * @param kind `frame-size` for a size over the limit or negative, `protocol` for anything else
   */
  constructor(message: string, readonly kind: "frame-size" | "protocol" = "protocol") {
    super(message);
    this.name = "FrameError";
  }
}

/** Byte source (a Deno.Conn). */
export interface ByteSource {
  read(p: Uint8Array): Promise<number | null>;
}
/** Byte sink (a Deno.Conn). */
export interface ByteSink {
  write(p: Uint8Array): Promise<number>;
}

/** Options of {@link pumpFrames}. */
export interface PumpOptions {
  /** Largest frame body accepted, in bytes. */
  maxFrameBytes: number;
  /** Initial read buffer size. */
  bufferBytes?: number;
  /** Called with the number of bytes read from the source, per read. */
  onRead?: (bytes: number) => void;
}

/** Writes all of `bytes`. */
export async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await sink.write(written === 0 ? bytes : bytes.subarray(written));
  }
}

const DEFAULT_BUFFER_BYTES = 128 * 1024;
/** Reads after which an unused grown buffer is given back. */
const LARGE_BUFFER_IDLE_READS = 256;
/** A grown buffer above this size is given back as soon as it is empty. */
const MAX_KEPT_BUFFER_BYTES = 16 * 1024 * 1024;

/**
 * Pumps frames from `source` to `sink` until the source ends at a frame boundary.
 *
 * @throws {FrameError} on a bad size, a policy rejection, or an end of stream inside a frame
 */
export async function pumpFrames(
  source: ByteSource,
  sink: ByteSink,
  policy: FramePolicy,
  options: PumpOptions,
): Promise<void> {
  const { maxFrameBytes } = options;
  let buf = new Uint8Array(options.bufferBytes ?? DEFAULT_BUFFER_BYTES);
  let view = new DataView(buf.buffer);
  let start = 0; // first unprocessed byte
  let end = 0; // end of valid data
  let streamRemaining = 0; // bytes of a forwarded frame still to come
  let rewriteDecided = false; // the frame at `start` waits whole for a rewrite
  let readsSinceLargeUse = 0; // reads since a grown buffer last held a large frame
  const segments: Uint8Array[] = [];

  for (;;) {
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
      const replacement = policy.rewrite(buf.subarray(start + 4, start + total));
      rewriteDecided = false;
      if (replacement === null) {
        if (forwardFrom < 0) forwardFrom = start;
      } else {
        if (forwardFrom >= 0) {
          segments.push(buf.subarray(forwardFrom, start));
          forwardFrom = -1;
        }
        segments.push(replacement);
      }
      start += total;
    }
    if (forwardFrom >= 0 && start > forwardFrom) segments.push(buf.subarray(forwardFrom, start));

    // 2. Write them, in order.
    for (const segment of segments) await writeAll(sink, segment);
    segments.length = 0;

    // 3. Make room for the next read.
    if (start === end) {
      start = end = 0;
    } else {
      const pendingBytes = end - start;
      let needed = buf.length;
      if (pendingBytes >= 4 && streamRemaining === 0) {
        const size = view.getInt32(start);
        // A frame waiting whole (rewrite) needs all of it; one waiting for its header needs more room.
        needed = rewriteDecided ? Math.max(buf.length, 4 + size) : Math.max(buf.length, pendingBytes * 2);
        if (!rewriteDecided && pendingBytes < buf.length) needed = buf.length;
      }
      if (needed > buf.length) {
        const bigger = new Uint8Array(needed);
        bigger.set(buf.subarray(start, end));
        buf = bigger;
        view = new DataView(buf.buffer);
        end = pendingBytes;
        start = 0;
      } else if (start > 0 && (end === buf.length || start > buf.length / 2)) {
        buf.copyWithin(0, start, end);
        end = pendingBytes;
        start = 0;
      }
    }

    // 3b. Shrink back once a large buffer (grown for a whole frame to rewrite, e.g. a Fetch response)
    // has gone unused for a while: a consumer's next large response reuses it instead of allocating
    // and zero-filling a new one, and an idle connection ends up small again.
    if (buf.length > 4 * DEFAULT_BUFFER_BYTES) {
      if (end - start > DEFAULT_BUFFER_BYTES || rewriteDecided) {
        readsSinceLargeUse = 0;
      } else if (
        start === end &&
        (++readsSinceLargeUse > LARGE_BUFFER_IDLE_READS || buf.length > MAX_KEPT_BUFFER_BYTES)
      ) {
        buf = new Uint8Array(options.bufferBytes ?? DEFAULT_BUFFER_BYTES);
        view = new DataView(buf.buffer);
        start = end = 0;
        readsSinceLargeUse = 0;
      }
    }

    // 4. Read more.
    const n = await source.read(buf.subarray(end));
    if (n === null) {
      if (start === end && streamRemaining === 0) return;
      throw new FrameError(
        `connection ended inside a frame (${end - start + streamRemaining} bytes short or partial)`,
      );
    }
    options.onRead?.(n);
    end += n;
  }
}
