/**
 * The atlas's plain data: what is planned (units, batches), what a batch run returns, and what the
 * manifest records. Everything here is JSON-safe, because it crosses worker threads and a Redis
 * queue unchanged.
 */
import type { ObjectiveSpec } from '../objectives/spec.js';

/** How a unit is read: a channel of a spatial layer (mean over positions), a neuron of a flat layer, or an output unit's logit. */
export type UnitKind = 'channel' | 'neuron' | 'logit';

/** One unit of the atlas. `id` is `LAYER/INDEX`, unique in the model. */
export interface PlannedUnit {
  id: string;
  layer: string;
  index: number;
  kind: UnitKind;
  /** The objective in the CLI grammar, e.g. `channel:conv2d:5`. */
  objective: string;
  spec: ObjectiveSpec;
}

/** One layer of the atlas. */
export interface PlannedLayer {
  name: string;
  className: string;
  kind: UnitKind;
  units: number;
  outputShape: number[];
  /** File-name-safe, unique form of the name (pages and unit folders use it). */
  slug: string;
}

/** A batch: units optimised together in one `maximize` call with one seed. */
export interface PlannedBatch {
  index: number;
  seed: number;
  units: PlannedUnit[];
}

/** What decides the pictures and values; two runs with equal settings on the same model give the same atlas. */
export interface AtlasSettings {
  steps: number;
  restarts: number;
  seed: number;
  /** Units per batch (the plan's packing; not the number of workers). */
  batchUnits: number;
  /** `auto`: the image defaults for the input kind (actmax inspect shows them); `none`: plain gradient ascent. */
  image: 'auto' | 'none';
}

/** Every unit of the chosen layers, packed into batches. */
export interface AtlasPlan {
  /** Hash of the model's weights and topology and of the settings: equal ids ⇒ interchangeable results. */
  atlasId: string;
  modelDigest: string;
  settings: AtlasSettings;
  layers: PlannedLayer[];
  units: PlannedUnit[];
  batches: PlannedBatch[];
}

/** One picture (PNG, base64) or, for inputs that are not images, the values themselves. */
export interface UnitPicture {
  value: number;
  png?: string;
  input?: number[];
}

/** The result of one unit, as a batch run returns it. */
export interface UnitResult {
  id: string;
  value: number;
  /** The best restart's picture (its value is `value`). */
  best: UnitPicture;
  /** Every restart's best picture and value, in restart order. */
  restarts: UnitPicture[];
  /** Which restart won. */
  winner: number;
  /** Best value so far, sampled over the steps. */
  history: Array<{ step: number; value: number }>;
  /** Every model output for the best input, by output name. */
  outputs: Record<string, number[]>;
  steps: number;
  /** The batch's wall time divided by its units. */
  seconds: number;
  /** Seed of the `maximize` call that produced the unit. */
  seed: number;
  engine: string;
  backend: string;
  batch: number;
  /** 0 unless a worker's --max-batch split the batch; then which piece ran the unit. */
  piece: number;
}

/** What one batch returns (to a thread's caller or through the queue). */
export interface BatchResult {
  atlasId: string;
  batch: number;
  units: UnitResult[];
  seconds: number;
  /** Who ran it (host:pid or thread), for the log. */
  worker: string;
}

/** One unit's line in manifest.json. */
export interface ManifestUnit {
  id: string;
  layer: string;
  unit: number;
  objective: string;
  value: number;
  steps: number;
  seconds: number;
  seed: number;
  engine: string;
  batch: number;
  /** Paths relative to the atlas folder. */
  files: { page: string; json: string; best?: string; restarts: string[] };
}
