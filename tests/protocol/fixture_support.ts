/**
 * Support for byte fixtures captured from real brokers (to be added under `tests/protocol/fixtures/`).
 *
 * Layout: `tests/protocol/fixtures/index.json` plus one `.bin` file per fixture:
 *
 * ```json
 * { "fixtures": [
 *   { "file": "metadata-v12-response.bin", "message": "MetadataResponse", "version": 12,
 *     "frame": "response", "sizePrefixed": true, "kafka": "4.1.0", "note": "3 brokers, 1 topic" }
 * ] }
 * ```
 *
 * - `message`: a schema name from `ALL_MESSAGES` (e.g. `FetchResponse`, `ProduceRequest`).
 * - `frame`: `"body"` (message body only), `"request"` (request header + body) or `"response"`
 *   (response header + body; the header version follows the API key and version).
 * - `sizePrefixed`: the file starts with the 4-byte frame size (default false).
 *
 * The test file to add together with the fixtures (it must fail when none are present):
 *
 * ```ts
 * import { checkFixture, loadFixtureIndex } from "./fixture_support.ts";
 * const dir = new URL("./fixtures/", import.meta.url);
 * for (const entry of loadFixtureIndex(dir)) Deno.test(`fixture ${entry.file}`, () => checkFixture(dir, entry));
 * ```
 */

import assert from "node:assert/strict";
import {
  ALL_MESSAGES,
  decodeMessage,
  decodeRequestFrame,
  decodeResponseFrame,
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

/** Assert that a fixture decodes completely and re-encodes to exactly the same bytes. */
export function checkFixture(dir: URL, e: FixtureEntry): void {
  const spec = schemaByName(e.message);
  const raw = Deno.readFileSync(new URL(e.file, dir));
  const bytes = e.sizePrefixed ? frameBody(raw) : raw;
  let reencoded: Uint8Array;
  let bodyStart: number;
  if (e.frame === "body") {
    const { value, offset } = decodeMessage(spec, e.version, bytes);
    assert.equal(offset, bytes.length, `${e.file}: trailing bytes`);
    reencoded = encodeMessage(spec, e.version, value);
    bodyStart = 0;
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
  } else {
    const hv = responseHeaderVersion(spec.apiKey!, e.version);
    const d = decodeResponseFrame(bytes, hv, spec, e.version);
    reencoded = frameBody(
      encodeResponseFrame(d.correlationId, hv, spec, e.version, d.body, d.headerTaggedFields),
    );
    bodyStart = decodeMessage(ResponseHeader, hv, bytes).offset;
  }
  assert.deepStrictEqual(reencoded, bytes, `${e.file}: decode -> encode must reproduce the bytes`);
  if (isFlexible(spec, e.version)) {
    const loc = locateTopLevelTaggedFields(spec, e.version, bytes, bodyStart);
    assert.equal(loc.end, bytes.length, `${e.file}: the top-level tagged section must end the message`);
  }
}
