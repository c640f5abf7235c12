// Mutation operators for model files: each takes a bundle (main file + siblings) and returns a
// damaged copy plus a description, or null when it does not apply to this bundle.
import { Rng } from '../../src/optimize/rng.js';
import { bombEntry, centralHeaders, entry, findEocd, isZip, localHeaders, readZip, writeZip, type RawEntry } from './zip.js';

/** A model as files: `main` is the path (relative) loadModel is given; `files` holds every file. */
export interface Bundle {
  main: string;
  files: Map<string, Uint8Array>;
}

export interface Mutant {
  bundle: Bundle;
  /** What was done, e.g. `truncate model.json at 120/2236`. */
  what: string;
}

type Mutator = (rng: Rng, b: Bundle) => Mutant | null;

const HDF5_MAGIC = [0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a];
const isHdf5 = (b: Uint8Array) => b.length >= 8 && HDF5_MAGIC.every((v, i) => b[i] === v);
const pick = <T>(rng: Rng, xs: T[]): T => xs[rng.int(0, xs.length - 1)];
const clone = (b: Bundle): Bundle => ({ main: b.main, files: new Map([...b.files].map(([k, v]) => [k, v.slice()])) });
const dv = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const dec = (b: Uint8Array) => new TextDecoder().decode(b);
const enc = (s: string) => new TextEncoder().encode(s);

function withFile(b: Bundle, name: string, data: Uint8Array | null): Bundle {
  const c = clone(b);
  if (data) c.files.set(name, data);
  else c.files.delete(name);
  return c;
}

function parseJson(b: Uint8Array): unknown {
  try {
    return JSON.parse(dec(b));
  } catch {
    return undefined;
  }
}

// ---------- generic bytes ----------

const truncate: Mutator = (rng, b) => {
  const name = pick(rng, [...b.files.keys()]);
  const data = b.files.get(name)!;
  const at = rng.int(0, Math.max(0, data.length - 1));
  return { bundle: withFile(b, name, data.slice(0, at)), what: `truncate ${name} at ${at}/${data.length}` };
};

const flipBytes: Mutator = (rng, b) => {
  const name = pick(rng, [...b.files.keys()]);
  const data = b.files.get(name)!.slice();
  if (data.length === 0) return null;
  const n = rng.int(1, 16);
  for (let i = 0; i < n; i++) data[rng.int(0, data.length - 1)] ^= rng.int(1, 255);
  return { bundle: withFile(b, name, data), what: `flip ${n} bytes in ${name}` };
};

const replaceMain: Mutator = (rng, b) => {
  const kinds: Array<[string, Uint8Array]> = [
    ['empty file', new Uint8Array(0)],
    ['HTML page', enc('<!DOCTYPE html>\n<html><head><title>GitHub</title></head><body>not a model</body></html>\n')],
    ['random bytes', Uint8Array.from({ length: 4096 }, () => rng.int(0, 255))],
    ['JSON null', enc('null')],
    ['JSON array', enc('[1,2,3]')],
    ['deep JSON', enc('['.repeat(200000) + ']'.repeat(200000))],
    ['HDF5 magic only', Uint8Array.from(HDF5_MAGIC)],
    ['zip magic only', Uint8Array.from([0x50, 0x4b, 3, 4, 0, 0])],
  ];
  const [what, data] = pick(rng, kinds);
  return { bundle: withFile(b, b.main, data), what: `replace ${b.main} with ${what}` };
};

// ---------- JSON values ----------

type Path = Array<string | number>;

/** Paths to every value (at most 64 deep: mutants of mutants can be pathologically nested). */
function leafPaths(v: unknown, p: Path = [], out: Path[] = []): Path[] {
  out.push(p);
  if (p.length >= 64) return out;
  if (Array.isArray(v)) v.forEach((x, i) => leafPaths(x, [...p, i], out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) leafPaths(x, [...p, k], out);
  return out;
}

function setAt(root: unknown, p: Path, value: unknown): unknown {
  if (p.length === 0) return value;
  let cur = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) cur = cur[k] as Record<string | number, unknown>;
  cur[p[p.length - 1]] = value;
  return root;
}

