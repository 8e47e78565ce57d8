/**
 * Decoding a whole response body and encoding its replacement frame, for the filters that rewrite
 * responses.
 *
 * @module
 */
import {
  ByteWriter,
  decodeMessage,
  encodeMessageInto,
  type MessageSpec,
  ProtocolError,
} from "../../protocol/mod.ts";

/**
 * Decodes the message at `offset` of `body`, which must end exactly where the message does.
 *
 * @example
 * ```ts ignore
 * const value = decodeWhole(MetadataResponse, 12, body, headerEnd);
 * ```
 * @throws {ProtocolError}
 */
export function decodeWhole<T>(schema: MessageSpec<T>, version: number, body: Uint8Array, offset: number): T {
  const decoded = decodeMessage(schema, version, body, offset);
  if (decoded.offset !== body.length) {
    throw new ProtocolError(`${body.length - decoded.offset} trailing byte(s)`);
  }
  return decoded.value;
}

/**
 * A whole frame (size prefix included): `header` kept byte for byte, then `value` encoded.
 *
 * @example
 * ```ts ignore
 * const frame = encodeFrame(body.subarray(0, headerEnd), MetadataResponse, 12, value);
 * ```
 */
export function encodeFrame<T>(
  header: Uint8Array,
  schema: MessageSpec<T>,
  version: number,
  value: T,
): Uint8Array {
  const w = new ByteWriter(512);
  w.int32(0);
  w.raw(header);
  encodeMessageInto(w, schema, version, value);
  const bytes = w.finish();
  new DataView(bytes.buffer, bytes.byteOffset, 4).setInt32(0, bytes.length - 4);
  return bytes;
}
