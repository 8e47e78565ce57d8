/**
 * Client-side TLS through real gateway processes (GATEWAY_SECURITY_PROTOCOL=SSL) in front of the
 * plaintext test cluster:
 *
 * 1. kcat, kafkajs and Kafka's Java console producer and consumer produce and consume over TLS
 *    (node TLS_HOST, client certificates requested: optional).
 * 2. Client certificates required, behind HAProxy sending PROXY v2 before the ClientHello (node
 *    MTLS_HOST, clients connect to LB_HOST): a client without a certificate and one with an expired
 *    certificate are refused with a log line naming the peer; a client with a valid one is served and
 *    its CONNECTION audit entry names the certificate's subject and the real client (as HAProxy saw it).
 * 3. Reload: the certificate files are replaced while a kcat producer produces; `openssl s_client` sees
 *    the new certificate, the producer loses nothing.
 */
import assert from "node:assert/strict";
import { Kafka, logLevel } from "kafkajs";
import { createTopic, deleteTopic, kafkaMajor, runKcat, testKafka, uniqueTopic } from "../harness/mod.ts";
import { assertRan } from "../support/clients_util.ts";
import { type CertFiles, makeLeafCert, makeTestCa, type TestCa } from "../support/certs.ts";
import { fileFixture, sharedTest } from "../support/fixture.ts";
import { GatewayProcess } from "../support/gateway_process.ts";
import { waitForAudit } from "../support/haproxy_audit.ts";
import { HaproxyProcess } from "../support/haproxy_process.ts";
import { consumeValues, quietKafkajsTimerWarnings } from "../support/kafkajs.ts";
import { loopbackHosts } from "../support/loopback.ts";
import { waitUntil } from "../support/wait.ts";

quietKafkajsTimerWarnings();

/** TLS_HOST: TLS, certificates requested. MTLS_HOST: TLS, certificates required, PROXY on. LB_HOST: HAProxy. */
const [TLS_HOST, MTLS_HOST, LB_HOST] = loopbackHosts("tls_client", 3);
const PORT_COUNT = 6;
const PORT_START = 6969;

interface Certs {
  ca: TestCa;
  /** The certificate files the TLS node serves (copies in their own directory, replaced by the reload test). */
  served: CertFiles;
  renewed: CertFiles;
  client: CertFiles;
  expired: CertFiles;
}

async function makeCerts(): Promise<Certs> {
  const ca = await makeTestCa();
  const sans = [`IP:${TLS_HOST}`, `IP:${MTLS_HOST}`, `IP:${LB_HOST}`, "DNS:localhost"];
  const server = await makeLeafCert(ca, {
    commonName: "kgate-tls-1",
    subjectAltNames: sans,
    usage: "server",
  });
  const renewed = await makeLeafCert(ca, {
    commonName: "kgate-tls-2",
    subjectAltNames: sans,
    usage: "server",
  });
  const client = await makeLeafCert(ca, { commonName: "kcat-client", usage: "client" });
  const expired = await makeLeafCert(ca, {
    commonName: "old-client",
    usage: "client",
    notBeforeDays: -10,
    notAfterDays: -1,
  });
  const dir = await Deno.makeTempDir({ prefix: "kgate-tls-served-" });
  const served = { certFile: `${dir}/tls.crt`, keyFile: `${dir}/tls.key` };
  await Deno.copyFile(server.certFile, served.certFile);
  await Deno.copyFile(server.keyFile, served.keyFile);
  return { ca, served, renewed, client, expired };
}

