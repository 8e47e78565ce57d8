/** KAFKA_SASL_JAAS_CONFIG: the three login modules, the mechanism rule, and secrets kept out of errors. */
import assert from "node:assert/strict";
import {
  ConfigError,
  JaasError,
  parseConfig,
  parseJaas,
  redactedConfig,
  saslCredentials,
} from "../../src/config/mod.ts";

const PLAIN = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM = "org.apache.kafka.common.security.scram.ScramLoginModule";
const OAUTH = "org.apache.kafka.common.security.oauthbearer.OAuthBearerLoginModule";
const BASE = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" };

Deno.test("jaas: parses module, flag and options (quoted, unquoted, escaped, no trailing ;)", () => {
  assert.deepEqual(parseJaas(`${PLAIN} required username="u" password="p";`), {
    module: "plain",
    flag: "required",
    options: { username: "u", password: "p" },
  });
  assert.deepEqual(parseJaas(`  ${SCRAM}   optional username=bob  password="a \\"q\\" b=c;d"  `).options, {
    username: "bob",
    password: 'a "q" b=c;d',
  });
  assert.deepEqual(parseJaas(`${OAUTH} required;`).options, {});
});

Deno.test("jaas: refuses unknown modules and malformed lines without echoing values", () => {
  assert.throws(() => parseJaas('com.example.Login required password="s3cr3t";'), JaasError);
  for (const bad of [`${PLAIN} username="u"`, `${PLAIN} required password=`, "s3cr3t"]) {
    try {
      parseJaas(bad);
      assert.fail(`accepted ${bad}`);
    } catch (error) {
      assert.ok(error instanceof JaasError, String(error));
      assert.ok(!error.message.includes("s3cr3t"));
    }
  }
});

Deno.test("jaas: credentials per mechanism", () => {
  assert.deepEqual(saslCredentials("PLAIN", `${PLAIN} required username="u" password="p";`), {
    mechanism: "PLAIN",
    username: "u",
    password: "p",
  });
  assert.deepEqual(saslCredentials("SCRAM-SHA-256", `${SCRAM} required username="u" password="p";`), {
    mechanism: "SCRAM-SHA-256",
    username: "u",
    password: "p",
  });
  assert.deepEqual(saslCredentials("OAUTHBEARER", `${OAUTH} required token="a.b.c";`), {
    mechanism: "OAUTHBEARER",
    token: { kind: "static", token: "a.b.c" },
    extensions: {},
  });
  assert.deepEqual(
    saslCredentials("OAUTHBEARER", `${OAUTH} required tokenFile="/run/token" unsecuredLoginExtension_x="1";`),
    { mechanism: "OAUTHBEARER", token: { kind: "file", path: "/run/token" }, extensions: { x: "1" } },
  );
  assert.deepEqual(
    saslCredentials("OAUTHBEARER", `${OAUTH} required unsecuredLoginStringClaim_sub="admin";`),
    {
      mechanism: "OAUTHBEARER",
      token: { kind: "unsecured", subject: "admin", lifetimeSeconds: 3600 },
      extensions: {},
    },
  );
  assert.throws(
    () => saslCredentials("SCRAM-SHA-512", `${PLAIN} required username="u" password="p";`),
    /needs/,
  );
  assert.throws(() => saslCredentials("PLAIN", `${PLAIN} required username="u";`), /password/);
  assert.throws(
    () => saslCredentials("OAUTHBEARER", `${OAUTH} required token="a" tokenFile="b";`),
    /exactly one/,
  );
});

Deno.test("config: upstream security settings, their rules, and the JAAS secret masked", () => {
  const jaas = `${SCRAM} required username="u" password="s3cr3t";`;
  const config = parseConfig({
    ...BASE,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_JAAS_CONFIG: jaas,
    KAFKA_SSL_CA_FILE: "/tls/ca.pem",
  });
  assert.equal(config.kafkaSecurityProtocol, "SASL_SSL");
  assert.equal(config.kafkaSslEndpointIdentificationAlgorithm, "https");
  assert.equal(
    parseConfig({ ...BASE, KAFKA_SSL_ENDPOINT_IDENTIFICATION_ALGORITHM: "" })
      .kafkaSslEndpointIdentificationAlgorithm,
    "",
  );
  assert.ok(!JSON.stringify(redactedConfig(config)).includes("s3cr3t"));

  const refused = (raw: Record<string, string>) => {
    try {
      parseConfig(raw);
    } catch (error) {
      assert.ok(error instanceof ConfigError, String(error));
      return error;
    }
    assert.fail("accepted");
  };
  const wrongModule = refused({
    ...BASE,
    KAFKA_SECURITY_PROTOCOL: "SASL_SSL",
    KAFKA_SASL_MECHANISM: "PLAIN",
    KAFKA_SASL_JAAS_CONFIG: jaas,
  });
  assert.equal(wrongModule.variable, "KAFKA_SASL_JAAS_CONFIG");
  assert.match(wrongModule.message, /PLAIN needs .*PlainLoginModule/);
  assert.ok(!wrongModule.message.includes("s3cr3t"), wrongModule.message);
  assert.equal(refused({ ...BASE, KAFKA_SSL_CERT_FILE: "/tls/c.pem" }).variable, "KAFKA_SSL_KEY_FILE");
  assert.equal(
    refused({ ...BASE, KAFKA_SECURITY_PROTOCOL: "SASL_SSL", KAFKA_SASL_MECHANISM: "SCRAM-SHA-256" }).message,
    "KAFKA_SASL_JAAS_CONFIG is required: a JAAS line with the credentials for KAFKA_SASL_MECHANISM=SCRAM-SHA-256",
  );
  assert.equal(refused({ ...BASE, KAFKA_SECURITY_PROTOCOL: "TLS" }).variable, "KAFKA_SECURITY_PROTOCOL");
  assert.equal(refused({ ...BASE, KAFKA_SASL_MECHANISM: "GSSAPI" }).variable, "KAFKA_SASL_MECHANISM");
});
