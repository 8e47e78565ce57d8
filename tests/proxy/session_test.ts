/**
 * The session's two abilities beyond forwarding, with in-memory streams: a filter answering a request
 * itself, and a filter sending a request of its own upstream. Plus ordering with acks=0 Produce.
 */
import assert from "node:assert/strict";
import { type Filter, FORWARD, replaceWith, respond } from "../../src/proxy/filter.ts";
import { runSession, type SessionEnd } from "../../src/proxy/session.ts";
import type { ByteStream } from "../../src/proxy/transport/stream.ts";
import {
  concat,
  frameOf,
  produceFrame,
  readFrame,
  requestApiKey,
  requestCorrelationId,
  requestFrame,
  responseFrame,
  responseOf,
  streamPair,
} from "./fake_streams.ts";

const METADATA = 3;
const API_VERSIONS = 18;
const FETCH = 1;

/** A session between a fake client and a fake broker. */
function harness(filters: Filter[]) {
  const [client, gatewayClientSide] = streamPair();
  const [gatewayUpstreamSide, broker] = streamPair();
  const ended: Promise<SessionEnd> = runSession({
    client: gatewayClientSide,
    upstream: gatewayUpstreamSide,
    filters,
    maxFrameBytes: 1 << 20,
  });
  return { client, broker, ended };
}

/** Reads `n` requests at the broker: [api key, correlation id] of each. */
async function brokerReads(broker: ByteStream, n: number): Promise<[number, number][]> {
  const seen: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    const body = (await readFrame(broker))!;
    seen.push([requestApiKey(body), requestCorrelationId(body)]);
  }
  return seen;
}

async function clientReads(client: ByteStream, n: number): Promise<[number, number][]> {
  const seen: [number, number][] = [];
  for (let i = 0; i < n; i++) seen.push(responseOf((await readFrame(client))!));
  return seen;
}

/** Answers ApiVersions requests itself, with marker 0xAA. */
const answersApiVersions: Filter = {
  name: "answers-api-versions",
  requests: [{ apiKey: API_VERSIONS, versions: { min: 0, max: 4 } }],
  onRequest: ({ header }) => respond(responseFrame(header.correlationId, 0xaa)),
};

