/**
 * The TLS stage of a client stream: the server side of a handshake over a stream already accepted
 * (and past its PROXY header), with a deadline, client certificates checked against the CA file, and
 * the decrypted bytes handed on as the stream the Kafka pipeline reads.
 *
 * Built on Deno's `node:tls` (`TLSSocket` with `isServer` over a Duplex of the accepted stream):
 * `Deno.listenTls` starts its handshake on accept, before a PROXY header could be read, and
 * `Deno.startTls` is client-only. Deno's `node:tls` server does not verify client certificates itself
 * (`authorized` stays false), so this stage does: issued by a CA of the CA file (directly or through
 * intermediates the client sent), and valid now.
 *
 * @module
 */
import { X509Certificate } from "node:crypto";
import { Duplex } from "node:stream";
import * as tls from "node:tls";
import { writeAll } from "../../lib/bytes_io.ts";
import { DeadlineError, withTimeout } from "../../lib/deadline.ts";
import type { TlsServerCredentials } from "./tls_credentials.ts";
import type { ByteStream } from "./stream.ts";

/** Whether client certificates are asked for. */
export type ClientAuth = "none" | "requested" | "required";

/** TLS settings of the listeners. */
export interface TlsServerOptions {
  /** The credentials a new handshake uses (read once per handshake: reloads reach new handshakes). */
  credentials(): TlsServerCredentials;
  /** none = not asked for; requested = optional, verified when sent; required = refused without one. */
  clientAuth: ClientAuth;
  /** How long the client has to complete the handshake. */
  handshakeTimeoutMs: number;
}

/** What the handshake established. */
export interface TlsSessionInfo {
  /** `TLSv1.2` or `TLSv1.3`. */
  protocol?: string;
  /** The server name the client asked for (SNI), when it sent one. */
  serverName?: string;
  /** The verified client certificate's subject (`CN=…, O=…`), when the client sent one. */
  clientCertificateSubject?: string;
}

/** The outcome of the TLS stage. */
export type TlsStage =
  | { ok: true; stream: ByteStream; tls: TlsSessionInfo }
  | {
    ok: false;
    reason: string;
    /** `closed-before-request`: the peer closed without sending a byte (a health check). */
    kind: "tls-handshake" | "closed-before-request";
    /**
     * The peer closed or reset the connection in the middle of the handshake, after its first bytes
     * (a client giving up, not bad input).
     */
    abortedByPeer?: boolean;
  };

/** Largest amount of decrypted bytes buffered ahead of the reader before the socket is paused. */
const READ_AHEAD_BYTES = 1 << 20;

/**
 * Runs the server side of a TLS handshake over `stream`: the decrypted stream and what the handshake
 * established, or why the connection is refused (it is closed then).
 *
 * @example
 * ```ts ignore
 * const stage = await tlsServerStage(client, { credentials: () => creds, clientAuth: "none", handshakeTimeoutMs: 10000 });
 * if (stage.ok) runSession({ client: stage.stream, ... });
 * ```
 */
export async function tlsServerStage(stream: ByteStream, options: TlsServerOptions): Promise<TlsStage> {
  const credentials = options.credentials();
  const received = { bytes: 0 };
  const socket = new tls.TLSSocket(duplexOf(stream, received), {
    isServer: true,
    secureContext: credentials.secureContext,
    requestCert: options.clientAuth !== "none",
    rejectUnauthorized: options.clientAuth === "required",
  } as tls.TLSSocketOptions);
  let peerClosed = false;
  try {
    await withTimeout(
      new Promise<void>((resolve, reject) => {
        socket.once("secure", () => resolve());
        socket.once("error", (error: Error & { code?: string }) => {
          peerClosed = error instanceof Deno.errors.ConnectionReset || error.code === "ECONNRESET";
          reject(error);
        });
        const closed = () => {
          peerClosed = true;
          reject(new Error("connection closed during the TLS handshake"));
        };
        socket.once("end", closed);
        socket.once("close", closed);
      }),
      options.handshakeTimeoutMs,
      `no TLS handshake within ${options.handshakeTimeoutMs} ms`,
    );
    const serverName = (socket as unknown as { servername?: unknown }).servername;
    const info: TlsSessionInfo = {
      protocol: socket.getProtocol() ?? undefined,
      serverName: typeof serverName === "string" ? serverName : undefined,
    };
    if (options.clientAuth !== "none") {
      const presented = presentedChain(socket);
      if (presented.length === 0) {
        if (options.clientAuth === "required") throw new Error("no client certificate");
      } else {
        info.clientCertificateSubject = verifyClientChain(presented, credentials.caCertificates);
      }
    }
    return { ok: true, stream: streamOf(socket, stream), tls: info };
  } catch (error) {
    // A late error of a refused connection (the peer's reset, say) must not reach the process.
    socket.on("error", () => {});
    socket.destroy();
    const message = error instanceof DeadlineError ? error.message : (error as Error).message;
    if (peerClosed && received.bytes === 0) {
      return {
        ok: false,
        reason: "connection closed before the TLS handshake",
        kind: "closed-before-request",
      };
    }
    return {
      ok: false,
      reason: `TLS handshake failed: ${message}`,
      kind: "tls-handshake",
      abortedByPeer: peerClosed && !(error instanceof DeadlineError),
    };
  }
}

/** The certificates the client sent, leaf first. */
function presentedChain(socket: tls.TLSSocket): X509Certificate[] {
  const chain: X509Certificate[] = [];
  const seen = new Set<string>();
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  while (cert?.raw && chain.length < 10) {
    const x509 = new X509Certificate(cert.raw);
    if (seen.has(x509.fingerprint256)) break;
    seen.add(x509.fingerprint256);
    chain.push(x509);
    cert = cert.issuerCertificate;
  }
  return chain;
}

