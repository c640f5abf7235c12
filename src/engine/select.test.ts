import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadModel } from '../model/load.js';
import { fixture } from '../model/testing/fixtures.js';
import { defaultThreads, perRowMacs, runThreads } from './select.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('default onnxruntime threads', () => {
  it('counts the multiply-adds of dense and conv layers per example', async () => {
    const mlp = await loadModel(path.join(root, 'models/fashion-mnist-mlp'));
    expect(perRowMacs(mlp.ir!)).toBe(784 * 128 + 128 * 10);
    const cnnPath = fixture('keras3-keras-mnist-mlp-cnn/mnist_cnn.keras');
    if (cnnPath) {
      const cnn = await loadModel(cnnPath);
      // conv 3×3×1→32 at 26×26, 3×3×32→64 at 11×11, 3×3×64→128 at 3×3, dense 1152→128→10.
      expect(perRowMacs(cnn.ir!)).toBe(26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 3 * 3 * 128 * 576 + 1152 * 128 + 128 * 10);
      cnn.dispose();
    }
    mlp.dispose();
  });

  it('gives a second thread to big batches, conv nets and long runs, one to short runs of small dense batches', () => {
    expect(defaultThreads(60, 101_632)).toBe(1);
    expect(defaultThreads(64, 101_632)).toBe(2);
    expect(defaultThreads(60, 3_237_248)).toBe(2);
    expect(defaultThreads(1, 3_237_248)).toBe(1);
    // A long run of a small dense batch: two threads, as two runs of rows (one thread each).
    expect(defaultThreads(60, 101_632, 150)).toBe(1);
    expect(defaultThreads(60, 101_632, 2000)).toBe(2);
    expect(defaultThreads(6, 101_632, 100_000)).toBe(1);
  });

  it('gives long runs one worker thread per core beyond two, as many as keep each run long enough', () => {
    expect(runThreads(1000, 101_632, 1000, 8)).toBe(8);
    expect(runThreads(1000, 101_632, 1000, 2)).toBeUndefined();
    // 60 rows × 2000 steps ≈ 1.2·10¹⁰ multiply-adds, long enough; at least 4 rows a run: 15 of the 16 cores.
    expect(runThreads(60, 101_632, 2000, 16)).toBe(15);
    expect(runThreads(60, 101_632, 150, 8)).toBeUndefined();
    expect(runThreads(1000, 101_632, undefined, 8)).toBeUndefined();
  });
});
