// Minimal zip reader/writer for the fuzzer: it must be able to write archives that lie
// (wrong sizes, bad CRCs, bombs), which a well-behaved zip library refuses to do.
import { deflateSync, inflateSync, Deflate } from 'fflate';

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 as zip uses it. @example crc32(new Uint8Array([1, 2])) */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** One member as stored: compressed bytes plus what the headers claim. */
export interface RawEntry {
  name: string;
  method: 0 | 8;
  compressed: Uint8Array;
  crc: number;
  size: number;
}

/** True for bytes starting with a zip local-file header. @example isZip(bytes) */
export function isZip(b: Uint8Array): boolean {
  return b.length >= 4 && b[0] === 0x50 && b[1] === 0x4b && b[2] === 3 && b[3] === 4;
}

/** Offset of the end-of-central-directory record, or -1. */
export function findEocd(b: Uint8Array): number {
  for (let i = b.length - 22; i >= Math.max(0, b.length - 22 - 65535); i--) {
    if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 5 && b[i + 3] === 6) return i;
  }
  return -1;
}

/** Offsets of every central-directory header (signature PK\x01\x02). */
export function centralHeaders(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 46 <= b.length; i++) if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 1 && b[i + 3] === 2) out.push(i);
  return out;
}

/** Offsets of every local file header (signature PK\x03\x04). */
export function localHeaders(b: Uint8Array): number[] {
  const out: number[] = [];
  for (let i = 0; i + 30 <= b.length; i++) if (b[i] === 0x50 && b[i + 1] === 0x4b && b[i + 2] === 3 && b[i + 3] === 4) out.push(i);
  return out;
}

/** Read a well-formed zip's members (uncompressed). Throws on anything unusual. */
export function readZip(b: Uint8Array): Map<string, Uint8Array> {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const eocd = findEocd(b);
  if (eocd < 0) throw new Error('no EOCD');
  const n = dv.getUint16(eocd + 10, true);
  let p = dv.getUint32(eocd + 16, true);
  const out = new Map<string, Uint8Array>();
  for (let k = 0; k < n; k++) {
    const method = dv.getUint16(p + 10, true);
    const csize = dv.getUint32(p + 20, true);
    const nameLen = dv.getUint16(p + 28, true), extraLen = dv.getUint16(p + 30, true), commentLen = dv.getUint16(p + 32, true);
    const local = dv.getUint32(p + 42, true);
    const name = new TextDecoder().decode(b.subarray(p + 46, p + 46 + nameLen));
    const lNameLen = dv.getUint16(local + 26, true), lExtraLen = dv.getUint16(local + 28, true);
    const start = local + 30 + lNameLen + lExtraLen;
    const data = b.subarray(start, start + csize);
    out.set(name, method === 0 ? data.slice() : inflateSync(data));
    p += 46 + nameLen + extraLen + commentLen;
  }
  return out;
}

/** A member compressed normally. */
export function entry(name: string, data: Uint8Array): RawEntry {
  return { name, method: 8, compressed: deflateSync(data, { level: 6 }), crc: crc32(data), size: data.length };
}

let bombCache: RawEntry | null = null;
/** A member that inflates to `BOMB_BYTES` of zeros from ≈0.25 MB (built once, streamed). */
export function bombEntry(name: string): RawEntry {
  if (!bombCache) {
    const chunks: Uint8Array[] = [];
    const d = new Deflate({ level: 1 }, (chunk) => chunks.push(chunk));
    const zero = new Uint8Array(1 << 20);
    let crc = 0;
    for (let i = 0; i < BOMB_BYTES >> 20; i++) {
      crc = crc32(zero, crc);
      d.push(zero, i === (BOMB_BYTES >> 20) - 1);
    }
    const total = chunks.reduce((s, c) => s + c.length, 0);
    const compressed = new Uint8Array(total);
    let o = 0;
    for (const c of chunks) { compressed.set(c, o); o += c.length; }
    bombCache = { name, method: 8, compressed, crc, size: BOMB_BYTES };
  }
  return { ...bombCache, name };
}
export const BOMB_BYTES = 256 << 20;

/** Write a zip from raw entries exactly as given (sizes and CRCs are not checked). */
export function writeZip(entries: RawEntry[]): Uint8Array {
  const enc = new TextEncoder();
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = enc.encode(e.name);
    const lh = new Uint8Array(30 + name.length);
    const lv = new DataView(lh.buffer);
    lv.setUint32(0, 0x04034b50, true);
    lv.setUint16(4, 20, true);
    lv.setUint16(8, e.method, true);
    lv.setUint32(14, e.crc, true);
    lv.setUint32(18, e.compressed.length, true);
    lv.setUint32(22, e.size >>> 0, true);
    lv.setUint16(26, name.length, true);
    lh.set(name, 30);
    const ch = new Uint8Array(46 + name.length);
    const cv = new DataView(ch.buffer);
    cv.setUint32(0, 0x02014b50, true);
    cv.setUint16(4, 20, true);
    cv.setUint16(6, 20, true);
    cv.setUint16(10, e.method, true);
    cv.setUint32(16, e.crc, true);
    cv.setUint32(20, e.compressed.length, true);
    cv.setUint32(24, e.size >>> 0, true);
    cv.setUint16(28, name.length, true);
    cv.setUint32(42, offset, true);
    ch.set(name, 46);
    parts.push(lh, e.compressed);
    central.push(ch);
    offset += lh.length + e.compressed.length;
  }
  const cdSize = central.reduce((s, c) => s + c.length, 0);
  const eocd = new Uint8Array(22);
  const ev = new DataView(eocd.buffer);
  ev.setUint32(0, 0x06054b50, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, cdSize, true);
  ev.setUint32(16, offset, true);
  const all = [...parts, ...central, eocd];
  const out = new Uint8Array(all.reduce((s, c) => s + c.length, 0));
  let o = 0;
  for (const c of all) { out.set(c, o); o += c.length; }
  return out;
}
