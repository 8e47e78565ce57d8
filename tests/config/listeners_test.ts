/** Listeners: the single-listener settings as listener DEFAULT, GATEWAY_LISTENER_<NAME>_*, and their rules. */
import assert from "node:assert/strict";
import { parseConfig, readCommandLine } from "../../src/config/mod.ts";
import { refusal } from "./refusal.ts";

const BASE = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092" };
const TLS = { GATEWAY_SSL_CERT_FILE: "/tls/crt.pem", GATEWAY_SSL_KEY_FILE: "/tls/key.pem" };

Deno.test("listeners: the single-listener settings make one listener DEFAULT, port routing by default", () => {
  const config = parseConfig({
    ...BASE,
    GATEWAY_BIND_HOST: "10.0.0.1",
    GATEWAY_ADVERTISED_HOST: "gw.example",
    GATEWAY_PORT_START: "7000",
    GATEWAY_PORT_COUNT: "5",
  });
  assert.deepEqual(config.listeners, [{
    name: "DEFAULT",
    bindHost: "10.0.0.1",
    portStart: 7000,
    portCount: 5,
    advertisedHost: "gw.example",
    routing: "port",
    advertisedSniPort: 7000,
    advertisedHostPrefix: "broker",
    tls: undefined,
  }]);
});

Deno.test("listeners: GATEWAY_ROUTING_MECHANISM=host listens on one TLS port, advertises the SNI port and prefix", () => {
  const config = parseConfig({
    ...BASE,
    ...TLS,
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    GATEWAY_ADVERTISED_HOST: "gw.example",
    GATEWAY_PORT_START: "9093",
    GATEWAY_ROUTING_MECHANISM: "host",
    GATEWAY_ADVERTISED_SNI_PORT: "443",
    GATEWAY_ADVERTISED_HOST_PREFIX: "kafka-",
  });
  const [listener] = config.listeners;
  assert.equal(listener.routing, "host");
  assert.equal(listener.portStart, 9093);
  assert.equal(listener.portCount, 1);
  assert.equal(listener.advertisedSniPort, 443);
  assert.equal(listener.advertisedHostPrefix, "kafka-");
  assert.equal(listener.tls?.certFile, "/tls/crt.pem");
  assert.equal(listener.tls?.variables.certFile, "GATEWAY_SSL_CERT_FILE");
  // Unset, the SNI port is the listening port.
  const plain = parseConfig({
    ...BASE,
    ...TLS,
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    GATEWAY_ROUTING_MECHANISM: "host",
  });
  assert.equal(plain.listeners[0].advertisedSniPort, 6969);
});

Deno.test("listeners: host routing without TLS, or with a port count, is refused naming the setting", () => {
  const noTls = refusal({ ...BASE, GATEWAY_ROUTING_MECHANISM: "host" });
  assert.equal(noTls.variable, "GATEWAY_SECURITY_PROTOCOL");
  assert.match(noTls.message, /SSL \(GATEWAY_ROUTING_MECHANISM=host reads the TLS server name\)/);
  const counted = refusal({
    ...BASE,
    ...TLS,
    GATEWAY_SECURITY_PROTOCOL: "SSL",
    GATEWAY_ROUTING_MECHANISM: "host",
    GATEWAY_PORT_COUNT: "4",
  });
  assert.equal(counted.variable, "GATEWAY_PORT_COUNT");
  assert.equal(refusal({ ...BASE, GATEWAY_ROUTING_MECHANISM: "sni" }).variable, "GATEWAY_ROUTING_MECHANISM");
  assert.equal(
    refusal({ ...BASE, GATEWAY_ADVERTISED_HOST_PREFIX: "a.b" }).variable,
    "GATEWAY_ADVERTISED_HOST_PREFIX",
  );
});

