/**
 * The spliced rewrites (Metadata: only the brokers decoded; ShareFetch and ShareAcknowledge: only the
 * NodeEndpoints tail) give exactly the bytes of the former whole decode and re-encode, kept here as the
 * reference, on responses captured from real brokers and on generated responses of every version.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { BrokerEndpointMapper, BrokerRef, Endpoint } from "../../../src/cluster/mapping.ts";
import {
  encodeMessage,
  frameBody,
  type MessageSpec,
  MetadataResponse,
  type NodeEndpoint,
  ProtocolError,
  readFieldRun,
  responseHeaderLength,
  responseHeaderVersion,
  ShareAcknowledgeResponse,
  ShareFetchResponse,
  spliceFieldRun,
  versionList,
} from "../../../src/protocol/mod.ts";
import { type RewriteContext, rewriteResponse } from "../../../src/proxy/filters/mod.ts";
import { joinFrame, type ReplacementFrame } from "../../../src/proxy/frame_pieces.ts";
import { decodeWhole, encodeFrame } from "../../../src/proxy/filters/response_frame.ts";
import { FrameError } from "../../../src/proxy/pump.ts";
import { messageArbitrary } from "../../protocol/arbitrary.ts";
import { type FixtureEntry, fixtureVersionDirs, loadFixtureIndex } from "../../protocol/fixture_support.ts";

const SPLICED: readonly MessageSpec<unknown>[] = [
  MetadataResponse,
  ShareFetchResponse,
  ShareAcknowledgeResponse,
];

/** What a rewrite asked of its context: the refs given to the mapper, and unknown-broker signals. */
interface Calls {
  mapped: [number, string | null][][];
  unknown: number;
}

/** Any node id maps (deterministically) to an endpoint, as long as the id fits a port. */
const anyNode: BrokerEndpointMapper = (refs) => {
  const out = new Map<number, Endpoint>();
  for (const ref of refs) {
    out.set(ref.nodeId, { host: `gw-${ref.nodeId % 7}.example`, port: ref.nodeId & 0x7fff });
  }
  return out;
};

function recordingContext(calls: Calls): RewriteContext {
  const known: BrokerRef[] = [1, 2, 3].map((nodeId) => ({ nodeId, rack: `rack-${nodeId}` }));
  return {
    clientAddress: "10.0.0.1:5000",
    mapper(refs, who) {
      calls.mapped.push(refs.map((r) => [r.nodeId, r.rack]));
      return anyNode(refs, who);
    },
    knownBrokers: () => known,
    onUnknownBroker: () => calls.unknown++,
  };
}

/** The former rewrite of these three APIs: decode the whole body, map, encode the whole body. */
function referenceRewrite(
  spec: MessageSpec<unknown>,
  version: number,
  body: Uint8Array,
  context: RewriteContext,
) {
  const headerEnd = responseHeaderLength(spec.apiKey!, version, body);
  const who = { clientId: "c", clientAddress: context.clientAddress, advance: spec === MetadataResponse };
  const known = new Set(context.knownBrokers().map((b) => b.nodeId));
  const map = (nodes: (BrokerRef & { host: string; port: number })[]) => {
    const endpoints = context.mapper(nodes, who);
    if (nodes.some((b) => !known.has(b.nodeId))) context.onUnknownBroker!();
    for (const node of nodes) {
      const endpoint = endpoints.get(node.nodeId);
      if (endpoint === undefined) throw new ProtocolError("the broker mapping returned no endpoint");
      node.host = endpoint.host;
      node.port = endpoint.port;
    }
  };
  if (spec === MetadataResponse) {
    const value = decodeWhole(MetadataResponse, version, body, headerEnd);
    map(value.brokers);
    return encodeFrame(body.subarray(0, headerEnd), MetadataResponse, version, value);
  }
  const schema = spec as MessageSpec<{ nodeEndpoints: NodeEndpoint[] }>;
  const value = decodeWhole(schema, version, body, headerEnd);
  map(value.nodeEndpoints);
  return encodeFrame(body.subarray(0, headerEnd), schema, version, value);
}

type Outcome = { frame: Uint8Array; calls: Calls } | { error: string; calls: Calls };

function outcome(run: (context: RewriteContext) => ReplacementFrame | null): Outcome {
  const calls: Calls = { mapped: [], unknown: 0 };
  try {
    // The pieces, concatenated: the bytes the client receives.
    return { frame: joinFrame(run(recordingContext(calls))!), calls };
  } catch (error) {
    if (!(error instanceof ProtocolError || error instanceof FrameError)) throw error;
    return { error: error.message, calls };
  }
}

/** Asserts that the spliced rewrite of `body` equals the reference (bytes and calls). */
function assertSameRewrite(spec: MessageSpec<unknown>, version: number, body: Uint8Array, label: string) {
  const request = { apiKey: spec.apiKey!, apiVersion: version, clientId: "c" };
  const spliced = outcome((context) => rewriteResponse(request, body, context));
  const reference = outcome((context) => referenceRewrite(spec, version, body, context));
  if ("error" in reference) {
    // A mapping that cannot be encoded (e.g. a port out of range) fails both ways.
    assert.ok("error" in spliced, `${label}: the reference failed (${reference.error}), the splice did not`);
    return;
  }
  assert.ok("frame" in spliced, `${label}: ${"error" in spliced ? spliced.error : ""}`);
  assert.deepEqual(spliced.frame, reference.frame, `${label}: bytes`);
  assert.deepEqual(spliced.calls, reference.calls, `${label}: mapper and unknown-broker calls`);
}

