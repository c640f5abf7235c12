// NaN/Inf: rows whose value or gradient turns non-finite are re-initialised, counted and never
// returned; inputs containing NaN/Infinity are refused (exit 2 from the CLI).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../src/backend.js';
import { runCli } from '../src/cli/main.js';
import type { Engine, EngineFactory } from '../src/engine/engine.js';
import { createTfjsEngine } from '../src/engine/tfjs.js';
import { isActmaxError } from '../src/errors.js';
import { loadModel } from '../src/model/load.js';
import type { ActmaxModel } from '../src/model/types.js';
import { maximize } from '../src/optimize/maximize.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.join(repoRoot, 'models/fashion-mnist-mlp');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'actmax-nan-'));
let model: ActmaxModel;

beforeAll(async () => {
  await useBackend('wasm');
  model = await loadModel(modelDir);
});
afterAll(() => {
  model?.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

/** The real engine, with chosen rows poisoned at chosen gradient calls (0-based call index). */
function poisoned(plan: (call: number, values: Float32Array, grads: Float32Array[]) => void): EngineFactory {
  return async (req) => {
    const inner: Engine = await createTfjsEngine(req);
    let call = 0;
    return {
      name: `poisoned-${inner.name}`,
      rows: inner.rows,
      async valueAndGrad(xs) {
        const r = await inner.valueAndGrad(xs);
        plan(call++, r.values, r.grads);
        return r;
      },
      evaluate: (xs) => inner.evaluate(xs),
      dispose: () => inner.dispose(),
    };
  };
}

describe('non-finite values and gradients', () => {
  it('re-initialises poisoned rows, counts them, and never returns them', async () => {
    const n = 784;
    const rowsBefore = new Map<number, Float32Array>();
    const jumps: number[] = [];
    const engine = poisoned((call, values, grads) => {
      if (call === 2 || call === 5) values[1] = NaN; // value NaN
      if (call === 4) { values[2] = 1e30; grads[0][2 * n + 17] = Infinity; } // huge value, but gradient Inf
      if (call === 6) values[3] = Infinity; // +Infinity would win every comparison
      if (call === 8) { values[0] = 5e29; grads[0][5] = NaN; }
    });
    const res = await maximize(model, { kind: 'logit', index: 3 }, {
      steps: 30, restarts: 4, seed: 5, lr: 0.05, engine,
      onStep: (s) => {
        // How far row 1 moved in the step it was poisoned (re-initialised) vs. a normal step.
        if (s.step === 1 || s.step === 3) rowsBefore.set(s.step, s.x.slice(n, 2 * n));
        if (s.step === 2 || s.step === 4) {
          const before = rowsBefore.get(s.step - 1)!;
          let d = 0;
          for (let i = 0; i < n; i++) d += Math.abs(s.x[n + i] - before[i]);
          jumps.push(d / n);
        }
      },
    });
    expect(res.reinitialized).toBe(5);
    expect(res.steps).toBe(30);
    const r = res.results[0];
    expect(Number.isFinite(r.value)).toBe(true);
    expect(r.value).toBeLessThan(1e6); // none of the poisoned 1e30 / 5e29 / Infinity values
    expect(r.input.every((v) => Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
    expect(r.outputs.dense_1 ?? Object.values(r.outputs)[0]).toSatisfy((o: number[]) => o.every(Number.isFinite));
    expect(r.history.every((h) => Number.isFinite(h.value) && h.value < 1e6)).toBe(true);
    // Step 2 re-randomised row 1 (mean |Δx| of a fresh uniform point ≈ 1/3); step 4 was an ordinary step.
    expect(jumps[0]).toBeGreaterThan(0.15);
    expect(jumps[1]).toBeLessThan(0.06);
  });

  it('fails with an ActmaxError when every row is non-finite at every step', async () => {
    const engine = poisoned((_, values) => values.fill(NaN));
    const broken: EngineFactory = async (req) => {
      const e = await engine(req);
      return { ...e, valueAndGrad: (xs) => e.valueAndGrad(xs), evaluate: async (xs) => { const r = await e.evaluate(xs); r.values.fill(NaN); return r; } };
    };
    const err = await maximize(model, { kind: 'logit', index: 0 }, { steps: 5, restarts: 2, engine: broken }).catch((e) => e);
    expect(isActmaxError(err)).toBe(true);
    expect(err.code).toBe('bad-input');
  });

  it('refuses an initial input containing NaN (library)', async () => {
    const x = new Array(784).fill(0.5);
    x[100] = NaN;
    const err = await maximize(model, { kind: 'logit', index: 0 }, { steps: 2, init: { input: x } }).catch((e) => e);
    expect(isActmaxError(err)).toBe(true);
    expect(err.message).toMatch(/NaN or Infinity at position 100/);
  });
});

describe('CLI refuses non-finite inputs with exit 2', () => {
  const run = async (args: string[]) => {
    let err = '';
    const code = await runCli(args, { out: () => {}, err: (s) => void (err += s) });
    process.exitCode = undefined;
    return { code, err };
  };
  const file = (name: string, text: string) => {
    const p = path.join(tmp, name);
    writeFileSync(p, text);
    return p;
  };
  const values = (bad: string) => Array.from({ length: 784 }, (_, i) => (i === 7 ? bad : '0.5')).join(',');

  const cases: Array<[string, () => string[], RegExp]> = [
    ['--init JSON with 1e999 (Infinity)', () => ['maximize', modelDir, '--objective', 'logit:0', '--steps', '2', '--out', tmp, '--init', file('init.json', `[${values('1e999')}]`)], /init\.json: value 7 of input "flatten_input" is Infinity/],
    ['--init JSON with NaN', () => ['maximize', modelDir, '--objective', 'logit:0', '--steps', '2', '--out', tmp, '--init', file('init-nan.json', `[${values('NaN')}]`)], /init-nan\.json: value 7 of input "flatten_input" is NaN/],
    ['--init CSV with nan', () => ['maximize', modelDir, '--objective', 'logit:0', '--steps', '2', '--out', tmp, '--init', file('init.csv', `${values('nan')}\n`)], /init\.csv: value 7 is nan; inputs must be finite/],
    ['reference file of linf with -1e999', () => ['maximize', modelDir, '--objective', 'logit:0', '--steps', '2', '--out', tmp, '--constraint', `linf:${file('ref.json', `[${values('-1e999')}]`)},0.1`], /ref\.json: value 7 of input "flatten_input" is -Infinity/],
    ['--input of predict with NaN', () => ['predict', modelDir, '--input', file('in.json', `{"flatten_input": [${values('NaN')}]}`)], /in\.json: value 7 of input "flatten_input" is NaN/],
    ['--input of maximize with Infinity', () => ['maximize', modelDir, '--objective', 'logit:0', '--steps', '2', '--out', tmp, '--input', file('fixed.json', `{"flatten_input": [${values('1e400')}]}`)], /fixed\.json: value 7 of input "flatten_input" is Infinity/],
  ];
  for (const [label, args, why] of cases) {
    it(label, async () => {
      const { code, err } = await run(args());
      expect(code).toBe(2);
      expect(err).toMatch(/^actmax: .*\n$/);
      expect(err.trim().split('\n')).toHaveLength(1);
      expect(err).toMatch(why);
    });
  }
});
