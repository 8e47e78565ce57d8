import assert from "node:assert/strict";
import { DispatchTable, understoodVersions } from "../../src/proxy/filter.ts";

const metadata = [{ apiKey: 3, versions: { min: 0, max: 13 } }] as const;
const produceFrom10 = [{ apiKey: 0, versions: { min: 10, max: 13 } }, {
  apiKey: 3,
  versions: { min: 5, max: 6 },
}];

Deno.test("DispatchTable: the filters that want a key and version, in filter order; none outside", () => {
  const table = DispatchTable.of([metadata, undefined, produceFrom10]);
  assert.deepEqual(table.wanters(3, 4), [0]);
  assert.deepEqual(table.wanters(3, 5), [0, 2]);
  assert.deepEqual(table.wanters(0, 12), [2]);
  assert.equal(table.wanters(0, 9), undefined);
  assert.equal(table.wanters(0, 14), undefined);
  assert.equal(table.wanters(1, 12), undefined);
  assert.equal(table.wanters(-1, 0), undefined);
  assert.equal(table.wanters(9999, 0), undefined);
  // Versions from 63 up share a slot: a range open at the top covers them all.
  const open = DispatchTable.of([[{ apiKey: 18, versions: { min: 0, max: 0x7fff } }]]);
  assert.deepEqual(open.wanters(18, 500), [0]);
});

Deno.test("DispatchTable: one table per set of declarations, shared by every session", () => {
  assert.equal(DispatchTable.of([metadata, undefined]), DispatchTable.of([metadata, undefined]));
  assert.notEqual(DispatchTable.of([metadata, undefined]), DispatchTable.of([undefined, metadata]));
});

Deno.test("understoodVersions intersects the declarations per key", () => {
  const understood = understoodVersions([metadata, produceFrom10, undefined]);
  assert.deepEqual(understood.get(3), { min: 5, max: 6 });
  assert.deepEqual(understood.get(0), { min: 10, max: 13 });
  assert.equal(understood.get(1), undefined);
});
