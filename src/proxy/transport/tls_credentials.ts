/**
 * The Kafka listeners' TLS credentials: the certificate chain and key (and the CA of client
 * certificates) read from PEM files, checked when read, and swapped for new ones when the files change
 * (or on demand, e.g. on SIGHUP) — a file that does not load leaves the old credentials in use.
 *
 * @module
 */
import { createPrivateKey, X509Certificate } from "node:crypto";
import * as tls from "node:tls";
import { logger } from "../../log.ts";

const log = logger("tls");

/** The files of the listeners' credentials, and the settings that name them (for errors). */
export interface TlsServerFiles {
  /** PEM certificate chain, leaf first. */
  certFile: string;
  /** PEM private key. */
  keyFile: string;
  /** PEM CA certificates of client certificates. */
  caFile?: string;
}

/** Credentials ready for handshakes. */
export interface TlsServerCredentials {
  /** The context new handshakes use. */
  secureContext: tls.SecureContext;
  /** The leaf certificate served (for log lines: subject, expiry). */
  certificate: X509Certificate;
  /** CA certificates client certificates are verified against (empty without a CA file). */
  caCertificates: readonly X509Certificate[];
}

/** A credentials file that cannot be used; names the setting and the file. */
export class TlsFileError extends Error {
  /**
   * An unusable file.
   *
   * @param setting the environment variable naming the file
   * @param file the path
   * @param problem what is wrong with it
   */
  constructor(readonly setting: string, readonly file: string, problem: string) {
    super(`${setting}=${JSON.stringify(file)}: ${problem}`);
    this.name = "TlsFileError";
  }
}

/** The settings naming each file, for error messages. */
const SETTING = {
  certFile: "GATEWAY_SSL_CERT_FILE",
  keyFile: "GATEWAY_SSL_KEY_FILE",
  caFile: "GATEWAY_SSL_CA_FILE",
} as const;

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----[\s\S]+?-----END \1-----/g;

async function readPem(key: keyof typeof SETTING, file: string): Promise<string> {
  try {
    return await Deno.readTextFile(file);
  } catch (error) {
    const why = error instanceof Deno.errors.NotFound
      ? "no such file"
      : error instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : (error as Error).message;
    throw new TlsFileError(SETTING[key], file, `cannot read: ${why}`);
  }
}

function certificatesIn(key: keyof typeof SETTING, file: string, pem: string): X509Certificate[] {
  const blocks = [...pem.matchAll(PEM_BLOCK)].filter((m) => m[1] === "CERTIFICATE").map((m) => m[0]);
  if (blocks.length === 0) throw new TlsFileError(SETTING[key], file, "no PEM CERTIFICATE block");
  return blocks.map((block, i) => {
    try {
      return new X509Certificate(block);
    } catch (error) {
      throw new TlsFileError(SETTING[key], file, `certificate ${i + 1} does not parse: ${error}`);
    }
  });
}

/**
 * Reads and checks the listeners' credentials: every file readable, PEM, parsable, and the key the
 * certificate's.
 *
 * @example
 * ```ts ignore
 * const credentials = await loadTlsServerCredentials({ certFile: "tls.crt", keyFile: "tls.key" });
 * ```
 * @throws {TlsFileError} naming the setting of the first file at fault
 */
export async function loadTlsServerCredentials(files: TlsServerFiles): Promise<TlsServerCredentials> {
  const certPem = await readPem("certFile", files.certFile);
  const chain = certificatesIn("certFile", files.certFile, certPem);
  const keyPem = await readPem("keyFile", files.keyFile);
  if (!/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(keyPem)) {
    throw new TlsFileError(SETTING.keyFile, files.keyFile, "no PEM PRIVATE KEY block");
  }
  if (/ENCRYPTED PRIVATE KEY|Proc-Type: 4,ENCRYPTED/.test(keyPem)) {
    throw new TlsFileError(
      SETTING.keyFile,
      files.keyFile,
      "the key is encrypted (an unencrypted key is needed)",
    );
  }
  let caCertificates: X509Certificate[] = [];
  let caPem: string | undefined;
  if (files.caFile !== undefined) {
    caPem = await readPem("caFile", files.caFile);
    caCertificates = certificatesIn("caFile", files.caFile, caPem);
  }
  let secureContext: tls.SecureContext;
  try {
    secureContext = tls.createSecureContext({ cert: certPem, key: keyPem, ca: caPem });
  } catch (error) {
    throw new TlsFileError(SETTING.keyFile, files.keyFile, `unusable with the certificate: ${error}`);
  }
  try {
    if (!chain[0].checkPrivateKey(createPrivateKey(keyPem))) {
      throw new Error(`the key does not match the certificate ${chain[0].subject}`);
    }
  } catch (error) {
    throw new TlsFileError(SETTING.keyFile, files.keyFile, (error as Error).message);
  }
  return { secureContext, certificate: chain[0], caCertificates };
}