/** One-line subject: `CN=client-1, O=Example`. */
export function subjectLine(certificate: X509Certificate): string {
  return certificate.subject.split("\n").filter((s) => s !== "").join(", ");
}

/**
 * Verifies a client's chain against the CA certificates: the leaf's subject, or throws saying why
 * (expired, not yet valid, unknown CA).
 *
 * @example
 * ```ts ignore
 * const subject = verifyClientChain([leaf], [ca]); // "CN=client-1"
 * ```
 * @throws when the chain does not lead to one of `cas`, or a certificate on it is not valid now
 */
export function verifyClientChain(
  presented: readonly X509Certificate[],
  cas: readonly X509Certificate[],
  now: Date = new Date(),
): string {
  const leaf = presented[0];
  const subject = subjectLine(leaf);
  let current = leaf;
  for (let depth = 0; depth < presented.length + 1; depth++) {
    if (now < new Date(current.validFrom)) {
      throw new Error(`client certificate ${subjectLine(current)} is not valid before ${current.validFrom}`);
    }
    if (now > new Date(current.validTo)) {
      throw new Error(`client certificate ${subjectLine(current)} expired on ${current.validTo}`);
    }
    const ca = cas.find((ca) => current.checkIssued(ca) && current.verify(ca.publicKey));
    if (ca) {
      if (now > new Date(ca.validTo) || now < new Date(ca.validFrom)) {
        throw new Error(`the CA ${subjectLine(ca)} of client certificate ${subject} is not valid now`);
      }
      return subject;
    }
    const next = presented.find((c) =>
      c !== current && c.ca && current.checkIssued(c) && current.verify(c.publicKey)
    );
    if (!next) {
      throw new Error(
        `client certificate ${subject} is issued by an unknown CA (${current.issuer.replaceAll("\n", ", ")})`,
      );
    }
    current = next;
  }
  throw new Error(`client certificate ${subject}: chain too long`);
}

/** A node Duplex over a stream (what `TLSSocket` wraps); counts the bytes read in `received`. */
function duplexOf(stream: ByteStream, received: { bytes: number }): Duplex {
  let reading = false;
  const duplex: Duplex = new Duplex({
    read() {
      if (reading) return;
      reading = true;
      (async () => {
        const buffer = new Uint8Array(64 * 1024);
        for (;;) {
          let n: number | null;
          try {
            n = await stream.read(buffer);
          } catch (error) {
            if (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted) {
              duplex.push(null);
            } else {
              duplex.destroy(error as Error);
            }
            return;
          }
          if (n === null) {
            duplex.push(null);
            return;
          }
          received.bytes += n;
          if (!duplex.push(buffer.slice(0, n))) {
            reading = false;
            return;
          }
        }
      })();
    },
    write(chunk: Uint8Array, _encoding, callback) {
      writeAll(stream, chunk).then(() => callback(), (error) => callback(error));
    },
    // Records queued while a write was in flight go out in one write (one syscall, one promise).
    writev(chunks: { chunk: Uint8Array }[], callback) {
      const total = chunks.reduce((n, c) => n + c.chunk.length, 0);
      const joined = new Uint8Array(total);
      let offset = 0;
      for (const { chunk } of chunks) {
        joined.set(chunk, offset);
        offset += chunk.length;
      }
      writeAll(stream, joined).then(() => callback(), (error) => callback(error));
    },
    destroy(error, callback) {
      try {
        stream.close();
      } catch {
        // already closed
      }
      callback(error);
    },
  });
  return duplex;
}

/** The decrypted stream of an established TLS socket. */
function streamOf(socket: tls.TLSSocket, under: ByteStream): ByteStream {
  const chunks: Uint8Array[] = [];
  let buffered = 0;
  let ended = false;
  let failure: Error | undefined;
  let closed = false;
  let wake: (() => void) | undefined;
  const notify = () => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  socket.on("data", (chunk: Uint8Array) => {
    chunks.push(chunk);
    buffered += chunk.length;
    if (buffered >= READ_AHEAD_BYTES) socket.pause();
    notify();
  });
  socket.on("end", () => {
    ended = true;
    notify();
  });
  socket.on("close", () => {
    ended = true;
    notify();
  });
  socket.on("error", (error: Error) => {
    failure ??= error;
    notify();
  });
  return {
    remote: under.remote,
    local: under.local,
    async read(p) {
      while (chunks.length === 0) {
        if (closed) throw new Deno.errors.BadResource("stream closed");
        if (failure) throw failure;
        if (ended) return null;
        await new Promise<void>((resolve) => wake = resolve);
      }
      const chunk = chunks[0];
      const n = Math.min(p.length, chunk.length);
      p.set(chunk.subarray(0, n));
      if (n === chunk.length) chunks.shift();
      else chunks[0] = chunk.subarray(n);
      buffered -= n;
      if (buffered < READ_AHEAD_BYTES && socket.isPaused()) socket.resume();
      return n;
    },
    write(p) {
      if (closed) return Promise.reject(new Deno.errors.BadResource("stream closed"));
      if (failure) return Promise.reject(failure);
      // Copied: the caller may reuse `p` once the write resolves, before the socket has encrypted it.
      const flushed = socket.write(p.slice());
      if (flushed) return Promise.resolve(p.length);
      return new Promise((resolve, reject) => {
        const done = () => {
          socket.off("drain", done);
          socket.off("close", done);
          if (closed || socket.destroyed) reject(failure ?? new Deno.errors.BrokenPipe("stream closed"));
          else resolve(p.length);
        };
        socket.on("drain", done);
        socket.on("close", done);
      });
    },
    close() {
      if (closed) throw new Deno.errors.BadResource("stream already closed");
      closed = true;
      socket.destroy();
      notify();
    },
  };
}
