/**
 * `deno task demo`: starts the local Kafka harness (3 brokers in 3 racks) and one kgate node, prints
 * how to connect kcat, and runs until Ctrl-C.
 */
import { parseConfig } from "../src/config.ts";
import { startGateway } from "../src/gateway.ts";
import { setUpLogging } from "../src/log.ts";
import { KafkaCluster } from "./harness/kafka_cluster.ts";

const host = Deno.env.get("KGATE_DEMO_HOST") ?? "127.0.0.1";
console.log("demo: starting a 3-broker Kafka cluster (first run downloads the jars with mvn)...");
const kafka = await KafkaCluster.start({ portBase: Number(Deno.env.get("KGATE_KAFKA_PORT_BASE") ?? 16092) });
await setUpLogging("info", "text");
const gateway = await startGateway(parseConfig({
  KAFKA_BOOTSTRAP_SERVERS: kafka.bootstrapServers,
  GATEWAY_BIND_HOST: host,
  GATEWAY_ADVERTISED_HOST: host,
}));
const bootstrap = `${host}:${gateway.config.portStart}`;
console.log(`
demo: Kafka ${kafka.version} brokers: ${kafka.bootstrapServers}
demo: kgate listens on ${host}:${gateway.ports[0]}-${
  gateway.ports.at(-1)
}; connect your clients to ${bootstrap}:

  kcat -L -b ${bootstrap}
  seq 1 10 | kcat -P -b ${bootstrap} -t demo
  kcat -C -b ${bootstrap} -t demo -o beginning -e

demo: Ctrl-C stops the gateway and the cluster.`);

const stop = async () => {
  console.log("demo: stopping");
  await gateway.close();
  await kafka.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);
