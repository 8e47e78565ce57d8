/**
 * Test certificates made with openssl: a CA, and leaf certificates it signs (server or client, any SANs,
 * any validity, including already expired ones). Keys are unencrypted PKCS#8 PEM, as Kafka's PEM key
 * stores and Deno/node:tls read them.
 *
 * @module
 */

/** A certificate and its key, as PEM files. */
export interface CertFiles {
  /** PEM certificate (the leaf only). */
  certFile: string;
  /** PEM PKCS#8 private key. */
  keyFile: string;
}

/** A certificate authority that signs test certificates. */
export interface TestCa extends CertFiles {
  /** The directory holding every file made for this CA. */
  dir: string;
}

/** What a leaf certificate says. */
export interface LeafOptions {
  /** Subject common name. */
  commonName: string;
  /** Subject alternative names, e.g. `["DNS:localhost", "IP:127.0.0.1"]` (none when empty). */
  subjectAltNames?: string[];
  /** `server`, `client` or both (extendedKeyUsage); default both. */
  usage?: "server" | "client" | "both";
  /** Validity start relative to now, in days (negative = in the past); default -1. */
  notBeforeDays?: number;
  /** Validity end relative to now, in days (negative = already expired); default 30. */
  notAfterDays?: number;
  /** File name stem inside the CA's directory; default the common name. */
  name?: string;
}

async function openssl(args: string[], cwd: string): Promise<void> {
  const { code, stderr } = await new Deno.Command("openssl", { args, cwd, stdout: "null", stderr: "piped" })
    .output();
  if (code !== 0) throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(stderr)}`);
}

/** `YYYYMMDDHHMMSSZ` for `openssl ca`-style dates (`x509 -not_before` needs OpenSSL 3.4; we use `ca`). */
function asn1Time(daysFromNow: number): string {
  const d = new Date(Date.now() + daysFromNow * 86_400_000);
  const p = (n: number) => String(n).padStart(2, "0");
  return `${d.getUTCFullYear()}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${
    p(d.getUTCMinutes())
  }${p(d.getUTCSeconds())}Z`;
}

/**
 * Makes a new CA (EC P-256, valid 30 days) in a new temporary directory (or `dir`).
 *
 * @example
 * ```ts ignore
 * const ca = await makeTestCa();
 * const server = await makeLeafCert(ca, { commonName: "localhost", subjectAltNames: ["IP:127.0.0.1"] });
 * ```
 */
export async function makeTestCa(dir?: string, commonName = "kgate test CA"): Promise<TestCa> {
  dir ??= await Deno.makeTempDir({ prefix: "kgate_test_ca_" });
  await Deno.mkdir(dir, { recursive: true });
  const certFile = `${dir}/ca.pem`;
  const keyFile = `${dir}/ca.key`;
  await openssl([
    "req",
    "-x509",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    certFile,
    "-days",
    "30",
    "-subj",
    `/CN=${commonName}`,
    "-addext",
    "basicConstraints=critical,CA:TRUE",
    "-addext",
    "keyUsage=critical,keyCertSign,cRLSign",
  ], dir);
  return { dir, certFile, keyFile };
}

/**
 * Makes a leaf certificate signed by `ca` (EC P-256), with any validity window (an expired one too).
 *
 * @example
 * ```ts ignore
 * const expired = await makeLeafCert(ca, { commonName: "old", notBeforeDays: -10, notAfterDays: -1 });
 * ```
 */
export async function makeLeafCert(ca: TestCa, options: LeafOptions): Promise<CertFiles> {
  const name = (options.name ?? options.commonName).replace(/[^A-Za-z0-9_.-]/g, "_");
  const keyFile = `${ca.dir}/${name}.key`;
  const csrFile = `${ca.dir}/${name}.csr`;
  const certFile = `${ca.dir}/${name}.pem`;
  const extFile = `${ca.dir}/${name}.ext`;
  const usage = options.usage ?? "both";
  const eku = usage === "server" ? "serverAuth" : usage === "client" ? "clientAuth" : "serverAuth,clientAuth";
  const sans = options.subjectAltNames ?? [];
  await Deno.writeTextFile(
    extFile,
    [
      "basicConstraints=critical,CA:FALSE",
      "keyUsage=critical,digitalSignature,keyEncipherment",
      `extendedKeyUsage=${eku}`,
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(",")}`] : []),
    ].join("\n") + "\n",
  );
  await openssl([
    "req",
    "-new",
    "-newkey",
    "ec",
    "-pkeyopt",
    "ec_paramgen_curve:prime256v1",
    "-nodes",
    "-keyout",
    keyFile,
    "-out",
    csrFile,
    "-subj",
    `/CN=${options.commonName}`,
  ], ca.dir);
  // `openssl ca` takes explicit start and end dates (x509 -req cannot back-date before OpenSSL 3.4).
  const db = `${ca.dir}/${name}.db`;
  await Deno.writeTextFile(db, "");
  await Deno.writeTextFile(
    `${ca.dir}/${name}.serial`,
    `${crypto.randomUUID().replaceAll("-", "").slice(0, 16)}\n`,
  );
  await Deno.writeTextFile(
    `${ca.dir}/${name}.cnf`,
    [
      "[ca]",
      "default_ca = test",
      "[test]",
      `database = ${db}`,
      `new_certs_dir = ${ca.dir}`,
      `serial = ${ca.dir}/${name}.serial`,
      "default_md = sha256",
      "policy = any",
      "unique_subject = no",
      "copy_extensions = none",
      "[any]",
      "commonName = supplied",
    ].join("\n") + "\n",
  );
  await openssl([
    "ca",
    "-batch",
    "-notext",
    "-config",
    `${ca.dir}/${name}.cnf`,
    "-cert",
    ca.certFile,
    "-keyfile",
    ca.keyFile,
    "-in",
    csrFile,
    "-out",
    certFile,
    "-extfile",
    extFile,
    "-startdate",
    asn1Time(options.notBeforeDays ?? -1),
    "-enddate",
    asn1Time(options.notAfterDays ?? 30),
  ], ca.dir);
  return { certFile, keyFile };
}
