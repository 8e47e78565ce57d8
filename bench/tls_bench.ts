/**
 * Client-side TLS machinery, measured at the transport: a client process streams bytes to a listener
 * in this process (upload: the listener reads and decrypts) and reads bytes from it (download: the
 * listener encrypts and writes), 16 KiB writes. Prints throughput (timed by the client, from the end of
 * the handshake to the last byte) and the listener process's CPU time per GiB (from the client's start,
 * so the handshake is in it) for plaintext TCP and each TLS candidate:
 *
 * - `plaintext`: `Deno.listen` (what kgate serves without TLS);
 * - `deno-listenTls`: `Deno.listenTls` (rustls in Deno; handshake on accept: no PROXY header first);
 * - `node-tls-stage`: kgate's stage, `node:tls` `TLSSocket({ isServer })` over a Duplex of the accepted
 *   `Deno.Conn` (works after a PROXY header);
 * - `node-net-tls`: `node:net` server, `TLSSocket({ isServer })` over the node socket.
 *
 *   deno run -A bench/tls_bench.ts [--mib 512] [--rounds 3]
 *
 * Prints a Markdown table (the README's TLS rows come from it).
 */
import { parseArgs } from "node:util";
import process from "node:process";
import * as net from "node:net";
import * as tls from "node:tls";
import { listenTcp } from "../src/proxy/transport/tcp.ts";
import { tlsServerStage } from "../src/proxy/transport/tls.ts";
import { loadTlsServerCredentials } from "../src/proxy/transport/tls_credentials.ts";
import type { ByteStream } from "../src/proxy/transport/stream.ts";
import { writeAll } from "../src/lib/bytes_io.ts";
import { makeLeafCert, makeTestCa } from "../tests/support/certs.ts";

const CHUNK = 16 * 1024;

if (Deno.args[0] === "--client") {
  // Client process: --client <tls|plain> <port> <caFile> <up|down> <bytes>
  const [, kind, port, caFile, direction, bytesText] = Deno.args;
  const bytes = Number(bytesText);
  const conn = kind === "tls"
    ? await Deno.connectTls({
      hostname: "127.0.0.1",
      port: Number(port),
      caCerts: [Deno.readTextFileSync(caFile)],
    })
    : await Deno.connect({ hostname: "127.0.0.1", port: Number(port) });
  const buf = new Uint8Array(CHUNK).fill(7);
  if ("handshake" in conn) await conn.handshake();
  const t0 = performance.now();
  if (direction === "up") {
    for (let sent = 0; sent < bytes; sent += CHUNK) await writeAll(conn, buf);
    await conn.read(new Uint8Array(1)); // the listener's "got it all"
  } else {
    await writeAll(conn, new Uint8Array([1]));
    let got = 0;
    while (got < bytes) {
      const n = await conn.read(buf);
      if (n === null) break;
      got += n;
    }
  }
  console.log(JSON.stringify({ seconds: (performance.now() - t0) / 1000 }));
  conn.close();
  Deno.exit(0);
}

const { values } = parseArgs({
  args: Deno.args,
  options: { mib: { type: "string", default: "512" }, rounds: { type: "string", default: "3" } },
});
const bytes = Number(values.mib) * 1024 * 1024;
const rounds = Number(values.rounds);

const ca = await makeTestCa();
const leaf = await makeLeafCert(ca, { commonName: "localhost", subjectAltNames: ["IP:127.0.0.1"] });
const credentials = await loadTlsServerCredentials(leaf);
const certPem = Deno.readTextFileSync(leaf.certFile);
const keyPem = Deno.readTextFileSync(leaf.keyFile);

/** Serves one connection: reads `bytes` then answers one byte (up), or writes `bytes` (down). */
async function serveStream(stream: ByteStream, direction: string): Promise<void> {
  const buf = new Uint8Array(64 * 1024);
  if (direction === "up") {
    let got = 0;
    while (got < bytes) {
      const n = await stream.read(buf);
      if (n === null) break;
      got += n;
    }
    await writeAll(stream, new Uint8Array([1]));
  } else {
    await stream.read(new Uint8Array(1));
    const out = new Uint8Array(CHUNK).fill(9);
    for (let sent = 0; sent < bytes; sent += CHUNK) await writeAll(stream, out);
  }
}