Deno.test("a filter answers a request locally: the client gets it after the responses still pending upstream", async () => {
  const { client, broker, ended } = harness([answersApiVersions]);
  // Metadata 1 goes upstream, ApiVersions 2 is answered by the filter, Metadata 3 goes upstream.
  await client.write(concat([
    requestFrame(METADATA, 1, 1),
    requestFrame(API_VERSIONS, 1, 2),
    requestFrame(METADATA, 1, 3),
  ]));
  // The broker never sees the ApiVersions request.
  assert.deepEqual(await brokerReads(broker, 2), [[METADATA, 1], [METADATA, 3]]);
  // Both responses in one write: the local answer must go between them, not before nor after.
  await broker.write(concat([responseFrame(1, 0x01), responseFrame(3, 0x03)]));
  assert.deepEqual(await clientReads(client, 3), [[1, 0x01], [2, 0xaa], [3, 0x03]]);

  // With nothing pending upstream, a local answer goes out at once.
  await client.write(requestFrame(API_VERSIONS, 1, 4));
  assert.deepEqual(await clientReads(client, 1), [[4, 0xaa]]);

  // A local answer behind a pending response waits for it.
  await client.write(concat([requestFrame(METADATA, 1, 5), requestFrame(API_VERSIONS, 1, 6)]));
  assert.deepEqual(await brokerReads(broker, 1), [[METADATA, 5]]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await broker.write(responseFrame(5, 0x05));
  assert.deepEqual(await clientReads(client, 2), [[5, 0x05], [6, 0xaa]]);

  client.close();
  assert.equal((await ended).by, "client");
});

Deno.test("a local answer keeps its place among acks=0 Produce requests, which get no response", async () => {
  const { client, broker, ended } = harness([answersApiVersions]);
  await client.write(concat([
    requestFrame(METADATA, 1, 1),
    produceFrame(2, 0), // acks=0: forwarded, no response
    requestFrame(API_VERSIONS, 1, 3),
    produceFrame(4, 1), // acks=1: a response
    produceFrame(5, 0),
    requestFrame(API_VERSIONS, 1, 6),
  ]));
  assert.deepEqual(await brokerReads(broker, 4), [[METADATA, 1], [0, 2], [0, 4], [0, 5]]);
  await broker.write(responseFrame(1, 0x01));
  await broker.write(responseFrame(4, 0x04));
  assert.deepEqual(await clientReads(client, 4), [[1, 0x01], [3, 0xaa], [4, 0x04], [6, 0xaa]]);
  client.close();
  await ended;
});

Deno.test("a filter sends a request of its own upstream and reads the answer; the client never sees it", async () => {
  const answers: [number, number][] = [];
  const injectsMetadata: Filter = {
    name: "injects-metadata",
    requests: [{ apiKey: FETCH, versions: { min: 0, max: 18 } }],
    async onRequest(_request, context) {
      // Before forwarding the client's Fetch, ask the broker something.
      const response = await context.sendRequest({
        apiKey: METADATA,
        apiVersion: 1,
        encode: (correlationId) => requestFrame(METADATA, 1, correlationId),
      });
      answers.push(responseOf(response));
      return FORWARD;
    },
  };
  const { client, broker, ended } = harness([injectsMetadata]);
  // A Metadata (not wanted: forwarded at once), then a Fetch (waits for the filter's own request).
  await client.write(concat([requestFrame(METADATA, 1, 10), requestFrame(FETCH, 4, 11)]));
  const seen = await brokerReads(broker, 2);
  const ownId = seen[1][1];
  assert.deepEqual(seen, [[METADATA, 10], [METADATA, ownId]]);
  await broker.write(concat([responseFrame(10, 0x10), responseFrame(ownId, 0x99)]));
  // The Fetch goes upstream once the filter has its answer.
  assert.deepEqual(await brokerReads(broker, 1), [[FETCH, 11]]);
  await broker.write(responseFrame(11, 0x11));
  assert.deepEqual(await clientReads(client, 2), [[10, 0x10], [11, 0x11]]);
  assert.deepEqual(answers, [[ownId, 0x99]]);
  client.close();
  assert.equal((await ended).by, "client");
});

Deno.test("a filter asks the broker, then answers itself: the client's order holds, later requests wait for it", async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => release = resolve);
  const seenByFilter: [number, number][] = [];
  // Answers ApiVersions locally, after asking the broker (the client's order still holds).
  const asksThenAnswers: Filter = {
    name: "asks-then-answers",
    requests: [{ apiKey: API_VERSIONS, versions: { min: 0, max: 4 } }],
    async onRequest({ header }, context) {
      await gate;
      const response = await context.sendRequest({
        apiKey: METADATA,
        apiVersion: 1,
        encode: (correlationId) => requestFrame(METADATA, 1, correlationId),
      });
      seenByFilter.push(responseOf(response));
      return respond(responseFrame(header.correlationId, 0xaa));
    },
  };
  const { client, broker, ended } = harness([asksThenAnswers]);
  await client.write(
    concat([requestFrame(METADATA, 1, 1), requestFrame(API_VERSIONS, 1, 2), requestFrame(METADATA, 1, 3)]),
  );
  assert.deepEqual(await brokerReads(broker, 1), [[METADATA, 1]]);
  await broker.write(responseFrame(1, 0x01));
  assert.deepEqual(await clientReads(client, 1), [[1, 0x01]]);
  release();
  const [[, ownId]] = await brokerReads(broker, 1);
  await broker.write(responseFrame(ownId, 0x77));
  // The client's next request is read only once the filter is done with the one before.
  assert.deepEqual(await brokerReads(broker, 1), [[METADATA, 3]]);
  await broker.write(responseFrame(3, 0x03));
  assert.deepEqual(await clientReads(client, 2), [[2, 0xaa], [3, 0x03]]);
  assert.deepEqual(seenByFilter, [[ownId, 0x77]]);
  client.close();
  await ended;
});

