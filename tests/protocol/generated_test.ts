// The generated protocol files (src/protocol/generated/) are exactly what tools/generate_protocol.ts
// makes from the kafka-clients jar they name and the committed 3.9.1 definitions; every generated spec
// compiles for every version it declares; the API key table is typed; and the versions the data path
// rewrites come from the specs.
import assert from "node:assert/strict";
import { generateFromJar, kafkaClientsJar, mergeMessage, OUT_DIR } from "../../tools/generate_protocol.ts";
import { GENERATED_FROM_KAFKA } from "../../src/protocol/generated/api_keys.ts";
import { GENERATED_MESSAGES } from "../../src/protocol/generated/messages.ts";
import {
  API_KEY_TABLE,
  API_KEYS,
  ApiKey,
  ApiVersionsResponse,
  DescribeClusterResponse,
  DescribeQuorumResponse,
  FetchResponse,
  FindCoordinatorResponse,
  makeDefaultStruct,
  messagePlan,
  MetadataResponse,
  ProduceResponse,
  ShareAcknowledgeResponse,
  ShareFetchResponse,
  specVersions,
  versionList,
} from "../../src/protocol/mod.ts";
import { decodeMessage, encodeMessage } from "../../src/protocol/codec.ts";

Deno.test("the committed generated files are what the generator makes", async () => {
  const files = await generateFromJar(await kafkaClientsJar(GENERATED_FROM_KAFKA));
  const committed = [...Deno.readDirSync(OUT_DIR)].map((e) => e.name).sort();
  assert.deepEqual(committed, [...files.keys()].sort(), "files in src/protocol/generated/");
  for (const [name, text] of files) {
    const before = await Deno.readTextFile(new URL(name, OUT_DIR));
    assert.ok(before === text, `src/protocol/generated/${name} is out of date: run deno task generate`);
  }
});

Deno.test("every generated message compiles and round-trips its defaults in every version", () => {
  assert.ok(GENERATED_MESSAGES.length > 190, `${GENERATED_MESSAGES.length} messages`);
  let versions = 0;
  for (const spec of GENERATED_MESSAGES) {
    for (const v of versionList(spec)) {
      const value = makeDefaultStruct(messagePlan(spec, v));
      const bytes = encodeMessage(spec, v, value);
      const back = decodeMessage(spec, v, bytes);
      assert.equal(back.offset, bytes.length, `${spec.name} v${v}`);
      assert.deepEqual(encodeMessage(spec, v, back.value), bytes, `${spec.name} v${v}`);
      versions++;
    }
  }
  assert.ok(versions > 700, `${versions} message versions`);
});

Deno.test("the API key table is typed and agrees with the specs", () => {
  const metadata: 3 = ApiKey.Metadata;
  assert.equal(metadata, 3);
  // @ts-expect-error a misspelt API name is a type error
  assert.equal(ApiKey.Metdata, undefined);
  for (const row of API_KEY_TABLE) {
    assert.equal(API_KEYS[row.key].name, row.name);
    if (row.request === undefined) continue;
    assert.equal(row.request.apiKey, row.key);
    assert.equal(row.response.apiKey, row.key);
    assert.deepEqual(specVersions(row.request), { min: row.minVersion, max: row.maxVersion });
    assert.deepEqual(specVersions(row.response), specVersions(row.request), row.name);
  }
});

Deno.test("the specs of the rewritten responses declare the versions kgate serves", () => {
  // The union of Kafka 3.9.1 and 4.3.1 (Kafka 4 dropped Produce 0-2 and Fetch 0-3).
  const expected: [unknown, number, number][] = [
    [ProduceResponse, 0, 13],
    [FetchResponse, 0, 18],
    [MetadataResponse, 0, 13],
    [FindCoordinatorResponse, 0, 6],
    [ApiVersionsResponse, 0, 4],
    [DescribeClusterResponse, 0, 2],
    [ShareFetchResponse, 0, 2],
    [ShareAcknowledgeResponse, 0, 2],
    [DescribeQuorumResponse, 0, 2], // capped to v1 by the data path: v2 lists controller addresses
  ];
  for (const [spec, min, max] of expected) {
    assert.deepEqual(specVersions(spec as typeof MetadataResponse), { min, max });
  }
});

Deno.test("merging releases: the old release keeps the versions the new one dropped", () => {
  const merged = mergeMessage(
    {
      name: "XRequest",
      type: "request",
      apiKey: 0,
      validVersions: "0-3",
      flexibleVersions: "3+",
      fields: [
        { name: "Gone", type: "int32", versions: "0" },
        { name: "A", type: "string", versions: "0+", nullableVersions: "2+" },
        { name: "Tagged", type: "int32", versions: "3+", taggedVersions: "3+", tag: 0 },
      ],
    },
    {
      name: "XRequest",
      type: "request",
      apiKey: 0,
      validVersions: "2-5",
      flexibleVersions: "3+",
      fields: [
        { name: "A", type: "string", versions: "0+", nullableVersions: "2+" },
        { name: "New", type: "int64", versions: "5+" },
        { name: "Tagged", type: "int32", versions: "3+", taggedVersions: "3+", tag: 0 },
      ],
    },
  );
  assert.equal(merged.validVersions, "0-5");
  assert.equal(merged.flexibleVersions, "3+");
  assert.deepEqual(merged.fields.map((f) => [f.name, f.versions]), [
    ["Gone", "0"],
    ["A", "0+"],
    ["New", "5+"],
    ["Tagged", "3+"],
  ]);
  assert.throws(
    () =>
      mergeMessage(
        {
          name: "Y",
          type: "data",
          validVersions: "0-1",
          fields: [{ name: "A", type: "int32", versions: "0+" }],
        },
        {
          name: "Y",
          type: "data",
          validVersions: "1-2",
          fields: [{ name: "A", type: "int64", versions: "0+" }],
        },
      ),
    /type int32 \(old\) vs int64 \(new\)/,
  );
});