const nodes = fileFixture(async (stack) => {
  const kafka = await testKafka();
  const certs = await makeCerts();
  stack.defer(() => Deno.remove(certs.ca.dir, { recursive: true }).catch(() => {}));
  const tlsEnv = {
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    GATEWAY_SSL_CERT_FILE: certs.served.certFile,
    GATEWAY_SSL_KEY_FILE: certs.served.keyFile,
    GATEWAY_SSL_CA_FILE: certs.ca.certFile,
    GATEWAY_PORT_COUNT: String(PORT_COUNT),
  };
  const start = (host: string, env: Record<string, string>) =>
    GatewayProcess.start({ host, kafka, portStart: PORT_START, waitReady: false, env: { ...tlsEnv, ...env } })
      .then((gw) => {
        stack.defer(async () => {
          const status = await gw.stop();
          assert.equal(status.code, 0, gw.logs);
        });
        return gw;
      });
  const [tls, mtls] = await Promise.all([
    start(TLS_HOST, { GATEWAY_SSL_CLIENT_AUTH: "requested", GATEWAY_HTTP_PORT: "8971" }),
    start(MTLS_HOST, {
      GATEWAY_SSL_CLIENT_AUTH: "required",
      GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL: "true",
      GATEWAY_ADVERTISED_HOST: LB_HOST,
      GATEWAY_HTTP_PORT: "8972",
      GATEWAY_SSL_CERT_FILE: (await makeLeafCert(certs.ca, {
        commonName: "kgate-mtls",
        subjectAltNames: [`IP:${LB_HOST}`, `IP:${MTLS_HOST}`],
        usage: "server",
        name: "mtls-server",
      })).certFile,
      GATEWAY_SSL_KEY_FILE: `${certs.ca.dir}/mtls-server.key`,
    }),
  ]);
  const listening = (host: string) =>
    new RegExp(
      `listening on ${host.replaceAll(".", "\\.")} ports ${PORT_START}-${PORT_START + PORT_COUNT - 1}`,
    );
  await Promise.all([tls.waitForLog(listening(TLS_HOST)), mtls.waitForLog(listening(MTLS_HOST))]);
  const haproxy = await HaproxyProcess.start({
    mode: "v2",
    routes: [{
      bind: LB_HOST,
      ports: [PORT_START, PORT_START + PORT_COUNT - 1],
      target: MTLS_HOST,
      source: LB_HOST,
    }],
  });
  stack.defer(() => haproxy.stop());
  const topic = uniqueTopic("tls");
  await createTopic(topic, 3, Math.min(3, (await kafka.metadata()).brokers.length));
  stack.defer(() => deleteTopic(topic).catch(() => {}));
  return { kafka, certs, tls, mtls, haproxy, topic, kafka4: kafkaMajor(kafka.version) >= 4 };
});

function kcatTls(ca: TestCa, client?: CertFiles): string[] {
  const args = ["-X", "security.protocol=ssl", "-X", `ssl.ca.location=${ca.certFile}`];
  if (client) {
    args.push(
      "-X",
      `ssl.certificate.location=${client.certFile}`,
      "-X",
      `ssl.key.location=${client.keyFile}`,
    );
  }
  return args;
}

/** Consumes `topic` from the beginning through `bootstrap` to its end: the values. */
async function consumeAll(bootstrap: string, topic: string, tlsArgs: string[]): Promise<string[]> {
  const consumed = await runKcat(
    ["-C", "-b", bootstrap, ...tlsArgs, "-t", topic, "-o", "beginning", "-e", "-q", "-f", "%s\n"],
    { timeoutMs: 30_000 },
  );
  assertRan(consumed, "kcat -C");
  return consumed.stdout.split("\n").filter((l) => l !== "");
}

