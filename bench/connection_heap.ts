/**
 * Where an idle client connection's memory goes: the node's live JavaScript heap, its ArrayBuffers
 * (external) and its RSS per connection, read through the V8 inspector after forced garbage
 * collections (so garbage not yet collected does not count), for connections that sent nothing
 * (`silent`) and connections that each made one ApiVersions exchange (`active`, a broker connection
 * each). Then the same after every connection closed, with the node's RSS by mapping (`[heap]` is
 * glibc malloc's main arena, `anon` V8's pages and other arenas, `file` the executable's pages).
 *
 *   deno run -A bench/connection_heap.ts [--connections 2000] [--kinds silent,active]
 *     [--after-close-s 15] [--waves 1] [--snapshot]
 *
 * `--waves N` opens and closes the connections N times on the same node: whether the memory that stays
 * after a close is reused by the next connections (a high-water mark) or grows wave after wave (a leak).
 *
 * `--snapshot` adds, per kind, the heap objects that grew by about one or more per connection (V8 heap
 * snapshots before and after, by type and constructor), largest first.
 *
 * The node runs with `--inspect=127.0.0.1:9239` on 127.0.0.141 (the connection_scale block: do not run
 * it alongside bench/connection_scale.ts or tests/integration/connection_scale_test.ts). A Kafka
 * cluster: the one in KGATE_TEST_KAFKA when set, else its own (ports from 18092).
 */
import { parseArgs } from "node:util";
import { KafkaCluster } from "../tests/harness/kafka_cluster.ts";
import { KAFKA_ENV } from "../tests/harness/mod.ts";
import { GatewayProcess } from "../tests/support/gateway_process.ts";
import { loopbackHost } from "../tests/support/loopback.ts";
import { sleep } from "../src/lib/deadline.ts";
import { openIdleConnections } from "./idle_connections.ts";
import { rssBytes } from "./proc_stats.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: {
    connections: { type: "string", default: "2000" },
    kinds: { type: "string", default: "silent,active" },
    "after-close-s": { type: "string", default: "15" },
    waves: { type: "string", default: "1" },
    snapshot: { type: "boolean", default: false },
  },
});
const count = Number(values.connections);
const INSPECTOR = "127.0.0.1:9239";
const host = loopbackHost("connection_scale");

/** A CDP session over the inspector's WebSocket. */
class Inspector {
  #id = 0;
  readonly #pending = new Map<number, (result: Record<string, unknown>) => void>();
  #chunks: string[] = [];
  private constructor(readonly socket: WebSocket) {
    socket.onmessage = (event) => {
      const message = JSON.parse(event.data);
      if (message.id !== undefined) this.#pending.get(message.id)?.(message.result ?? message.error);
      else if (message.method === "HeapProfiler.addHeapSnapshotChunk") {
        this.#chunks.push(message.params.chunk);
      }
    };
  }

  static async connect(address: string): Promise<Inspector> {
    const targets = await (await fetch(`http://${address}/json/list`)).json();
    const socket = new WebSocket(targets[0].webSocketDebuggerUrl);
    await new Promise((resolve, reject) => {
      socket.onopen = resolve;
      socket.onerror = reject;
    });
    return new Inspector(socket);
  }

  call(method: string, params: unknown = {}): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const id = ++this.#id;
      this.#pending.set(id, resolve);
      this.socket.send(JSON.stringify({ id, method, params }));
    });
  }

  /** `Deno.memoryUsage()` of the node after two full garbage collections. */
  async liveMemory(): Promise<Deno.MemoryUsage> {
    await this.call("HeapProfiler.collectGarbage");
    await this.call("HeapProfiler.collectGarbage");
    const { result } = await this.call("Runtime.evaluate", {
      expression: "JSON.stringify(Deno.memoryUsage())",
    });
    return JSON.parse((result as { value: string }).value);
  }

  /** Objects in the heap by "type:name", with their count and self size. */
  async snapshot(): Promise<Map<string, { count: number; size: number }>> {
    this.#chunks = [];
    await this.call("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
    const snap = JSON.parse(this.#chunks.join(""));
    this.#chunks = [];
    const fields: string[] = snap.snapshot.meta.node_fields;
    const types: string[] = snap.snapshot.meta.node_types[0];
    const [width, type, name, size] = [
      fields.length,
      fields.indexOf("type"),
      fields.indexOf("name"),
      fields.indexOf("self_size"),
    ];
    const byKind = new Map<string, { count: number; size: number }>();
    for (let i = 0; i < snap.nodes.length; i += width) {
      const key = `${types[snap.nodes[i + type]]}:${String(snap.strings[snap.nodes[i + name]]).slice(0, 50)}`;
      const entry = byKind.get(key) ?? { count: 0, size: 0 };
      entry.count++;
      entry.size += snap.nodes[i + size];
      byKind.set(key, entry);
    }
    return byKind;
  }
}

/** RSS MiB by mapping kind: `[heap]`, anonymous, file-backed. */
function rssByMapping(pid: number): string {
  const totals = new Map<string, number>();
  let kind = "";
  for (const line of Deno.readTextFileSync(`/proc/${pid}/smaps`).split("\n")) {
    const mapping = line.match(/^[0-9a-f]+-[0-9a-f]+ \S+ \S+ \S+ \S+\s*(.*)$/);
    if (mapping) {
      kind = mapping[1] === "" ? "anon" : mapping[1].startsWith("/") ? "file" : mapping[1];
      continue;
    }
    const rss = line.match(/^Rss:\s+(\d+)/);
    if (rss) totals.set(kind, (totals.get(kind) ?? 0) + Number(rss[1]) / 1024);
  }
  return ["[heap]", "anon", "file"].map((k) => `${k} ${(totals.get(k) ?? 0).toFixed(1)}`).join(", ");
}

const kib = (bytes: number) => (bytes / 1024).toFixed(2);
const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);

