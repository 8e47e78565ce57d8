/**
 * A driver for whole-connection benchmarks without sockets: a fake client that pipelines requests,
 * a fake broker that answers them all once received, both in 64 KiB reads.
 */
import {
  encodeRequestFrame,
  encodeResponseFrame,
  ProduceRequest,
  ProduceResponse,
} from "../src/protocol/mod.ts";

/** Requests and their responses, each as one byte stream. */
export interface Exchange {
  requests: Uint8Array;
  responses: Uint8Array;
}

/** `count` Produce requests at `version` (acks=-1, `padding` record-like bytes each) and their responses. */
export function produceExchange(version: number, count: number, padding: number): Exchange {
  const requests: Uint8Array[] = [];
  const responses: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const frame = encodeRequestFrame(
      { correlationId: i, clientId: "producer-1" },
      ProduceRequest,
      version,
      { transactionalId: null, acks: -1, timeoutMs: 30000, topicData: [] } as never,
    );
    // Record bytes are never decoded on the data path: pad the frame as if it carried them.
    const padded = new Uint8Array(frame.length + padding);
    padded.set(frame);
    new DataView(padded.buffer).setInt32(0, frame.length - 4 + padding);
    requests.push(padded);
    responses.push(
      encodeResponseFrame(i, version >= 9 ? 1 : 0, ProduceResponse, version, {
        responses: [],
        throttleTimeMs: 0,
      } as never),
    );
  }
  return { requests: concat(requests), responses: concat(responses) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const CHUNK = 65536;
const ends = {
  remote: { hostname: "127.0.0.1", port: 1 },
  local: { hostname: "127.0.0.1", port: 2 },
  remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 },
  localAddr: { transport: "tcp", hostname: "127.0.0.1", port: 2 },
};

/** A fake client and broker for one run over `exchange`; `done` resolves once the client has every response. */
export function fakeEnds(exchange: Exchange) {
  const { requests, responses } = exchange;
  let sent = 0;
  let received = 0;
  let answered = 0;
  let delivered = 0;
  let wakeBroker: (() => void) | undefined;
  let wakeClient: (() => void) | undefined;
  let closed = false;
  const wait = (set: (wake: () => void) => void) => new Promise<void>((resolve) => set(resolve));
  const client = {
    ...ends,
    async read(p: Uint8Array): Promise<number | null> {
      if (sent < requests.length) {
        const n = Math.min(p.length, CHUNK, requests.length - sent);
        p.set(requests.subarray(sent, sent + n));
        sent += n;
        return n;
      }
      while (delivered < responses.length && !closed) await wait((w) => wakeClient = w);
      return null;
    },
    write(p: Uint8Array): Promise<number> {
      delivered += p.length;
      if (delivered >= responses.length) wakeClient?.();
      return Promise.resolve(p.length);
    },
    close() {
      closed = true;
      wakeClient?.();
      wakeBroker?.();
    },
  };
  const broker = {
    ...ends,
    async read(p: Uint8Array): Promise<number | null> {
      while (received < requests.length && !closed) await wait((w) => wakeBroker = w);
      if (closed || answered >= responses.length) {
        while (!closed) await wait((w) => wakeBroker = w);
        return null;
      }
      const n = Math.min(p.length, CHUNK, responses.length - answered);
      p.set(responses.subarray(answered, answered + n));
      answered += n;
      return n;
    },
    write(p: Uint8Array): Promise<number> {
      received += p.length;
      if (received >= requests.length) wakeBroker?.();
      return Promise.resolve(p.length);
    },
    close: client.close,
  };
  return { client, broker };
}
