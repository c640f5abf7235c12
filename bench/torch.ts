import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import type { IrGraph } from '../src/ir/ir.js';
import type { ActmaxModel } from '../src/model/types.js';
import { emit, root, type Row } from './common.js';

/*
 * PyTorch peers (bench/peers/torch_loop.py, Debian python3-torch): the plain Adam + clip loop on
 * the bundled MLP and the small CNN, and the image-defaults loop (per-row ±2 px jitter, TV 0.5)
 * on the bundled MLP and on a sequential conv net exported from its IR.
 */

/** Measured reference figures (shared notes, same kind of machine) for when PyTorch is not installed. */
export const TORCH_REFERENCE = [
  { model: 'fashion-mnist-mlp', batch: 1, imageStepsPerSec: 4300 },
  { model: 'fashion-mnist-mlp', batch: 160, imageStepsPerSec: 120000 },
  { model: 'fashion-mnist-mlp', batch: 1000, imageStepsPerSec: 120000 },
  { model: 'small-cnn', batch: 64, imageStepsPerSec: 2540 },
];

/** The Python that has torch (`python3` may be another interpreter than Debian's), or null. */
function torchPython(): string | null {
  return ['python3', '/usr/bin/python3'].find((py) => spawnSync(py, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0) ?? null;
}

/**
 * The BLAS library torch's process loads (Debian's python3-torch uses whichever libblas.so.3 the
 * system's alternatives name): "openblas-pthread" or "reference" (≈ 4–10× slower on these loops).
 */
function torchBlas(python: string): string {
  const probe = "import torch; torch.ones(64, 64) @ torch.ones(64, 64); print(' '.join(sorted({l.split()[-1] for l in open('/proc/self/maps') if 'blas' in l.lower()})))";
  const libs = spawnSync(python, ['-c', probe], { encoding: 'utf8' }).stdout ?? '';
  return /openblas/.test(libs) ? (/pthread/.test(libs) ? 'openblas-pthread' : 'openblas') : /libblas/.test(libs) ? 'reference' : 'unknown';
}

function run(python: string, args: string[], timeout: number): void {
  const out = spawnSync(python, [path.join(root, 'bench/peers/torch_loop.py'), ...args], { encoding: 'utf8', timeout });
  const blas = torchBlas(python);
  for (const line of out.stdout.split('\n').filter((l) => l.startsWith('{'))) emit({ ...(JSON.parse(line) as Row), bench: 'torch', blas });
  if (out.status !== 0) console.error(out.stderr);
}

/** The plain loop's peers (or the reference figures when PyTorch is missing). @example torchPeers() */
export function torchPeers(): void {
  const python = torchPython();
  if (!python) {
    emit({ bench: 'torch', model: '-', engine: 'pytorch', backend: 'unavailable', threads: 1, batch: 0, note: 'PyTorch is not installed here (python3 -c "import torch" fails); reference figures from measured-facts (PyTorch 1.13, 1 thread, same kind of machine)', reference: TORCH_REFERENCE });
    return;
  }
  run(python, [path.join(root, 'models/fashion-mnist-mlp')], 120_000);
}

/**
 * The image-defaults loop in PyTorch on the bundled MLP and (when given) a sequential conv net;
 * false when PyTorch is missing.
 *
 * @example
 * torchPipelinePeers(cnn) // rows with bench 'torch' and pipeline 'jitter 2 + tv 0.5'
 */
export function torchPipelinePeers(net: ActmaxModel | null): boolean {
  const python = torchPython();
  if (!python) return false;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'actmax-bench-'));
  try {
    const args = [path.join(root, 'models/fashion-mnist-mlp'), '--pipeline'];
    if (net?.ir) args.push(writeSpec(net.ir, 'mnist_cnn', dir));
    run(python, args, 600_000);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return true;
}

/**
 * A sequential conv net (Conv2D+ReLU, MaxPool, flatten, Dense(+ReLU); dropout and the final
 * softmax left out: the loop climbs logits) as the JSON + weights torch_loop.py reads.
 */
function writeSpec(ir: IrGraph, name: string, dir: string): string {
  const chunks: Float32Array[] = [];
  let offset = 0;
  const put = (data: Float32Array, shape: number[]) => {
    chunks.push(data);
    const w = { shape, offset };
    offset += data.byteLength;
    return w;
  };
  const layers: unknown[] = [];
  const relu = new Set(ir.nodes.filter((n) => n.op === 'Relu').map((n) => n.inputs[0]));
  for (const n of ir.nodes) {
    const c = (k: number) => ir.consts.get(n.inputs[k])!;
    if (n.op === 'Conv2D') layers.push({ kind: 'conv', kernel: put(c(1).data, c(1).shape), bias: put(c(2).data, c(2).shape), pads: n.pads[0] });
    else if (n.op === 'MaxPool') layers.push({ kind: 'maxpool', size: n.ksize[0] });
    else if (n.op === 'Reshape') layers.push({ kind: 'flatten' });
    else if (n.op === 'MatMul') layers.push({ kind: 'dense', kernel: put(c(1).data, c(1).shape), bias: put(c(2).data, c(2).shape), relu: relu.has(n.name) });
  }
  const buf = Buffer.concat(chunks.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength)));
  fs.writeFileSync(path.join(dir, 'weights.bin'), buf);
  const shape = ir.inputs[0].shape;
  const spec = path.join(dir, 'spec.json');
  fs.writeFileSync(spec, JSON.stringify({ name, shape: [shape[2] ?? 1, shape[0], shape[1]], weights: 'weights.bin', layers }));
  return spec;
}
