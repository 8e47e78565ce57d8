/**
 * Idle client connections for memory measurements: each connects, exchanges one ApiVersions request,
 * then stays open without sending anything else.
 *
 * @module
 */
import { ApiKey, ApiVersionsRequest, encodeRequestFrame } from "../src/protocol/mod.ts";

const API_VERSIONS_VERSION = 3;

async function readExact(conn: Deno.Conn, n: number): Promise<void> {
  const buf = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const read = await conn.read(buf.subarray(got));
    if (read === null) throw new Error("the proxy closed the connection");
    got += read;
  }
}

async function openOne(host: string, port: number, frame: Uint8Array): Promise<Deno.Conn> {
  const conn = await Deno.connect({ hostname: host, port });
  try {
    let written = 0;
    while (written < frame.length) written += await conn.write(frame.subarray(written));
    const size = new Uint8Array(4);
    let got = 0;
    while (got < 4) {
      const read = await conn.read(size.subarray(got));
      if (read === null) throw new Error("the proxy closed the connection");
      got += read;
    }
    await readExact(conn, new DataView(size.buffer).getInt32(0));
    return conn;
  } catch (error) {
    conn.close();
    throw error;
  }
}

/**
 * Opens `count` connections to `bootstrap` (`host:port`), `parallel` at a time, each after one
 * ApiVersions round trip. The caller closes them.
 *
 * @example
 * ```ts
 * const conns = await openIdleConnections("127.0.0.151:6969", 1000);
 * for (const c of conns) c.close();
 * ```
 */
export async function openIdleConnections(
  bootstrap: string,
  count: number,
  parallel = 50,
): Promise<Deno.Conn[]> {
  const [host, port] = [bootstrap.slice(0, bootstrap.lastIndexOf(":")), Number(bootstrap.split(":").at(-1))];
  const frame = encodeRequestFrame(
    { correlationId: 1, clientId: "kgate-bench", apiKey: ApiKey.ApiVersions },
    ApiVersionsRequest,
    API_VERSIONS_VERSION,
    { clientSoftwareName: "kgate-bench", clientSoftwareVersion: "0" },
  );
  const conns: Deno.Conn[] = [];
  try {
    while (conns.length < count) {
      const batch = Math.min(parallel, count - conns.length);
      conns.push(...await Promise.all(Array.from({ length: batch }, () => openOne(host, port, frame))));
    }
  } catch (error) {
    for (const c of conns) c.close();
    throw error;
  }
  return conns;
}
