/**
 * TLS on both sides: clients speak TLS (and their own SASL) to kgate while kgate speaks TLS (and its own
 * SCRAM-SHA-512) to the SASL_SSL brokers: kcat (PLAIN), kafkajs (SCRAM-SHA-512) and Kafka's Java client
 * (OAUTHBEARER) produce and consume.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, kafkaMajor, runKcat, testKafka, uniqueTopic } from "../harness/mod.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { quietKafkajsTimerWarnings } from "../support/kafkajs.ts";
import { loopbackHost } from "../support/loopback.ts";

quietKafkajsTimerWarnings();

const HOST = loopbackHost("tls_both_sides");
const SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule";
const OAUTH = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";

Deno.test({
  name: "TLS client side and SASL_SSL upstream: kcat PLAIN, kafkajs SCRAM-SHA-512 and Java OAUTHBEARER",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: async () => {
    const kafka = await testKafka();
    const ca = await makeTestCa(undefined, "kgate listener CA");
    const served = await makeLeafCert(ca, {
      commonName: HOST,
      subjectAltNames: [`IP:${HOST}`],
      usage: "server",
    });
    const gateway = await GatewayProcess.start({
      host: HOST,
      env: {
        GATEWAY_SECURITY_PROTOCOL: "SSL",
        GATEWAY_SSL_CERT_FILE: served.certFile,
        GATEWAY_SSL_KEY_FILE: served.keyFile,
        KAFKA_BOOTSTRAP_SERVERS: kafka.saslSslBootstrapServers,
        KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
        KAFKA_SSL_CA_FILE: kafka.caFile,
        KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
        KAFKA_SASL_JAAS_CONFIG: `${SCRAM} required username="admin" password="admin-secret";`,
      },
    });
    try {
      const topic = uniqueTopic("tls-both");
      await createTopic(topic, 1, 3);
      const kcatTls = [
        "-X",
        "security.protocol=sasl_ssl",
        "-X",
        `ssl.ca.location=${ca.certFile}`,
        "-X",
        "sasl.mechanisms=PLAIN",
        "-X",
        "sasl.username=alice",
        "-X",
        "sasl.password=alice-secret",
      ];
      const produced = await runKcat(["-P", "-b", gateway.bootstrap, "-t", topic, ...kcatTls], {
        stdin: "kcat-1\nkcat-2\n",
      });
      assert.equal(produced.code, 0, produced.stderr);

      const producer = new Kafka({
        clientId: "kgate-tls-both",
        brokers: [gateway.bootstrap],
        ssl: { ca: [Deno.readTextFileSync(ca.certFile)] },
        sasl: { mechanism: "scram-sha-512", username: "alice", password: "alice-secret" },
        logLevel: logLevel.NOTHING,
      }).producer();
      await producer.connect();
      try {
        await producer.send({ topic, messages: [{ value: "kafkajs-1" }] });
      } finally {
        await producer.disconnect();
      }

      const property = kafkaMajor(kafka.version) >= 4 ? "--command-property" : "--producer-property";
      const java = await kafka.runJava(kafka.tools.consoleProducer, [
        "--bootstrap-server",
        gateway.bootstrap,
        "--topic",
        topic,
        property,
        "security.protocol=SASL_SSL",
        property,
        "ssl.truststore.type=PEM",
        property,
        `ssl.truststore.location=${ca.certFile}`,
        property,
        "sasl.mechanism=OAUTHBEARER",
        property,
        `sasl.jaas.config=${OAUTH} required unsecuredLoginStringClaim_sub="alice";`,
      ], { stdin: "java-1\n", timeoutMs: 60_000 });
      assert.equal(java.code, 0, java.stderr);

      const consumed = await runKcat(["-C", "-b", gateway.bootstrap, "-t", topic, "-e", "-q", ...kcatTls]);
      assert.equal(consumed.code, 0, consumed.stderr);
      assert.deepEqual(consumed.stdout.trim().split("\n"), ["kcat-1", "kcat-2", "kafkajs-1", "java-1"]);
    } finally {
      const status = await gateway.stop();
      assert.equal(status.code, 0, gateway.logs);
      await Deno.remove(ca.dir, { recursive: true });
    }
  },
});
