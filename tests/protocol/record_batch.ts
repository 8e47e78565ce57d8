/**
 * Test support: a minimal Kafka RecordBatch (magic v2) writer and reader with CRC32C, used to produce
 * real records (capturing broker fixtures, Produce requests of the integration tests) and to check the
 * records a broker sends back.
 *
 * Layout (all integers big-endian; `varint`/`varlong` are zig-zag encoded):
 *
 * ```
 * baseOffset int64 | batchLength int32 | partitionLeaderEpoch int32 | magic int8 (2) | crc uint32
 * | attributes int16 | lastOffsetDelta int32 | baseTimestamp int64 | maxTimestamp int64
 * | producerId int64 | producerEpoch int16 | baseSequence int32 | recordCount int32 | records...
 * record: length varint | attributes int8 | timestampDelta varlong | offsetDelta varint
 *         | keyLength varint | key | valueLength varint | value | headerCount varint
 * ```
 *
 * The CRC covers everything from `attributes` to the end of the batch.
 */

import { ByteReader, ByteWriter } from "../../src/protocol/mod.ts";
import { crc32c } from "../../src/proxy_protocol/crc32c.ts";

/** One record of a batch (null key allowed, no headers). */
export interface SimpleRecord {
  /** Record key, or null. */
  key: Uint8Array | null;
  /** Record value, or null. */
  value: Uint8Array | null;
}

/** Offset of the `attributes` field, where the CRC-covered part of a batch starts. */
const CRC_START = 21;

/** Build one uncompressed, non-transactional RecordBatch v2 with base offset 0. */
export function buildRecordBatch(records: SimpleRecord[], timestamp: bigint): Uint8Array {
  const w = new ByteWriter(128);
  w.int64(0n); // baseOffset
  w.int32(0); // batchLength, patched below
  w.int32(-1); // partitionLeaderEpoch
  w.int8(2); // magic
  w.uint32(0); // crc, patched below
  w.int16(0); // attributes: no compression, CreateTime, not transactional, not control
  w.int32(records.length - 1); // lastOffsetDelta
  w.int64(timestamp); // baseTimestamp
  w.int64(timestamp); // maxTimestamp
  w.int64(-1n); // producerId
  w.int16(-1); // producerEpoch
  w.int32(-1); // baseSequence
  w.int32(records.length);
  records.forEach((r, i) => {
    const body = new ByteWriter(64);
    body.int8(0); // attributes
    body.varlong(0n); // timestampDelta
    body.varint(i); // offsetDelta
    if (r.key === null) body.varint(-1);
    else {
      body.varint(r.key.length);
      body.raw(r.key);
    }
    if (r.value === null) body.varint(-1);
    else {
      body.varint(r.value.length);
      body.raw(r.value);
    }
    body.varint(0); // headers
    const b = body.finish();
    w.varint(b.length);
    w.raw(b);
  });
  const batch = w.finish();
  const view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
  view.setInt32(8, batch.length - 12);
  view.setUint32(17, crc32c(batch.subarray(CRC_START)));
  return batch;
}

/** A decoded RecordBatch v2 (header fields used by the tests, and the records). */
export interface ParsedRecordBatch {
  /** Offset of the first record. */
  baseOffset: bigint;
  /** Leader epoch stamped by the broker. */
  partitionLeaderEpoch: number;
  /** Always 2. */
  magic: number;
  /** Stored CRC32C. */
  crc: number;
  /** CRC32C computed over the bytes (equal to {@link crc} for an intact batch). */
  computedCrc: number;
  /** Batch attributes. */
  attributes: number;
  /** Timestamp of the first record. */
  baseTimestamp: bigint;
  /** Records, in order. */
  records: SimpleRecord[];
}

/** Parse every RecordBatch v2 in `data` (a Fetch `Records` field). */
export function parseRecordBatches(data: Uint8Array): ParsedRecordBatch[] {
  const out: ParsedRecordBatch[] = [];
  let pos = 0;
  while (pos < data.length) {
    const r = new ByteReader(data, pos);
    const baseOffset = r.int64();
    const batchLength = r.int32();
    const end = pos + 12 + batchLength;
    if (end > data.length) throw new Error(`record batch at ${pos} is truncated`);
    const partitionLeaderEpoch = r.int32();
    const magic = r.int8();
    if (magic !== 2) throw new Error(`record batch at ${pos}: magic ${magic}`);
    const crc = r.uint32();
    const computedCrc = crc32c(data.subarray(pos + CRC_START, end));
    const attributes = r.int16();
    r.int32(); // lastOffsetDelta
    const baseTimestamp = r.int64();
    r.int64(); // maxTimestamp
    r.int64(); // producerId
    r.int16(); // producerEpoch
    r.int32(); // baseSequence
    const count = r.int32();
    const records: SimpleRecord[] = [];
    for (let i = 0; i < count; i++) {
      const len = r.varint();
      const rr = new ByteReader(data, r.offset, r.offset + len);
      rr.int8();
      rr.varlong();
      rr.varint();
      const kl = rr.varint();
      const key = kl < 0 ? null : rr.raw(kl);
      const vl = rr.varint();
      const value = vl < 0 ? null : rr.raw(vl);
      records.push({ key, value });
      r.skip(len);
    }
    if (r.offset !== end) throw new Error(`record batch at ${pos}: ${end - r.offset} unread byte(s)`);
    out.push({
      baseOffset,
      partitionLeaderEpoch,
      magic,
      crc,
      computedCrc,
      attributes,
      baseTimestamp,
      records,
    });
    pos = end;
  }
  return out;
}
