import assert from "node:assert/strict";
import fc from "fast-check";
import type { ByteSink, ByteSource } from "../../src/lib/bytes_io.ts";
import { BufferPool } from "../../src/proxy/buffer_pool.ts";
import { FrameError, type FramePolicy, pumpFrames } from "../../src/proxy/pump.ts";

/** A source that hands out `data` in the given chunk sizes. */
function chunkedSource(data: Uint8Array, chunkSizes: number[]): ByteSource {
  let offset = 0;
  let i = 0;
  return {
    read(p) {
      if (offset >= data.length) return Promise.resolve(null);
      const want = chunkSizes.length ? chunkSizes[i++ % chunkSizes.length] : data.length;
      const n = Math.min(want, p.length, data.length - offset);
      p.set(data.subarray(offset, offset + n));
      offset += n;
      return Promise.resolve(n);
    },
  };
}

function collectingSink(): ByteSink & { bytes(): Uint8Array; writes: number } {
  const parts: Uint8Array[] = [];
  const sink = {
    writes: 0,
    write(p: Uint8Array) {
      sink.writes++;
      parts.push(p.slice());
      return Promise.resolve(p.length);
    },
    bytes() {
      const total = parts.reduce((n, p) => n + p.length, 0);
      const out = new Uint8Array(total);
      let o = 0;
      for (const p of parts) {
        out.set(p, o);
        o += p.length;
      }
      return out;
    },
  };
  return sink;
}

function frame(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Rewrites frames whose first byte is 1 by reversing the body; forwards others. Needs 1 byte to decide. */
const reversePolicy: FramePolicy = {
  inspect(prefix, size) {
    if (size === 0) return "forward";
    if (prefix.length < 1) return "more";
    return prefix[0] === 1 ? "rewrite" : "forward";
  },
  rewrite(body) {
    // Frames [1, 2] are "rewritten" to themselves: null forwards them unchanged.
    if (body.length === 2 && body[1] === 2) return null;
    return frame(body.slice().reverse());
  },
};

function expected(bodies: Uint8Array[]): Uint8Array {
  const rewritten = (b: Uint8Array) => b.length > 0 && b[0] === 1 && !(b.length === 2 && b[1] === 2);
  return concat(bodies.map((b) => frame(rewritten(b) ? b.slice().reverse() : b)));
}

Deno.test("pumpFrames forwards a frame unchanged when rewrite returns null", async () => {
  const bodies = [new Uint8Array([1, 2]), new Uint8Array([1, 3]), new Uint8Array([1, 2])];
  const sink = collectingSink();
  await pumpFrames(chunkedSource(concat(bodies.map(frame)), [3]), sink, reversePolicy, { maxFrameBytes: 64 });
  assert.deepEqual(sink.bytes(), concat([frame(bodies[0]), frame(new Uint8Array([3, 1])), frame(bodies[2])]));
});

Deno.test("pumpFrames forwards and rewrites frames for any chunking", async () => {
  await fc.assert(
    fc.asyncProperty(
      // Half the frames start with 1 (rewritten), half with 2 (forwarded); some are empty.
      fc.array(
        fc.oneof(
          fc.constant(new Uint8Array(0)),
          fc.tuple(fc.constantFrom(1, 2), fc.uint8Array({ maxLength: 3000 })).map(([first, rest]) =>
            concat([new Uint8Array([first]), rest])
          ),
        ),
        { maxLength: 12 },
      ),
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 16, max: 4096 }),
      async (bodies, chunks, bufferBytes) => {
        const sink = collectingSink();
        await pumpFrames(chunkedSource(concat(bodies.map(frame)), chunks), sink, reversePolicy, {
          maxFrameBytes: 1 << 20,
          bufferBytes,
        });
        assert.deepEqual(sink.bytes(), expected(bodies));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("pumpFrames writes consecutive forwarded frames in one write", async () => {
  const bodies = Array.from({ length: 50 }, (_, i) => new Uint8Array([2, i]));
  const sink = collectingSink();
  // 300 bytes, read at once into a buffer that holds them all.
  await pumpFrames(chunkedSource(concat(bodies.map(frame)), []), sink, reversePolicy, {
    maxFrameBytes: 1024,
    bufferBytes: 1024,
  });
  assert.equal(sink.writes, 1);
  assert.deepEqual(sink.bytes(), expected(bodies));
});

Deno.test("pumpFrames rejects oversized, negative and truncated frames", async () => {
  const big = new Uint8Array(8);
  new DataView(big.buffer).setInt32(0, 2000);
  await assert.rejects(
    pumpFrames(chunkedSource(big, []), collectingSink(), reversePolicy, { maxFrameBytes: 1000 }),
    (e: Error) => e instanceof FrameError && /2000 exceeds the maximum of 1000/.test(e.message),
  );
  const negative = new Uint8Array([0xff, 0xff, 0xff, 0xfe, 0, 0]);
  await assert.rejects(
    pumpFrames(chunkedSource(negative, []), collectingSink(), reversePolicy, { maxFrameBytes: 1000 }),
    (e: Error) => e instanceof FrameError && /negative frame size -2/.test(e.message),
  );
  const truncated = frame(new Uint8Array(100)).subarray(0, 50);
  await assert.rejects(
    pumpFrames(chunkedSource(truncated, [7]), collectingSink(), reversePolicy, { maxFrameBytes: 1000 }),
    (e: Error) => e instanceof FrameError && /ended inside a frame/.test(e.message),
  );
});

Deno.test("pumpFrames passes a policy rejection through", async () => {
  const policy: FramePolicy = {
    inspect() {
      throw new FrameError("garbage");
    },
    rewrite: (b) => b,
  };
  await assert.rejects(
    pumpFrames(chunkedSource(frame(new Uint8Array(3)), []), collectingSink(), policy, { maxFrameBytes: 10 }),
    /garbage/,
  );
});

/** A sink that copies what it is given only after a timer tick: a pump writing into it must not touch the bytes meanwhile. */
function slowSink(): ByteSink & { bytes(): Uint8Array } {
  const inner = collectingSink();
  return {
    async write(p: Uint8Array) {
      await new Promise((resolve) => setTimeout(resolve, 0));
      return inner.write(p);
    },
    bytes: () => inner.bytes(),
  };
}

/**
 * Rewrites frames whose first byte is 1 as pieces: a new size prefix, the marker 0xee, and a view of
 * the body in the pump's read buffer (split in two views). Forwards the others.
 */
const piecesPolicy: FramePolicy = {
  inspect: reversePolicy.inspect,
  rewrite(body) {
    const size = new Uint8Array(5);
    new DataView(size.buffer).setInt32(0, body.length + 1);
    size[4] = 0xee;
    const half = body.length >> 1;
    return [size, body.subarray(0, half), body.subarray(half)];
  },
};

Deno.test("pumpFrames writes views of its read buffer before it reads into that buffer again", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.tuple(fc.constantFrom(1, 2), fc.uint8Array({ minLength: 1, maxLength: 3000 })).map((
          [first, rest],
        ) => concat([new Uint8Array([first]), rest])),
        { minLength: 1, maxLength: 10 },
      ),
      fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 16, max: 4096 }),
      async (bodies, chunks, bufferBytes) => {
        const sink = slowSink();
        await pumpFrames(chunkedSource(concat(bodies.map(frame)), chunks), sink, piecesPolicy, {
          maxFrameBytes: 1 << 20,
          bufferBytes,
        });
        const want = bodies.map((b) => b[0] === 1 ? frame(concat([new Uint8Array([0xee]), b])) : frame(b));
        assert.deepEqual(sink.bytes(), concat(want));
      },
    ),
    { numRuns: 100 },
  );
});