const INTERESTING_KEYS = /^(shape|units|batch_input_shape|batch_shape|filters|kernel_size|strides|pool_size|input_dim|output_dim|dtype|paths|class_name|name|layers|weights|inbound_nodes|target_shape|dims|axis|rate|activation|input_layers|output_layers|weightsManifest|modelTopology|config|model_config|signature|attr|value|tensorShape|dim|size|n|padding|dilation_rate|use_bias|return_sequences)$/;

const JSON_REPLACEMENTS: Array<[string, () => unknown]> = [
  ['1e308', () => 1e308],
  ['2^53', () => 2 ** 53],
  ['1e9', () => 1e9],
  ['65536', () => 65536],
  ['-1', () => -1],
  ['-7', () => -7],
  ['0', () => 0],
  ['0.5', () => 0.5],
  ['"x"', () => 'x'],
  ['null', () => null],
  ['true', () => true],
  ['{}', () => ({})],
  ['[]', () => []],
  ['[1e9,1e9]', () => [1e9, 1e9]],
  ['[null,-5]', () => [null, -5]],
  ['"NaN"', () => 'NaN'],
  ['"__proto__"', () => '__proto__'],
];

/** Replace one value in a JSON document; null when the bytes are not JSON. */
function mutateJsonBytes(rng: Rng, bytes: Uint8Array): { data: Uint8Array; what: string } | null {
  const json = parseJson(bytes);
  if (json === undefined) return null;
  const paths = leafPaths(json).filter((p) => p.length > 0);
  if (paths.length === 0) return null;
  const interesting = paths.filter((p) => INTERESTING_KEYS.test(String(p[p.length - 1])) || (p.length > 1 && INTERESTING_KEYS.test(String(p[p.length - 2]))));
  const p = interesting.length && rng.uniform() < 0.7 ? pick(rng, interesting) : pick(rng, paths);
  const [label, make] = pick(rng, JSON_REPLACEMENTS);
  const mutated = setAt(json, p, make());
  return { data: enc(JSON.stringify(mutated)), what: `${p.join('.')} := ${label}` };
}

const jsonValue: Mutator = (rng, b) => {
  const jsonFiles = [...b.files.keys()].filter((n) => parseJson(b.files.get(n)!) !== undefined);
  if (jsonFiles.length === 0) return null;
  const name = pick(rng, jsonFiles);
  const m = mutateJsonBytes(rng, b.files.get(name)!);
  return m && { bundle: withFile(b, name, m.data), what: `JSON ${name}: ${m.what}` };
};

