import assert from "node:assert/strict";
import { type ClientAuth, tlsServerStage, type TlsStage } from "../../src/proxy/transport/tls.ts";
import {
  loadTlsServerCredentials,
  ReloadingTlsCredentials,
  TlsFileError,
  type TlsServerCredentials,
} from "../../src/proxy/transport/tls_credentials.ts";
import { listenTcp } from "../../src/proxy/transport/tcp.ts";
import { writeAll } from "../../src/lib/bytes_io.ts";
import { type CertFiles, makeLeafCert, makeTestCa, type TestCa } from "../support/certs.ts";

let ca: TestCa;
let otherCa: TestCa;
let server: CertFiles;
const clients: Record<string, CertFiles> = {};

async function setup() {
  if (ca) return;
  ca = await makeTestCa();
  otherCa = await makeTestCa(undefined, "other CA");
  server = await makeLeafCert(ca, {
    commonName: "localhost",
    subjectAltNames: ["IP:127.0.0.1"],
    usage: "server",
  });
  clients.good = await makeLeafCert(ca, { commonName: "client-1", usage: "client" });
  clients.expired = await makeLeafCert(ca, {
    commonName: "client-old",
    usage: "client",
    notBeforeDays: -10,
    notAfterDays: -1,
  });
  clients.unknown = await makeLeafCert(otherCa, { commonName: "stranger", usage: "client" });
}

/** A TLS echo server on 127.0.0.1: every stage outcome is reported in `outcomes`. */
function echoServer(
  credentials: () => TlsServerCredentials,
  clientAuth: ClientAuth,
  handshakeTimeoutMs = 5000,
) {
  const listener = listenTcp("127.0.0.1", 0);
  const outcomes: TlsStage[] = [];
  const loop = (async () => {
    for (;;) {
      let accepted;
      try {
        accepted = await listener.accept();
      } catch {
        return;
      }
      const stage = await tlsServerStage(accepted, { credentials, clientAuth, handshakeTimeoutMs });
      outcomes.push(stage);
      if (!stage.ok) continue;
      (async () => {
        const buf = new Uint8Array(65536);
        try {
          for (;;) {
            const n = await stage.stream.read(buf);
            if (n === null) break;
            await writeAll(stage.stream, buf.subarray(0, n));
          }
        } catch {
          // client gone
        }
        try {
          stage.stream.close();
        } catch {
          // closed
        }
      })();
    }
  })();
  return {
    port: listener.port,
    outcomes,
    async close() {
      listener.close();
      await loop;
    },
  };
}

async function connect(port: number, client?: CertFiles): Promise<Deno.TlsConn> {
  return await Deno.connectTls({
    hostname: "127.0.0.1",
    port,
    caCerts: [await Deno.readTextFile(ca.certFile)],
    ...(client
      ? { cert: await Deno.readTextFile(client.certFile), key: await Deno.readTextFile(client.keyFile) }
      : {}),
  });
}

/** Sends `text`, returns what is echoed (null when the server closed or refused). */
async function roundTrip(conn: Deno.TlsConn, text: string): Promise<string | null> {
  try {
    await writeAll(conn, new TextEncoder().encode(text));
    const buf = new Uint8Array(text.length);
    let got = 0;
    while (got < buf.length) {
      const n = await conn.read(buf.subarray(got));
      if (n === null) return null;
      got += n;
    }
    return new TextDecoder().decode(buf);
  } catch {
    return null;
  } finally {
    conn.close();
  }
}

async function tryClient(port: number, client?: CertFiles): Promise<string | null> {
  let conn;
  try {
    conn = await connect(port, client);
  } catch {
    return null;
  }
  return await roundTrip(conn, "hello over tls");
}

async function waitFor<T>(check: () => T | undefined, ms = 3000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 20));
  }
}

