/**
 * Fetches the Apache Kafka jars (broker + tools + logging binding) from Maven Central with the
 * `tests/kafka/pom.xml` project and caches them under `tests/kafka/libs/<version>/`.
 *
 * The Kafka version is defined once, as `<kafka.version>` in tests/kafka/pom.xml; env `KAFKA_VERSION`
 * overrides it. Kafka 3.x selects the reload4j logging profile (`-Dkafka3`).
 *
 * As a script (CI pre-fetch): `deno run -A tests/harness/kafka_jars.ts [version]` prints the jar dir.
 */

/** Absolute path of tests/kafka/ (holds pom.xml and libs/). */
export const KAFKA_PROJECT_DIR: string = decodeURIComponent(new URL("../kafka/", import.meta.url).pathname)
  .replace(/\/$/, "");

const POM = `${KAFKA_PROJECT_DIR}/pom.xml`;
const MARKER = ".kgate-complete";
const MVN_TIMEOUT_MS = 15 * 60_000;

/** The Kafka version to test against: env KAFKA_VERSION, else `<kafka.version>` of tests/kafka/pom.xml. */
export function defaultKafkaVersion(): string {
  const fromEnv = Deno.env.get("KAFKA_VERSION")?.trim();
  if (fromEnv) return fromEnv;
  const pom = Deno.readTextFileSync(POM);
  const m = pom.match(/<kafka\.version>\s*([^<\s]+)\s*<\/kafka\.version>/);
  if (!m) throw new Error(`no <kafka.version> in ${POM}`);
  return m[1];
}

/** Major version number of a Kafka version string ("4.3.1" -> 4). */
export function kafkaMajor(version: string): number {
  return parseInt(version.split(".")[0], 10);
}

/** Directory where the jars of `version` are (or will be) cached. */
export function kafkaLibDir(version: string): string {
  return `${KAFKA_PROJECT_DIR}/libs/${version}`;
}

function isPopulated(dir: string, version: string): boolean {
  try {
    Deno.statSync(`${dir}/${MARKER}`);
    Deno.statSync(`${dir}/kafka_2.13-${version}.jar`);
    Deno.statSync(`${dir}/kafka-tools-${version}.jar`);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes sure the jars of `version` are in tests/kafka/libs/<version>/ (runs Maven only when the dir is
 * not populated yet) and returns that directory. The java classpath is `<dir>/*`.
 */
export async function ensureKafkaJars(version: string = defaultKafkaVersion()): Promise<string> {
  if (!/^[0-9][0-9A-Za-z.\-]*$/.test(version)) throw new Error(`bad Kafka version: ${version}`);
  const dir = kafkaLibDir(version);
  if (isPopulated(dir, version)) return dir;

  // Download into a private temp dir, then rename: concurrent callers never see a half-filled dir.
  await Deno.mkdir(`${KAFKA_PROJECT_DIR}/libs`, { recursive: true });
  const tmp = `${KAFKA_PROJECT_DIR}/libs/.tmp-${version}-${Deno.pid}-${Date.now()}`;
  const args = [
    "-q",
    "-B",
    "-ntp",
    "-f",
    POM,
    `-Dkafka.version=${version}`,
    ...(kafkaMajor(version) < 4 ? ["-Dkafka3"] : []),
    "dependency:copy-dependencies",
    `-DoutputDirectory=${tmp}`,
  ];
  console.error(`kafka_jars: fetching Apache Kafka ${version} jars with mvn ...`);
  const t0 = performance.now();
  const child = new Deno.Command("mvn", {
    args,
    cwd: KAFKA_PROJECT_DIR,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, MVN_TIMEOUT_MS);
  let out: Deno.CommandOutput;
  try {
    out = await child.output();
  } finally {
    clearTimeout(timer);
  }
  const dec = new TextDecoder();
  if (!out.success) {
    await Deno.remove(tmp, { recursive: true }).catch(() => {});
    throw new Error(
      `mvn ${args.join(" ")} failed (code ${out.code}):\n${dec.decode(out.stdout)}\n${
        dec.decode(out.stderr)
      }`,
    );
  }
  await Deno.writeTextFile(`${tmp}/${MARKER}`, `${new Date().toISOString()}\n`);
  if (!isPopulated(tmp, version)) {
    throw new Error(`mvn succeeded but ${tmp} lacks kafka_2.13-${version}.jar / kafka-tools-${version}.jar`);
  }
  if (isPopulated(dir, version)) {
    await Deno.remove(tmp, { recursive: true }); // somebody else won the race
  } else {
    await Deno.remove(dir, { recursive: true }).catch(() => {}); // stale partial dir
    await Deno.rename(tmp, dir);
  }
  console.error(
    `kafka_jars: Kafka ${version} jars ready in ${((performance.now() - t0) / 1000).toFixed(1)}s`,
  );
  return dir;
}

if (import.meta.main) {
  const version = Deno.args[0] ?? defaultKafkaVersion();
  try {
    console.log(await ensureKafkaJars(version));
  } catch (e) {
    console.error(e instanceof Error ? e.message : e);
    Deno.exit(1);
  }
}
