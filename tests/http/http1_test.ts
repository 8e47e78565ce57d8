/** The HTTP/1.1 edge's limits, over real sockets on 127.0.0.1. */
import assert from "node:assert/strict";
import { type Http1Limits, serveHttp1 } from "../../src/http/http1.ts";

const LIMITS: Http1Limits = {
  headerTimeoutMs: 300,
  maxHeaderBytes: 1024,
  maxBodyBytes: 64,
  maxConnections: 4,
};

async function withServer(fn: (port: number) => Promise<void>, limits = LIMITS): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const server = serveHttp1(
    listener,
    "http",
    (request) => new Response(`${request.method} ${new URL(request.url).pathname}`),
    limits,
  );
  try {
    await fn((listener.addr as Deno.NetAddr).port);
  } finally {
    await server.close();
  }
}

/** Sends `text`, returns everything read until the server closes (bounded by `timeoutMs`). */
async function exchange(
  port: number,
  text: string | Uint8Array,
  timeoutMs = 3000,
): Promise<{ reply: string; closedAfterMs: number }> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const started = Date.now();
  const bytes = typeof text === "string" ? new TextEncoder().encode(text) : text;
  try {
    await conn.write(bytes);
  } catch { /* closed already */ }
  const chunks: Uint8Array[] = [];
  const buffer = new Uint8Array(65536);
  const timer = setTimeout(() => conn.close(), timeoutMs);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } catch { /* reset or closed by the timer */ }
  clearTimeout(timer);
  try {
    conn.close();
  } catch { /* closed */ }
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return { reply: new TextDecoder().decode(all), closedAfterMs: Date.now() - started };
}

Deno.test("keep-alive serves pipelined requests in order, then closes on Connection: close", async () => {
  await withServer(async (port) => {
    const { reply } = await exchange(
      port,
      "GET /a HTTP/1.1\r\nHost: x\r\n\r\nHEAD /b HTTP/1.1\r\nHost: x\r\n\r\nGET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    const statuses = reply.match(/HTTP\/1\.1 200 /g) ?? [];
    assert.equal(statuses.length, 3, reply);
    assert.ok(reply.indexOf("GET /a") < reply.indexOf("GET /c"), reply);
    assert.ok(!reply.includes("HEAD /b"), "a HEAD response has no body");
    assert.match(reply, /connection: close\r\n\r\nGET \/c$/);
  });
});

Deno.test("a slow or idle request head is closed at the deadline", async () => {
  await withServer(async (port) => {
    const idle = await exchange(port, new Uint8Array(0));
    assert.equal(idle.reply, "");
    assert.ok(idle.closedAfterMs >= 250 && idle.closedAfterMs < 2000, `${idle.closedAfterMs} ms`);
    const half = await exchange(port, "GET /slow HTTP/1.1\r\nHost: x\r\n");
    assert.equal(half.reply, "");
    assert.ok(half.closedAfterMs >= 250 && half.closedAfterMs < 2000, `${half.closedAfterMs} ms`);
  });
});

Deno.test("a byte-by-byte head still meets one deadline per request", async () => {
  await withServer(async (port) => {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    const started = Date.now();
    let closed = false;
    try {
      for (
        const byte of new TextEncoder().encode("GET /drip HTTP/1.1\r\nHost: x\r\nX-Pad: " + "a".repeat(50))
      ) {
        await conn.write(new Uint8Array([byte]));
        await new Promise((resolve) => setTimeout(resolve, 20));
        if (Date.now() - started > 1500) break;
      }
    } catch {
      closed = true;
    }
    const n = await conn.read(new Uint8Array(16)).catch(() => null);
    assert.ok(closed || n === null, "the dribbling connection was closed");
    assert.ok(Date.now() - started < 2000);
    try {
      conn.close();
    } catch { /* closed */ }
  });
});

Deno.test("oversized heads, oversized bodies, chunked bodies and garbage get an error and a close", async () => {
  await withServer(async (port) => {
    const big = await exchange(port, "GET / HTTP/1.1\r\nX: " + "a".repeat(2000) + "\r\n\r\n");
    assert.match(big.reply, /^HTTP\/1\.1 431 /);
    const body = await exchange(port, "POST / HTTP/1.1\r\nContent-Length: 100\r\n\r\n" + "b".repeat(100));
    assert.match(body.reply, /^HTTP\/1\.1 413 /);
    const chunked = await exchange(port, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assert.match(chunked.reply, /^HTTP\/1\.1 501 /);
    const garbage = await exchange(port, "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n");
    assert.match(garbage.reply, /^HTTP\/1\.1 400 /);
    const version = await exchange(port, "GET / HTTP/2.0\r\n\r\n");
    assert.match(version.reply, /^HTTP\/1\.1 505 /);
    const small = await exchange(
      port,
      "POST /p HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
    );
    assert.match(small.reply, /^HTTP\/1\.1 200 [\s\S]*POST \/p$/);
  });
});

Deno.test("connections past the cap are closed at once; the others are served", async () => {
  await withServer(async (port) => {
    const held = await Promise.all([1, 2, 3, 4].map(() => Deno.connect({ hostname: "127.0.0.1", port })));
    await new Promise((resolve) => setTimeout(resolve, 50));
    const extra = await exchange(port, "GET / HTTP/1.1\r\n\r\n", 1000);
    assert.equal(extra.reply, "");
    assert.ok(extra.closedAfterMs < 900, `${extra.closedAfterMs} ms`);
    for (const conn of held) conn.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const later = await exchange(port, "GET /ok HTTP/1.1\r\nConnection: close\r\n\r\n");
    assert.match(later.reply, /GET \/ok$/);
  });
});
