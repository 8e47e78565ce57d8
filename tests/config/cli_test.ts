/** The command line: flags over variables, --help, --version and refusals (exit codes are main.ts's). */
import assert from "node:assert/strict";
import { flagName, helpText, readCommandLine, SETTINGS } from "../../src/config/mod.ts";

const ENV = { KAFKA_BOOTSTRAP_SERVERS: "127.0.0.1:9092", GATEWAY_PORT_START: "7000" };

function read(args: string[], env: Record<string, string> = ENV) {
  return readCommandLine(args, () => env, "1.2.3");
}

Deno.test("cli: every setting has a flag, which wins over its variable", () => {
  const command = read(["--port-start", "7100", "--log-format=json"]);
  assert.equal(command.kind, "run");
  if (command.kind !== "run") return;
  assert.equal(command.config.portStart, 7100);
  assert.equal(command.config.logFormat, "json");
  const fromEnv = read([]);
  assert.ok(fromEnv.kind === "run" && fromEnv.config.portStart === 7000);
  assert.equal(flagName("KAFKA_BOOTSTRAP_SERVERS"), "kafka-bootstrap-servers");
  assert.equal(flagName("GATEWAY_FEATURE_FLAGS_HAPROXY_PROTOCOL"), "feature-flags-haproxy-protocol");
  for (const s of SETTINGS) assert.notEqual(read([`--${flagName(s.env)}`, "x"]).kind, "print", s.env);
});

Deno.test("cli: --help and --version print; the environment is not read", () => {
  const noEnv = () => {
    throw new Error("environment read");
  };
  assert.deepEqual(readCommandLine(["--help"], noEnv, "1.2.3"), { kind: "print", text: helpText("1.2.3") });
  assert.deepEqual(readCommandLine(["--version"], noEnv, "1.2.3"), { kind: "print", text: "kgate 1.2.3" });
  assert.deepEqual(readCommandLine(["--version", "--help"], noEnv, "1.2.3").kind, "print");
  const help = helpText("1.2.3");
  assert.match(help, /^kgate 1\.2\.3: a Kafka protocol gateway\n/);
  assert.match(
    help,
    /\n {2}--port-start {2}\(GATEWAY_PORT_START\)\n {6}First Kafka port.*\. default: 6969\. Allowed: an integer from 1 to 65535\n/,
  );
  assert.match(
    help,
    /\(KAFKA_BOOTSTRAP_SERVERS\)\n.*\. required\. Allowed: a comma-separated list of host:port\n/,
  );
  assert.match(help, /\(GATEWAY_RACK_ID\)\n.*\. default: unset\. /);
  assert.match(
    help,
    /\(GATEWAY_MEMBERS_TOPIC_REPLICATION_FACTOR\)\n.*default: -1 \(the cluster's default\)\. /,
  );
});

Deno.test("cli: refusals carry the message main prints after `kgate: `", () => {
  assert.deepEqual(read([], { ...ENV, GATEWAY_PORT_START: "abc" }), {
    kind: "refuse",
    message: 'invalid GATEWAY_PORT_START="abc": expected an integer from 1 to 65535',
  });
  assert.deepEqual(read([], {}), {
    kind: "refuse",
    message: "KAFKA_BOOTSTRAP_SERVERS is required: a comma-separated list of host:port",
  });
  const unknown = read(["--no-such-flag"]);
  assert.ok(unknown.kind === "refuse" && /no-such-flag.*\(see --help\)$/.test(unknown.message));
  const positional = read(["extra"]);
  assert.ok(positional.kind === "refuse" && /extra/.test(positional.message));
  const noValue = read(["--port-start"]);
  assert.equal(noValue.kind, "refuse");
});
