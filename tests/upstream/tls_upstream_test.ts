/**
 * The TLS upstream connector against local TLS servers (no Kafka): a trusted certificate connects and
 * carries bytes; an unknown CA, a host name mismatch and an expired certificate are refused with the
 * broker's address and the reason; an empty endpoint identification algorithm accepts the mismatch only.
 */
import assert from "node:assert/strict";
import { tlsUpstream } from "../../src/proxy/transport/upstream.ts";
import { UpstreamTlsError } from "../../src/upstream/tls.ts";
import { type CertFiles, makeLeafCert, makeTestCa } from "../support/certs.ts";
import { closeQuietly } from "../../src/lib/close.ts";

/** A TLS echo server on 127.0.0.1 presenting `cert`; handshake failures are ignored. */
function echoServer(cert: CertFiles) {
  const listener = Deno.listenTls({
    hostname: "127.0.0.1",
    port: 0,
    cert: Deno.readTextFileSync(cert.certFile),
    key: Deno.readTextFileSync(cert.keyFile),
  });
  const conns: Deno.Conn[] = [];
  const serving = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      conn.readable.pipeTo(conn.writable).catch(() => {});
    }
  })().catch(() => {});
  return {
    port: (listener.addr as Deno.NetAddr).port,
    async close() {
      listener.close();
      for (const c of conns) closeQuietly(c);
      await serving;
    },
  };
}

Deno.test("tlsUpstream: trusted, unknown CA, host name mismatch (and the check off), expired", async () => {
  const ca = await makeTestCa();
  const other = await makeTestCa(undefined, "some other CA");
  const sameName = await makeTestCa();
  const caPem = Deno.readTextFileSync(ca.certFile);
  const good = await makeLeafCert(ca, {
    commonName: "broker",
    subjectAltNames: ["IP:127.0.0.1"],
    name: "good",
  });
  const wrongName = await makeLeafCert(ca, {
    commonName: "other",
    subjectAltNames: ["DNS:other.example"],
    name: "wrong-name",
  });
  const expired = await makeLeafCert(ca, {
    commonName: "old",
    subjectAltNames: ["IP:127.0.0.1"],
    notBeforeDays: -10,
    notAfterDays: -1,
    name: "expired",
  });
  const servers = [echoServer(good), echoServer(wrongName), echoServer(expired)];
  const [goodServer, wrongNameServer, expiredServer] = servers;
  const verified = tlsUpstream({ caCerts: [caPem], verifyHostname: true });
  try {
    const stream = await verified({ host: "127.0.0.1", port: goodServer.port }, 5_000);
    await stream.write(new TextEncoder().encode("ping"));
    const buf = new Uint8Array(4);
    let got = 0;
    while (got < 4) got += (await stream.read(buf.subarray(got))) ?? 4;
    assert.equal(new TextDecoder().decode(buf), "ping");
    stream.close();

    const refused = async (connect: typeof verified, port: number, reason: RegExp) => {
      await assert.rejects(connect({ host: "127.0.0.1", port }, 5_000), (error: unknown) => {
        assert.ok(error instanceof UpstreamTlsError, String(error));
        assert.match(error.message, new RegExp(`broker 127\\.0\\.0\\.1:${port} failed: `));
        assert.match(error.message, reason);
        return true;
      });
    };
    const otherCa = tlsUpstream({ caCerts: [Deno.readTextFileSync(other.certFile)], verifyHostname: true });
    await refused(otherCa, goodServer.port, /certificate from an unknown CA/);
    const sameNameCa = tlsUpstream({
      caCerts: [Deno.readTextFileSync(sameName.certFile)],
      verifyHostname: true,
    });
    await refused(sameNameCa, goodServer.port, /certificate from an unknown CA \(a trusted CA's name/);
    await refused(verified, wrongNameServer.port, /host name mismatch/);
    await refused(verified, expiredServer.port, /certificate expired/);

    const unchecked = tlsUpstream({ caCerts: [caPem], verifyHostname: false });
    (await unchecked({ host: "127.0.0.1", port: wrongNameServer.port }, 5_000)).close();
    await refused(unchecked, expiredServer.port, /certificate expired/);
    const uncheckedOtherCa = tlsUpstream({
      caCerts: [Deno.readTextFileSync(other.certFile)],
      verifyHostname: false,
    });
    await refused(uncheckedOtherCa, goodServer.port, /certificate from an unknown CA/);
  } finally {
    await Promise.all(servers.map((s) => s.close()));
    await Deno.remove(ca.dir, { recursive: true });
    await Deno.remove(other.dir, { recursive: true });
    await Deno.remove(sameName.dir, { recursive: true });
  }
});