Deno.test("tls stage: handshake and echo, TLS 1.3 and 1.2, no client certificate asked for", async () => {
  await setup();
  const creds = await loadTlsServerCredentials({ certFile: server.certFile, keyFile: server.keyFile });
  const srv = echoServer(() => creds, "none");
  try {
    assert.equal(await tryClient(srv.port), "hello over tls");
    const big = "x".repeat(3 * 1024 * 1024);
    assert.equal(await roundTrip(await connect(srv.port), big), big);
    // TLS 1.2 with openssl
    const out = await new Deno.Command("openssl", {
      args: ["s_client", "-connect", `127.0.0.1:${srv.port}`, "-tls1_2", "-CAfile", ca.certFile, "-brief"],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stderr) + new TextDecoder().decode(out.stdout);
    assert.match(text, /Protocol version: TLSv1\.2/);
    const ok = srv.outcomes.filter((o) => o.ok);
    assert.equal(ok.length, 3);
    assert.deepEqual(ok.map((o) => o.ok && o.tls.protocol), ["TLSv1.3", "TLSv1.3", "TLSv1.2"]);
    assert.ok(ok.every((o) => o.ok && o.tls.clientCertificateSubject === undefined));
  } finally {
    await srv.close();
  }
});

Deno.test("tls stage: client certificates required", async () => {
  await setup();
  const creds = await loadTlsServerCredentials({ ...server, caFile: ca.certFile });
  const srv = echoServer(() => creds, "required");
  try {
    assert.equal(await tryClient(srv.port, clients.good), "hello over tls");
    assert.equal(srv.outcomes.length, 1);
    const first = srv.outcomes[0];
    assert.ok(first.ok);
    assert.equal(first.tls.clientCertificateSubject, "CN=client-1");

    for (
      const [client, why] of [
        [undefined, /TLS handshake failed: .*(no certificate|no client certificate)/i],
        [clients.expired, /TLS handshake failed: client certificate CN=client-old expired on/],
        [
          clients.unknown,
          /TLS handshake failed: client certificate CN=stranger is issued by an unknown CA \(CN=other CA\)/,
        ],
      ] as const
    ) {
      const before: number = srv.outcomes.length;
      assert.equal(await tryClient(srv.port, client), null);
      const outcome: TlsStage = await waitFor((): TlsStage | undefined => srv.outcomes[before]);
      assert.ok(!outcome.ok, "refused");
      assert.match(outcome.reason, why);
      assert.equal(outcome.kind, "tls-handshake");
    }
  } finally {
    await srv.close();
  }
});

Deno.test("tls stage: client certificates requested: optional, but verified when sent", async () => {
  await setup();
  const creds = await loadTlsServerCredentials({ ...server, caFile: ca.certFile });
  const srv = echoServer(() => creds, "requested");
  try {
    assert.equal(await tryClient(srv.port), "hello over tls");
    assert.equal(await tryClient(srv.port, clients.good), "hello over tls");
    assert.equal(await tryClient(srv.port, clients.unknown), null);
    await waitFor(() => srv.outcomes[2]);
    const [none, good, unknown] = srv.outcomes;
    assert.ok(none.ok && none.tls.clientCertificateSubject === undefined);
    assert.ok(good.ok && good.tls.clientCertificateSubject === "CN=client-1");
    assert.ok(!unknown.ok && /unknown CA/.test(unknown.reason));
  } finally {
    await srv.close();
  }
});

Deno.test("tls stage: a client that never completes the handshake is closed at the deadline", async () => {
  await setup();
  const creds = await loadTlsServerCredentials(server);
  const srv = echoServer(() => creds, "none", 300);
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
    const started = Date.now();
    const n = await conn.read(new Uint8Array(10)).catch(() => null);
    assert.equal(n, null);
    assert.ok(Date.now() - started < 3000);
    conn.close();
    const outcome = await waitFor(() => srv.outcomes[0]);
    assert.ok(!outcome.ok && /no TLS handshake within 300 ms/.test(outcome.reason));
  } finally {
    await srv.close();
  }
});

