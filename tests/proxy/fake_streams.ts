/** In-memory byte streams and Kafka frame helpers for session tests (no sockets). */
import type { ByteStream } from "../../src/proxy/transport/stream.ts";

/** One direction of an in-memory pipe: writes are copied and queued until read; `close` ends it. */
export class Channel {
  readonly #chunks: Uint8Array[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  write(p: Uint8Array): Promise<number> {
    if (this.#closed) return Promise.reject(new Deno.errors.BrokenPipe("closed"));
    this.#chunks.push(p.slice());
    this.#notify();
    return Promise.resolve(p.length);
  }

  async read(p: Uint8Array): Promise<number | null> {
    while (this.#chunks.length === 0) {
      if (this.#closed) return null;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
    const chunk = this.#chunks[0];
    const n = Math.min(p.length, chunk.length);
    p.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#chunks[0] = chunk.subarray(n);
    else this.#chunks.shift();
    return n;
  }

  close(): void {
    this.#closed = true;
    this.#notify();
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = undefined;
    wake?.();
  }
}

/** Two connected ends: what one writes, the other reads. */
export function streamPair(): [ByteStream, ByteStream] {
  const ab = new Channel();
  const ba = new Channel();
  const end = (incoming: Channel, outgoing: Channel, port: number): ByteStream => ({
    remote: { hostname: "127.0.0.1", port: port === 1 ? 2 : 1 },
    local: { hostname: "127.0.0.1", port },
    read: (p) => incoming.read(p),
    write: (p) => outgoing.write(p),
    close() {
      ab.close();
      ba.close();
    },
  });
  return [end(ba, ab, 1), end(ab, ba, 2)];
}

/** Reads one whole frame body (without its size prefix), or null at the end of the stream. */
export async function readFrame(stream: ByteStream): Promise<Uint8Array | null> {
  const head = await readExactly(stream, 4);
  if (head === null) return null;
  const size = new DataView(head.buffer).getInt32(0);
  const body = await readExactly(stream, size);
  if (body === null) throw new Error("stream ended inside a frame");
  return body;
}

async function readExactly(stream: ByteStream, n: number): Promise<Uint8Array | null> {
  const out = new Uint8Array(n);
  let filled = 0;
  while (filled < n) {
    const got = await stream.read(out.subarray(filled));
    if (got === null) {
      if (filled === 0) return null;
      throw new Error("stream ended early");
    }
    filled += got;
  }
  return out;
}

/** A frame: size prefix, then `body`. */
export function frameOf(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  new DataView(out.buffer).setInt32(0, body.length);
  out.set(body, 4);
  return out;
}

/** A request frame with header v1 (client id "c") and `rest` as its body. */
export function requestFrame(
  apiKey: number,
  apiVersion: number,
  correlationId: number,
  rest = [1, 2, 3],
): Uint8Array {
  const body = new Uint8Array(8 + 3 + rest.length);
  const view = new DataView(body.buffer);
  view.setInt16(0, apiKey);
  view.setInt16(2, apiVersion);
  view.setInt32(4, correlationId);
  view.setInt16(8, 1);
  body[10] = "c".charCodeAt(0);
  body.set(rest, 11);
  return frameOf(body);
}

/** A Produce v3 request frame with this acks (no transactional id, no topics). */
export function produceFrame(correlationId: number, acks: number): Uint8Array {
  return requestFrame(0, 3, correlationId, [0xff, 0xff, (acks >> 8) & 0xff, acks & 0xff, 0, 0, 0x75, 0x30]);
}

/** A response frame: correlation id, then `tag` as a marker byte. */
export function responseFrame(correlationId: number, tag: number): Uint8Array {
  const body = new Uint8Array(5);
  new DataView(body.buffer).setInt32(0, correlationId);
  body[4] = tag;
  return frameOf(body);
}

/** Correlation id of a request frame body. */
export function requestCorrelationId(body: Uint8Array): number {
  return new DataView(body.buffer, body.byteOffset).getInt32(4);
}

/** API key of a request frame body. */
export function requestApiKey(body: Uint8Array): number {
  return new DataView(body.buffer, body.byteOffset).getInt16(0);
}

/** Correlation id and marker byte of a response frame body. */
export function responseOf(body: Uint8Array): [number, number] {
  return [new DataView(body.buffer, body.byteOffset).getInt32(0), body[4]];
}

/** Concatenates frames (to write several in one go). */
export function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
