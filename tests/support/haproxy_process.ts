/**
 * Runs a real HAProxy (TCP mode) in front of gateway nodes for integration tests: the external load
 * balancer set-up, where HAProxy binds the advertised address on every gateway port and forwards each
 * port to the same port of a gateway node with a PROXY protocol header (v1, v2, or v2 with the
 * UNIQUE_ID TLV).
 *
 * HAProxy logs one line per connection as soon as its server side is connected (`option logasap`),
 * naming the client, the frontend address, its own source address towards the gateway and the unique
 * id, so a test can match every gateway audit entry to the connection HAProxy relayed.
 *
 * ```ts
 * const haproxy = await HaproxyProcess.start({
 *   mode: "v2",
 *   routes: [{ bind: "127.0.0.32", ports: [6969, 6974], target: "127.0.0.31", source: "127.0.0.32" }],
 * });
 * // kcat -b 127.0.0.32:6969 ...
 * console.log(haproxy.connections());
 * await haproxy.stop();
 * ```
 */
import { sleep } from "../harness/mod.ts";
import { terminate } from "../harness/process.ts";

/** How HAProxy announces the original connection to the gateway. */
export type ProxyMode = "v1" | "v2" | "v2-unique-id";

/** The server keywords of each mode (HAProxy 2.6 has no `set-proxy-v2-tlv-fmt`, 2.1+ has this). */
const SERVER_KEYWORDS: Record<ProxyMode, string> = {
  "v1": "send-proxy",
  "v2": "send-proxy-v2",
  "v2-unique-id": "send-proxy-v2 proxy-v2-options unique-id",
};

/**
 * One frontend: `bind:first..last` forwarded port for port to `target` (or, with `targetPort`, every
 * port to that one port); several targets share the connections round robin.
 */
export interface HaproxyRoute {
  /** Address HAProxy listens on (the gateway's advertised host). */
  bind: string;
  /** First and last port (inclusive). */
  ports: [number, number];
  /** The gateway node's bind address, or several nodes' (balanced round robin); each port goes to the same port there. */
  target: string | string[];
  /** The one port of the targets every connection goes to (host routing's TLS port); default the port connected to. */
  targetPort?: number;
  /** Source address of HAProxy's connections to the gateway (default: the kernel's choice). */
  source?: string;
}

/** Options of {@link HaproxyProcess.start}. */
export interface HaproxyOptions {
  mode: ProxyMode;
  routes: HaproxyRoute[];
  /** How long to wait until every port listens (default 10 s). */
  readyTimeoutMs?: number;
}

/** One connection HAProxy relayed, from its log line. */
export interface HaproxyConnection {
  /** The client as HAProxy saw it, `ip:port`. */
  client: string;
  /** The address the client connected to, `ip:port`. */
  frontend: string;
  /** HAProxy's own end of the connection to the gateway, `ip:port`. */
  backendSource: string;
  /** The gateway end, `ip:port`. */
  server: string;
  /** The unique id HAProxy generated for the stream (sent as TLV 0x05 in `v2-unique-id`). */
  uniqueId: string;
}

const LOG_TAG = "KGATE-HAPROXY";
const LOG_LINE = new RegExp(
  `^${LOG_TAG} ci=(\\S+) cp=(\\d+) fi=(\\S+) fp=(\\d+) bi=(\\S+) bp=(\\d+) si=(\\S+) sp=(\\d+) id=(\\S*)$`,
);

/**
 * The HAProxy binary: `haproxy` on PATH, else `/usr/sbin/haproxy`. Throws when neither exists, so a
 * test that needs it fails instead of being skipped.
 */
export function findHaproxy(): string {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d !== "");
  for (const candidate of [...dirs.map((d) => `${d}/haproxy`), "/usr/sbin/haproxy"]) {
    try {
      const info = Deno.statSync(candidate);
      if (info.isFile && ((info.mode ?? 0o755) & 0o111) !== 0) return candidate;
    } catch {
      // not there
    }
  }
  throw new Error(
    "HAProxy is required by this test but was found neither on PATH nor at /usr/sbin/haproxy " +
      "(install the Debian package `haproxy`; .ci/run does)",
  );
}

/** `haproxy -v` first line, e.g. `HAProxy version 2.6.12-1+deb12u4 ...`. */
export async function haproxyVersion(binary = findHaproxy()): Promise<string> {
  const out = await new Deno.Command(binary, { args: ["-v"], stdout: "piped", stderr: "piped" }).output();
  return new TextDecoder().decode(out.stdout).split("\n")[0].trim();
}

/** The configuration file for `options`. */
export function haproxyConfig(options: HaproxyOptions): string {
  const lines = [
    "global",
    "  log stdout format raw local0",
    "  maxconn 2048",
    "  nbthread 2",
    "",
    "defaults",
    "  mode tcp",
    "  log global",
    "  option logasap",
    `  log-format "${LOG_TAG} ci=%ci cp=%cp fi=%fi fp=%fp bi=%bi bp=%bp si=%si sp=%sp id=%ID"`,
    "  timeout connect 5s",
    "  timeout client 120s",
    "  timeout server 120s",
    "",
  ];
  options.routes.forEach((route, i) => {
    lines.push(
      `frontend kafka_${i}`,
      `  bind ${route.bind}:${route.ports[0]}-${route.ports[1]}`,
      // Generated for every stream (logged); sent to the gateway only with `proxy-v2-options unique-id`.
      "  unique-id-format %[uuid]",
      `  default_backend gateway_${i}`,
      "",
      `backend gateway_${i}`,
      "  balance roundrobin",
      ...(route.source ? [`  source ${route.source}`] : []),
      // No port: each connection goes to the port the client connected to.
      ...[route.target].flat().map((target, j) =>
        `  server node_${i}_${j} ${target}${route.targetPort === undefined ? "" : `:${route.targetPort}`} ${
          SERVER_KEYWORDS[options.mode]
        }`
      ),
      "",
    );
  });
  return lines.join("\n");
}