sharedTest(
  "tls client side: kcat, kafkajs and the Java console clients produce and consume over TLS",
  async () => {
    const { kafka, certs, tls, topic, kafka4 } = await nodes.get();
    const bootstrap = tls.bootstrap;
    const kcatArgs = kcatTls(certs.ca);
    const metadata = await runKcat(["-L", "-b", bootstrap, ...kcatArgs]);
    assertRan(metadata, "kcat -L");
    assert.match(metadata.stdout, new RegExp(`at ${TLS_HOST.replaceAll(".", "\\.")}:${PORT_START + 1}`));

    const kcatRecords = Array.from({ length: 500 }, (_, i) => `kcat-${i}`);
    assertRan(
      await runKcat(["-P", "-b", bootstrap, ...kcatArgs, "-t", topic, "-X", "acks=all"], {
        stdin: kcatRecords.join("\n") + "\n",
      }),
      "kcat -P",
    );

    const client = new Kafka({
      clientId: "kgate-tls-kafkajs",
      brokers: [bootstrap],
      ssl: { ca: [await Deno.readTextFile(certs.ca.certFile)] },
      logLevel: logLevel.NOTHING,
      connectionTimeout: 5_000,
    });
    const producer = client.producer();
    await producer.connect();
    const kafkajsRecords = Array.from({ length: 200 }, (_, i) => `kafkajs-${i}`);
    await producer.send({ topic, acks: -1, messages: kafkajsRecords.map((value) => ({ value })) });
    await producer.disconnect();

    const props = `${certs.ca.dir}/java-ssl.properties`;
    await Deno.writeTextFile(
      props,
      `security.protocol=SSL\nssl.truststore.type=PEM\nssl.truststore.location=${certs.ca.certFile}\n`,
    );
    const javaRecords = Array.from({ length: 200 }, (_, i) => `java-${i}`);
    assertRan(
      await kafka.runJava(kafka.tools.consoleProducer, [
        "--bootstrap-server",
        bootstrap,
        "--topic",
        topic,
        kafka4 ? "--command-config" : "--producer.config",
        props,
      ], { stdin: javaRecords.join("\n") + "\n", timeoutMs: 60_000 }),
      "ConsoleProducer",
    );
    const all = [...kcatRecords, ...kafkajsRecords, ...javaRecords];
    const javaConsumed = await kafka.runJava(kafka.tools.consoleConsumer, [
      "--bootstrap-server",
      bootstrap,
      "--topic",
      topic,
      "--from-beginning",
      "--max-messages",
      String(all.length),
      "--timeout-ms",
      "30000",
      kafka4 ? "--command-config" : "--consumer.config",
      props,
    ], { timeoutMs: 60_000 });
    assertRan(javaConsumed, "ConsoleConsumer");
    const javaValues = javaConsumed.stdout.split("\n").filter((l) => /^(kcat|kafkajs|java)-\d+$/.test(l));
    // What the topic holds first (kcat, straight through the node), then what the Java consumer saw.
    const inTopic = await consumeAll(bootstrap, topic, kcatArgs);
    const counts = (values: string[]) =>
      JSON.stringify(
        Object.groupBy(values, (v) => v.split("-")[0]),
        (_k, v) => Array.isArray(v) ? v.length : v,
      );
    const summary = `topic: ${counts(inTopic)}, Java consumer: ${counts(javaValues)}; node warnings:\n${
      tls.logs.split("\n").filter((l) => /\[(WRN|ERR)\]/.test(l)).join("\n")
    }`;
    assert.deepEqual(inTopic.toSorted(), all.toSorted(), summary);
    assert.deepEqual(javaValues.toSorted(), all.toSorted(), summary);

    assert.deepEqual(await consumeValues(client, topic, all.length, "kgate-tls"), all.toSorted());

    assert.deepEqual(
      (await consumeAll(bootstrap, topic, kcatArgs)).toSorted(),
      all.toSorted(),
    );
  },
);

