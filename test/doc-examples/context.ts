/**
 * The names every `@example` of the public API may use without defining them, besides the public
 * exports, `tf` (`import * as tf from '@tensorflow/tfjs'`) and `z` (`import { z } from 'zod'`). Keep examples self-contained otherwise; when a new example needs another shared value, add it here.
 * Examples run with the working directory set to a scratch folder holding `models/` and
 * `test/fixtures/` (links to the repository's), so they may write files.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { loadModel } from '../../src/model/load.js';
import type { ActmaxModel } from '../../src/model/types.js';

export interface DocContext {
  /** The bundled Fashion-MNIST MLP (28×28 input in [0, 1], 10 classes, layers flatten, dense, dense_1). */
  model: ActmaxModel;
  /** A real 28×28 Fashion-MNIST test image (T-shirt), 784 values in [0, 1]. */
  image: number[];
}

/**
 * Build the shared values (once per test file).
 * @example
 * const ctx = await docContext('/repo'); ctx.image.length // 784
 */
export async function docContext(repo: string): Promise<DocContext> {
  const dir = path.join(repo, 'models', 'fashion-mnist-mlp');
  const examples = JSON.parse(readFileSync(path.join(dir, 'examples.json'), 'utf8')) as { examples: Array<{ input: number[] }> };
  return { model: await loadModel(dir), image: examples.examples[0].input };
}
