/**
 * Host (SNI) routing test names: the names a node advertises, libnss-wrapper files that resolve them for
 * kcat and Java without touching /etc/hosts, a kafkajs socket factory that dials them with the name as
 * server name, and the `broker <id> at <host>` lines of `kcat -L`.
 *
 * ```ts
 * const env = await nssWrapperEnv(dir, new Map([["broker1.gw.test", "127.0.0.121"]]));
 * const result = await sniKcat(env, caFile, ["-L", "-b", "gw.test:9093"]);
 * ```
 */
import net from "node:net";
import tls from "node:tls";
import type { ISocketFactory } from "kafkajs";
import { runKcat, type RunResult } from "../harness/mod.ts";

/** The names of one host-routing node: its advertised host, `broker<id>.<host>` per broker, and extras. */
export function brokerNames(host: string, brokerIds: readonly number[], extra: string[] = []): string[] {
  return [host, ...brokerIds.map((id) => `broker${id}.${host}`), ...extra];
}

/**
 * Writes libnss-wrapper's hosts file (name → address) and the passwd/group files it needs to be enabled
 * into `dir`; returns the environment that makes a child process resolve through them.
 */
export async function nssWrapperEnv(
  dir: string,
  addresses: ReadonlyMap<string, string>,
): Promise<Record<string, string>> {
  const hostsFile = `${dir}/hosts`;
  await Deno.writeTextFile(hostsFile, [...addresses].map(([name, ip]) => `${ip} ${name}`).join("\n") + "\n");
  await Deno.writeTextFile(`${dir}/passwd`, "kgate:x:65534:65534:kgate:/nonexistent:/bin/false\n");
  await Deno.writeTextFile(`${dir}/group`, "kgate:x:65534:\n");
  return {
    LD_PRELOAD: "libnss_wrapper.so",
    NSS_WRAPPER_HOSTS: hostsFile,
    NSS_WRAPPER_PASSWD: `${dir}/passwd`,
    NSS_WRAPPER_GROUP: `${dir}/group`,
  };
}

/** kcat with names resolved by `resolving` ({@link nssWrapperEnv}), over TLS trusting `caFile`. */
export async function sniKcat(
  resolving: Record<string, string>,
  caFile: string,
  args: string[],
  stdin?: string,
): Promise<RunResult> {
  return await runKcat([...args, "-X", "security.protocol=ssl", "-X", `ssl.ca.location=${caFile}`], {
    env: resolving,
    timeoutMs: 30_000,
    ...(stdin === undefined ? {} : { stdin }),
  });
}

/** The `broker <id> at <host>:<port>` lines of `kcat -L`. */
export function brokersListed(stdout: string): Map<number, string> {
  const listed = new Map<number, string>();
  for (const m of stdout.matchAll(/^\s+broker (\d+) at (\S+)/gm)) listed.set(Number(m[1]), m[2]);
  return listed;
}

/**
 * A kafkajs socket factory: dials the address of each name (an unknown name as given, so the connection
 * fails and the test sees the name in `dialled`) with TLS, the name as server name, trusting `caFile`;
 * from `localAddress` when given (node:tls takes none: TLS over a TCP socket bound to it).
 */
export function sniSocketFactory(
  addresses: ReadonlyMap<string, string>,
  caFile: string,
  dialled: Set<string>,
  localAddress?: string,
): ISocketFactory {
  const ca = Deno.readTextFileSync(caFile);
  return ({ host, port, onConnect }) => {
    dialled.add(`${host}:${port}`);
    const address = addresses.get(host) ?? host;
    const options = { servername: host, ca: [ca] };
    const socket = localAddress === undefined
      ? tls.connect({ host: address, port, ...options }, onConnect)
      : tls.connect({ socket: net.connect({ host: address, port, localAddress }), ...options }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}