Deno.test("an own request never lands inside a client frame being streamed upstream", async () => {
  let answer: Promise<Uint8Array> | undefined;
  // Sends a request of its own on seeing a Metadata response (and reads the answer later: responses
  // come in order, so it cannot come before this response is delivered).
  const asksOnMetadataResponse: Filter = {
    name: "asks-on-metadata-response",
    responses: [{ apiKey: METADATA, versions: { min: 0, max: 13 } }],
    onResponse(_response, context) {
      answer = context.sendRequest({
        apiKey: METADATA,
        apiVersion: 1,
        encode: (correlationId) => requestFrame(METADATA, 1, correlationId),
      });
      return FORWARD;
    },
  };
  const { client, broker, ended } = harness([asksOnMetadataResponse]);
  const big = requestFrame(FETCH, 4, 2, Array.from({ length: 20_000 }, (_, i) => i & 0xff));
  await client.write(concat([requestFrame(METADATA, 1, 1), big.subarray(0, 5000)]));
  assert.deepEqual(await brokerReads(broker, 1), [[METADATA, 1]]);
  // The response filter now wants to send its own request while the Fetch is half forwarded.
  await broker.write(responseFrame(1, 0x01));
  assert.deepEqual(await clientReads(client, 1), [[1, 0x01]]);
  await new Promise((resolve) => setTimeout(resolve, 20));
  await client.write(big.subarray(5000));
  const fetch = (await readFrame(broker))!;
  assert.deepEqual(fetch, big.subarray(4));
  const [[apiKey, ownId]] = await brokerReads(broker, 1);
  assert.equal(apiKey, METADATA);
  // Answered in the order received.
  await broker.write(concat([responseFrame(2, 0x02), responseFrame(ownId, 0x77)]));
  assert.deepEqual(await clientReads(client, 1), [[2, 0x02]]);
  assert.deepEqual(responseOf(await answer!), [ownId, 0x77]);
  client.close();
  await ended;
});

Deno.test("frames no filter wants are not handed to filters; a response to no pending request ends the session", async () => {
  let calls = 0;
  const wantsNothingHere: Filter = {
    name: "wants-fetch-responses",
    responses: [{ apiKey: FETCH, versions: { min: 0, max: 18 } }],
    onResponse: () => {
      calls++;
      return FORWARD;
    },
  };
  const { client, broker, ended } = harness([wantsNothingHere]);
  await client.write(requestFrame(METADATA, 1, 1));
  await brokerReads(broker, 1);
  await broker.write(responseFrame(1, 1));
  assert.deepEqual(await clientReads(client, 1), [[1, 1]]);
  await broker.write(responseFrame(2, 2));
  const end = await ended;
  assert.equal(calls, 0);
  assert.deepEqual(end, {
    by: "error",
    reason: "upstream: response with correlation id 2 but no request pending",
    kind: undefined,
  });
});

Deno.test("filters run in order for requests and in reverse for responses; a replaced frame goes on", async () => {
  const calls: string[] = [];
  const tagger = (name: string, tag: number): Filter => ({
    name,
    requests: [{ apiKey: METADATA, versions: { min: 0, max: 13 } }],
    responses: [{ apiKey: METADATA, versions: { min: 0, max: 13 } }],
    onRequest: ({ header }) => {
      calls.push(`${name} request`);
      return replaceWith(requestFrame(METADATA, 1, header.correlationId, [tag]));
    },
    onResponse: ({ request, body }) => {
      calls.push(`${name} response (saw ${body[4]})`);
      return replaceWith(responseFrame(request.correlationId, tag));
    },
  });
  const { client, broker, ended } = harness([tagger("a", 0xa), tagger("b", 0xb)]);
  await client.write(requestFrame(METADATA, 1, 1));
  const forwarded = (await readFrame(broker))!;
  assert.equal(forwarded.at(-1), 0xb);
  await broker.write(responseFrame(1, 0x01));
  assert.deepEqual(await clientReads(client, 1), [[1, 0xa]]);
  assert.deepEqual(calls, ["a request", "b request", "b response (saw 1)", "a response (saw 11)"]);
  client.close();
  await ended;
});

/** A large response body: correlation id, then `length` bytes counting up from `seed`. */
function largeResponse(correlationId: number, length: number, seed: number): Uint8Array {
  const body = new Uint8Array(4 + length);
  new DataView(body.buffer).setInt32(0, correlationId);
  for (let i = 0; i < length; i++) body[4 + i] = (seed + i) & 0xff;
  return frameOf(body);
}

