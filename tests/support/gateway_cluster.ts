/**
 * Gateway clusters of integration tests: a cluster id of their own per test run, and waiting until the
 * nodes see each other (through `/api/v1/cluster`).
 *
 * ```ts
 * const cluster = uniqueClusterId("rr");
 * await untilClusterIs(nodes, nodes.map((n) => n.host));
 * ```
 */
import { DEFAULT_ADMIN_USER } from "../../src/config/mod.ts";
import type { GatewayProcess } from "./gateway_process.ts";
import { HttpApi } from "./http_api.ts";
import { waitUntil } from "./wait.ts";

/**
 * A gateway cluster id no earlier run used (a fresh membership group and members topic).
 *
 * @example
 * ```ts
 * uniqueClusterId("rr"); // "rr-m4x2k9a-3f0q"
 * ```
 */
export function uniqueClusterId(name: string): string {
  return `${name}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 6)}`;
}

/**
 * Until every node's `/api/v1/cluster` lists exactly `hosts` (any order).
 *
 * @example
 * ```ts
 * await untilClusterIs([a, b], [a.host, b.host]);
 * ```
 */
export async function untilClusterIs(
  nodes: readonly GatewayProcess[],
  hosts: readonly string[],
  timeoutMs = 20_000,
): Promise<void> {
  const wanted = JSON.stringify([...hosts].sort());
  await waitUntil(
    async () => {
      for (const node of nodes) {
        const res = await new HttpApi(node.httpUrl).json<{ members: { host: string }[] }>(
          "/api/v1/cluster",
          { auth: DEFAULT_ADMIN_USER },
        );
        const seen = JSON.stringify(res.json.members.map((m) => m.host).sort());
        // Thrown, not false: a timeout then names what the node saw last.
        if (seen !== wanted) throw new Error(`${node.host} sees ${seen}`);
      }
      return true;
    },
    timeoutMs,
    `cluster of ${hosts.join(",")}`,
  );
}

/**
 * A broker mapping (broker id → `host:port`) in one line, by broker id: `1→h:6970 2→h:6971`.
 *
 * @example
 * ```ts
 * showMapping(new Map([[2, "b:6971"], [1, "a:6970"]])); // "1→a:6970 2→b:6971"
 * ```
 */
export function showMapping(mapping: ReadonlyMap<number, string>): string {
  return [...mapping].sort(([a], [b]) => a - b).map(([id, e]) => `${id}→${e}`).join(" ");
}