function encodeMessageOf(spec: MessageSpec<unknown>, version: number, value: unknown): Uint8Array {
  return encodeMessage(spec, version, value as never);
}

/** A response frame body: correlation id 7, an empty header tagged section when the header is v1. */
function withHeader(spec: MessageSpec<unknown>, version: number, message: Uint8Array): Uint8Array {
  const head = responseHeaderVersion(spec.apiKey!, version) === 1 ? [0, 0, 0, 7, 0] : [0, 0, 0, 7];
  return new Uint8Array([...head, ...message]);
}

Deno.test("spliced rewrites equal the whole decode and re-encode on responses captured from brokers", () => {
  const root = new URL("../../protocol/fixtures/", import.meta.url);
  let checked = 0;
  for (const dir of fixtureVersionDirs(root)) {
    for (const entry of loadFixtureIndex(dir) as FixtureEntry[]) {
      const spec = SPLICED.find((s) => s.name === entry.message);
      if (spec === undefined || entry.frame !== "response") continue;
      const raw = Deno.readFileSync(new URL(entry.file, dir));
      const body = entry.sizePrefixed ? frameBody(raw) : raw;
      assertSameRewrite(spec, entry.version, body, `${dir.pathname.split("/").at(-2)}/${entry.file}`);
      checked++;
    }
  }
  // Metadata v0-13 from both Kafka versions, ShareFetch and ShareAcknowledge v1-2.
  assert.ok(checked >= 40, `only ${checked} fixtures checked`);
});

for (const spec of SPLICED) {
  Deno.test(`spliced rewrite equals the whole decode and re-encode: generated ${spec.name}, every version`, () => {
    for (const version of versionList(spec)) {
      fc.assert(
        fc.property(messageArbitrary(spec, version, { maxArray: 4 }), (value) => {
          // The generic codec's encoding of the value: canonical, as a broker writes it.
          const message = encodeMessageOf(spec, version, value);
          assertSameRewrite(spec, version, withHeader(spec, version, message), `${spec.name} v${version}`);
        }),
        { numRuns: 60 },
      );
    }
  });
}

Deno.test("spliced Metadata rewrite: a body cut inside the brokers fails as the reference does", () => {
  for (const version of versionList(MetadataResponse)) {
    const message = encodeMessageOf(MetadataResponse, version, {
      brokers: [{ nodeId: 1, host: "10.0.0.1", port: 9092, rack: "r" }],
      topics: [],
    });
    const body = withHeader(MetadataResponse, version, message);
    const host = new TextEncoder().encode("10.0.0.1");
    const hostAt = body.findIndex((_, i) => host.every((b, j) => body[i + j] === b));
    for (const cut of [hostAt - 1, hostAt + 3, hostAt + host.length + 2]) {
      assert.throws(
        () =>
          rewriteResponse({ apiKey: 3, apiVersion: version, clientId: "c" }, body.subarray(0, cut), {
            clientAddress: "10.0.0.1:5000",
            mapper: anyNode,
            knownBrokers: () => [],
          }),
        FrameError,
        `v${version} cut at ${cut}`,
      );
    }
  }
});

Deno.test("spliced ShareFetch/ShareAcknowledge rewrite: trailing bytes fail as with the reference", () => {
  for (const spec of [ShareFetchResponse, ShareAcknowledgeResponse]) {
    for (const version of versionList(spec)) {
      const body = withHeader(spec, version, encodeMessageOf(spec, version, {}));
      const trailing = new Uint8Array([...body, 0]);
      assertSameRewrite(spec, version, trailing, `${spec.name} v${version} with a trailing byte`);
      assert.throws(
        () =>
          rewriteResponse({ apiKey: spec.apiKey!, apiVersion: version, clientId: "c" }, trailing, {
            clientAddress: "10.0.0.1:5000",
            mapper: anyNode,
            knownBrokers: () => [],
          }),
        /trailing byte/,
      );
    }
  }
});

Deno.test("readFieldRun: the run's offsets, its decoded value, and a field the version lacks", () => {
  const message = encodeMessage(MetadataResponse, 12, {
    throttleTimeMs: 5,
    brokers: [{ nodeId: 2, host: "h", port: 1, rack: null }],
    clusterId: "k",
    topics: [{ name: "t", topicId: "AAAAAAAAAAAAAAAAAAAAAA", partitions: [] }],
  } as never);
  const run = readFieldRun(MetadataResponse, 12, message, 0, "Brokers", "Brokers");
  assert.equal(run.start, 4);
  // count 2, node id 4, host 2, port 4, rack 1, tagged 1
  assert.equal(run.end, 4 + 1 + 4 + 2 + 4 + 1 + 1);
  assert.deepEqual(run.value.brokers, [{ nodeId: 2, host: "h", port: 1, rack: null }]);
  const frame = joinFrame(spliceFieldRun(message, run));
  assert.deepEqual(frame.subarray(4), message);
  assert.equal(new DataView(frame.buffer).getInt32(0), message.length);
  assert.throws(() => readFieldRun(MetadataResponse, 0, message, 0, "ClusterId"), ProtocolError);
});
