/**
 * deploy/systemd/: the unit passes `systemd-analyze verify` with no message and `systemd-analyze security`
 * rates it well, it is hardened as README's "Deployment" says, and its env file example is a configuration
 * kgate accepts whose drain fits in TimeoutStopSec.
 */
import assert from "node:assert/strict";
import { readCommandLine } from "../../src/config/mod.ts";
import { KGATE_VERSION } from "../../src/version.ts";
import { runCommand } from "../harness/process.ts";
import { REPO } from "./deploy_files.ts";

const UNIT = `${REPO}deploy/systemd/kgate.service`;
const ENV_FILE = `${REPO}deploy/systemd/kgate.env.example`;
/** `systemd-analyze security` rates 0 (best) to 10; up to 2 is "OK". */
const MAX_EXPOSURE = 2.0;
/** Time kgate needs after the drain to close its connections and exit, with room to spare. */
const CLOSE_MARGIN_S = 10;

/** systemd-analyze, or a failure naming the package (never a skip). */
async function systemdAnalyze(): Promise<string> {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":").filter(Boolean)) {
    try {
      if ((await Deno.stat(`${dir}/systemd-analyze`)).isFile) return `${dir}/systemd-analyze`;
    } catch { /* not here */ }
  }
  assert.fail("systemd-analyze is not installed; install it with: apt-get install -y systemd");
}

/**
 * The unit in a temporary directory with ExecStart pointing at a stub executable: `verify` checks that the
 * binary exists, and /usr/local/bin/kgate is not installed on a test machine. Nothing else changes.
 */
async function unitCopy(): Promise<{ dir: string; unit: string }> {
  const dir = await Deno.makeTempDir({ prefix: "kgate-systemd-" });
  await Deno.writeTextFile(`${dir}/kgate`, "#!/bin/sh\n", { mode: 0o755 });
  const text = Deno.readTextFileSync(UNIT);
  const copied = text.replace(/^ExecStart=\/usr\/local\/bin\/kgate$/m, `ExecStart=${dir}/kgate`);
  assert.notEqual(copied, text, "ExecStart=/usr/local/bin/kgate not found in the unit");
  await Deno.writeTextFile(`${dir}/kgate.service`, copied);
  return { dir, unit: `${dir}/kgate.service` };
}

/** `[Service]` directives of the unit (a directive given twice keeps every value). */
function serviceDirectives(): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  let section = "";
  for (const raw of Deno.readTextFileSync(UNIT).split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const header = line.match(/^\[(.+)\]$/);
    if (header) {
      section = header[1];
      continue;
    }
    if (section !== "Service") continue;
    const eq = line.indexOf("=");
    const key = line.slice(0, eq);
    directives.set(key, [...(directives.get(key) ?? []), line.slice(eq + 1)]);
  }
  return directives;
}

/**
 * An EnvironmentFile as systemd reads it, for the forms the example uses: `KEY=value`, `KEY='literal'`,
 * `KEY="text"`. A bare value with a quote in it is refused: systemd would strip that quote.
 */
function parseEnvironmentFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [i, raw] of text.split("\n").entries()) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) continue;
    const match = line.match(/^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/);
    assert.ok(match, `line ${i + 1}: not KEY=value: ${line}`);
    const [, key, value] = match;
    if (/^'[^']*'$/.test(value)) env[key] = value.slice(1, -1);
    else if (/^"([^"\\]|\\.)*"$/.test(value)) env[key] = value.slice(1, -1).replace(/\\(.)/g, "$1");
    else {
      assert.ok(
        !/['"\\]/.test(value),
        `line ${i + 1}: ${key}'s value has a quote or backslash: quote it whole`,
      );
      env[key] = value;
    }
  }
  return env;
}

