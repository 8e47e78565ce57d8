/**
 * The binary and its image: `deno compile` grants exactly the permissions `deno task start` and the test
 * gateways run with and the README lists; deploy/Containerfile builds that binary with the project's Deno
 * version and runs it as the user the Kubernetes manifests expect.
 */
import assert from "node:assert/strict";
import { KGATE_VERSION } from "../../src/version.ts";
import { loadManifest, manifestFiles, REPO } from "./deploy_files.ts";

const read = (file: string) => Deno.readTextFileSync(`${REPO}${file}`);
const permissionFlags = (words: string[]) =>
  words.filter((w) => /^--(allow|deny)-/.test(w) || w === "-A").sort();

/** The permission flags of compile.sh's `deno compile`. */
function compileFlags(): string[] {
  const args = read("compile.sh").match(/^args=\(compile ([^)]*)\)$/m);
  assert.ok(args, "compile.sh: no args=(compile ...) line");
  return permissionFlags(args[1].split(/\s+/));
}

/** README's "Building the binary" section. */
function buildingSection(): string {
  const readme = read("README.md");
  const start = readme.indexOf("\n## Building the binary");
  assert.ok(start >= 0, "README has no Building the binary section");
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end < 0 ? undefined : end);
}

Deno.test("deno compile's permissions are deno task start's, the test gateways' and the README's", () => {
  const compiled = compileFlags();
  assert.deepEqual(compiled, ["--allow-env", "--allow-net", "--allow-read", "--allow-sys=hostname"]);
  const start = JSON.parse(read("deno.json")).tasks.start as string;
  assert.deepEqual(permissionFlags(start.split(/\s+/)), compiled, "deno task start");
  const spawn = read("tests/support/gateway_process.ts").match(/args: \[\s*"run",([^\]]*MAIN),?\s*\]/);
  assert.ok(spawn, "tests/support/gateway_process.ts: no run args");
  assert.deepEqual(permissionFlags(spawn[1].split(/,\s*/).map((w) => w.replaceAll('"', ""))), compiled);
  const listed = buildingSection().match(/`(--allow-[^`]*)`/);
  assert.ok(listed, "README's Building the binary lists no permission flags in a code span");
  assert.deepEqual(permissionFlags(listed[1].split(/\s+/)), compiled, "README");
});

Deno.test("deploy/Containerfile: the project's Deno, compile.sh's binary, user 65532 as in the manifests", () => {
  const file = read("deploy/Containerfile");
  const denoVersion = file.match(/^ARG DENO_VERSION=(\S+)$/m)?.[1];
  assert.equal(denoVersion, read(".ci/run").match(/^DENO_VERSION=(\S+)$/m)?.[1], ".ci/run's DENO_VERSION");
  assert.ok(
    read("README.md").includes(`npx -y deno@${denoVersion} task demo`),
    "README's quickstart deno version",
  );
  assert.match(file, /^FROM denoland\/deno:debian-\$\{DENO_VERSION\} AS build$/m);
  assert.match(file, /^RUN \.\/compile\.sh && \.\/dist\/kgate --version$/m);
  assert.match(file, /^COPY --from=build \/src\/dist\/kgate \/usr\/local\/bin\/kgate$/m);
  assert.match(file, /^ENTRYPOINT \["\/usr\/local\/bin\/kgate"\]$/m);
  assert.match(read("compile.sh"), /^out="dist\/kgate"$/m);
  const user = file.match(/^USER (\d+):(\d+)$/m);
  assert.ok(user, "no numeric USER");
  // Every source the build stage copies is in the build context (the .dockerignore lets it through).
  const ignore = read("deploy/Containerfile.dockerignore").split("\n").filter((l) => l.startsWith("!"));
  for (const line of file.split("\n").filter((l) => l.startsWith("COPY ") && !l.includes("--from"))) {
    for (const source of line.split(/\s+/).slice(1, -1)) {
      assert.ok(ignore.includes(`!${source}`), `${source} is copied but left out of the build context`);
      Deno.statSync(`${REPO}${source}`);
    }
  }
  for (const { file: manifest, doc } of manifestFiles().flatMap(loadManifest)) {
    if (doc.kind !== "StatefulSet") continue;
    const spec = doc.spec.template.spec;
    assert.equal(String(spec.securityContext.runAsUser), user[1], `${manifest}: runAsUser`);
    assert.equal(spec.containers[0].image.split(":").pop(), KGATE_VERSION, `${manifest}: image tag`);
  }
});
