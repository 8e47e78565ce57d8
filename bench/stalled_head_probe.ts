/**
 * Probe: does `Deno.serve` close connections that send part of a request head and then stall?
 *
 * Opens N connections (default 1,000) to a `Deno.serve` server (or, with `kgate`, to kgate's own HTTP
 * edge, `startHttpServer`) on 127.0.0.1, writes
 * `GET / HTTP/1.1\r\nHost: x\r\n` (no blank line) on each and waits up to a limit (default 60 s) for the
 * server to close them. Prints how many were closed and when (min / median / max), and whether a fresh
 * client is still served while they stall.
 *
 * Run: `deno run -A bench/stalled_head_probe.ts [connections] [limitSeconds] [deno|kgate]`
 *
 * @module
 */
import { closeQuietly } from "../src/lib/close.ts";
import { writeAll } from "../src/lib/bytes_io.ts";
import { startHttpServer } from "../src/http/server.ts";

const connections = Number(Deno.args[0] ?? 1000);
const limitMs = Number(Deno.args[1] ?? 60) * 1000;
const target = Deno.args[2] ?? "deno";

const handler = () => new Response("ok");
const server = target === "kgate"
  ? await startHttpServer({ fetch: handler }, { hostname: "127.0.0.1", port: 0 })
  : Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, handler);
const port = "addr" in server ? server.addr.port : server.port;

const head = new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n");
const started = performance.now();
const closedAt: number[] = [];
const conns: Deno.Conn[] = [];

/** Reads until the server closes (EOF or reset); records when. */
async function watch(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(1024);
  try {
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
    }
  } catch {
    // reset by the server, or closed by us at the limit
  }
  if (!stopped) closedAt.push(performance.now() - started);
}

let stopped = false;
const watchers: Promise<void>[] = [];
for (let i = 0; i < connections; i++) {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  await writeAll(conn, head);
  conns.push(conn);
  watchers.push(watch(conn));
}
const openedMs = performance.now() - started;

// A fresh, well-behaved client while the stalled ones are held ("refused" past a connection cap).
const freshStarted = performance.now();
const fresh = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text()).then(
  () => `${Math.round(performance.now() - freshStarted)} ms`,
  (error) => `refused (${error instanceof Error ? error.message.slice(0, 60) : error})`,
);

const everyClosed = Promise.all(watchers);
await Promise.race([everyClosed, new Promise((resolve) => setTimeout(resolve, limitMs))]);
stopped = true;
const elapsed = performance.now() - started;
for (const conn of conns) closeQuietly(conn);
await everyClosed;
await server.shutdown();

closedAt.sort((a, b) => a - b);
const pick = (q: number) =>
  closedAt.length ? (closedAt[Math.floor(q * (closedAt.length - 1))] / 1000).toFixed(2) : "-";
console.log(JSON.stringify({
  deno: Deno.version.deno,
  server: target === "kgate" ? "kgate startHttpServer (src/http/http1.ts)" : "Deno.serve",
  connections,
  openedInSeconds: (openedMs / 1000).toFixed(2),
  freshRequestWhileStalled: fresh,
  waitedSeconds: (elapsed / 1000).toFixed(1),
  closedByServer: closedAt.length,
  stillOpenAtLimit: connections - closedAt.length,
  closedAfterSeconds: { min: pick(0), median: pick(0.5), max: pick(1) },
}));