/** How long file events are left to settle before a reload (editors and `cp` write in steps). */
const DEBOUNCE_MS = 250;

/**
 * The listeners' credentials, reloaded when their files change or {@link ReloadingTlsCredentials.reload}
 * is called: new handshakes take {@link ReloadingTlsCredentials.current}; a failed reload is logged and
 * the previous credentials stay.
 *
 * @example
 * ```ts ignore
 * const credentials = await ReloadingTlsCredentials.load(files);
 * credentials.watch();
 * tlsServerStage(stream, { credentials: () => credentials.current, clientAuth: "none", handshakeTimeoutMs: 10000 });
 * ```
 */
export class ReloadingTlsCredentials {
  #current: TlsServerCredentials;
  #watcher?: Deno.FsWatcher;
  #timer?: ReturnType<typeof setTimeout>;
  #reloading: Promise<boolean> = Promise.resolve(true);

  private constructor(readonly files: TlsServerFiles, initial: TlsServerCredentials) {
    this.#current = initial;
  }

  /**
   * Loads the files.
   *
   * @throws {TlsFileError} naming the setting of the first file at fault
   */
  static async load(files: TlsServerFiles): Promise<ReloadingTlsCredentials> {
    return new ReloadingTlsCredentials(files, await loadTlsServerCredentials(files));
  }

  /** The credentials new handshakes use. */
  get current(): TlsServerCredentials {
    return this.#current;
  }

  /** Reads the files again; true when the new credentials are in use, false (logged) when the old stay. */
  reload(): Promise<boolean> {
    this.#reloading = this.#reloading.then(async () => {
      try {
        const next = await loadTlsServerCredentials(this.files);
        const changed = next.certificate.fingerprint256 !== this.#current.certificate.fingerprint256;
        this.#current = next;
        log.info("TLS credentials reloaded: serving {subject} (valid until {validTo}){same}", {
          subject: next.certificate.subject.replaceAll("\n", ", "),
          validTo: next.certificate.validTo,
          same: changed ? "" : " (same certificate)",
        });
        return true;
      } catch (error) {
        log.error("TLS credentials not reloaded, the previous ones stay in use: {error}", {
          error: (error as Error).message,
        });
        return false;
      }
    });
    return this.#reloading;
  }

  /**
   * Reloads (debounced) whenever a file changes; watches the files' directories, since certificate
   * rotation often replaces a file (or a symlink, as Kubernetes does) rather than writing it.
   */
  watch(): void {
    if (this.#watcher) return;
    const files = [this.files.certFile, this.files.keyFile, this.files.caFile].filter((f) => f !== undefined);
    const dirs = [...new Set(files.map((f) => dirOf(f)))];
    const names = new Set(files.map((f) => baseOf(f)));
    try {
      this.#watcher = Deno.watchFs(dirs, { recursive: false });
    } catch (error) {
      log.warn("cannot watch the TLS files ({error}); they are reloaded on SIGHUP only", {
        error: String(error),
      });
      return;
    }
    const watcher = this.#watcher;
    (async () => {
      try {
        for await (const event of watcher) {
          // Kubernetes swaps a `..data` symlink: any change in the directory may be ours.
          if (!event.paths.some((p) => names.has(baseOf(p)) || baseOf(p).startsWith(".."))) continue;
          clearTimeout(this.#timer);
          this.#timer = setTimeout(() => void this.reload(), DEBOUNCE_MS);
        }
      } catch {
        // closed
      }
    })();
  }

  /** Stops watching. */
  close(): void {
    clearTimeout(this.#timer);
    try {
      this.#watcher?.close();
    } catch {
      // already closed
    }
    this.#watcher = undefined;
  }
}

function dirOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : path.slice(0, i);
}

function baseOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}
