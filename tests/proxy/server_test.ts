/**
 * The listeners with in-memory streams: the broker connection opens only for a first complete, valid
 * request frame; the node-wide caps; the first-frame and idle timeouts of the sweep (a fake clock,
 * the sweep run by hand).
 */
import assert from "node:assert/strict";
import { ConnectionTracker } from "../../src/proxy/connection_tracker.ts";
import { requestGuard } from "../../src/proxy/filters/request_guard.ts";
import { RateLimitedLog } from "../../src/lib/rate_limited_log.ts";
import {
  type ConnectionInfo,
  type ConnectionLimits,
  DEFAULT_CONNECTION_LIMITS,
  ProxyServer,
  type RejectionKind,
} from "../../src/proxy/server.ts";
import type { ConnectionEnd } from "../../src/proxy/server.ts";
import type { ByteStream, StreamListener } from "../../src/proxy/transport/stream.ts";
import {
  concat,
  frameOf,
  readFrame,
  requestFrame,
  responseFrame,
  responseOf,
  streamPair,
} from "./fake_streams.ts";

const API_VERSIONS = 18;
const METADATA = 3;

/** A listener whose connections the test makes with {@link Harness.connect}. */
class FakeListener implements StreamListener {
  readonly port: number;
  readonly #queue: ByteStream[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(port: number) {
    this.port = port;
  }

  push(stream: ByteStream): void {
    this.#queue.push(stream);
    this.#wake?.();
  }

  async accept(): Promise<ByteStream> {
    while (this.#queue.length === 0) {
      if (this.#closed) throw new Deno.errors.BadResource("closed");
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    return this.#queue.shift()!;
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }
}

/** A node with one port, fake brokers (each connect makes a new in-memory broker end) and a fake clock. */
function harness(limits: Partial<ConnectionLimits> = {}, options: { rejectedThrows?: boolean } = {}) {
  let now = 0;
  const listener = new FakeListener(7000);
  const brokers: ByteStream[] = [];
  const rejected: { kind: RejectionKind; reason: string; logged: boolean }[] = [];
  const closed: ConnectionEnd[] = [];
  const logLines: string[] = [];
  const badPeers = new RateLimitedLog(
    (message, values) => logLines.push(`${message} ${JSON.stringify(values)}`),
    {
      perInterval: 1000,
      now: () => now,
    },
  );
  const tracker = new ConnectionTracker({ ...DEFAULT_CONNECTION_LIMITS, ...limits }, { now: () => now });
  const server = new ProxyServer({
    bindHost: "127.0.0.1",
    portStart: 7000,
    portCount: 1,
    minBrokerId: 1,
    maxFrameBytes: 1 << 20,
    upstreamConnectTimeoutMs: 1000,
    broker: (id) => ({ nodeId: id, host: "broker", port: 9092 }),
    anyBroker: () => ({ nodeId: 1, host: "broker", port: 9092 }),
    filters: () => [requestGuard({ supportedVersions: () => ({ min: 0, max: 20 }) })],
    listen: () => listener,
    connectUpstream: () => {
      const [gatewaySide, broker] = streamPair();
      brokers.push(broker);
      return Promise.resolve(gatewaySide);
    },
    connections: { tracker, badPeers },
    events: {
      rejected: (_info: ConnectionInfo, reason, kind, logged) => {
        rejected.push({ kind, reason, logged });
        if (options.rejectedThrows) throw new Error("a bug in the rejected callback");
      },
      closed: (_info, end) => closed.push(end),
    },
  });
  server.listen();
  return {
    server,
    tracker,
    brokers,
    rejected,
    closed,
    logLines,
    /** Advances the fake clock and runs the sweep. */
    sweepAt(ms: number) {
      now = ms;
      tracker.sweep();
    },
    /** A new client connection from `ip`; returns the client's end. */
    connect(ip = "10.0.0.1"): ByteStream {
      const [client, gatewaySide] = streamPair();
      listener.push({ ...gatewaySide, remote: { hostname: ip, port: 40000 } });
      return client;
    },
  };
}

/** Resolves true when the stream is closed by the other side (a read returns null) within the time. */
async function closedByPeer(stream: ByteStream, ms = 2000): Promise<boolean> {
  const timer = AbortSignal.timeout(ms);
  const buf = new Uint8Array(64);
  for (;;) {
    const read = stream.read(buf);
    const n = await Promise.race([
      read,
      new Promise<"timeout">((resolve) => timer.addEventListener("abort", () => resolve("timeout"))),
    ]);
    if (n === "timeout") return false;
    if (n === null) return true;
  }
}

/** Lets the server's tasks run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 20));
}

Deno.test("no broker connection for a client that connects and closes without a byte", async () => {
  const h = harness();
  try {
    const client = h.connect();
    await settle();
    client.close();
    await settle();
    assert.equal(h.brokers.length, 0);
    assert.equal(h.tracker.size, 0);
  } finally {
    await h.server.close();
  }
});

Deno.test("no broker connection for garbage, an oversized size or an unknown API key: the client is closed", async () => {
  const h = harness();
  try {
    const inputs: [Uint8Array, RejectionKind, RegExp][] = [
      [new Uint8Array([0x7f, 0xff, 0xff, 0xff]), "frame-size", /exceeds the maximum/],
      [new Uint8Array([0xff, 0xff, 0xff, 0xfe]), "frame-size", /negative frame size/],
      // The API key is refused as soon as it arrives, before the frame is complete.
      [
        concat([new Uint8Array([0, 0, 0, 100]), new Uint8Array([0x27, 0x0f, 0, 0])]),
        "protocol",
        /unknown API key 9999/,
      ],
      [requestFrame(METADATA, 99, 1), "protocol", /version 99/],
      [frameOf(new Uint8Array([0, 3, 0, 1, 0, 0, 0, 1, 0, 50])), "protocol", /malformed request header/],
    ];
    for (const [bytes, kind, reason] of inputs) {
      const client = h.connect();
      await client.write(bytes);
      assert.ok(await closedByPeer(client), `${reason} closes the client`);
      await settle();
      const last = h.rejected.at(-1)!;
      assert.equal(last.kind, kind);
      assert.match(last.reason, reason);
    }
    assert.equal(h.brokers.length, 0, "no broker connection was opened");
  } finally {
    await h.server.close();
  }
});

Deno.test("the first complete valid frame opens the broker connection and is forwarded, byte for byte", async () => {
  const h = harness();
  try {
    const client = h.connect();
    const first = requestFrame(API_VERSIONS, 2, 7);
    // Half a frame: still no broker connection.
    await client.write(first.subarray(0, 9));
    await settle();
    assert.equal(h.brokers.length, 0);
    // The rest, with a second request right behind it.
    const second = requestFrame(METADATA, 1, 8);
    await client.write(concat([first.subarray(9), second]));
    await settle();
    assert.equal(h.brokers.length, 1);
    const broker = h.brokers[0];
    assert.deepEqual(frameOf((await readFrame(broker))!), first);
    assert.deepEqual(frameOf((await readFrame(broker))!), second);
    await broker.write(concat([responseFrame(7, 1), responseFrame(8, 2)]));
    assert.deepEqual(responseOf((await readFrame(client))!), [7, 1]);
    assert.deepEqual(responseOf((await readFrame(client))!), [8, 2]);
    client.close();
    await settle();
    assert.equal(h.tracker.size, 0);
  } finally {
    await h.server.close();
  }
});

Deno.test("a first frame over 64 KiB opens the broker connection on its valid start and streams through", async () => {
  const h = harness();
  try {
    const client = h.connect();
    const large = requestFrame(METADATA, 1, 9, Array.from({ length: 300 * 1024 }, (_, i) => i & 0xff));
    await client.write(large.subarray(0, 1024));
    await settle();
    assert.equal(h.brokers.length, 1, "connected on the first KiB");
    const reading = readFrame(h.brokers[0]);
    for (let at = 1024; at < large.length; at += 64 * 1024) {
      await client.write(large.subarray(at, Math.min(at + 64 * 1024, large.length)));
    }
    assert.deepEqual(frameOf((await reading)!), large);
    // A large frame with a refused start still reaches no broker.
    const refused = h.connect("10.0.0.2");
    const unknown = requestFrame(999, 0, 1, Array.from({ length: 100 * 1024 }, () => 0));
    await refused.write(unknown.subarray(0, 1024));
    assert.ok(await closedByPeer(refused));
    assert.equal(h.brokers.length, 1);
    client.close();
  } finally {
    await h.server.close();
  }
});

Deno.test("a peer that closes before sending a byte (a health check) is counted, without a log line", async () => {
  const h = harness();
  try {
    const probe = h.connect();
    await settle();
    probe.close();
    await settle();
    assert.deepEqual(h.rejected.map((r) => [r.kind, r.logged]), [["closed-before-request", false]]);
    assert.deepEqual(h.logLines, []);
    assert.equal(h.brokers.length, 0);
    assert.equal(h.tracker.size, 0);
  } finally {
    await h.server.close();
  }
});

Deno.test("a connection without a complete frame is closed by the sweep after the first-frame timeout", async () => {
  const h = harness({ firstFrameMs: 10_000 });
  try {
    const silent = h.connect();
    const half = h.connect("10.0.0.2");
    await half.write(requestFrame(API_VERSIONS, 2, 1).subarray(0, 6));
    await settle();
    h.sweepAt(9_999);
    await settle();
    assert.equal(h.tracker.size, 2, "not yet");
    h.sweepAt(10_000);
    assert.ok(await closedByPeer(silent));
    assert.ok(await closedByPeer(half));
    await settle();
    assert.deepEqual(h.rejected.map((r) => r.kind), ["first-frame-timeout", "first-frame-timeout"]);
    assert.equal(h.brokers.length, 0);
    assert.equal(h.tracker.size, 0);
  } finally {
    await h.server.close();
  }
});

Deno.test("a proxied connection idle longer than the idle timeout is closed; activity postpones it", async () => {
  const h = harness({ idleMs: 5_000, firstFrameMs: 1_000 });
  try {
    const client = h.connect();
    await client.write(requestFrame(API_VERSIONS, 2, 1));
    await settle();
    const broker = h.brokers[0];
    await readFrame(broker);
    // Past the first-frame timeout: it had its frame, it stays.
    h.sweepAt(3_000);
    await broker.write(responseFrame(1, 1)); // activity stamped 3 000: between the sweeps at 3 000 and 4 000
    await readFrame(client);
    h.sweepAt(4_000); // sees the activity: quiet since 4 000 at the latest
    h.sweepAt(8_999);
    await settle();
    assert.equal(h.tracker.size, 1, "active before 4 000: not provably idle for 5 s yet");
    h.sweepAt(9_000);
    assert.ok(await closedByPeer(client));
    await settle();
    assert.equal(h.closed.length, 1);
    assert.equal(h.closed[0].kind, "idle-timeout");
    assert.equal(h.closed[0].by, "gateway");
    assert.equal(h.tracker.size, 0);
  } finally {
    await h.server.close();
  }
});

Deno.test("a bug in an event callback ends that connection only: the node serves on and closes at once", async () => {
  // The callback throws while a connection over the cap is refused, before anything else of it runs: an
  // unhandled rejection there would end the process (and fail this test), a lost count would make close()
  // wait its full deadline.
  const h = harness({ maxConnections: 1 }, { rejectedThrows: true });
  let closeMs = Infinity;
  try {
    const served = h.connect("10.0.0.1");
    const refused = h.connect("10.0.0.2");
    assert.ok(await closedByPeer(refused));
    await settle();
    assert.deepEqual(h.rejected.map((r) => r.kind), ["max-connections"]);
    await served.write(requestFrame(API_VERSIONS, 2, 1));
    await settle();
    assert.equal(h.brokers.length, 1, "the admitted connection is served");
    served.close();
    await settle();
  } finally {
    const started = performance.now();
    await h.server.close();
    closeMs = performance.now() - started;
  }
  assert.ok(closeMs < 1000, `close() took ${closeMs.toFixed(0)} ms: a connection stayed counted`);
});

Deno.test("caps: connections beyond the node's cap and the per-IP cap are refused at once, counted by reason", async () => {
  const h = harness({ maxConnections: 3, maxConnectionsPerIp: 2 });
  try {
    const a1 = h.connect("10.0.0.1");
    const a2 = h.connect("10.0.0.1");
    const a3 = h.connect("10.0.0.1"); // third from the same IP
    const b1 = h.connect("10.0.0.2");
    const c1 = h.connect("10.0.0.3"); // fourth on the node
    assert.ok(await closedByPeer(a3));
    assert.ok(await closedByPeer(c1));
    await settle();
    assert.deepEqual(h.rejected.map((r) => r.kind), ["max-connections-per-ip", "max-connections"]);
    assert.equal(h.tracker.size, 3);
    assert.equal(h.tracker.countOf("10.0.0.1"), 2);
    // A closed connection frees its place.
    a1.close();
    await settle();
    const a4 = h.connect("10.0.0.1");
    await a4.write(requestFrame(API_VERSIONS, 2, 1));
    await settle();
    assert.equal(h.brokers.length, 1, "the new connection is served");
    for (const s of [a2, b1, a4]) s.close();
  } finally {
    await h.server.close();
  }
});
