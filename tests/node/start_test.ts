/** startGateway's failed start: what it acquired is released (one teardown order, no Kafka needed). */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { startGateway } from "../../src/node/start.ts";
import { StartAborted } from "../../src/upstream/broker_directory.ts";

Deno.test("a start aborted while the cluster is unreachable shuts its HTTP API and rejects StartAborted", async () => {
  const probe = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const httpPort = (probe.addr as Deno.NetAddr).port;
  probe.close();
  const config = parseConfig({
    KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1",
    GATEWAY_BIND_HOST: "127.0.0.1",
    GATEWAY_HTTP_PORT: String(httpPort),
  });
  const abort = new AbortController();
  const starting = startGateway(config, { signal: abort.signal });
  // The HTTP API comes up first and answers NOTREADY while the cluster is unreachable.
  let status = 0;
  for (let i = 0; i < 50 && status === 0; i++) {
    status = await fetch(`http://127.0.0.1:${httpPort}/health/ready`).then(async (r) => {
      await r.body?.cancel();
      return r.status;
    }, () => 0);
    if (status === 0) await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(status, 503);
  abort.abort();
  await assert.rejects(starting, StartAborted);
  // Released: the port can be bound again.
  Deno.listen({ hostname: "127.0.0.1", port: httpPort }).close();
});
