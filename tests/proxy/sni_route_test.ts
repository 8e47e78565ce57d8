/**
 * Host routing in the proxy server: after a PROXY header and the TLS handshake, the server name picks
 * the broker; the advertised host, an unknown name and no name go to any broker.
 */
import assert from "node:assert/strict";
import { brokerOfServerName } from "../../src/cluster/listener_endpoints.ts";
import { type ConnectionInfo, ProxyServer } from "../../src/proxy/server.ts";
import { proxyProtocolParser } from "../../src/proxy/transport/proxy_header.ts";
import { ReloadingTlsCredentials } from "../../src/proxy/transport/tls_credentials.ts";
import { writeAll } from "../../src/lib/bytes_io.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";
import { apiVersionsV0 } from "../support/faults_wire.ts";
import { waitUntil } from "../support/wait.ts";

const API_VERSIONS_V0 = apiVersionsV0(1);

Deno.test("proxy server, host routing: PROXY header, then the ClientHello's server name picks the broker", async () => {
  const ca = await makeTestCa();
  const leaf = await makeLeafCert(ca, {
    commonName: "gw.test",
    subjectAltNames: ["DNS:gw.test", "DNS:*.gw.test", "IP:127.0.0.1"],
    usage: "server",
  });
  const credentials = await ReloadingTlsCredentials.load({ certFile: leaf.certFile, keyFile: leaf.keyFile });
  // Two "brokers" that accept and hold connections.
  const brokers = [1, 2].map((nodeId) => ({
    nodeId,
    listener: Deno.listen({ hostname: "127.0.0.1", port: 0 }),
  }));
  const held: Deno.Conn[] = [];
  for (const { listener } of brokers) {
    (async () => {
      for await (const conn of listener) held.push(conn);
    })();
  }
  const upstream = (id: number) => {
    const broker = brokers.find((b) => b.nodeId === id);
    return broker && { nodeId: id, host: "127.0.0.1", port: (broker.listener.addr as Deno.NetAddr).port };
  };
  const opened: ConnectionInfo[] = [];
  const server = new ProxyServer({
    bindHost: "127.0.0.1",
    portStart: 0,
    portCount: 1,
    minBrokerId: 1,
    route: (_port, tls) => brokerOfServerName(tls?.serverName, { prefix: "broker", host: "gw.test" }),
    maxFrameBytes: 1 << 20,
    upstreamConnectTimeoutMs: 5000,
    broker: upstream,
    // "Any broker" is broker 2: a bootstrap connection is told apart from a routed one to broker 1.
    anyBroker: () => upstream(2),
    filters: () => [],
    proxyProtocol: { parse: proxyProtocolParser, timeoutMs: 5000 },
    tls: { credentials: () => credentials.current, clientAuth: "none", handshakeTimeoutMs: 5000 },
    events: { opened: (info) => void opened.push(info) },
  });
  server.listen();
  const port = server.ports[0];
  const caPem = await Deno.readTextFile(ca.certFile);
  const connect = async (serverName: string | undefined, source: string) => {
    const tcp = await Deno.connect({ hostname: "127.0.0.1", port });
    await writeAll(tcp, new TextEncoder().encode(`PROXY TCP4 ${source} 10.9.9.9 50000 9093\r\n`));
    // Deno sends no server name when it connects to an address.
    const conn = await Deno.startTls(tcp, { hostname: serverName ?? "127.0.0.1", caCerts: [caPem] });
    await conn.handshake();
    const before = opened.length;
    // The broker connection opens on the first valid request frame: ApiVersions v0, null client id.
    await writeAll(conn, API_VERSIONS_V0);
    await waitUntil(() => opened.length > before, 5000, "the connection is proxied");
    const info = opened.at(-1)!;
    conn.close();
    return info;
  };
  try {
    const routed = await connect("broker1.gw.test", "10.1.2.3");
    assert.equal(routed.broker?.nodeId, 1);
    assert.equal(routed.tls?.serverName, "broker1.gw.test");
    assert.equal(routed.proxied?.source, "10.1.2.3:50000");
    for (
      const [name, source] of [["gw.test", "10.1.2.4"], ["other.gw.test", "10.1.2.5"], [
        undefined,
        "10.1.2.6",
      ]]
    ) {
      const info = await connect(name, source!);
      assert.equal(info.broker?.nodeId, 2, `${name ?? "no server name"} bootstraps`);
      assert.equal(info.tls?.serverName, name);
      assert.equal(info.proxied?.source, `${source}:50000`);
    }
    // broker3 is not known: after a refresh it bootstraps too.
    assert.equal((await connect("broker3.gw.test", "10.1.2.7")).broker?.nodeId, 2);
  } finally {
    await server.close();
    for (const { listener } of brokers) listener.close();
    for (const conn of held) conn.close();
    credentials.close();
    await Deno.remove(ca.dir, { recursive: true });
  }
});
