// Exercises fixture_support.ts on synthetic fixtures written to a temporary directory. Real broker
// captures are in tests/protocol/fixtures/<kafka-version>/, checked by fixtures_test.ts.
import assert from "node:assert/strict";
import {
  ApiVersionsResponse,
  encodeMessage,
  encodeRequestFrame,
  encodeResponseFrame,
  FetchResponse,
  MetadataRequest,
} from "../../src/protocol/mod.ts";
import { checkFixture, type FixtureEntry, fixtureVersionDirs, loadFixtureIndex } from "./fixture_support.ts";
import { hex } from "./hex.ts";

const METADATA_V1 = hex("00 00 00 01 00 00 00 01 00 02 62 31 00 00 23 84 ff ff 00 00 00 01 00 00 00 00");

Deno.test("fixture support: checks body, request and response fixtures; rejects an empty index", () => {
  const dir = Deno.makeTempDirSync({ prefix: "kgate-fixtures-" });
  const url = new URL(`file://${dir}/`);
  try {
    Deno.writeTextFileSync(`${dir}/index.json`, JSON.stringify({ fixtures: [] }));
    assert.throws(() => loadFixtureIndex(url), /no fixtures/);

    Deno.writeFileSync(`${dir}/a.bin`, METADATA_V1);
    Deno.writeFileSync(
      `${dir}/b.bin`,
      encodeRequestFrame({ correlationId: 3, clientId: "c" }, MetadataRequest, 12, { topics: null }),
    );
    const fetchBody = encodeMessage(FetchResponse, 16, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [],
      nodeEndpoints: [{ nodeId: 1, host: "h", port: 1, rack: null }],
    });
    const resp = encodeResponseFrame(3, 1, FetchResponse, 16, {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [],
      nodeEndpoints: [{ nodeId: 1, host: "h", port: 1, rack: null }],
    }, [{ tag: 4, data: hex("01") }]);
    Deno.writeFileSync(`${dir}/c.bin`, resp);
    Deno.writeFileSync(`${dir}/d.bin`, fetchBody);
    const entries: FixtureEntry[] = [
      { file: "a.bin", message: "MetadataResponse", version: 1, frame: "body" },
      { file: "b.bin", message: "MetadataRequest", version: 12, frame: "request", sizePrefixed: true },
      { file: "c.bin", message: "FetchResponse", version: 16, frame: "response", sizePrefixed: true },
      { file: "d.bin", message: "FetchResponse", version: 16, frame: "body" },
    ];
    Deno.writeTextFileSync(`${dir}/index.json`, JSON.stringify({ fixtures: entries }));
    const loaded = loadFixtureIndex(url);
    assert.equal(loaded.length, 4);
    for (const e of loaded) checkFixture(url, e);

    // A fixture that does not round-trip fails.
    Deno.writeFileSync(`${dir}/a.bin`, new Uint8Array([...METADATA_V1, 0]));
    assert.throws(() => checkFixture(url, entries[0]), /trailing bytes/);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fixture support: version directories; ApiVersions v0 fallback bodies", () => {
  const root = Deno.makeTempDirSync({ prefix: "kgate-fixtures-" });
  const url = new URL(`file://${root}/`);
  try {
    assert.throws(() => fixtureVersionDirs(new URL("missing/", url)), Deno.errors.NotFound);
    assert.throws(() => fixtureVersionDirs(url), /no fixture directories/);
    Deno.mkdirSync(`${root}/9.9.9`);
    assert.throws(() => fixtureVersionDirs(url), /no fixture directories/);
    Deno.writeTextFileSync(`${root}/9.9.9/index.json`, JSON.stringify({ fixtures: [] }));
    const [dir] = fixtureVersionDirs(url);
    assert.equal(dir.href, new URL("9.9.9/", url).href);
    assert.throws(() => loadFixtureIndex(dir), /no fixtures/);

    // A broker answering ApiVersions v5 (unsupported) with UNSUPPORTED_VERSION and a v0 body.
    const fallback = encodeResponseFrame(7, 0, ApiVersionsResponse, 0, {
      errorCode: 35,
      apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 4 }],
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1n,
      finalizedFeatures: [],
      zkMigrationReady: false,
    });
    Deno.writeFileSync(`${root}/9.9.9/av.bin`, fallback);
    const e: FixtureEntry = {
      file: "av.bin",
      message: "ApiVersionsResponse",
      version: 5,
      frame: "response",
      sizePrefixed: true,
    };
    const checked = checkFixture(dir, e);
    assert.equal(checked.versionUsed, 0);
    assert.equal(checked.correlationId, 7);
    assert.equal((checked.body as { errorCode: number }).errorCode, 35);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
