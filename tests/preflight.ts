/**
 * What the test suite needs besides Deno, Java and Maven (which fetch everything else: the npm packages, the
 * Kafka jars), checked before a test runs: `tests/run.ts` prints every missing tool on one line with the
 * one command that installs them all, and exits non-zero.
 *
 * ```ts
 * const missing = await missingTools();
 * if (missing.length > 0) console.error(missingToolsLine(missing));
 * ```
 *
 * @module
 */

/** The kubernetes-validate release the deploy tests run (`tests/deploy/manifests_test.ts`; `.ci/run` installs it). */
export const KUBERNETES_VALIDATE_VERSION = "1.37.0";

/** One external tool of the test suite. */
export interface Tool {
  /** What the line names, e.g. `kcat`. */
  name: string;
  /** Which tests need it. */
  usedBy: string;
  /** The Debian package that provides it. */
  apt?: string;
  /** The PyPI requirement that provides it (installed with pip). */
  pip?: string;
  /** Whether it is installed. */
  present(): Promise<boolean>;
}

/** The kubernetes-validate executable: on PATH, else in ~/.local/bin (pip --user); undefined when absent. */
export async function kubernetesValidateCommand(): Promise<string | undefined> {
  const home = Deno.env.get("HOME");
  for (
    const candidate of [
      ...onPath("kubernetes-validate"),
      ...(home ? [`${home}/.local/bin/kubernetes-validate`] : []),
    ]
  ) {
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** The version `kubernetes-validate --version` prints, or undefined when it cannot be run. */
export async function kubernetesValidateVersion(command: string): Promise<string | undefined> {
  const out = await run(command, ["--version"]);
  return out?.success ? out.stdout.trim() : undefined;
}

/** Every tool the suite needs besides deno, in the order the line names them. */
export const TOOLS: readonly Tool[] = [
  {
    name: "java",
    usedBy: "the Kafka test cluster and the Java client tests",
    apt: "openjdk-17-jre-headless",
    present: async () => {
      const home = Deno.env.get("JAVA_HOME");
      return (home !== undefined && await isExecutable(`${home}/bin/java`)) || await anyExecutable("java");
    },
  },
  {
    name: "mvn",
    usedBy: "fetching the Kafka jars (tests/harness/kafka_jars.ts)",
    apt: "maven",
    present: () => anyExecutable("mvn"),
  },
  { name: "kcat", usedBy: "the librdkafka client tests", apt: "kcat", present: () => anyExecutable("kcat") },
  {
    name: "haproxy",
    usedBy: "the PROXY protocol and TLS passthrough tests",
    apt: "haproxy",
    present: async () => await anyExecutable("haproxy") || await isExecutable("/usr/sbin/haproxy"),
  },
  {
    name: "openssl",
    usedBy: "the test certificates",
    apt: "openssl",
    present: () => anyExecutable("openssl"),
  },
  {
    name: "python3-confluent-kafka",
    usedBy: "the rolling restart test's librdkafka producers",
    apt: "python3-confluent-kafka",
    present: async () => (await run("/usr/bin/python3", ["-c", "import confluent_kafka"]))?.success === true,
  },
  {
    name: "libnss-wrapper",
    usedBy: "the host routing tests (test host names without /etc/hosts)",
    apt: "libnss-wrapper",
    present: async () => (await nssWrapperLibrary()) !== undefined,
  },
  {
    name: "systemd-analyze",
    usedBy: "the systemd unit test (tests/deploy/)",
    apt: "systemd",
    present: () => anyExecutable("systemd-analyze"),
  },
  {
    name: `kubernetes-validate ${KUBERNETES_VALIDATE_VERSION}`,
    usedBy: "the Kubernetes manifest test (tests/deploy/)",
    pip: `kubernetes-validate==${KUBERNETES_VALIDATE_VERSION}`,
    present: async () => {
      const command = await kubernetesValidateCommand();
      return command !== undefined &&
        await kubernetesValidateVersion(command) === KUBERNETES_VALIDATE_VERSION;
    },
  },
];

/** libnss_wrapper.so of Debian's `libnss-wrapper` (any architecture), or undefined. */
export async function nssWrapperLibrary(): Promise<string | undefined> {
  const dirs = ["/usr/lib", "/usr/lib64", "/lib"];
  for (const dir of dirs) {
    const direct = `${dir}/libnss_wrapper.so`;
    if (await exists(direct)) return direct;
    try {
      for await (const entry of Deno.readDir(dir)) {
        if (!entry.isDirectory || !entry.name.endsWith("-linux-gnu")) continue;
        const path = `${dir}/${entry.name}/libnss_wrapper.so`;
        if (await exists(path)) return path;
      }
    } catch { /* no such directory */ }
  }
  return undefined;
}

/** pip itself, needed only to install a missing PyPI tool. */
const PIP: Tool = {
  name: "pip",
  usedBy: "installing the PyPI tools",
  apt: "python3-pip",
  present: async () => (await run("python3", ["-m", "pip", "--version"]))?.success === true,
};

/** The tools of {@link TOOLS} that are missing (and pip, when one of them comes from PyPI and pip is missing). */
export async function missingTools(tools: readonly Tool[] = TOOLS): Promise<Tool[]> {
  const present = await Promise.all(tools.map((tool) => tool.present()));
  const missing = tools.filter((_, i) => !present[i]);
  if (missing.some((tool) => tool.pip) && !await PIP.present()) missing.push(PIP);
  return missing;
}

/**
 * The one line that names the missing tools and the command that installs them all, e.g.
 * `missing: kcat, haproxy; install them with: sudo apt-get install -y kcat haproxy`.
 */
export function missingToolsLine(missing: readonly Tool[], root = isRoot()): string {
  const sudo = root ? "" : "sudo ";
  const apt = missing.flatMap((tool) => tool.apt ? [tool.apt] : []);
  const pip = missing.flatMap((tool) => tool.pip ? [tool.pip] : []);
  const commands: string[] = [];
  if (apt.length > 0) commands.push(`${sudo}apt-get update && ${sudo}apt-get install -y ${apt.join(" ")}`);
  if (pip.length > 0) {
    // Debian's python refuses pip installs outside a venv unless told (PEP 668); --user keeps it out of /usr.
    commands.push(`python3 -m pip install ${root ? "" : "--user "}--break-system-packages ${pip.join(" ")}`);
  }
  return `missing: ${missing.map((tool) => tool.name).join(", ")}; install them with: ${
    commands.join(" && ")
  }`;
}

function isRoot(): boolean {
  try {
    return Deno.uid() === 0;
  } catch {
    return false;
  }
}

function onPath(name: string): string[] {
  return (Deno.env.get("PATH") ?? "").split(":").filter((dir) => dir !== "").map((dir) => `${dir}/${name}`);
}

async function anyExecutable(name: string): Promise<boolean> {
  for (const candidate of onPath(name)) {
    if (await isExecutable(candidate)) return true;
  }
  return false;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    return info.isFile && ((info.mode ?? 0o111) & 0o111) !== 0;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

async function run(
  command: string,
  args: string[],
): Promise<{ success: boolean; stdout: string } | undefined> {
  try {
    const out = await new Deno.Command(command, { args, stdin: "null", stdout: "piped", stderr: "null" })
      .output();
    return { success: out.success, stdout: new TextDecoder().decode(out.stdout) };
  } catch {
    return undefined;
  }
}
