/**
 * A minimal zip (jar) reader: lists the central directory and inflates entries with the platform's
 * `DecompressionStream("deflate-raw")`, so the protocol generator needs no `unzip` or JDK on the machine.
 * Stored (0) and deflated (8) entries only; no zip64, no encryption (a jar needs neither).
 *
 * @module
 */

/** One file in a zip archive. */
export interface ZipEntry {
  /** Path inside the archive, e.g. `common/message/MetadataRequest.json`. */
  readonly name: string;
  /** Compression method: 0 stored, 8 deflated. */
  readonly method: number;
  /** Size of the stored data. */
  readonly compressedSize: number;
  /** Offset of the entry's local header. */
  readonly localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;

/**
 * The entries of a zip archive, from its central directory.
 *
 * @example
 * ```ts
 * const zip = await Deno.readFile("kafka-clients-4.3.1.jar");
 * const names = zipEntries(zip).map((e) => e.name);
 * ```
 */
export function zipEntries(zip: Uint8Array): ZipEntry[] {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  // The end-of-central-directory record is in the last 22 + 65535 (comment) bytes.
  let eocd = -1;
  for (let i = zip.length - 22; i >= Math.max(0, zip.length - 22 - 65535); i--) {
    if (view.getUint32(i, true) === EOCD_SIGNATURE) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error("not a zip archive (no end of central directory)");
  const count = view.getUint16(eocd + 10, true);
  let at = view.getUint32(eocd + 16, true);
  const names = new TextDecoder();
  const out: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (view.getUint32(at, true) !== CENTRAL_SIGNATURE) throw new Error(`bad central directory entry ${i}`);
    const method = view.getUint16(at + 10, true);
    const compressedSize = view.getUint32(at + 20, true);
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const localHeaderOffset = view.getUint32(at + 42, true);
    const name = names.decode(zip.subarray(at + 46, at + 46 + nameLength));
    out.push({ name, method, compressedSize, localHeaderOffset });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return out;
}

/**
 * The uncompressed bytes of one entry.
 *
 * @example
 * ```ts
 * const zip = await Deno.readFile("kafka-clients-4.3.1.jar");
 * const entry = zipEntries(zip).find((e) => e.name.endsWith("MetadataRequest.json"))!;
 * const json = new TextDecoder().decode(await readZipEntry(zip, entry));
 * ```
 */
export async function readZipEntry(zip: Uint8Array, entry: ZipEntry): Promise<Uint8Array> {
  const view = new DataView(zip.buffer, zip.byteOffset, zip.byteLength);
  const at = entry.localHeaderOffset;
  if (view.getUint32(at, true) !== LOCAL_SIGNATURE) throw new Error(`bad local header for ${entry.name}`);
  const start = at + 30 + view.getUint16(at + 26, true) + view.getUint16(at + 28, true);
  const data = zip.subarray(start, start + entry.compressedSize);
  if (entry.method === 0) return data.slice();
  if (entry.method !== 8) throw new Error(`${entry.name}: unsupported compression method ${entry.method}`);
  const stream = new Blob([data.slice()]).stream().pipeThrough(new DecompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
