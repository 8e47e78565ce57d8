/** The settings schema: what derives from it (SETTINGS, defaults, masking, rules) and how errors are named. */
import assert from "node:assert/strict";
import { DEFAULT_ADMIN_USER, parseConfig, redactedConfig, SETTINGS } from "../../src/config/mod.ts";
import { refusal } from "./refusal.ts";

const BASE = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" };

Deno.test("schema: one setting per config key, each documented, in --help order", () => {
  // `listeners` is derived from the settings (and GATEWAY_LISTENER_* variables), not a setting.
  const keys = Object.keys(parseConfig(BASE)).filter((key) => key !== "listeners");
  assert.deepEqual(SETTINGS.map((s) => s.key), keys);
  assert.deepEqual(parseConfig(BASE).listeners.map((l) => l.name), ["DEFAULT"]);
  assert.equal(new Set(SETTINGS.map((s) => s.env)).size, SETTINGS.length);
  for (const s of SETTINGS) {
    assert.match(s.env, /^(GATEWAY|KAFKA)_[A-Z_]+$/, s.env);
    assert.ok(s.description.length > 0 && s.allowed.length > 0, s.env);
    assert.ok(!s.description.endsWith("."), `${s.env}: --help adds the period`);
  }
  assert.deepEqual(SETTINGS.filter((s) => s.required).map((s) => s.env), ["KAFKA_BOOTSTRAP_SERVERS"]);
  assert.deepEqual(
    SETTINGS.filter((s) => s.secret).map((s) => s.env),
    ["KAFKA_SASL_JAAS_CONFIG", "GATEWAY_ADMIN_API_USERS"],
  );
});

Deno.test("schema: the default shown is the default applied", () => {
  const config = parseConfig(BASE);
  for (const s of SETTINGS) {
    const value = config[s.key];
    if (typeof value === "number" || typeof value === "boolean") {
      assert.ok(s.defaultText?.startsWith(String(value)), `${s.env}: ${s.defaultText} vs ${value}`);
    } else if (s.key === "logLevel" || s.key === "logFormat" || s.key === "bindHost") {
      assert.equal(s.defaultText, value, s.env);
    }
  }
  assert.equal(
    SETTINGS.find((s) => s.key === "adminApiUsers")?.defaultText,
    JSON.stringify([DEFAULT_ADMIN_USER]),
  );
  assert.deepEqual(config.adminApiUsers, [{ username: "admin", password: "kgate" }]);
});

Deno.test("schema: secrets are masked in errors and in redactedConfig", () => {
  const jaas =
    'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="s3cr3t";';
  const shown = JSON.stringify(redactedConfig(parseConfig({ ...BASE, KAFKA_SASL_JAAS_CONFIG: jaas })));
  assert.ok(!shown.includes("s3cr3t") && !shown.includes("kgate"), shown);
  assert.match(shown, /"KAFKA_SASL_JAAS_CONFIG":"<redacted>"/);
  assert.match(shown, /"GATEWAY_ADMIN_API_USERS":"<redacted>"/);
  assert.match(shown, /"GATEWAY_RACK_ID":null/);
  for (const [env, value] of [["KAFKA_SASL_JAAS_CONFIG", "s3cr3t"], ["GATEWAY_ADMIN_API_USERS", "s3cr3t"]]) {
    const error = refusal({ ...BASE, [env]: value });
    assert.equal(error.variable, env);
    assert.equal(error.value, "<redacted>");
    assert.ok(!error.message.includes("s3cr3t"), error.message);
  }
});

Deno.test("schema: the HTTPS certificate and key come together", () => {
  const cert = { GATEWAY_HTTPS_CERT_FILE: "/tls/cert.pem" };
  const key = { GATEWAY_HTTPS_KEY_FILE: "/tls/key.pem" };
  assert.equal(parseConfig({ ...BASE, ...cert, ...key }).httpsKeyFile, "/tls/key.pem");
  assert.equal(
    refusal({ ...BASE, ...cert }).message,
    "GATEWAY_HTTPS_KEY_FILE is required: a file path (HTTPS needs both the certificate and the key)",
  );
  assert.equal(refusal({ ...BASE, ...key }).variable, "GATEWAY_HTTPS_CERT_FILE");
});