Deno.test("systemd-analyze verify accepts kgate.service without a message", async () => {
  const analyze = await systemdAnalyze();
  const { dir, unit } = await unitCopy();
  try {
    const out = await runCommand(analyze, ["verify", unit]);
    const output = (out.stdout + out.stderr).trim();
    console.log(`$ systemd-analyze verify deploy/systemd/kgate.service\n${output || "(no output)"}`);
    assert.equal(out.code, 0, output);
    assert.equal(output, "", "systemd-analyze verify reported problems");
    // The check can fail: a misspelt directive and a bad value are reported.
    const broken = Deno.readTextFileSync(unit).replace("ProtectSystem=strict", "ProtectSytem=strict")
      .replace("KillMode=mixed", "KillMode=bogus");
    await Deno.writeTextFile(`${dir}/broken.service`, broken);
    const bad = await runCommand(analyze, ["verify", `${dir}/broken.service`]);
    assert.match(bad.stdout + bad.stderr, /Unknown key 'ProtectSytem'/);
    assert.match(bad.stdout + bad.stderr, /kill mode/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test(`systemd-analyze security rates kgate.service ${MAX_EXPOSURE} or better`, async () => {
  const analyze = await systemdAnalyze();
  const { dir, unit } = await unitCopy();
  try {
    const out = await runCommand(analyze, ["security", "--offline=yes", "--no-pager", unit]);
    const level = (out.stdout + out.stderr).match(/Overall exposure level for kgate\.service: ([0-9.]+)/);
    assert.ok(level, `no exposure level in:\n${out.stdout}${out.stderr}`);
    console.log(`systemd-analyze security --offline=yes: overall exposure level ${level[1]}`);
    assert.ok(Number(level[1]) <= MAX_EXPOSURE, `exposure ${level[1]} > ${MAX_EXPOSURE}`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("kgate.service is hardened: no privileges, dynamic user, read-only system, no capabilities", () => {
  const d = serviceDirectives();
  const expected: Record<string, string> = {
    NoNewPrivileges: "yes",
    DynamicUser: "yes",
    ProtectSystem: "strict",
    ProtectHome: "yes",
    PrivateTmp: "yes",
    PrivateDevices: "yes",
    RestrictNamespaces: "yes",
    SystemCallArchitectures: "native",
    KillSignal: "SIGTERM",
    RestrictAddressFamilies: "AF_INET AF_INET6 AF_UNIX",
  };
  for (const [key, value] of Object.entries(expected)) assert.deepEqual(d.get(key), [value], key);
  assert.deepEqual(d.get("SystemCallFilter"), ["@system-service", "~@privileged"]);
  // Binding below 1024 would need CAP_NET_BIND_SERVICE; the example's ports are above, so none.
  const env = parseEnvironmentFile(Deno.readTextFileSync(ENV_FILE));
  assert.ok(Number(env.GATEWAY_PORT_START) >= 1024 && Number(env.GATEWAY_HTTP_PORT) >= 1024);
  assert.deepEqual(d.get("CapabilityBoundingSet"), [""]);
  assert.deepEqual(d.get("AmbientCapabilities"), [""]);
  // V8's JIT needs writable-then-executable memory.
  assert.equal(d.get("MemoryDenyWriteExecute"), undefined);
  assert.deepEqual(d.get("EnvironmentFile"), ["/etc/kgate/kgate.env"]);
});

Deno.test("kgate.env.example is a configuration kgate accepts, and its drain fits in TimeoutStopSec", () => {
  const env = parseEnvironmentFile(Deno.readTextFileSync(ENV_FILE));
  const command = readCommandLine([], () => env, KGATE_VERSION);
  assert.equal(command.kind, "run", command.kind === "refuse" ? command.message : "");
  if (command.kind !== "run") return;
  assert.deepEqual(command.config.adminApiUsers, [{ username: "admin", password: "CHANGE-ME" }]);
  const stop = serviceDirectives().get("TimeoutStopSec")?.[0] ?? "";
  const match = stop.match(/^(\d+)s?$/);
  assert.ok(match, `TimeoutStopSec=${stop}: expected seconds`);
  assert.ok(
    Number(match[1]) >= command.config.drainMs / 1000 + CLOSE_MARGIN_S,
    `TimeoutStopSec ${match[1]} s < drain ${command.config.drainMs / 1000} s + ${CLOSE_MARGIN_S} s`,
  );
});

Deno.test("parseEnvironmentFile refuses a bare value with quotes (systemd would strip them)", () => {
  assert.throws(() => parseEnvironmentFile('A=[{"x":1}]\n'), /quote it whole/);
  assert.deepEqual(parseEnvironmentFile(`A='[{"x":1}]'\nB=plain\n# C=x\n`), { A: '[{"x":1}]', B: "plain" });
});
