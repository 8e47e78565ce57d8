/**
 * Byte streams as the data path sees them: something to read from, something to write to.
 *
 * @module
 */

/** A byte source (a `Deno.Conn`, a TLS stream, a PROXY-header remainder in front of a socket). */
export interface ByteSource {
  /** Reads into `p`; the number of bytes read, or null at the end of the stream. */
  read(p: Uint8Array): Promise<number | null>;
}

/** A byte sink (a `Deno.Conn`, a TLS stream). */
export interface ByteSink {
  /** Writes some of `p`; the number of bytes written. */
  write(p: Uint8Array): Promise<number>;
}

/**
 * Writes all of `bytes` to `sink`.
 *
 * @example
 * ```ts
 * await writeAll(conn, new TextEncoder().encode("hello"));
 * ```
 */
export async function writeAll(sink: ByteSink, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) {
    written += await sink.write(written === 0 ? bytes : bytes.subarray(written));
  }
}
