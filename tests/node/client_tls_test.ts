/** The node's client-side TLS: files checked at start (errors name the setting), options from the settings. */
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/mod.ts";
import { clientTls } from "../../src/node/client_tls.ts";
import { startGateway } from "../../src/node/start.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";

const BASE = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:1", GATEWAY_BIND_HOST: "127.0.0.1" };

Deno.test("client TLS: none for PLAINTEXT; the settings' options for SSL; stops watching when disposed", async () => {
  assert.equal(await clientTls(parseConfig(BASE)), undefined);
  const ca = await makeTestCa();
  const leaf = await makeLeafCert(ca, { commonName: "gw", subjectAltNames: ["IP:127.0.0.1"] });
  const tls = await clientTls(parseConfig({
    ...BASE,
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    GATEWAY_SSL_CERT_FILE: leaf.certFile,
    GATEWAY_SSL_KEY_FILE: leaf.keyFile,
    GATEWAY_SSL_CA_FILE: ca.certFile,
    GATEWAY_SSL_CLIENT_AUTH: "required",
    GATEWAY_SSL_HANDSHAKE_TIMEOUT_MS: "2500",
  }));
  assert.ok(tls);
  try {
    assert.equal(tls.options.clientAuth, "required");
    assert.equal(tls.options.handshakeTimeoutMs, 2500);
    assert.equal(tls.options.credentials().certificate.subject, "CN=gw");
    assert.equal(tls.options.credentials().caCertificates.length, 1);
  } finally {
    tls[Symbol.dispose]();
    await Deno.remove(ca.dir, { recursive: true });
  }
});

Deno.test("client TLS: a start with a missing certificate file fails naming the setting, before anything is bound", async () => {
  const dir = await Deno.makeTempDir();
  const config = parseConfig({
    ...BASE,
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    GATEWAY_SSL_CERT_FILE: `${dir}/missing.crt`,
    GATEWAY_SSL_KEY_FILE: `${dir}/missing.key`,
  });
  await assert.rejects(
    () => startGateway(config, { signal: AbortSignal.timeout(5000) }),
    /^TlsFileError: GATEWAY_SSL_CERT_FILE=".*missing\.crt": cannot read: no such file$/,
  );
  await Deno.remove(dir);
});
