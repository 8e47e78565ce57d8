/**
 * The loopback addresses (127.0.0.x) of the integration tests: one fixed block per owner (a test file,
 * the demo, the bench/ scripts), so two test files never bind the same address and a file's addresses
 * stay the same from run to run (HAProxy routes and trusted CIDRs name them). tests/support/loopback_test.ts
 * checks that the blocks are disjoint and that no integration file writes an address by hand.
 *
 * ```ts
 * import { loopbackHosts } from "../support/loopback.ts";
 * const [GW_HOST, LB_HOST] = loopbackHosts("haproxy", 2);
 * ```
 */

/** A block of consecutive addresses 127.0.0.first .. 127.0.0.(first + count - 1). */
export interface LoopbackBlock {
  first: number;
  count: number;
}

/**
 * Every block, by owner (integration test files by their name without `_test.ts`). `demo` (tests/demo.ts)
 * writes its addresses itself; `bench` is the block of the bench/ scripts (throughput, idle node). Both are
 * listed so that no test file gets them.
 */
export const LOOPBACK_BLOCKS = {
  demo: { first: 2, count: 3 },
  kcat: { first: 5, count: 2 },
  kafkajs: { first: 11, count: 1 },
  java_clients: { first: 12, count: 1 },
  no_address_leak: { first: 13, count: 1 },
  bad_input: { first: 21, count: 1 },
  lifecycle: { first: 22, count: 2 },
  haproxy: { first: 31, count: 5 },
  http_api: { first: 41, count: 3 },
  cluster: { first: 51, count: 18 },
  mapping_policy: { first: 71, count: 9 },
  rolling_restart_policy: { first: 81, count: 6 },
  tls_client: { first: 91, count: 3 },
  upstream_security: { first: 101, count: 11 },
  tls_both_sides: { first: 112, count: 1 },
  host_routing: { first: 121, count: 6 },
  host_routing_lb: { first: 127, count: 4 },
  hostile_peers: { first: 131, count: 1 },
  backpressure: { first: 132, count: 1 },
  idle_peers: { first: 133, count: 1 },
  connection_scale: { first: 141, count: 10 },
  bench: { first: 151, count: 6 },
  group_describer: { first: 157, count: 1 },
} as const satisfies Record<string, LoopbackBlock>;

/** The name of a block's owner. */
export type LoopbackOwner = keyof typeof LOOPBACK_BLOCKS;

/**
 * The first `count` addresses of `owner`'s block (all of them by default); throws when the block is
 * smaller, so a file that needs another address must grow its block here (where overlaps are checked).
 *
 * @example
 * ```ts
 * const [HOST_A, HOST_B] = loopbackHosts("lifecycle", 2); // 127.0.0.22, 127.0.0.23
 * ```
 */
export function loopbackHosts(owner: LoopbackOwner, count?: number): string[] {
  const block: LoopbackBlock = LOOPBACK_BLOCKS[owner];
  const n = count ?? block.count;
  if (n > block.count) {
    throw new Error(`loopback block "${owner}" has ${block.count} address(es), ${n} asked for`);
  }
  return Array.from({ length: n }, (_, i) => `127.0.0.${block.first + i}`);
}

/**
 * The one address of `owner`'s block at `index` (default the first).
 *
 * @example
 * ```ts
 * const HOST = loopbackHost("kafkajs"); // 127.0.0.11
 * ```
 */
export function loopbackHost(owner: LoopbackOwner, index = 0): string {
  return loopbackHosts(owner, index + 1)[index];
}
