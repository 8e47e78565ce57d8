import assert from "node:assert/strict";
import { createHttpApp, HttpServerError, startHttpServer } from "../../src/http/mod.ts";
import { AUTH, FakeView, json, KAFKA_VERSIONS } from "./fake_view.ts";
import { makeLeafCert, makeTestCa } from "../support/certs.ts";

function app() {
  return createHttpApp(new FakeView(), {
    users: [{ username: "admin", password: "s3cret:with:colons" }],
    securedMetrics: true,
    versions: { kafkaProtocolVersions: () => KAFKA_VERSIONS },
  });
}

/** A certificate for 127.0.0.1 / localhost from a new test CA; `cert` is the CA the client trusts. */
async function selfSignedCert(): Promise<{ dir: string; certFile: string; keyFile: string; cert: string }> {
  const ca = await makeTestCa();
  const leaf = await makeLeafCert(ca, {
    commonName: "localhost",
    subjectAltNames: ["IP:127.0.0.1", "DNS:localhost"],
    usage: "server",
  });
  return { dir: ca.dir, ...leaf, cert: await Deno.readTextFile(ca.certFile) };
}

Deno.test("serves HTTP on 127.0.0.1 with an ephemeral port, then shuts down", async () => {
  const server = await startHttpServer(app(), { hostname: "127.0.0.1", port: 0 });
  try {
    assert.ok(server.port > 0);
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
    const live = await fetch(`${server.url}/health/live`);
    assert.equal(live.status, 200);
    assert.equal(await live.text(), "LIVE");
    const metrics = await fetch(`${server.url}/metrics`);
    assert.equal(metrics.status, 401);
    assert.equal(metrics.headers.get("www-authenticate"), 'Basic realm="kgate"');
    await metrics.body?.cancel();
    const brokers = await fetch(`${server.url}/api/v1/brokers`, { headers: AUTH });
    assert.equal(brokers.status, 200);
    assert.equal(((await json(brokers)).brokers as unknown[]).length, 3);
    const missing = await fetch(`${server.url}/nope`);
    assert.equal(missing.status, 404);
    await missing.body?.cancel();
  } finally {
    await server.shutdown();
    await server.shutdown(); // idempotent
  }
  await assert.rejects(fetch(`${server.url}/health/live`));
});

Deno.test("aborting the signal shuts the server down", async () => {
  const controller = new AbortController();
  const server = await startHttpServer(app(), { hostname: "127.0.0.1", port: 0, signal: controller.signal });
  const res = await fetch(`${server.url}/health/ready`);
  assert.equal(await res.text(), "READY");
  controller.abort();
  await server.shutdown(); // resolves once the abort-triggered shutdown is done
  await assert.rejects(fetch(`${server.url}/health/ready`));
});

Deno.test("serves HTTPS with a PEM certificate and key", async () => {
  const tls = await selfSignedCert();
  const client = Deno.createHttpClient({ caCerts: [tls.cert] });
  const server = await startHttpServer(app(), {
    hostname: "127.0.0.1",
    port: 0,
    certFile: tls.certFile,
    keyFile: tls.keyFile,
  });
  try {
    assert.equal(server.url, `https://127.0.0.1:${server.port}`);
    const live = await fetch(`${server.url}/health/live`, { client });
    assert.equal(live.status, 200);
    assert.equal(await live.text(), "LIVE");
    const config = await fetch(`${server.url}/api/v1/config`, { client, headers: AUTH });
    assert.equal(config.status, 200);
    assert.equal((await json(config)).GATEWAY_ADMIN_API_USERS, "<redacted>");
    // Plain HTTP to the HTTPS port does not get an answer.
    await assert.rejects(async () => {
      const res = await fetch(`http://127.0.0.1:${server.port}/health/live`);
      await res.body?.cancel();
    });
    // A client that does not trust the certificate is refused.
    await assert.rejects(fetch(`${server.url}/health/live`));
  } finally {
    await server.shutdown();
    client.close();
    await Deno.remove(tls.dir, { recursive: true });
  }
});

// Half a TLS pair is refused by the config schema before the server starts (tests/config_test.ts).
Deno.test("startup errors name the setting: missing, unreadable and non-PEM files, refused certificates", async () => {
  const tls = await selfSignedCert();
  const notPem = `${tls.dir}/not.pem`;
  await Deno.writeTextFile(notPem, "hello");
  const garbagePem = `${tls.dir}/garbage.pem`;
  await Deno.writeTextFile(garbagePem, "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n");
  const base = { hostname: "127.0.0.1", port: 0 };
  const cases: [Parameters<typeof startHttpServer>[1], string, RegExp][] = [
    [
      { ...base, certFile: `${tls.dir}/missing.pem`, keyFile: tls.keyFile },
      "GATEWAY_HTTPS_CERT_FILE",
      /cannot read/,
    ],
    [
      { ...base, certFile: tls.certFile, keyFile: `${tls.dir}/missing.pem` },
      "GATEWAY_HTTPS_KEY_FILE",
      /cannot read/,
    ],
    [{ ...base, certFile: tls.dir, keyFile: tls.keyFile }, "GATEWAY_HTTPS_CERT_FILE", /cannot read/],
    [{ ...base, certFile: notPem, keyFile: tls.keyFile }, "GATEWAY_HTTPS_CERT_FILE", /not a PEM file/],
    [{ ...base, certFile: tls.certFile, keyFile: notPem }, "GATEWAY_HTTPS_KEY_FILE", /not a PEM file/],
    [
      { ...base, certFile: garbagePem, keyFile: tls.keyFile },
      "GATEWAY_HTTPS_CERT_FILE",
      /cannot serve HTTPS/,
    ],
    [
      { ...base, certFile: tls.keyFile, keyFile: tls.certFile },
      "GATEWAY_HTTPS_CERT_FILE",
      /cannot serve HTTPS/,
    ],
  ];
  try {
    for (const [options, setting, message] of cases) {
      await assert.rejects(startHttpServer(app(), options), (error: unknown) => {
        assert.ok(error instanceof HttpServerError, String(error));
        assert.equal(error.setting, setting);
        assert.match(error.message, message);
        assert.ok(error.message.includes(setting), error.message);
        return true;
      }, JSON.stringify(options));
    }
  } finally {
    await Deno.remove(tls.dir, { recursive: true });
  }
});

Deno.test("a port already in use is an error naming GATEWAY_HTTP_PORT", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    await assert.rejects(
      startHttpServer(app(), { hostname: "127.0.0.1", port: listener.addr.port }),
      (error: unknown) => {
        assert.ok(error instanceof HttpServerError);
        assert.equal(error.setting, "GATEWAY_HTTP_PORT");
        assert.match(error.message, new RegExp(`127\\.0\\.0\\.1:${listener.addr.port}`));
        return true;
      },
    );
  } finally {
    listener.close();
  }
});