const TWO_LISTENERS = {
  ...BASE,
  GATEWAY_BIND_HOST: "10.0.0.9",
  GATEWAY_LISTENER_INTERNAL_PORTS: "6969-6974",
  GATEWAY_LISTENER_INTERNAL_ADVERTISED_HOST: "kgate-0.kgate",
  GATEWAY_LISTENER_INTERNAL_ROUTING: "port",
  GATEWAY_LISTENER_INTERNAL_SECURITY_PROTOCOL: "PLAINTEXT",
  GATEWAY_LISTENER_EXTERNAL_BIND_ADDRESS: "0.0.0.0",
  GATEWAY_LISTENER_EXTERNAL_PORTS: "443:9093",
  GATEWAY_LISTENER_EXTERNAL_ADVERTISED_HOST: "kafka.example.com",
  GATEWAY_LISTENER_EXTERNAL_ROUTING: "sni",
  GATEWAY_LISTENER_EXTERNAL_SECURITY_PROTOCOL: "SSL",
  GATEWAY_LISTENER_EXTERNAL_SSL_CERT_FILE: "/tls/crt.pem",
  GATEWAY_LISTENER_EXTERNAL_SSL_KEY_FILE: "/tls/key.pem",
  GATEWAY_LISTENER_EXTERNAL_SSL_CA_FILE: "/tls/ca.pem",
  GATEWAY_LISTENER_EXTERNAL_SSL_CLIENT_AUTH: "requested",
};

Deno.test("listeners: GATEWAY_LISTENER_<NAME>_* make one listener per name, sorted by name", () => {
  const config = parseConfig(TWO_LISTENERS);
  assert.deepEqual(config.listeners, [
    {
      name: "EXTERNAL",
      bindHost: "0.0.0.0",
      portStart: 9093,
      portCount: 1,
      advertisedHost: "kafka.example.com",
      routing: "host",
      advertisedSniPort: 443,
      advertisedHostPrefix: "broker",
      tls: {
        certFile: "/tls/crt.pem",
        keyFile: "/tls/key.pem",
        caFile: "/tls/ca.pem",
        clientAuth: "requested",
        variables: {
          certFile: "GATEWAY_LISTENER_EXTERNAL_SSL_CERT_FILE",
          keyFile: "GATEWAY_LISTENER_EXTERNAL_SSL_KEY_FILE",
          caFile: "GATEWAY_LISTENER_EXTERNAL_SSL_CA_FILE",
        },
      },
    },
    {
      name: "INTERNAL",
      // GATEWAY_BIND_HOST is the default bind address (and the HTTP API's).
      bindHost: "10.0.0.9",
      portStart: 6969,
      portCount: 6,
      advertisedHost: "kgate-0.kgate",
      routing: "port",
      advertisedSniPort: 6969,
      advertisedHostPrefix: "broker",
      tls: undefined,
    },
  ]);
  // The first listener stands for the node's one host; the default node id names every listener (one of
  // them may advertise a host every node shares).
  assert.equal(config.advertisedHost, "kafka.example.com");
  assert.equal(config.nodeId, "kafka.example.com:9093_kgate-0.kgate:6969");
  assert.equal(parseConfig({ ...TWO_LISTENERS, GATEWAY_NODE_ID: "n1" }).nodeId, "n1");
  // A single port under port routing: the count is computed from the brokers.
  const open = parseConfig({ ...BASE, GATEWAY_LISTENER_A_PORTS: "7000" });
  assert.equal(open.listeners[0].portCount, undefined);
  assert.equal(open.listeners[0].routing, "port");
  // `host` is taken as a synonym of `sni`.
  const host = parseConfig({
    ...BASE,
    GATEWAY_LISTENER_X_PORTS: "9093",
    GATEWAY_LISTENER_X_ROUTING: "host",
    GATEWAY_LISTENER_X_SECURITY_PROTOCOL: "SSL",
    GATEWAY_LISTENER_X_SSL_CERT_FILE: "/c",
    GATEWAY_LISTENER_X_SSL_KEY_FILE: "/k",
  });
  assert.equal(host.listeners[0].routing, "host");
  assert.equal(host.listeners[0].advertisedSniPort, 9093);
});

Deno.test("listeners: mixing single-listener and listener variables is refused naming the single-listener one", () => {
  for (const variable of ["GATEWAY_PORT_START", "GATEWAY_ADVERTISED_HOST", "GATEWAY_SECURITY_PROTOCOL"]) {
    const error = refusal({
      ...TWO_LISTENERS,
      [variable]: variable === "GATEWAY_PORT_START" ? "7000" : "SSL",
    });
    assert.equal(error.variable, variable);
    assert.match(error.message, /unset when GATEWAY_LISTENER_<NAME>_\* variables are set/);
  }
  // Empty counts as unset.
  assert.equal(parseConfig({ ...TWO_LISTENERS, GATEWAY_PORT_START: "" }).listeners.length, 2);
});