/**
 * Inserts `marker` after the correlation id of each Metadata response, as pieces: a new head (size
 * prefix, correlation id, marker) and a view of the rest of the body received (not copied).
 */
function insertsMarker(marker: number): Filter {
  return {
    name: `inserts-${marker}`,
    responses: [{ apiKey: METADATA, versions: { min: 0, max: 13 } }],
    onResponse: ({ body }) => {
      const head = new Uint8Array(9);
      new DataView(head.buffer).setInt32(0, body.length + 1);
      head.set(body.subarray(0, 4), 4);
      head[8] = marker;
      return replaceWith([head, body.subarray(4)]);
    },
  };
}

/** What `insertsMarker(marker)` makes of a frame. */
function withMarker(frame: Uint8Array, marker: number): Uint8Array {
  return frameOf(concat([frame.subarray(4, 8), new Uint8Array([marker]), frame.subarray(8)]));
}

Deno.test("a response replaced by pieces (views of the read buffer among them) reaches the client whole, frames after it intact", async () => {
  const { client, broker, ended } = harness([insertsMarker(0xee)]);
  // Larger than the pump's read buffer (it grows), then small frames in the same write (read into
  // the same buffer right after the pieces are written).
  const responses = [largeResponse(1, 300_000, 7), largeResponse(2, 50, 9), largeResponse(3, 200_000, 11)];
  await client.write(
    concat([requestFrame(METADATA, 1, 1), requestFrame(METADATA, 1, 2), requestFrame(METADATA, 1, 3)]),
  );
  await brokerReads(broker, 3);
  await broker.write(concat(responses));
  for (const response of responses) {
    assert.deepEqual(await readFrame(client), withMarker(response, 0xee).subarray(4));
  }
  client.close();
  await ended;
});

Deno.test("a filter after one that replied in pieces gets the whole body, joined; the pieces go out", async () => {
  const seen: Uint8Array[] = [];
  const wantsWhole: Filter = {
    name: "wants-whole",
    responses: [{ apiKey: METADATA, versions: { min: 0, max: 13 } }],
    onResponse: ({ body }) => {
      assert.ok(body instanceof Uint8Array);
      seen.push(body.slice());
      return FORWARD;
    },
  };
  // Responses pass the filters last first: the marker is inserted, then `wantsWhole` reads the result.
  const { client, broker, ended } = harness([wantsWhole, insertsMarker(0xee)]);
  const response = largeResponse(1, 150_000, 3);
  await client.write(requestFrame(METADATA, 1, 1));
  await brokerReads(broker, 1);
  await broker.write(response);
  const expectedFrame = withMarker(response, 0xee);
  assert.deepEqual(await readFrame(client), expectedFrame.subarray(4));
  assert.deepEqual(seen, [expectedFrame.subarray(4)]);
  client.close();
  await ended;
});

Deno.test("a second filter replacing a frame in pieces after the first did: both markers, in chain order", async () => {
  const { client, broker, ended } = harness([insertsMarker(0xaa), insertsMarker(0xbb)]);
  const response = largeResponse(1, 70_000, 5);
  await client.write(requestFrame(METADATA, 1, 1));
  await brokerReads(broker, 1);
  await broker.write(response);
  assert.deepEqual(await readFrame(client), withMarker(withMarker(response, 0xbb), 0xaa).subarray(4));
  client.close();
  await ended;
});

Deno.test("a request replaced by pieces reaches the broker whole", async () => {
  const splitter: Filter = {
    name: "splits-requests",
    requests: [{ apiKey: METADATA, versions: { min: 0, max: 13 } }],
    onRequest: ({ body }) => {
      const size = new Uint8Array(4);
      new DataView(size.buffer).setInt32(0, body.length);
      return replaceWith([size, body.subarray(0, 5), body.subarray(5)]);
    },
  };
  const { client, broker, ended } = harness([splitter]);
  const requests = [requestFrame(METADATA, 1, 1, [9, 8, 7]), requestFrame(METADATA, 1, 2, [6, 5])];
  await client.write(concat(requests));
  assert.deepEqual(await readFrame(broker), requests[0].subarray(4));
  assert.deepEqual(await readFrame(broker), requests[1].subarray(4));
  client.close();
  await ended;
});
