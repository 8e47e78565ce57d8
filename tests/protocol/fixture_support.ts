/**
 * Support for byte fixtures captured from real brokers (`tests/protocol/fixtures/<kafka-version>/`,
 * written by `capture_fixtures.ts`, checked by `fixtures_test.ts`).
 *
 * Layout: one directory per Kafka release, each with an `index.json` plus one `.bin` file per fixture:
 *
 * ```json
 * { "fixtures": [
 *   { "file": "metadata-v12-response.bin", "message": "MetadataResponse", "version": 12,
 *     "frame": "response", "sizePrefixed": true, "kafka": "4.1.0", "note": "3 brokers, 1 topic" }
 * ] }
 * ```
 *
 * - `message`: a schema name from `ALL_MESSAGES` (e.g. `FetchResponse`, `ProduceRequest`).
 * - `version`: the API version of the exchange. For an `ApiVersionsResponse` it is the version of the
 *   request, which may be above what the broker supports: the body is then Kafka's v0 fallback.
 * - `frame`: `"body"` (message body only), `"request"` (request header + body) or `"response"`
 *   (response header + body; the header version follows the API key and version).
 * - `sizePrefixed`: the file starts with the 4-byte frame size (default false).
 *
 * Other top-level keys of `index.json` and other keys of an entry (`case`, `broker`) are free for the
 * capture script and the tests.
 *
 * ```ts
 * import { checkFixture, fixtureVersionDirs, loadFixtureIndex } from "./fixture_support.ts";
 * for (const dir of fixtureVersionDirs(new URL("./fixtures/", import.meta.url))) {
 *   for (const entry of loadFixtureIndex(dir)) Deno.test(`fixture ${entry.file}`, () => checkFixture(dir, entry));
 * }
 * ```
 */

import assert from "node:assert/strict";
import {
  ALL_MESSAGES,
  ApiVersionsResponse,
  decodeApiVersionsResponse,
  decodeMessage,
  decodeRequestFrame,
  decodeResponseFrame,
  encodeApiVersionsResponse,
  encodeMessage,
  encodeRequestFrame,
  encodeResponseFrame,
  frameBody,
  isFlexible,
  locateTopLevelTaggedFields,
  type MessageSpec,
  readRequestHeader,
  ResponseHeader,
  responseHeaderVersion,
} from "../../src/protocol/mod.ts";

/** One entry of `index.json`. */
export interface FixtureEntry {
  file: string;
  message: string;
  version: number;
  frame: "body" | "request" | "response";
  sizePrefixed?: boolean;
  kafka?: string;
  note?: string;
}

/**
 * The version directories under `root` (e.g. `fixtures/4.3.1/`), sorted. Throws when `root` is missing
 * or holds no directory with an `index.json`.
 */
export function fixtureVersionDirs(root: URL): URL[] {
  const out: URL[] = [];
  for (const e of Deno.readDirSync(root)) {
    if (!e.isDirectory) continue;
    const dir = new URL(`${e.name}/`, root);
    try {
      Deno.statSync(new URL("index.json", dir));
      out.push(dir);
    } catch { /* not a fixture dir */ }
  }
  if (out.length === 0) throw new Error(`no fixture directories (with an index.json) in ${root.pathname}`);
  return out.sort((a, b) => a.href.localeCompare(b.href));
}

/** Read and validate `index.json` in `dir`; throws when it is missing or lists no fixture. */
export function loadFixtureIndex(dir: URL): FixtureEntry[] {
  const index = JSON.parse(Deno.readTextFileSync(new URL("index.json", dir))) as {
    fixtures?: FixtureEntry[];
  };
  const entries = index.fixtures ?? [];
  if (entries.length === 0) throw new Error(`no fixtures listed in ${new URL("index.json", dir).pathname}`);
  for (const e of entries) {
    assert.ok(typeof e.file === "string" && e.file.endsWith(".bin"), `fixture file: ${JSON.stringify(e)}`);
    assert.ok(Number.isInteger(e.version), `fixture version: ${JSON.stringify(e)}`);
    assert.ok(["body", "request", "response"].includes(e.frame), `fixture frame: ${JSON.stringify(e)}`);
    schemaByName(e.message);
  }
  return entries;
}

