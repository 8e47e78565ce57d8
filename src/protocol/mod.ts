/**
 * kgate's Kafka protocol codec: pure functions over bytes, no I/O.
 *
 * The spec and decoded type of every Kafka message and the API key table are generated from Kafka's own
 * message JSON (`generated/`, by `tools/generate_protocol.ts`; Kafka 4.3.1 merged with the 3.9.1
 * versions Kafka 4 dropped). The message schemas and header versions are checked against the ones of Kafka 3.9.1 and 4.3.1
 * (dumped from their jars), and frames captured from real 3.9.1 and 4.3.1 brokers decode and re-encode
 * byte for byte (`tests/protocol/fixtures/`, `tests/protocol/capture_fixtures.ts`).
 *
 * @module
 */

export { ProtocolError } from "./errors.ts";
export {
  ByteReader,
  ByteWriter,
  int16At,
  int32At,
  uuidFromString,
  uuidToString,
  ZERO_UUID,
} from "./bytes.ts";
export {
  type DefaultValue,
  type EncodeInput,
  type EncodeValue,
  type FieldMode,
  type FieldPlan,
  type FieldSpec,
  inVersions,
  isFlexible,
  type Kind,
  makeDefaultStruct,
  MAX_VERSION,
  messagePlan,
  type MessageSpec,
  parseVersionRange,
  propName,
  type RawTaggedField,
  specVersions,
  type Struct,
  type StructPlan,
  type TypePlan,
  versionList,
} from "./schema.ts";
export type { VersionRange } from "../lib/version_range.ts";
export {
  type Decoded,
  decodeMessage,
  decodeTaggedField,
  encodeMessage,
  encodeMessageInto,
  encodeTaggedField,
} from "./codec.ts";
export {
  API_KEY_TABLE,
  API_KEYS,
  ApiKey,
  type ApiKeyInfo,
  type ApiKeyNumber,
  apiName,
  isFlexibleApiVersion,
  isKnownApiKey,
  MAX_API_KEY,
  requestHeaderVersion,
  responseHeaderVersion,
} from "./api_keys.ts";
export { produceRequestAcks, readRequestHeader, type RequestHeaderInfo } from "./request_header.ts";
export {
  decodeNodeEndpoints,
  encodeNodeEndpoints,
  encodeTaggedSection,
  locateTopLevelTaggedFields,
  NODE_ENDPOINTS_TAG,
  type NodeEndpoint,
  replaceTopLevelTaggedFields,
  type TopLevelTaggedFields,
} from "./tagged_tail.ts";
export { type FieldRun, readFieldRun, spliceFieldRun } from "./field_splice.ts";
export {
  type ApiVersionsDecoded,
  decodeApiVersionsResponse,
  encodeApiVersionsResponse,
  UNSUPPORTED_VERSION,
} from "./api_versions.ts";
export {
  type DecodedRequestFrame,
  type DecodedResponseFrame,
  decodeRequestFrame,
  decodeResponseFrame,
  DEFAULT_MAX_FRAME_SIZE,
  encodeRequestFrame,
  encodeResponseFrame,
  frameBody,
  type RequestFrameHeader,
  responseHeaderLength,
} from "./frames.ts";
export * from "./messages/mod.ts";