sharedTest(
  "tls client side: certificates required behind HAProxy (PROXY v2 before the ClientHello)",
  async () => {
    const { certs, mtls, haproxy } = await nodes.get();
    const bootstrap = `${LB_HOST}:${PORT_START}`;

    // Without a certificate: refused, with a log line naming the peer.
    let from = mtls.logs.length;
    const refused = await runKcat(["-L", "-b", bootstrap, ...kcatTls(certs.ca), "-m", "2"], {
      timeoutMs: 20_000,
    });
    assert.ok(!refused.success, refused.stdout);
    await mtls.waitForLog(
      /closing connection from \S+ \(original source: \[127\.0\.0\.\d+:\d+\], original destination: \[[^\]]+\]\): TLS handshake failed: .*certificate/i,
    );
    assert.ok(
      !mtls.logs.slice(from).includes('"action":"OPEN"'),
      "no connection opened without a certificate",
    );

    // An expired certificate: refused, the log line says so and names the peer.
    from = mtls.logs.length;
    const expired = await runKcat(["-L", "-b", bootstrap, ...kcatTls(certs.ca, certs.expired), "-m", "2"], {
      timeoutMs: 20_000,
    });
    assert.ok(!expired.success, expired.stdout);
    await mtls.waitForLog(
      /closing connection from \S+ \(original source: \[127\.0\.0\.\d+:\d+\].*TLS handshake failed: client certificate CN=old-client expired on/,
    );

    // With a valid certificate: served; the audit entry names the subject and the real client.
    from = mtls.logs.length;
    const haproxyFrom = haproxy.connections().length;
    const served = await runKcat(["-L", "-b", bootstrap, ...kcatTls(certs.ca, certs.client)]);
    assertRan(served, "kcat -L with a client certificate");
    assert.match(served.stdout, new RegExp(`at ${LB_HOST.replaceAll(".", "\\.")}:${PORT_START + 1}`));
    const open = await waitForAudit(
      mtls,
      (e) =>
        e.action === "OPEN" &&
        (e.connection as { clientCertificateSubject?: string }).clientCertificateSubject === "CN=kcat-client",
      from,
      10_000,
    );
    const relayed = haproxy.connections().slice(haproxyFrom).find((c) =>
      c.backendSource === open.connection.remoteAddress
    );
    assert.ok(
      relayed,
      `HAProxy relayed ${open.connection.remoteAddress}: ${JSON.stringify(haproxy.connections())}`,
    );
    assert.equal(open.proxySourceAddress, relayed.client);
    assert.match(
      mtls.logs.slice(from),
      /\(client certificate: CN=kcat-client\)|"clientCertificateSubject":"CN=kcat-client"/,
    );
  },
);

sharedTest(
  "tls client side: the certificate is reloaded while a producer produces; nothing lost",
  async () => {
    const { certs, tls } = await nodes.get();
    const topic = uniqueTopic("tls-reload");
    await createTopic(topic, 1, 1);
    try {
      const subjectSeen = async () => {
        const out = await new Deno.Command("openssl", {
          args: ["s_client", "-connect", tls.bootstrap, "-CAfile", certs.ca.certFile],
          stdin: "null",
          stdout: "piped",
          stderr: "piped",
        }).output();
        return /subject=\s*CN\s*=\s*(\S+)/.exec(new TextDecoder().decode(out.stdout))?.[1];
      };
      assert.equal(await subjectSeen(), "kgate-tls-1");

      const producer = new Deno.Command("kcat", {
        args: [
          "-P",
          "-b",
          tls.bootstrap,
          ...kcatTls(certs.ca),
          "-t",
          topic,
          "-X",
          "acks=all",
          "-X",
          "linger.ms=0",
        ],
        stdin: "piped",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
      const writer = producer.stdin.getWriter();
      const encoder = new TextEncoder();
      let sent = 0;
      const send = async (n: number) => {
        for (let i = 0; i < n; i++) await writer.write(encoder.encode(`record-${sent++}\n`));
      };
      await send(100);
      await new Promise((r) => setTimeout(r, 500));

      // Replace the files (key first, then the certificate: the watcher reloads once both are in place).
      await Deno.copyFile(certs.renewed.keyFile, certs.served.keyFile);
      await Deno.copyFile(certs.renewed.certFile, certs.served.certFile);
      await tls.waitForLog(/TLS credentials reloaded: serving CN=kgate-tls-2/, 10_000);
      await send(100);
      await waitUntil(
        async () => (await subjectSeen()) === "kgate-tls-2",
        10_000,
        "openssl s_client sees the new certificate",
      );
      // SIGHUP reloads too (the same files: the same certificate).
      tls.child.kill("SIGHUP");
      await tls.waitForLog(/SIGHUP received: reloading the TLS credentials/, 10_000);
      await tls.waitForLog(/TLS credentials reloaded: serving CN=kgate-tls-2 .*\(same certificate\)/, 10_000);
      await send(100);
      await writer.close();
      const result = await producer.output();
      assert.equal(result.code, 0, new TextDecoder().decode(result.stderr));
      const values = await consumeAll(tls.bootstrap, topic, kcatTls(certs.ca));
      assert.deepEqual(values, Array.from({ length: sent }, (_, i) => `record-${i}`));
    } finally {
      await deleteTopic(topic).catch(() => {});
    }
  },
);
