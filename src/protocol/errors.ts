/**
 * Errors raised by the Kafka protocol codec.
 *
 * @module
 */

/**
 * Raised for every malformed, truncated or unencodable Kafka protocol input: reading past the end of a
 * buffer, negative or absurd lengths, invalid UTF-8, unsupported versions, values out of range for their
 * wire type. The codec never lets a `RangeError` or `TypeError` escape for bad wire bytes.
 */
export class ProtocolError extends Error {
  /** Create a protocol error with a human readable message. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "ProtocolError";
  }
}
