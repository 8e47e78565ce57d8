/**
 * The last stage before a broker connection: waiting for the client's first complete, valid request
 * frame. A connection that sends nothing, garbage, a bad size or a refused API key is closed without
 * a broker ever hearing of it (a port scanner or a thousand stalled connections cost no broker
 * connection).
 *
 * What is held before connecting is bounded small ({@link FIRST_FRAME_BUFFER_LIMIT}): a first frame
 * larger than that (a client may open with a large Produce) is judged by its 8-byte prefix (size, API
 * key, version) and handed on as soon as that prefix is valid; the broker connection opens and the
 * rest of the frame streams through the pump like any later frame. Otherwise a peer announcing a
 * large frame under `GATEWAY_MAX_FRAME_BYTES` and trickling it would make the node hold all of it.
 *
 * @module
 */
import type { ByteSource } from "../lib/bytes_io.ts";
import { int16At, int32At } from "../protocol/bytes.ts";
import { checkFrameSize, FrameError } from "./pump.ts";
import { headerlessFrame } from "./session.ts";

/**
 * Most bytes of a first frame held before the broker connection opens (64 KiB). Every client opens
 * with a small request (ApiVersions, SaslHandshake, Metadata); a larger first frame is streamed.
 */
const FIRST_FRAME_BUFFER_LIMIT = 64 * 1024;

/**
 * The first read buffer: what a connection that has sent nothing yet holds (Deno pins the buffer of a
 * pending read). Clients open with ApiVersions (50-80 bytes); a larger first frame grows it.
 */
const FIRST_READ_BYTES = 256;

/** How to judge the first frame. */
export interface FirstFrameOptions {
  /** Largest request frame body accepted, in bytes. */
  maxFrameBytes: number;
  /**
   * Checks the first request: called with its API key and version as soon as they have arrived
   * (`body` undefined), then once with the whole frame body when the frame is held whole (not for a
   * frame over {@link FIRST_FRAME_BUFFER_LIMIT}: the pump reads that one). Throws {@link FrameError} to refuse.
   */
  check(apiKey: number, apiVersion: number, body?: Uint8Array): void;
}

/**
 * Reads from `client` until one whole request frame has arrived and passed `options.check` — or, for a
 * frame larger than {@link FIRST_FRAME_BUFFER_LIMIT}, until its size, API key and version have. Returns every byte
 * read (the first frame or, for a large one, its start; and whatever came after it), or null when the
 * client closed before sending a byte.
 *
 * @example
 * ```ts ignore
 * const bytes = await readFirstFrame(client, { maxFrameBytes, check });
 * if (bytes) runSession({ client: prefixedStream(bytes, client), upstream: await connect(), ... });
 * ```
 * @throws {FrameError} on a bad size, a refused request, or an end of stream inside the frame
 */
export async function readFirstFrame(
  client: ByteSource,
  options: FirstFrameOptions,
): Promise<Uint8Array | null> {
  let buf = new Uint8Array(FIRST_READ_BYTES);
  let end = 0;
  let size = -1; // the frame's size, once known
  let checkedHeader = false;
  for (;;) {
    const n = await client.read(buf.subarray(end));
    if (n === null) {
      if (end === 0) return null;
      const short = size < 0 ? 4 - end : 4 + size - end;
      throw new FrameError(`connection ended inside a frame (${short} bytes short, the first frame)`);
    }
    end += n;
    if (size < 0 && end >= 4) {
      size = int32At(buf, 0);
      checkFrameSize(size, options.maxFrameBytes);
      if (size < 8) throw headerlessFrame(size);
    }
    if (size >= 0 && !checkedHeader && end >= 8) {
      checkedHeader = true;
      options.check(int16At(buf, 4), int16At(buf, 6));
      // Too large to hold: a valid start is enough; the pump streams the rest.
      if (size > FIRST_FRAME_BUFFER_LIMIT) return buf.subarray(0, end);
    }
    if (size >= 0 && end >= 4 + size) {
      options.check(int16At(buf, 4), int16At(buf, 6), buf.subarray(4, 4 + size));
      return buf.subarray(0, end);
    }
    if (end === buf.length) {
      // Grow as bytes come, not to the announced size: a peer announcing 100 MB and sending nothing
      // costs nothing.
      const bigger = new Uint8Array(Math.min(Math.max(buf.length * 2, 1024), size < 0 ? 1024 : 4 + size));
      bigger.set(buf);
      buf = bigger;
    }
  }
}
