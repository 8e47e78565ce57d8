/**
 * The client side of SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka uses it: no channel
 * binding (`n,,`), no authorization identity. Built on Web Crypto (PBKDF2, HMAC, digests).
 *
 * @module
 */

/** The SCRAM mechanisms Kafka offers. */
export type ScramMechanism = "SCRAM-SHA-256" | "SCRAM-SHA-512";

const HASH: Record<ScramMechanism, { name: "SHA-256" | "SHA-512"; bits: number }> = {
  "SCRAM-SHA-256": { name: "SHA-256", bits: 256 },
  "SCRAM-SHA-512": { name: "SHA-512", bits: 512 },
};

const utf8 = new TextEncoder();

function base64(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes));
}

function unbase64(text: string): Uint8Array {
  return Uint8Array.from(atob(text), (c) => c.charCodeAt(0));
}

/** RFC 5802 `saslname`: `=` and `,` escaped. */
function saslName(name: string): string {
  return name.replaceAll("=", "=3D").replaceAll(",", "=2C");
}

/** The attributes of a SCRAM message (`k=v,k=v`; a value may contain `=`). */
function attributes(message: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of message.split(",")) {
    const eq = part.indexOf("=");
    if (eq === 1) out.set(part[0], part.slice(2));
  }
  return out;
}

/** A SCRAM exchange failed: a malformed or dishonest server message, or the server's own error. */
export class ScramError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ScramError";
  }
}

/**
 * One SCRAM client exchange: {@link first}, then {@link final} with the server's first message, then
 * {@link verify} with the server's final message (which proves the server knows the password).
 *
 * @example
 * ```ts ignore
 * const scram = new ScramClient("SCRAM-SHA-512", "alice", "alice-secret");
 * const clientFirst = scram.first();
 * const clientFinal = await scram.final(serverFirst);
 * await scram.verify(serverFinal);
 * ```
 */
export class ScramClient {
  readonly #hash: { name: "SHA-256" | "SHA-512"; bits: number };
  readonly #clientFirstBare: string;
  readonly #nonce: string;
  #serverSignature: Uint8Array | undefined;

  /** `nonce` is for tests (RFC test vectors); by default 24 random bytes. */
  constructor(
    mechanism: ScramMechanism,
    username: string,
    private readonly password: string,
    nonce?: string,
  ) {
    this.#hash = HASH[mechanism];
    this.#nonce = nonce ?? base64(crypto.getRandomValues(new Uint8Array(24)));
    this.#clientFirstBare = `n=${saslName(username)},r=${this.#nonce}`;
  }

  /** The client-first message. */
  first(): string {
    return `n,,${this.#clientFirstBare}`;
  }

  /** The client-final message (with the proof) answering the server-first message. */
  async final(serverFirst: string): Promise<string> {
    const a = attributes(serverFirst);
    const nonce = a.get("r");
    const salt = a.get("s");
    const iterations = Number(a.get("i"));
    if (a.has("e")) throw new ScramError(`the server refused: ${a.get("e")}`);
    if (!nonce || !salt || !Number.isInteger(iterations) || iterations < 1) {
      throw new ScramError("malformed server-first message");
    }
    if (!nonce.startsWith(this.#nonce) || nonce === this.#nonce) {
      throw new ScramError("the server's nonce does not extend the client's");
    }
    const salted = await this.#pbkdf2(unbase64(salt), iterations);
    const clientKey = await this.#hmac(salted, "Client Key");
    const storedKey = new Uint8Array(await crypto.subtle.digest(this.#hash.name, clientKey as BufferSource));
    const withoutProof = `c=${btoa("n,,")},r=${nonce}`;
    const authMessage = `${this.#clientFirstBare},${serverFirst},${withoutProof}`;
    const clientSignature = await this.#hmac(storedKey, authMessage);
    const proof = clientKey.map((b, i) => b ^ clientSignature[i]);
    this.#serverSignature = await this.#hmac(await this.#hmac(salted, "Server Key"), authMessage);
    return `${withoutProof},p=${base64(proof)}`;
  }

  /** Checks the server-final message; throws {@link ScramError} when the server's signature is wrong. */
  verify(serverFinal: string): void {
    const a = attributes(serverFinal);
    if (a.has("e")) throw new ScramError(`the server refused: ${a.get("e")}`);
    const v = a.get("v");
    if (!this.#serverSignature) throw new ScramError("server-final before client-final");
    if (!v || base64(this.#serverSignature) !== v) throw new ScramError("the server's signature is wrong");
  }

  async #pbkdf2(salt: Uint8Array, iterations: number): Promise<Uint8Array> {
    const key = await crypto.subtle.importKey("raw", utf8.encode(this.password), "PBKDF2", false, [
      "deriveBits",
    ]);
    const bits = await crypto.subtle.deriveBits(
      { name: "PBKDF2", hash: this.#hash.name, salt: salt as BufferSource, iterations },
      key,
      this.#hash.bits,
    );
    return new Uint8Array(bits);
  }

  async #hmac(keyBytes: Uint8Array, data: string): Promise<Uint8Array> {
    const key = await crypto.subtle.importKey(
      "raw",
      keyBytes as BufferSource,
      { name: "HMAC", hash: this.#hash.name },
      false,
      ["sign"],
    );
    return new Uint8Array(await crypto.subtle.sign("HMAC", key, utf8.encode(data)));
  }
}
