/**
 * Connections to brokers. Plain TCP today; TLS to the brokers plugs in here as another
 * {@link UpstreamConnector}, and nothing above it changes.
 *
 * @module
 */
import { connectWithTimeout } from "../../upstream/connect.ts";
import type { ByteStream } from "./stream.ts";
import { tcpStream } from "./tcp.ts";

/** Where to connect. */
export interface UpstreamAddress {
  /** Host name or IP. */
  readonly host: string;
  /** Port. */
  readonly port: number;
}

/** Opens a stream to a broker within `timeoutMs`; rejects with a message naming what failed. */
export type UpstreamConnector = (address: UpstreamAddress, timeoutMs: number) => Promise<ByteStream>;

/**
 * Plain TCP to the broker.
 *
 * @example
 * ```ts ignore
 * const upstream = await tcpUpstream({ host: "10.0.0.1", port: 9092 }, 10_000);
 * ```
 */
export async function tcpUpstream(address: UpstreamAddress, timeoutMs: number): Promise<ByteStream> {
  return tcpStream(await connectWithTimeout(address.host, address.port, timeoutMs));
}