Deno.test("pumpFrames moves between its small buffer, pooled ones and grown ones without losing a byte", async () => {
  // A tiny pool (64-byte buffers, 2 kept) makes every path run: small reads, pooled reads while bytes
  // stream, frames larger than a pooled buffer, and the buffers given back.
  const pool = new BufferPool(64, 2);
  await fc.assert(
    fc.asyncProperty(
      fc.array(
        fc.tuple(fc.constantFrom(1, 2), fc.uint8Array({ maxLength: 300 })).map(([first, rest]) =>
          concat([new Uint8Array([first]), rest])
        ),
        { maxLength: 12 },
      ),
      fc.array(fc.integer({ min: 1, max: 400 }), { minLength: 1, maxLength: 6 }),
      fc.integer({ min: 8, max: 48 }),
      async (bodies, chunks, bufferBytes) => {
        const sink = slowSink();
        await pumpFrames(chunkedSource(concat(bodies.map(frame)), chunks), sink, reversePolicy, {
          maxFrameBytes: 1 << 20,
          bufferBytes,
          pool,
        });
        assert.deepEqual(sink.bytes(), expected(bodies));
        assert.ok(pool.free <= 2);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("pumpFrames joins the small pieces of a rewritten frame and the frames around it into one write", async () => {
  const bodies = [new Uint8Array([2, 7]), new Uint8Array([1, 5, 6]), new Uint8Array([2, 8])];
  const sink = collectingSink();
  await pumpFrames(chunkedSource(concat(bodies.map(frame)), []), sink, piecesPolicy, { maxFrameBytes: 1024 });
  assert.equal(sink.writes, 1);
  assert.deepEqual(
    sink.bytes(),
    concat([frame(bodies[0]), frame(new Uint8Array([0xee, 1, 5, 6])), frame(bodies[2])]),
  );
});

Deno.test("pumpFrames: a deferred rewrite that fails while the frames before it are written ends the pump with its error", async () => {
  // The filter's promise rejects before the write of the frame ahead of it is done: it must reach the
  // pump (an unhandled rejection would end the process and fail this test).
  const data = concat([frame(new Uint8Array(8).fill(1)), frame(new Uint8Array(8).fill(2))]);
  let given = false;
  const source: ByteSource = {
    read(p) {
      if (given) return new Promise((resolve) => setTimeout(() => resolve(null), 50));
      given = true;
      p.set(data);
      return Promise.resolve(data.length);
    },
  };
  const slowSink: ByteSink = {
    write: (p) => new Promise((resolve) => setTimeout(() => resolve(p.length), 20)),
  };
  let inspected = 0;
  const policy: FramePolicy = {
    inspect: () => inspected++ === 0 ? "forward" : "rewrite",
    rewrite: () => Promise.reject(new Error("the filter failed")),
  };
  await assert.rejects(
    pumpFrames(source, slowSink, policy, { maxFrameBytes: 1000 }),
    /the filter failed/,
  );
});