Deno.test("tls stage: a peer closing before any byte is a health check; mid-handshake, an abort; garbage, bad input", async () => {
  await setup();
  const creds = await loadTlsServerCredentials(server);
  const srv = echoServer(() => creds, "none", 5000);
  try {
    // Connect and close: a load balancer's TCP health check.
    (await Deno.connect({ hostname: "127.0.0.1", port: srv.port })).close();
    const probe = await waitFor(() => srv.outcomes[0]);
    assert.ok(!probe.ok && probe.kind === "closed-before-request", JSON.stringify(probe));
    // The start of a ClientHello record, then close: a client giving up.
    const aborting = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
    await aborting.write(new Uint8Array([0x16, 0x03, 0x01, 0x00, 0x80, 0x01, 0x00, 0x00, 0x7c, 0x03, 0x03]));
    aborting.close();
    const aborted = await waitFor(() => srv.outcomes[1]);
    assert.ok(
      !aborted.ok && aborted.kind === "tls-handshake" && aborted.abortedByPeer,
      JSON.stringify(aborted),
    );
    // Not TLS at all: bad input, whatever the peer does next.
    const garbage = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
    await garbage.write(new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
    await garbage.read(new Uint8Array(100)).catch(() => null);
    garbage.close();
    const bad = await waitFor(() => srv.outcomes[2]);
    assert.ok(!bad.ok && bad.kind === "tls-handshake" && !bad.abortedByPeer, JSON.stringify(bad));
  } finally {
    await srv.close();
  }
});

Deno.test("tls credentials: bad files are refused naming the setting", async () => {
  await setup();
  const dir = await Deno.makeTempDir();
  const garbage = `${dir}/garbage.pem`;
  await Deno.writeTextFile(garbage, "not a pem\n");
  const mismatched = await makeLeafCert(ca, { commonName: "other", name: "other" });
  await assert.rejects(
    () => loadTlsServerCredentials({ certFile: `${dir}/missing.pem`, keyFile: server.keyFile }),
    (e) => e instanceof TlsFileError && /^GATEWAY_SSL_CERT_FILE=".*missing.pem": cannot read/.test(e.message),
  );
  await assert.rejects(
    () => loadTlsServerCredentials({ certFile: garbage, keyFile: server.keyFile }),
    /GATEWAY_SSL_CERT_FILE=.*no PEM CERTIFICATE block/,
  );
  await assert.rejects(
    () => loadTlsServerCredentials({ certFile: server.certFile, keyFile: garbage }),
    /GATEWAY_SSL_KEY_FILE=.*no PEM PRIVATE KEY block/,
  );
  await assert.rejects(
    () => loadTlsServerCredentials({ certFile: server.certFile, keyFile: mismatched.keyFile }),
    /GATEWAY_SSL_KEY_FILE=.*does not match the certificate CN=localhost/,
  );
  await assert.rejects(
    () => loadTlsServerCredentials({ ...server, caFile: garbage }),
    /GATEWAY_SSL_CA_FILE=.*no PEM CERTIFICATE block/,
  );
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tls credentials: reloaded on change; a bad file keeps the old ones; open connections untouched", async () => {
  await setup();
  const dir = await Deno.makeTempDir();
  const files = { certFile: `${dir}/tls.crt`, keyFile: `${dir}/tls.key` };
  await Deno.copyFile(server.certFile, files.certFile);
  await Deno.copyFile(server.keyFile, files.keyFile);
  const creds = await ReloadingTlsCredentials.load(files);
  creds.watch();
  const srv = echoServer(() => creds.current, "none");
  try {
    const first = creds.current.certificate.fingerprint256;
    const open = await connect(srv.port);
    // A bad file: logged, the old credentials stay.
    await Deno.writeTextFile(files.certFile, "broken");
    assert.equal(await creds.reload(), false);
    assert.equal(creds.current.certificate.fingerprint256, first);
    assert.equal(await tryClient(srv.port), "hello over tls");
    // A new certificate and key, written in place: picked up by the watcher.
    const renewed = await makeLeafCert(ca, {
      commonName: "localhost-renewed",
      subjectAltNames: ["IP:127.0.0.1"],
      name: "renewed",
    });
    await Deno.copyFile(renewed.keyFile, files.keyFile);
    await Deno.copyFile(renewed.certFile, files.certFile);
    await waitFor(() => creds.current.certificate.fingerprint256 !== first ? true : undefined, 5000);
    assert.equal(creds.current.certificate.subject, "CN=localhost-renewed");
    assert.equal(await tryClient(srv.port), "hello over tls");
    // The connection opened before the reload still works.
    assert.equal(await roundTrip(open, "still here"), "still here");
  } finally {
    creds.close();
    await srv.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("tls stage: garbage, a plaintext Kafka request and a cut ClientHello are refused; others unaffected", async () => {
  await setup();
  const creds = await loadTlsServerCredentials(server);
  const srv = echoServer(() => creds, "none", 2000);
  try {
    const kafkaRequest = new Uint8Array([0, 0, 0, 10, 0, 18, 0, 3, 0, 0, 0, 1, 0, 0]);
    for (
      const bytes of [
        new TextEncoder().encode("GET / HTTP/1.1\r\n\r\n"),
        kafkaRequest,
        new Uint8Array([22, 3, 1, 2]),
      ]
    ) {
      const before: number = srv.outcomes.length;
      const conn = await Deno.connect({ hostname: "127.0.0.1", port: srv.port });
      await writeAll(conn, bytes);
      if (bytes.length === 4) conn.close(); // cut inside the ClientHello
      const outcome: TlsStage = await waitFor((): TlsStage | undefined => srv.outcomes[before]);
      assert.ok(!outcome.ok, "refused");
      assert.match(
        outcome.reason,
        bytes.length === 4
          ? /^TLS handshake failed: connection closed during the TLS handshake$/
          : /^TLS handshake failed: received corrupt message/,
      );
      if (bytes.length !== 4) conn.close();
    }
    assert.equal(await tryClient(srv.port), "hello over tls");
  } finally {
    await srv.close();
  }
});
