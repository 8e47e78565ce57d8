/**
 * A frame given as pieces: what a filter may put in place of a frame without copying the bytes it
 * keeps. The pieces are written one after the other; the first starts with the int32 size prefix,
 * which counts the bytes of all of them. A piece may be a view of the frame received (the pump's read
 * buffer), which stays valid until the pieces are written.
 *
 * @module
 */
import { concatBytes } from "../lib/bytes_io.ts";

/** A frame (size prefix included) as consecutive pieces. */
export type FramePieces = readonly Uint8Array[];

/** A frame (size prefix included): one array, or {@link FramePieces}. */
export type ReplacementFrame = Uint8Array | FramePieces;

/**
 * The frame as one array: itself when it is one, else its pieces concatenated (a copy).
 *
 * @example
 * ```ts
 * joinFrame([new Uint8Array([0, 0, 0, 1]), new Uint8Array([7])]); // Uint8Array [0, 0, 0, 1, 7]
 * ```
 */
export function joinFrame(frame: ReplacementFrame): Uint8Array {
  return frame instanceof Uint8Array ? frame : concatBytes(frame);
}

/**
 * The frame's body (without its size prefix) as one array: a view when the frame is one array, else
 * a copy of its pieces. For a filter that needs the whole body after another one replaced it.
 *
 * @example
 * ```ts
 * frameBody([new Uint8Array([0, 0, 0, 1]), new Uint8Array([7])]); // Uint8Array [7]
 * ```
 */
export function frameBody(frame: ReplacementFrame): Uint8Array {
  return joinFrame(frame).subarray(4);
}
