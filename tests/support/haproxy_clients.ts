/**
 * Clients for the HAProxy tests whose source address is known exactly: a kafkajs client whose sockets
 * bind a chosen loopback address and record their local `ip:port`, and a raw TCP client from a chosen
 * source address (node:net `localAddress`; `Deno.connect` cannot bind one).
 *
 * ```ts
 * const client = boundKafkajs("127.0.0.32:6969", "127.0.0.34");
 * const producer = client.kafka.producer();
 * await producer.connect();
 * console.log([...client.localAddresses]); // e.g. 127.0.0.34:40123
 * ```
 */
import net from "node:net";
import { type ISocketFactory, Kafka, logLevel } from "kafkajs";

/** A kafkajs client whose connections come from `localAddress`. */
export interface BoundKafkajs {
  kafka: Kafka;
  /** `ip:port` of every socket it connected, in order. */
  localAddresses: string[];
}

/** A kafkajs client of `bootstrap` whose sockets bind `localAddress` (each one recorded on connect). */
export function boundKafkajs(
  bootstrap: string,
  localAddress: string,
  clientId = "kgate-haproxy",
): BoundKafkajs {
  const localAddresses: string[] = [];
  const socketFactory: ISocketFactory = ({ host, port, onConnect }) => {
    const socket = net.connect({ host, port, localAddress }, () => {
      localAddresses.push(`${socket.localAddress}:${socket.localPort}`);
      onConnect();
    });
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
  const kafka = new Kafka({
    clientId,
    brokers: [bootstrap],
    socketFactory,
    logLevel: logLevel.NOTHING,
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 2_000 },
  });
  return { kafka, localAddresses };
}

/** Outcome of {@link rawFrom}. */
export interface RawOutcome {
  /** The client's address, `ip:port`. */
  address: string;
  /** How the connection ended: closed by the peer (`eof`/`reset`). */
  end: "eof" | "reset";
  /** Bytes received before the close. */
  received: number;
}

/**
 * Connects from `localAddress` to `host:port`, sends `bytes`, and waits (at most `timeoutMs`) for the
 * peer to close. Rejects when the connection is still open after `timeoutMs`.
 */
export function rawFrom(
  localAddress: string,
  host: string,
  port: number,
  bytes: Uint8Array,
  timeoutMs = 5_000,
): Promise<RawOutcome> {
  return new Promise((resolve, reject) => {
    let address = "";
    let received = 0;
    let settled = false;
    const socket = net.connect({ host, port, localAddress }, () => {
      address = `${socket.localAddress}:${socket.localPort}`;
      socket.write(bytes);
    });
    const timer = setTimeout(() => {
      finish(() => reject(new Error(`${host}:${port} did not close the connection within ${timeoutMs} ms`)));
    }, timeoutMs);
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      settle();
    };
    socket.on("data", (chunk: Uint8Array) => received += chunk.length);
    socket.on("end", () => finish(() => resolve({ address, end: "eof", received })));
    socket.on("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "ECONNRESET" || error.code === "EPIPE") {
        finish(() => resolve({ address, end: "reset", received }));
      } else finish(() => reject(error));
    });
    socket.on("close", () => finish(() => resolve({ address, end: "eof", received })));
  });
}
