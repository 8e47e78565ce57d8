/**
 * The last stage before a broker connection: waiting for the client's first complete, valid request
 * frame. A connection that sends nothing, garbage, a bad size or a refused API key is closed without
 * a broker ever hearing of it (a port scanner or a thousand stalled connections cost no broker
 * connection).
 *
 * @module
 */
import type { ByteSource } from "../lib/bytes_io.ts";
import { FrameError } from "./pump.ts";

/** How to judge the first frame. */
export interface FirstFrameOptions {
  /** Largest request frame body accepted, in bytes. */
  maxFrameBytes: number;
  /**
   * Checks the first request: called with its API key and version as soon as they have arrived
   * (`body` undefined), then once with the whole frame body. Throws {@link FrameError} to refuse.
   */
  check(apiKey: number, apiVersion: number, body?: Uint8Array): void;
  /** Size of the first read buffer (default 1 KiB; grown for a larger first frame). */
  bufferBytes?: number;
}

/**
 * Reads from `client` until one whole request frame has arrived and passed `options.check`.
 * Returns every byte read (the first frame, and whatever came after it), or null when the client
 * closed before sending a byte.
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
  let buf = new Uint8Array(options.bufferBytes ?? 1024);
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
      size = new DataView(buf.buffer, buf.byteOffset, 4).getInt32(0);
      if (size < 0) throw new FrameError(`negative frame size ${size}`, "frame-size");
      if (size > options.maxFrameBytes) {
        throw new FrameError(
          `frame size ${size} exceeds the maximum of ${options.maxFrameBytes} bytes`,
          "frame-size",
        );
      }
      if (size < 8) {
        throw new FrameError(`malformed request header: a frame of ${size} bytes cannot hold one`);
      }
    }
    if (size >= 0 && !checkedHeader && end >= 8) {
      checkedHeader = true;
      options.check((buf[4] << 24 >> 16) | buf[5], (buf[6] << 24 >> 16) | buf[7]);
    }
    if (size >= 0 && end >= 4 + size) {
      options.check((buf[4] << 24 >> 16) | buf[5], (buf[6] << 24 >> 16) | buf[7], buf.subarray(4, 4 + size));
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
