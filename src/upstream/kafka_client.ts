/**
 * A minimal Kafka client for the gateway's own questions to the upstream cluster (ApiVersions,
 * Metadata), over TCP or TLS, with optional SASL (PLAIN, SCRAM-SHA-256/512, OAUTHBEARER). It speaks the
 * wire protocol through the project's codec.
 * The test harness's admin calls (tests/harness/kafka_wire.ts) use it too.
 *
 * @module
 */
import {
  ApiKey,
  ApiVersionsRequest,
  decodeApiVersionsResponse,
  decodeMessage,
  encodeRequestFrame,
  int32At,
  type MessageSpec,
  ProtocolError,
  responseHeaderLength,
} from "../protocol/mod.ts";
import { connectWithTimeout } from "./connect.ts";
import { saslExchange, type UpstreamSasl } from "./sasl.ts";
import { connectTlsWithTimeout, tlsFailureReason, type UpstreamTls, UpstreamTlsError } from "./tls.ts";
import { DeadlineError, withTimeout } from "../lib/deadline.ts";
import type { ApiVersionsResponseData } from "../protocol/mod.ts";
import {
  SaslAuthenticateRequest,
  SaslAuthenticateResponse,
  SaslHandshakeRequest,
  SaslHandshakeResponse,
} from "../protocol/messages/sasl.ts";

/** Options of {@link UpstreamClient.connect}. */
export interface UpstreamClientOptions {
  /** Client id sent in request headers. */
  clientId: string;
  /** Connect and per-request timeout, in milliseconds. */
  timeoutMs: number;
  /** SASL login, when the cluster requires one. */
  sasl?: UpstreamSasl;
  /** TLS to the broker; plain TCP when absent. */
  tls?: UpstreamTls;
}

/** An error answer from the upstream cluster, or a failure to reach it. */
export class UpstreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UpstreamError";
  }
}

async function readExact(conn: Deno.Conn, n: number): Promise<Uint8Array> {
  const out = new Uint8Array(n);
  let got = 0;
  while (got < n) {
    const read = await conn.read(out.subarray(got));
    if (read === null) throw new UpstreamError("the broker closed the connection");
    got += read;
  }
  return out;
}

/** One connection to one broker; requests are sent one at a time. */
export class UpstreamClient {
  #correlationId = 0;
  /** Versions the broker supports, by API key. */
  readonly apiVersions = new Map<number, { min: number; max: number }>();

  private constructor(private readonly conn: Deno.Conn, private readonly options: UpstreamClientOptions) {}

  /** Connects, learns the broker's API versions and authenticates. */
  static async connect(host: string, port: number, options: UpstreamClientOptions): Promise<UpstreamClient> {
    let conn: Deno.Conn;
    try {
      conn = options.tls
        ? await connectTlsWithTimeout(host, port, options.timeoutMs, options.tls)
        : await connectWithTimeout(host, port, options.timeoutMs);
    } catch (error) {
      // A TLS failure already names the broker and says why.
      if (error instanceof UpstreamTlsError) throw new UpstreamError(error.message);
      throw new UpstreamError(`cannot connect to ${host}:${port}: ${(error as Error).message}`);
    }
    const client = new UpstreamClient(conn, options);
    try {
      await client.#handshake();
    } catch (error) {
      client.close();
      // TLS 1.3: a broker refuses the client's certificate (or its absence) after the handshake, with an
      // alert on the first read.
      const message = (error as Error).message;
      if (options.tls && /fatal alert/i.test(message)) {
        throw new UpstreamError(
          `TLS session with broker ${host}:${port} refused: ${tlsFailureReason(message)} (${message})`,
        );
      }
      throw error;
    }
    return client;
  }

  async #handshake(): Promise<void> {
    const versions = await this.#apiVersions();
    for (const key of versions.apiKeys) {
      this.apiVersions.set(key.apiKey, { min: key.minVersion, max: key.maxVersion });
    }
    const sasl = this.options.sasl;
    if (!sasl) return;
    const exchange = saslExchange(sasl);
    const handshake = await this.call(SaslHandshakeRequest, SaslHandshakeResponse, 1, {
      mechanism: exchange.mechanism,
    });
    if (handshake.errorCode !== 0) {
      throw new UpstreamError(
        `SASL handshake for ${exchange.mechanism} failed (error ${handshake.errorCode}); the broker offers ${
          handshake.mechanisms.join(", ")
        }`,
      );
    }
    const authVersion = Math.min(2, this.apiVersions.get(ApiKey.SaslAuthenticate)?.max ?? 0);
    let message: Uint8Array | null = await exchange.start();
    while (message !== null) {
      const auth = await this.call(SaslAuthenticateRequest, SaslAuthenticateResponse, authVersion, {
        authBytes: message,
      });
      if (auth.errorCode !== 0) {
        throw new UpstreamError(
          `SASL ${exchange.mechanism} authentication failed: ${
            auth.errorMessage ?? `error ${auth.errorCode}`
          }`,
        );
      }
      try {
        message = await exchange.next(auth.authBytes);
      } catch (error) {
        throw new UpstreamError(
          `SASL ${exchange.mechanism} authentication failed: ${(error as Error).message}`,
        );
      }
    }
  }

  async #apiVersions(): Promise<ApiVersionsResponseData> {
    const version = 3;
    const body = await this.#roundTrip(ApiVersionsRequest, version, {
      clientSoftwareName: "kgate",
      clientSoftwareVersion: "0",
    }, ApiKey.ApiVersions);
    const { value } = decodeApiVersionsResponse(version, body.subarray(4));
    if (value.errorCode !== 0) throw new UpstreamError(`ApiVersions failed with error ${value.errorCode}`);
    return value;
  }

  /** Sends one request and decodes its response. */
  async call<Req, Res>(
    request: MessageSpec<Req>,
    response: MessageSpec<Res>,
    version: number,
    body: Req,
  ): Promise<Res> {
    if (request.apiKey === undefined) throw new Error(`${request.name} has no API key`);
    const frame = await this.#roundTrip(request, version, body, request.apiKey);
    try {
      const offset = responseHeaderLength(request.apiKey, version, frame);
      return decodeMessage(response, version, frame, offset).value;
    } catch (error) {
      if (error instanceof ProtocolError) throw new UpstreamError(`bad ${response.name}: ${error.message}`);
      throw error;
    }
  }

  async #roundTrip<Req>(
    request: MessageSpec<Req>,
    version: number,
    body: Req,
    apiKey: number,
  ): Promise<Uint8Array> {
    const correlationId = ++this.#correlationId;
    const bytes = encodeRequestFrame(
      { correlationId, clientId: this.options.clientId, apiKey },
      request,
      version,
      body,
    );
    const exchange = async () => {
      let written = 0;
      while (written < bytes.length) written += await this.conn.write(bytes.subarray(written));
      const size = int32At(await readExact(this.conn, 4), 0);
      if (size < 4 || size > 64 * 1024 * 1024) throw new UpstreamError(`bad response size ${size}`);
      const frame = await readExact(this.conn, size);
      const got = int32At(frame, 0);
      if (got !== correlationId) throw new UpstreamError(`correlation id ${got}, expected ${correlationId}`);
      return frame;
    };
    const ms = this.options.timeoutMs;
    try {
      return await withTimeout(exchange(), ms, `${request.name} timed out after ${ms} ms`);
    } catch (error) {
      if (!(error instanceof DeadlineError)) throw error;
      this.close();
      throw new UpstreamError(error.message);
    }
  }

  /** Closes the connection. */
  close(): void {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
  }
}