const shared = Deno.env.get(KAFKA_ENV);
const kafka = shared
  ? KafkaCluster.fromInfo(JSON.parse(shared))
  : await KafkaCluster.start({ portBase: 18092 });
try {
  for (const kind of values.kinds.split(",")) {
    const gateway = await GatewayProcess.start({
      host,
      kafka,
      denoFlags: [`--inspect=${INSPECTOR}`],
      env: { GATEWAY_LOG_LEVEL: "warning", GATEWAY_FIRST_FRAME_TIMEOUT_MS: "600000" },
    });
    const pid = gateway.child.pid;
    const inspector = await Inspector.connect(INSPECTOR);
    try {
      await sleep(3_000); // membership and the first broker refresh done
      const before = await inspector.liveMemory();
      const rssBefore = rssBytes(pid);
      const mappingsBefore = rssByMapping(pid);
      const snapshotBefore = values.snapshot ? await inspector.snapshot() : undefined;
      const rssBeforeOpen = rssBytes(pid); // a snapshot grows the RSS: count from here
      const openConnections = async (): Promise<Deno.Conn[]> => {
        if (kind !== "silent") return await openIdleConnections(gateway.bootstrap, count);
        const conns: Deno.Conn[] = [];
        for (let i = 0; i < count; i++) {
          conns.push(await Deno.connect({ hostname: host, port: gateway.portStart + (i % 4) }));
        }
        return conns;
      };
      const conns = await openConnections();
      await sleep(2_000);
      const open = await inspector.liveMemory();
      const rssOpen = rssBytes(pid);
      console.log(
        `${count} ${kind} connections: live heap ${kib((open.heapUsed - before.heapUsed) / count)} KiB, ` +
          `external ${kib((open.external - before.external) / count)} KiB, ` +
          `RSS ${kib((rssOpen - rssBeforeOpen) / count)} KiB per connection (node RSS ${mib(rssBefore)} -> ${
            mib(rssOpen)
          } MiB)`,
      );
      if (snapshotBefore) {
        const after = await inspector.snapshot();
        const grown = [...after].map(([key, v]) => ({
          key,
          count: (v.count - (snapshotBefore.get(key)?.count ?? 0)) / count,
          size: (v.size - (snapshotBefore.get(key)?.size ?? 0)) / count,
        })).filter((g) => g.count >= 0.9).sort((a, b) => b.size - a.size).slice(0, 25);
        for (const g of grown) {
          console.log(`  ${g.count.toFixed(2).padStart(6)} x ${g.size.toFixed(0).padStart(6)} B  ${g.key}`);
        }
      }
      for (const conn of conns) conn.close();
      await sleep(Number(values["after-close-s"]) * 1000);
      const closed = await inspector.liveMemory();
      console.log(
        `  ${values["after-close-s"]} s after they closed: live heap ${mib(closed.heapUsed)} MiB (before ${
          mib(before.heapUsed)
        }), V8 heap committed ${mib(closed.heapTotal)} (before ${mib(before.heapTotal)}), node RSS ${
          mib(rssBytes(pid))
        } MiB (before ${mib(rssBefore)}); by mapping ${rssByMapping(pid)} MiB (before ${mappingsBefore})`,
      );
      for (let wave = 2; wave <= Number(values.waves); wave++) {
        const again = await openConnections();
        await sleep(2_000);
        await inspector.liveMemory(); // the same forced collections as the first wave's figure
        const rssWave = rssBytes(pid);
        for (const conn of again) conn.close();
        await sleep(Number(values["after-close-s"]) * 1000);
        console.log(
          `  wave ${wave}: node RSS ${mib(rssWave)} MiB with them open, ${mib(rssBytes(pid))} MiB ${
            values["after-close-s"]
          } s after they closed; by mapping ${rssByMapping(pid)} MiB`,
        );
      }
    } finally {
      inspector.socket.close();
      await gateway.stop();
    }
  }
} finally {
  if (!shared) await kafka.stop();
}