function schemaByName(name: string): MessageSpec<unknown> {
  const spec = ALL_MESSAGES.find((m) => m.name === name);
  if (!spec) throw new Error(`unknown message ${name}`);
  return spec;
}

/** What {@link checkFixture} decoded, for further (semantic) assertions. */
export interface CheckedFixture {
  /** The decoded message body. */
  body: unknown;
  /** Body version actually used (differs from the entry's version for an ApiVersions v0 fallback). */
  versionUsed: number;
  /** Correlation id of the frame (frames only). */
  correlationId?: number;
}

/**
 * Assert that a fixture decodes completely and re-encodes to exactly the same bytes; returns the decoded
 * body. ApiVersions responses are decoded as a client does (v0 fallback on UNSUPPORTED_VERSION).
 */
export function checkFixture(dir: URL, e: FixtureEntry): CheckedFixture {
  const spec = schemaByName(e.message);
  const raw = Deno.readFileSync(new URL(e.file, dir));
  const bytes = e.sizePrefixed ? frameBody(raw) : raw;
  let reencoded: Uint8Array;
  let bodyStart: number;
  let out: CheckedFixture;
  if (spec === ApiVersionsResponse && e.frame !== "request") {
    // The response header is v0 for every version (see responseHeaderVersion).
    bodyStart = e.frame === "body" ? 0 : decodeMessage(ResponseHeader, 0, bytes).offset;
    const d = decodeApiVersionsResponse(e.version, bytes.subarray(bodyStart));
    const body = encodeApiVersionsResponse(e.version, d.value);
    assert.equal(body.versionUsed, d.versionUsed, `${e.file}: version used`);
    reencoded = e.frame === "body"
      ? body.bytes
      : new Uint8Array([...bytes.subarray(0, bodyStart), ...body.bytes]);
    out = { body: d.value, versionUsed: d.versionUsed };
    if (e.frame === "response") out.correlationId = new DataView(bytes.buffer, bytes.byteOffset).getInt32(0);
  } else if (e.frame === "body") {
    const { value, offset } = decodeMessage(spec, e.version, bytes);
    assert.equal(offset, bytes.length, `${e.file}: trailing bytes`);
    reencoded = encodeMessage(spec, e.version, value);
    bodyStart = 0;
    out = { body: value, versionUsed: e.version };
  } else if (e.frame === "request") {
    const d = decodeRequestFrame(bytes, spec);
    assert.equal(d.apiVersion, e.version, `${e.file}: api version in the header`);
    const header = {
      correlationId: d.correlationId,
      clientId: d.clientId,
      _unknownTaggedFields: d.headerTaggedFields,
    };
    reencoded = frameBody(encodeRequestFrame(header, spec, e.version, d.body));
    bodyStart = readRequestHeader(bytes).headerLength;
    out = { body: d.body, versionUsed: e.version, correlationId: d.correlationId };
  } else {
    const hv = responseHeaderVersion(spec.apiKey!, e.version);
    const d = decodeResponseFrame(bytes, hv, spec, e.version);
    reencoded = frameBody(
      encodeResponseFrame(d.correlationId, hv, spec, e.version, d.body, d.headerTaggedFields),
    );
    bodyStart = decodeMessage(ResponseHeader, hv, bytes).offset;
    out = { body: d.body, versionUsed: e.version, correlationId: d.correlationId };
  }
  assert.deepStrictEqual(reencoded, bytes, `${e.file}: decode -> encode must reproduce the bytes`);
  if (isFlexible(spec, out.versionUsed)) {
    const loc = locateTopLevelTaggedFields(spec, out.versionUsed, bytes, bodyStart);
    assert.equal(loc.end, bytes.length, `${e.file}: the top-level tagged section must end the message`);
  }
  return out;
}