Deno.test("listeners: each bad listener variable is refused naming it and what it allows", () => {
  const cases: [Record<string, string>, string, RegExp][] = [
    [
      { GATEWAY_LISTENER_EXTERNAL_PORT: "1" },
      "GATEWAY_LISTENER_EXTERNAL_PORT",
      /SUFFIX one of BIND_ADDRESS, PORTS/,
    ],
    [
      { GATEWAY_LISTENER_my_PORTS: "1" },
      "GATEWAY_LISTENER_my_PORTS",
      /NAME of upper-case letters and digits/,
    ],
    [
      { GATEWAY_LISTENER_EXTERNAL_PORTS: "9093-9000" },
      "GATEWAY_LISTENER_EXTERNAL_PORTS",
      /<advertised port>:/,
    ],
    [{ GATEWAY_LISTENER_INTERNAL_PORTS: "6974-6969" }, "GATEWAY_LISTENER_INTERNAL_PORTS", /<first>-<last>/],
    [{ GATEWAY_LISTENER_INTERNAL_PORTS: "70000" }, "GATEWAY_LISTENER_INTERNAL_PORTS", /<first>-<last>/],
    [{ GATEWAY_LISTENER_INTERNAL_ROUTING: "dns" }, "GATEWAY_LISTENER_INTERNAL_ROUTING", /port, sni or host/],
    [
      { GATEWAY_LISTENER_INTERNAL_SECURITY_PROTOCOL: "SASL_SSL" },
      "GATEWAY_LISTENER_INTERNAL_SECURITY_PROTOCOL",
      /PLAINTEXT or SSL/,
    ],
    [
      { GATEWAY_LISTENER_EXTERNAL_SSL_KEY_FILE: "" },
      "GATEWAY_LISTENER_EXTERNAL_SSL_KEY_FILE",
      /needs a certificate and its key/,
    ],
    [
      { GATEWAY_LISTENER_EXTERNAL_SSL_CA_FILE: "" },
      "GATEWAY_LISTENER_EXTERNAL_SSL_CA_FILE",
      /SSL_CLIENT_AUTH=requested verifies/,
    ],
    [
      { GATEWAY_LISTENER_EXTERNAL_SECURITY_PROTOCOL: "PLAINTEXT" },
      "GATEWAY_LISTENER_EXTERNAL_SECURITY_PROTOCOL",
      /SSL \(GATEWAY_LISTENER_EXTERNAL_ROUTING=sni reads the TLS server name\)/,
    ],
    [
      { GATEWAY_LISTENER_INTERNAL_ADVERTISED_HOST: "a b" },
      "GATEWAY_LISTENER_INTERNAL_ADVERTISED_HOST",
      /a host name/,
    ],
    // Overlapping ports on one address: the second listener (by name) is named.
    [
      { GATEWAY_LISTENER_INTERNAL_PORTS: "9090-9095" },
      "GATEWAY_LISTENER_INTERNAL_PORTS",
      /apart from listener EXTERNAL's \(9093-9093\)/,
    ],
  ];
  for (const [change, variable, allowed] of cases) {
    const raw: Record<string, string> = { ...TWO_LISTENERS, ...change };
    const error = refusal(raw);
    assert.equal(error.variable, variable, JSON.stringify(change));
    assert.match(error.message, allowed, error.message);
  }
  // Required: PORTS.
  const { GATEWAY_LISTENER_INTERNAL_PORTS: _, ...noPorts } = TWO_LISTENERS;
  const missing = refusal(noPorts);
  assert.equal(missing.variable, "GATEWAY_LISTENER_INTERNAL_PORTS");
  assert.match(missing.message, /is required/);
  // The same ports on two different addresses are fine.
  assert.equal(
    parseConfig({
      ...BASE,
      GATEWAY_LISTENER_A_BIND_ADDRESS: "10.0.0.1",
      GATEWAY_LISTENER_A_PORTS: "7000-7002",
      GATEWAY_LISTENER_B_BIND_ADDRESS: "10.0.0.2",
      GATEWAY_LISTENER_B_PORTS: "7000-7002",
    }).listeners.length,
    2,
  );
});

Deno.test("listeners: the command line reads listener variables from the environment", () => {
  const command = readCommandLine([], () => ({ ...TWO_LISTENERS, UNRELATED: "x" }), "1.0.0");
  assert.equal(command.kind, "run");
  if (command.kind === "run") {
    assert.deepEqual(command.config.listeners.map((l) => l.name), ["EXTERNAL", "INTERNAL"]);
  }
  const refused = readCommandLine([], () => ({ ...TWO_LISTENERS, GATEWAY_LISTENER_X_NOPE: "1" }), "1.0.0");
  assert.equal(refused.kind, "refuse");
});
