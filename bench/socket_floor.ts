/**
 * The runtime's own cost of a proxied connection, with no gateway code: what one accepted client
 * socket plus one connected upstream socket cost a Deno process (live JS heap after forced garbage
 * collections, and RSS), with a pending 256-byte read on both (`both`, what a proxy does), on the
 * client's only (`client`), or on neither (`none`). The far ends (clients, upstream listener) live in a
 * second process, so only the proxy's side counts. This is the floor under kgate's figure per
 * connection (bench/connection_heap.ts).
 *
 *   deno run -A bench/socket_floor.ts [--connections 4000] [--modes both,client,none]
 *
 * Uses 127.0.0.143 (the connection_scale block) on ephemeral ports.
 */
import { parseArgs } from "node:util";
import { loopbackHost } from "../tests/support/loopback.ts";
import { rssBytes } from "./proc_stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "4000" },
    modes: { type: "string", default: "both,client,none" },
    // Internal: run as the far ends (clients and upstream listener).
    peer: { type: "string" },
  },
});
const host = loopbackHost("connection_scale", 2);
const encoder = new TextEncoder();
const gc = (globalThis as { gc?: () => void }).gc;

if (values.peer !== undefined) {
  await runPeer(Number(values.peer));
} else {
  const modes = values.modes.split(",");
  if (modes.length === 1) {
    if (gc === undefined) throw new Error("run with --v8-flags=--expose-gc");
    await measure(modes[0], Number(values.connections));
  } else {
    // One fresh process per mode: memory freed by one mode's connections would hide the next one's RSS.
    for (const mode of modes) {
      const args = ["run", "-A", "--v8-flags=--expose-gc", import.meta.filename!, "--modes", mode];
      await new Deno.Command(Deno.execPath(), { args: [...args, "--connections", values.connections] })
        .spawn().status;
    }
  }
}

/** The far ends: an upstream listener, then `count` clients of the proxy once told its port. */
async function runPeer(count: number): Promise<void> {
  const upstream = Deno.listen({ hostname: host, port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const conn of upstream) held.push(conn);
  })();
  await Deno.stdout.write(encoder.encode(`${(upstream.addr as Deno.NetAddr).port}\n`));
  const lines = Deno.stdin.readable.pipeThrough(new TextDecoderStream()).getReader();
  const proxyPort = Number((await lines.read()).value);
  for (let i = 0; i < count; i++) held.push(await Deno.connect({ hostname: host, port: proxyPort }));
  await Deno.stdout.write(encoder.encode("connected\n"));
  await lines.read(); // closed by the parent when done
  Deno.exit(0);
}

/** Accepts `count` clients, each with an upstream connection and the pending reads of `mode`. */
async function measure(mode: string, count: number): Promise<void> {
  const peer = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", import.meta.filename!, "--peer", String(count)],
    stdin: "piped",
    stdout: "piped",
  }).spawn();
  const output = peer.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const upstreamPort = Number((await output.read()).value);
  const front = Deno.listen({ hostname: host, port: 0 });
  const kept: Deno.Conn[] = [];
  (async () => {
    for await (const client of front) {
      const upstream = await Deno.connect({ hostname: host, port: upstreamPort });
      if (mode !== "none") client.read(new Uint8Array(256)).catch(() => {});
      if (mode === "both") upstream.read(new Uint8Array(256)).catch(() => {});
      kept.push(client, upstream);
    }
  })();
  gc!();
  gc!();
  const heapBefore = Deno.memoryUsage().heapUsed;
  const rssBefore = rssBytes(Deno.pid);
  const input = peer.stdin.getWriter();
  await input.write(encoder.encode(`${(front.addr as Deno.NetAddr).port}\n`));
  await output.read(); // "connected"
  while (kept.length < 2 * count) await new Promise((resolve) => setTimeout(resolve, 50));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  gc!();
  gc!();
  const heap = (Deno.memoryUsage().heapUsed - heapBefore) / count / 1024;
  const rss = (rssBytes(Deno.pid) - rssBefore) / count / 1024;
  console.log(
    `${mode}: live heap ${heap.toFixed(2)} KiB, RSS ${
      rss.toFixed(2)
    } KiB per connection (client + upstream socket)`,
  );
  await input.close();
  await peer.status;
  for (const conn of kept) conn.close();
  front.close();
}
