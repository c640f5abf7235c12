import { hostname } from 'node:os';
import { ActmaxError } from '../errors.js';
import { encodePng, isImageShape, toRgba } from '../io/png.js';
import type { ActmaxModel } from '../model/types.js';
import { maximize, type MaximizeResult } from '../optimize/maximize.js';
import { batchSeed } from './plan.js';
import type { AtlasSettings, BatchResult, PlannedBatch, PlannedUnit, UnitPicture, UnitResult } from './types.js';

/** Options of {@link runAtlasBatch}. */
export interface RunBatchOptions {
  /** Stop early; the batch then throws (a partial batch is never returned). */
  signal?: AbortSignal;
  /**
   * Most units per `maximize` call (a worker's --max-batch). A larger batch runs in pieces, each
   * seeded from the batch seed and its piece number: its units' values then differ from an uncut
   * run's, so the plan's batch size is the one to lower when every worker is small.
   */
  maxUnits?: number;
  /** Who runs it, recorded in the result (default host:pid). */
  worker?: string;
  /** onnxruntime intra-op threads per `maximize` call (default {@link ATLAS_INTRA_OP_THREADS}). */
  intraOpThreads?: number;
}

export { ATLAS_INTRA_OP_THREADS } from './defaults.js';
import { ATLAS_INTRA_OP_THREADS } from './defaults.js';

/** The pieces a batch runs in: the whole batch, or consecutive slices of at most `maxUnits`. */
function pieces(batch: PlannedBatch, maxUnits: number | undefined): Array<{ seed: number; units: PlannedUnit[] }> {
  const n = maxUnits && maxUnits < batch.units.length ? maxUnits : batch.units.length;
  if (n === batch.units.length) return [{ seed: batch.seed, units: batch.units }];
  const out: Array<{ seed: number; units: PlannedUnit[] }> = [];
  for (let i = 0; i < batch.units.length; i += n) out.push({ seed: batchSeed(batch.seed, out.length + 1), units: batch.units.slice(i, i + n) });
  return out;
}

function picture(values: ArrayLike<number>, value: number, shape: number[], range: [number, number]): UnitPicture {
  if (!isImageShape(shape)) return { value, input: Array.from(values) };
  return { value, png: Buffer.from(encodePng(toRgba(values, shape, range))).toString('base64') };
}

/** One unit's result from its row block of a maximize run. */
function unitResult(run: MaximizeResult, t: number, unit: PlannedUnit, model: ActmaxModel, meta: { seconds: number; batch: number; piece: number }): UnitResult {
  const r = run.results[t];
  const info = model.inputs.find((i) => i.name in r.inputs) ?? model.inputs[0];
  const n = r.input.length;
  const restarts: UnitPicture[] = [];
  for (let j = 0; j < run.restarts; j++) {
    const row = t * run.restarts + j;
    const values = run.restartInputs ? run.restartInputs.subarray(row * n, (row + 1) * n) : r.input;
    restarts.push(picture(values, r.perRestart?.[j]?.value ?? r.value, r.shape, info.range));
  }
  return {
    id: unit.id,
    value: r.value,
    best: picture(r.input, r.value, r.shape, info.range),
    restarts,
    winner: r.restart,
    history: r.history,
    outputs: r.outputs,
    steps: run.steps,
    seconds: meta.seconds,
    seed: run.seed,
    engine: run.engine,
    backend: run.backend,
    batch: meta.batch,
    piece: meta.piece,
  };
}

/**
 * Run one planned batch: its units as one `maximize` call (targets × restarts rows, the batch's
 * seed, the image defaults of the input kind unless `image` is `none`), and return every unit's
 * value, pictures (PNG, base64) and curve. A stopped run throws: a batch is all or nothing.
 *
 * @example
 * const plan = planAtlas(model, { steps: 50 });
 * const result = await runAtlasBatch(model, plan.batches[0], plan.settings, { atlasId: plan.atlasId });
 * result.units[0].value
 */
export async function runAtlasBatch(model: ActmaxModel, batch: PlannedBatch, settings: AtlasSettings & { atlasId: string }, options: RunBatchOptions = {}): Promise<BatchResult> {
  const t0 = performance.now();
  const units: UnitResult[] = [];
  for (const [k, piece] of pieces(batch, options.maxUnits).entries()) {
    const started = performance.now();
    const run = await maximize(model, piece.units.map((u) => u.spec), {
      steps: settings.steps,
      restarts: settings.restarts,
      seed: piece.seed,
      ...(settings.image === 'auto' ? { image: 'auto' as const } : {}),
      keepRestarts: true,
      intraOpThreads: options.intraOpThreads ?? ATLAS_INTRA_OP_THREADS,
      signal: options.signal,
    });
    if (run.interrupted) throw new ActmaxError('aborted', `batch ${batch.index} was stopped before its last step`);
    const seconds = (performance.now() - started) / 1000 / piece.units.length;
    piece.units.forEach((u, t) => units.push(unitResult(run, t, u, model, { seconds, batch: batch.index, piece: k })));
  }
  return { atlasId: settings.atlasId, batch: batch.index, units, seconds: (performance.now() - t0) / 1000, worker: options.worker ?? `${hostname()}:${process.pid}` };
}
