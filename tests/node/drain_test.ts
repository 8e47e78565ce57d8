/** The drain: only when asked to stop, for the drain period, cut short by the signal. */
import assert from "node:assert/strict";
import { drainConnectedClients } from "../../src/node/drain.ts";

async function elapsedMs(work: Promise<void>): Promise<number> {
  const started = performance.now();
  await work;
  return performance.now() - started;
}

Deno.test("no stop request (a failed start), a zero drain, or an aborted signal: returns at once", async () => {
  assert.ok(await elapsedMs(drainConnectedClients(null)) < 50);
  assert.ok(await elapsedMs(drainConnectedClients({ drainMs: 0 })) < 50);
  assert.ok(await elapsedMs(drainConnectedClients({ drainMs: 5000, signal: AbortSignal.abort() })) < 50);
});

Deno.test("waits the drain period, or until the signal aborts", async () => {
  assert.ok(await elapsedMs(drainConnectedClients({ drainMs: 150 })) >= 140);
  const second = new AbortController();
  setTimeout(() => second.abort(), 100);
  const cut = await elapsedMs(drainConnectedClients({ drainMs: 10_000, signal: second.signal }));
  assert.ok(cut >= 90 && cut < 1000, `${cut} ms`);
});