/** The `/proc/net/tcp` spelling of an IPv4 listening address, e.g. `2000007F:1B39`. */
function procNetAddress(ip: string, port: number): string {
  const hex = ip.split(".").map((b) => Number(b).toString(16).padStart(2, "0").toUpperCase()).reverse().join(
    "",
  );
  return `${hex}:${port.toString(16).padStart(4, "0").toUpperCase()}`;
}

/** The IPv4 `ip:port` sockets in LISTEN state, read from /proc/net/tcp (no connection made). */
function listeningSockets(): Set<string> {
  const out = new Set<string>();
  for (const line of Deno.readTextFileSync("/proc/net/tcp").split("\n").slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length > 3 && fields[3] === "0A") out.add(fields[1]);
  }
  return out;
}

/** A running HAProxy. */
export class HaproxyProcess {
  #out = "";
  readonly #exit: Promise<Deno.CommandStatus>;
  readonly #reading: Promise<void>;

  private constructor(
    readonly child: Deno.ChildProcess,
    readonly dir: string,
    readonly config: string,
    readonly options: HaproxyOptions,
  ) {
    this.#exit = child.status;
    const drain = async (stream: ReadableStream<Uint8Array>) => {
      const decoder = new TextDecoder();
      for await (const chunk of stream) this.#out += decoder.decode(chunk, { stream: true });
    };
    this.#reading = Promise.all([drain(child.stdout), drain(child.stderr)]).then(() => {});
  }

  /** Checks the configuration, starts HAProxy in the foreground, and waits until every port listens. */
  static async start(options: HaproxyOptions): Promise<HaproxyProcess> {
    const binary = findHaproxy();
    const dir = await Deno.makeTempDir({ prefix: "kgate-haproxy-" });
    const config = haproxyConfig(options);
    const file = `${dir}/haproxy.cfg`;
    await Deno.writeTextFile(file, config);
    const check = await new Deno.Command(binary, {
      args: ["-c", "-f", file],
      stdout: "piped",
      stderr: "piped",
    })
      .output();
    if (!check.success) {
      await Deno.remove(dir, { recursive: true }).catch(() => {});
      const decoder = new TextDecoder();
      throw new Error(
        `haproxy -c rejected the configuration:\n${config}\n${decoder.decode(check.stdout)}${
          decoder.decode(check.stderr)
        }`,
      );
    }
    const child = new Deno.Command(binary, {
      args: ["-db", "-f", file],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const haproxy = new HaproxyProcess(child, dir, config, options);
    try {
      await haproxy.#waitListening(options.readyTimeoutMs ?? 10_000);
    } catch (error) {
      await haproxy.stop();
      throw error;
    }
    return haproxy;
  }

  /** Everything HAProxy wrote (its log lines and warnings). */
  get output(): string {
    return this.#out;
  }

  /** The connections HAProxy relayed so far (from `fromOffset` of {@link output}). */
  connections(fromOffset = 0): HaproxyConnection[] {
    const out: HaproxyConnection[] = [];
    for (const line of this.#out.slice(fromOffset).split("\n")) {
      const m = LOG_LINE.exec(line.trim());
      if (!m) continue;
      out.push({
        client: `${m[1]}:${m[2]}`,
        frontend: `${m[3]}:${m[4]}`,
        backendSource: `${m[5]}:${m[6]}`,
        server: `${m[7]}:${m[8]}`,
        uniqueId: m[9],
      });
    }
    return out;
  }

  /** Waits (bounded) until HAProxy logged a relayed connection matching `predicate`. */
  async waitForConnection(
    predicate: (c: HaproxyConnection) => boolean,
    timeoutMs = 5_000,
  ): Promise<HaproxyConnection> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.connections().find(predicate);
      if (found) return found;
      if (Date.now() > deadline) {
        throw new Error(
          `HAProxy logged no matching connection within ${timeoutMs} ms; output:\n${this.#out}`,
        );
      }
      await sleep(20);
    }
  }

  /** SIGTERM (SIGKILL after `timeoutMs`), wait for exit, remove the configuration directory. */
  async stop(timeoutMs = 5_000): Promise<void> {
    try {
      await terminate(this.child, timeoutMs);
      await this.#reading;
    } finally {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }

  async #waitListening(timeoutMs: number): Promise<void> {
    const wanted: string[] = [];
    for (const route of this.options.routes) {
      for (let port = route.ports[0]; port <= route.ports[1]; port++) {
        wanted.push(procNetAddress(route.bind, port));
      }
    }
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const listening = listeningSockets();
      if (wanted.every((a) => listening.has(a))) return;
      const exited = await Promise.race([this.#exit.then(() => true), sleep(25).then(() => false)]);
      if (exited) {
        await this.#reading;
        throw new Error(`haproxy exited before listening; output:\n${this.#out}`);
      }
      if (Date.now() > deadline) {
        throw new Error(`haproxy not listening on every port within ${timeoutMs} ms; output:\n${this.#out}`);
      }
    }
  }
}