/** A listener serving one connection with `candidate`; resolves its port and a promise of the end. */
function listen(candidate: string, direction: string): { port: number; done: Promise<void>; close(): void } {
  if (candidate === "node-net-tls") {
    let resolveDone: () => void;
    const done = new Promise<void>((r) => resolveDone = r);
    const server = net.createServer((socket) => {
      const s = new tls.TLSSocket(socket, { isServer: true, secureContext: credentials.secureContext });
      let got = 0;
      if (direction === "up") {
        s.on("data", (d: Uint8Array) => {
          got += d.length;
          if (got >= bytes) s.write(new Uint8Array([1]), () => resolveDone());
        });
      } else {
        s.once("data", async () => {
          const out = new Uint8Array(CHUNK).fill(9);
          for (let sent = 0; sent < bytes; sent += CHUNK) {
            if (!s.write(out)) await new Promise((r) => s.once("drain", r));
          }
          s.end(() => resolveDone());
        });
      }
      s.on("error", () => resolveDone());
    });
    const ready = new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    return {
      get port() {
        return (server.address() as net.AddressInfo).port;
      },
      done: ready.then(() => done),
      close: () => server.close(),
    };
  }
  if (candidate === "deno-listenTls") {
    const listener = Deno.listenTls({ hostname: "127.0.0.1", port: 0, cert: certPem, key: keyPem });
    const done = (async () => {
      const conn = await listener.accept();
      await serveStream(
        {
          remote: { hostname: "", port: 0 },
          local: { hostname: "", port: 0 },
          read: (p) => conn.read(p),
          write: (p) => conn.write(p),
          close: () => conn.close(),
        },
        direction,
      );
      conn.close();
    })();
    return { port: (listener.addr as Deno.NetAddr).port, done, close: () => listener.close() };
  }
  const listener = listenTcp("127.0.0.1", 0);
  const done = (async () => {
    let stream = await listener.accept();
    if (candidate === "node-tls-stage") {
      const stage = await tlsServerStage(stream, {
        credentials: () => credentials,
        clientAuth: "none",
        handshakeTimeoutMs: 10_000,
      });
      if (!stage.ok) throw new Error(stage.reason);
      stream = stage.stream;
    }
    await serveStream(stream, direction);
    stream.close();
  })();
  return { port: listener.port, done, close: () => listener.close() };
}

async function measure(
  candidate: string,
  direction: string,
): Promise<{ mibPerSec: number; cpuSecPerGib: number }> {
  const server = listen(candidate, direction);
  await new Promise((r) => setTimeout(r, 50));
  const cpu0 = process.cpuUsage();
  const client = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      import.meta.filename!,
      "--client",
      candidate === "plaintext" ? "plain" : "tls",
      String(server.port),
      ca.certFile,
      direction,
      String(bytes),
    ],
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  await server.done;
  const cpu = process.cpuUsage(cpu0);
  const { seconds } = JSON.parse(new TextDecoder().decode((await client.output()).stdout)) as {
    seconds: number;
  };
  server.close();
  const gib = bytes / 2 ** 30;
  return { mibPerSec: bytes / 2 ** 20 / seconds, cpuSecPerGib: (cpu.user + cpu.system) / 1e6 / gib };
}

const candidates = ["plaintext", "deno-listenTls", "node-tls-stage", "node-net-tls"];
console.log(`${values.mib} MiB per run, best of ${rounds}; CPU = the listener process (user + system)`);
console.log("| listener | upload MiB/s | upload CPU s/GiB | download MiB/s | download CPU s/GiB |");
console.log("|---|---|---|---|---|");
for (const candidate of candidates) {
  const row: string[] = [candidate];
  for (const direction of ["up", "down"]) {
    let best: { mibPerSec: number; cpuSecPerGib: number } | undefined;
    for (let i = 0; i < rounds; i++) {
      const r = await measure(candidate, direction);
      if (!best || r.mibPerSec > best.mibPerSec) best = r;
    }
    row.push(best!.mibPerSec.toFixed(0), best!.cpuSecPerGib.toFixed(2));
  }
  console.log(`| ${row.join(" | ")} |`);
}
Deno.exit(0);