/** TF.js weight manifests: drop, duplicate or reorder shard paths and weight entries, or delete a shard. */
const shards: Mutator = (rng, b) => {
  const json = parseJson(b.files.get(b.main)!) as { weightsManifest?: Array<{ paths: string[]; weights: unknown[] }> } | undefined;
  const groups = json?.weightsManifest;
  if (!Array.isArray(groups) || groups.length === 0) return null;
  const g = pick(rng, groups);
  const dir = b.main.includes('/') ? b.main.slice(0, b.main.lastIndexOf('/') + 1) : '';
  const ops: Array<[string, () => Bundle | null]> = [
    ['drop first shard path', () => { g.paths.shift(); return withFile(b, b.main, enc(JSON.stringify(json))); }],
    ['duplicate shard path', () => { g.paths.push(g.paths[0]); return withFile(b, b.main, enc(JSON.stringify(json))); }],
    ['delete shard file', () => withFile(b, dir + g.paths[0].replace(/^\.\//, ''), null)],
    ['drop a weight entry', () => { g.weights.splice(rng.int(0, g.weights.length - 1), 1); return withFile(b, b.main, enc(JSON.stringify(json))); }],
    ['duplicate a weight entry', () => { g.weights.push(g.weights[rng.int(0, g.weights.length - 1)]); return withFile(b, b.main, enc(JSON.stringify(json))); }],
    ['reverse weight entries', () => { g.weights.reverse(); return withFile(b, b.main, enc(JSON.stringify(json))); }],
    ['shard path escapes the directory', () => { g.paths[0] = '../../../../../../etc/passwd'; return withFile(b, b.main, enc(JSON.stringify(json))); }],
    ['shard path is absolute', () => { g.paths[0] = '/dev/zero'; return withFile(b, b.main, enc(JSON.stringify(json))); }],
    ['weights shard doubled', () => {
      const f = dir + g.paths[0].replace(/^\.\//, '');
      const d = b.files.get(f);
      if (!d) return null;
      const twice = new Uint8Array(d.length * 2); twice.set(d); twice.set(d, d.length);
      return withFile(b, f, twice);
    }],
  ];
  const [what, run] = pick(rng, ops);
  const out = run();
  return out && { bundle: out, what: `shards: ${what}` };
};

// ---------- HDF5 ----------

/** Addresses of object headers: root (from the superblock), every SNOD entry, every OHDR. */
export function hdf5ObjectHeaders(b: Uint8Array): number[] {
  const v = dv(b);
  const out = new Set<number>();
  const version = b[8];
  const addr = (at: number) => (at + 8 <= b.length ? Number(v.getBigUint64(at, true)) : -1);
  if (version === 0) out.add(addr(64));
  else if (version === 1) out.add(addr(68));
  else out.add(addr(36));
  for (let i = 0; i + 8 <= b.length; i++) {
    if (b[i] === 0x53 && b[i + 1] === 0x4e && b[i + 2] === 0x4f && b[i + 3] === 0x44) {
      const n = v.getUint16(i + 6, true);
      for (let k = 0; k < n && i + 8 + k * 40 + 16 <= b.length; k++) out.add(addr(i + 8 + k * 40 + 8));
    }
    if (b[i] === 0x4f && b[i + 1] === 0x48 && b[i + 2] === 0x44 && b[i + 3] === 0x52) out.add(i);
  }
  return [...out].filter((a) => a > 0 && a < b.length - 16).sort((a, c) => a - c);
}

function mutateHdf5Bytes(rng: Rng, src: Uint8Array): { data: Uint8Array; what: string } | null {
  if (!isHdf5(src)) return null;
  const data = src.slice();
  const v = dv(data);
  const ops: Array<[string, () => string | null]> = [
    ['object header', () => {
      const heads = hdf5ObjectHeaders(data);
      if (!heads.length) return null;
      const at = pick(rng, heads);
      const mode = rng.int(0, 5);
      const v1 = data[at] === 1;
      switch (mode) {
        case 0: { const n = rng.int(8, 64); for (let i = 0; i < n && at + i < data.length; i++) data[at + i] = rng.int(0, 255); return `random ${n} bytes over object header @${at}`; }
        case 1: if (v1) { v.setUint16(at + 2, 0xffff, true); return `object header @${at}: 65535 messages`; } data[at + 4] = 0xff; return `OHDR @${at}: version 255`;
        case 2: if (v1) { v.setUint32(at + 8, 0xffffffff, true); return `object header @${at}: size 4 GiB`; } data[at + 5] = 0xff; return `OHDR @${at}: flags 0xff`;
        case 3: if (v1 && at + 24 < data.length) { v.setUint16(at + 18, 0xffff, true); return `object header @${at}: first message size 65535`; } return null;
        case 4: if (v1 && at + 24 < data.length) { v.setUint16(at + 16, rng.int(0, 0x30), true); return `object header @${at}: first message type changed`; } return null;
        default: data.fill(0, at, Math.min(data.length, at + 64)); return `object header @${at} zeroed`;
      }
    }],
    ['structure signature', () => {
      const sigs: number[] = [];
      for (let i = 0; i + 4 <= data.length; i++) {
        const s = String.fromCharCode(data[i], data[i + 1], data[i + 2], data[i + 3]);
        if (s === 'TREE' || s === 'HEAP' || s === 'SNOD' || s === 'GCOL' || s === 'FRHP' || s === 'BTHD' || s === 'BTIN' || s === 'FSHD') sigs.push(i);
      }
      if (!sigs.length) return null;
      const at = pick(rng, sigs);
      const n = rng.int(4, 40);
      for (let i = 4; i < 4 + n && at + i < data.length; i++) data[at + i] = rng.uniform() < 0.5 ? 0xff : rng.int(0, 255);
      return `${String.fromCharCode(...data.subarray(at, at + 4))} @${at}: ${n} bytes overwritten`;
    }],
    ['superblock', () => {
      const at = rng.int(8, 95);
      data[at] = rng.uniform() < 0.5 ? 0xff : rng.int(0, 255);
      return `superblock byte ${at} := ${data[at]}`;
    }],
    ['config JSON in place', () => {
      // model_config / weight_names attributes: length-preserving edits keep the file parseable.
      const text = new TextDecoder('latin1').decode(data);
      const starts: number[] = [];
      for (const m of text.matchAll(/"(units|batch_input_shape|batch_shape|filters|kernel_size|class_name|activation|dtype|axis|pool_size|strides|target_shape|inbound_nodes)":\s?/g)) starts.push(m.index! + m[0].length);
      if (!starts.length) return null;
      const at = pick(rng, starts);
      const tok = /^(-?\d+|"[^"]*"|\[[^\]]*\]|null|true|false)/.exec(text.slice(at, at + 200));
      if (!tok) return null;
      const len = tok[0].length;
      const choices = [
        '9'.repeat(len), len >= 2 ? '-' + '9'.repeat(len - 1) : '0', len >= 3 ? '9e9'.padEnd(len, ' ') : '0'.repeat(len),
        len >= 2 ? '"' + 'x'.repeat(len - 2) + '"' : '0', len >= 4 ? 'null'.padEnd(len, ' ') : '0'.repeat(len),
        len >= 2 ? '[' + ' '.repeat(len - 2) + ']' : '0', '}'.repeat(len),
      ];
      const repl = pick(rng, choices);
      for (let i = 0; i < len; i++) data[at + i] = repl.charCodeAt(i);
      return `config token ${JSON.stringify(tok[0])} → ${JSON.stringify(repl)}`;
    }],
  ];
  const [label, run] = pick(rng, ops);
  const what = run();
  return what ? { data, what: `HDF5 ${label}: ${what}` } : null;
}

const hdf5: Mutator = (rng, b) => {
  const name = [...b.files.keys()].find((n) => isHdf5(b.files.get(n)!));
  if (!name) return null;
  const m = mutateHdf5Bytes(rng, b.files.get(name)!);
  return m && { bundle: withFile(b, name, m.data), what: `${name}: ${m.what}` };
};

// ---------- zip ----------

const zipStructure: Mutator = (rng, b) => {
  const src = b.files.get(b.main)!;
  if (!isZip(src)) return null;
  const data = src.slice();
  const v = dv(data);
  const eocd = findEocd(data);
  const cds = centralHeaders(data);
  const locals = localHeaders(data);
  const huge = () => pick(rng, [0xffffffff, 0x7fffffff, 0x80000000, rng.int(0, 0xffffffff) >>> 0, data.length + 1, 0]);
  const ops: Array<() => string | null> = [
    () => { if (eocd < 0) return null; v.setUint16(eocd + 8, rng.int(0, 0xffff), true); v.setUint16(eocd + 10, rng.int(0, 0xffff), true); return 'EOCD entry count'; },
    () => { if (eocd < 0) return null; v.setUint32(eocd + 12, huge(), true); return 'EOCD directory size'; },
    () => { if (eocd < 0) return null; v.setUint32(eocd + 16, huge(), true); return 'EOCD directory offset'; },
    () => { if (eocd < 0) return null; data.fill(0, eocd, eocd + 4); return 'EOCD signature erased'; },
    () => { if (!cds.length) return null; const at = pick(rng, cds); v.setUint32(at + 20, huge(), true); return `central header @${at}: compressed size`; },
    () => { if (!cds.length) return null; const at = pick(rng, cds); v.setUint32(at + 24, huge(), true); return `central header @${at}: uncompressed size`; },
    () => { if (!cds.length) return null; const at = pick(rng, cds); v.setUint32(at + 42, huge(), true); return `central header @${at}: local header offset`; },
    () => { if (!cds.length) return null; const at = pick(rng, cds); v.setUint16(at + 28, rng.int(0, 0xffff), true); return `central header @${at}: name length`; },
    () => { if (!cds.length) return null; const at = pick(rng, cds); v.setUint16(at + 10, pick(rng, [1, 9, 12, 14, 99, 0xffff]), true); return `central header @${at}: compression method`; },
    () => { if (!cds.length) return null; const at = pick(rng, cds); const n = rng.int(8, 46); for (let i = 0; i < n; i++) data[at + i] = rng.int(0, 255); return `central header @${at}: ${n} random bytes`; },
    () => { if (!locals.length) return null; const at = pick(rng, locals); v.setUint16(at + 28, 0xffff, true); return `local header @${at}: extra length 65535`; },
    () => { if (!locals.length) return null; const at = pick(rng, locals); v.setUint32(at + 18, huge(), true); return `local header @${at}: compressed size`; },
  ];
  const what = pick(rng, ops)();
  return what ? { bundle: withFile(b, b.main, data), what: `zip ${what}` } : null;
};

function zipMembers(b: Bundle): Map<string, Uint8Array> | null {
  const src = b.files.get(b.main)!;
  if (!isZip(src)) return null;
  try {
    return readZip(src);
  } catch {
    return null;
  }
}

const zipMember: Mutator = (rng, b) => {
  const members = zipMembers(b);
  if (!members) return null;
  const names = [...members.keys()];
  const name = pick(rng, names);
  const data = members.get(name)!;
  let what: string;
  const op = rng.int(0, 3);
  if (op === 0) {
    members.delete(name);
    what = `drop member ${name}`;
  } else if (op === 1) {
    const m = mutateJsonBytes(rng, data) ?? mutateHdf5Bytes(rng, data);
    if (!m) return null;
    members.set(name, m.data);
    what = `member ${name}: ${m.what}`;
  } else if (op === 2) {
    const at = rng.int(0, Math.max(0, data.length - 1));
    members.set(name, data.slice(0, at));
    what = `member ${name} truncated at ${at}/${data.length}`;
  } else {
    const entries: RawEntry[] = names.map((n) => entry(n, members.get(n)!));
    entries.push(entry(name, enc('{"class_name": "Dense"}')));
    return { bundle: withFile(b, b.main, writeZip(entries)), what: `duplicate member ${name}` };
  }
  const entries: RawEntry[] = [...members].map(([n, d]) => entry(n, d));
  return { bundle: withFile(b, b.main, writeZip(entries)), what: `zip ${what}` };
};

const zipBomb: Mutator = (rng, b) => {
  const members = zipMembers(b);
  if (!members) return null;
  const names = [...members.keys()];
  const target = pick(rng, names);
  const lie = rng.uniform() < 0.5;
  const entries: RawEntry[] = names.map((n) => {
    if (n !== target) return entry(n, members.get(n)!);
    const bomb = bombEntry(n);
    // Half the bombs claim a small size in the headers: a reader must not trust it.
    return lie ? { ...bomb, size: members.get(n)!.length } : bomb;
  });
  return { bundle: withFile(b, b.main, writeZip(entries)), what: `zip bomb: ${target} inflates to 256 MiB${lie ? ' (headers claim ' + members.get(target)!.length + ' bytes)' : ''}` };
};

/** Every operator, by name. */
export const MUTATORS: Record<string, Mutator> = { truncate, flipBytes, replaceMain, jsonValue, shards, hdf5, zipStructure, zipMember, zipBomb };

/**
 * Make one mutant of a bundle: one operator (sometimes two, stacked) that applies to it.
 *
 * @example
 * const m = mutate(new Rng(1), bundle); // { bundle, what: 'truncate model.json at 120/2236' }
 */
export function mutate(rng: Rng, b: Bundle): Mutant {
  const names = Object.keys(MUTATORS);
  for (let attempt = 0; attempt < 50; attempt++) {
    const m = MUTATORS[pick(rng, names)](rng, b);
    if (!m) continue;
    if (rng.uniform() < 0.15) {
      const second = MUTATORS[pick(rng, names.filter((n) => n !== 'zipBomb'))](rng, m.bundle);
      if (second) return { bundle: second.bundle, what: `${m.what}; then ${second.what}` };
    }
    return m;
  }
  return truncate(rng, b)!;
}
