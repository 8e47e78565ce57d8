/** The port-count rule: GATEWAY_PORT_COUNT, or the highest broker id plus two spare ports. */
import assert from "node:assert/strict";
import { kafkaPortCount } from "../../src/node/port_count.ts";

Deno.test("unset: ports for broker ids from the minimum to the highest, plus two spares", () => {
  assert.equal(kafkaPortCount({ portCount: undefined, minBrokerId: 1 }, [1, 2, 3]), 5);
  assert.equal(kafkaPortCount({ portCount: undefined, minBrokerId: 0 }, [0]), 3);
  assert.equal(kafkaPortCount({ portCount: undefined, minBrokerId: 100 }, [101, 104]), 7);
});

Deno.test("set: the configured count, even when it leaves a broker without a port", () => {
  assert.equal(kafkaPortCount({ portCount: 10, minBrokerId: 1 }, [1, 2, 3]), 10);
  assert.equal(kafkaPortCount({ portCount: 2, minBrokerId: 1 }, [1, 2, 3]), 2);
});