Deno.test("schema: client-side TLS needs a certificate and key, client certificates need a CA", () => {
  const files = { GATEWAY_SSL_CERT_FILE: "/tls/cert.pem", GATEWAY_SSL_KEY_FILE: "/tls/key.pem" };
  const plain = parseConfig(BASE);
  assert.equal(plain.gatewaySecurityProtocol, "PLAINTEXT");
  assert.equal(plain.gatewaySslClientAuth, "none");
  assert.equal(plain.gatewaySslHandshakeTimeoutMs, 10000);
  const ssl = parseConfig({ ...BASE, ...files, GATEWAY_SECURITY_PROTOCOL: "SSL" });
  assert.equal(ssl.gatewaySecurityProtocol, "SSL");
  assert.equal(ssl.gatewaySslCertFile, "/tls/cert.pem");
  assert.equal(
    refusal({ ...BASE, GATEWAY_SECURITY_PROTOCOL: "SSL" }).message,
    "GATEWAY_SSL_CERT_FILE is required: a file path (GATEWAY_SECURITY_PROTOCOL=SSL needs a certificate and its key)",
  );
  assert.equal(
    refusal({ ...BASE, GATEWAY_SECURITY_PROTOCOL: "SSL", GATEWAY_SSL_CERT_FILE: "/c" }).variable,
    "GATEWAY_SSL_KEY_FILE",
  );
  assert.equal(
    refusal({ ...BASE, ...files, GATEWAY_SECURITY_PROTOCOL: "SSL", GATEWAY_SSL_CLIENT_AUTH: "required" })
      .message,
    "GATEWAY_SSL_CA_FILE is required: a file path (GATEWAY_SSL_CLIENT_AUTH=required verifies client certificates against it)",
  );
  assert.equal(
    parseConfig({
      ...BASE,
      ...files,
      GATEWAY_SECURITY_PROTOCOL: "SSL",
      GATEWAY_SSL_CLIENT_AUTH: "requested",
      GATEWAY_SSL_CA_FILE: "/tls/ca.pem",
    }).gatewaySslClientAuth,
    "requested",
  );
  assert.equal(refusal({ ...BASE, GATEWAY_SECURITY_PROTOCOL: "TLS" }).variable, "GATEWAY_SECURITY_PROTOCOL");
  assert.equal(refusal({ ...BASE, GATEWAY_SSL_CLIENT_AUTH: "optional" }).variable, "GATEWAY_SSL_CLIENT_AUTH");
});

Deno.test("schema: a value not allowed is named before any rule between settings", () => {
  // " 5" fails the advertised host's pattern; the node id rule would also fail on the default " 5:6969".
  const error = refusal({ ...BASE, GATEWAY_ADVERTISED_HOST: " 5" });
  assert.equal(error.message, 'invalid GATEWAY_ADVERTISED_HOST=" 5": expected a host name or IP address');
  // Two bad values: the first in --help order wins, whatever the order in the input.
  assert.equal(
    refusal({ GATEWAY_LOG_FORMAT: "xml", GATEWAY_PORT_START: "0", ...BASE }).variable,
    "GATEWAY_PORT_START",
  );
  // Rules in their order: the node id default before the HTTPS pair before the heartbeat.
  assert.equal(
    refusal({
      ...BASE,
      GATEWAY_HTTPS_CERT_FILE: "/c",
      GATEWAY_GROUP_SESSION_TIMEOUT_MS: "1000",
      GATEWAY_ADVERTISED_HOST: "::1",
    }).variable,
    "GATEWAY_HTTPS_KEY_FILE",
  );
});

Deno.test("schema: the node id default breaking its own pattern names GATEWAY_NODE_ID", () => {
  const error = refusal({ ...BASE, GATEWAY_ADVERTISED_HOST: "x".repeat(200) });
  assert.equal(error.variable, "GATEWAY_NODE_ID");
  assert.equal(error.value, undefined);
  assert.match(
    error.message,
    /^GATEWAY_NODE_ID is required: letters, digits.*\(the default "x{200}:6969" has others\)$/,
  );
});
