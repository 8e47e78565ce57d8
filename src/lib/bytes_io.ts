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

/**
 * The bytes of `parts` in one array: `parts[0]` itself when there is one part, else a copy.
 *
 * @example
 * ```ts
 * concatBytes([new Uint8Array([1]), new Uint8Array([2, 3])]); // Uint8Array [1, 2, 3]
 * ```
 */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0];
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
