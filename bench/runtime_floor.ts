/**
 * What an idle Deno process costs before kgate does anything: RSS and live JS heap of a process that
 * only waits (`bare`), one that has also loaded kgate's npm dependencies (`dependencies`: kafkajs,
 * hono and its OpenAPI tooling, zod, prom-client, logtape, node:tls), and one that has loaded all of
 * kgate's modules without starting a node (`modules`, mod.ts and main.ts's imports). The floor under
 * the idle node's RSS (bench/idle_node.ts, bench/connection_heap.ts).
 *
 *   deno run -A bench/runtime_floor.ts [--rounds 3]
 *
 * Each figure is the median of the rounds, each a fresh process measured 3 s after its start.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Deno.args, options: { rounds: { type: "string", default: "3" } } });
const root = new URL("..", import.meta.url);
const config = new URL("deno.json", root).pathname;

const WAIT_AND_REPORT = `
await new Promise((resolve) => setTimeout(resolve, 3000));
const rss = Number(/VmRSS:\\s+(\\d+)/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) * 1024;
console.log(JSON.stringify({ rss, heap: Deno.memoryUsage().heapUsed }));
`;
const DEPENDENCIES = [
  "kafkajs",
  "hono",
  "@hono/zod-openapi",
  "zod",
  "prom-client",
  "@logtape/logtape",
  "node:tls",
];
const kinds: Record<string, string> = {
  bare: "",
  dependencies: DEPENDENCIES.map((d) => `import "${d}";`).join("\n"),
  modules: [new URL("mod.ts", root).href, new URL("src/node/start.ts", root).href]
    .map((m) => `import "${m}";`).join("\n"),
};

const dir = await Deno.makeTempDir({ prefix: "kgate-runtime-floor-" });
try {
  for (const [kind, imports] of Object.entries(kinds)) {
    const script = `${dir}/${kind}.ts`;
    await Deno.writeTextFile(script, `${imports}\n${WAIT_AND_REPORT}`);
    const samples: { rss: number; heap: number }[] = [];
    for (let round = 0; round < Number(values.rounds); round++) {
      const output = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", "--config", config, script],
        stderr: "inherit",
      }).output();
      if (!output.success) throw new Error(`${kind}: the process failed`);
      samples.push(JSON.parse(new TextDecoder().decode(output.stdout).trim().split("\n").at(-1)!));
    }
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
    const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
    console.log(
      `${kind.padEnd(12)} RSS ${mib(median(samples.map((s) => s.rss)))} MiB, live heap ${
        mib(median(samples.map((s) => s.heap)))
      } MiB`,
    );
  }
} finally {
  await Deno.remove(dir, { recursive: true });
}
