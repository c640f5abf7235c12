import * as tf from '@tensorflow/tfjs';
import { ActmaxError } from './errors.js';
import { installKernelFixes } from './engine/wasm-kernels.js';

/** Compute backends actmax can run TF.js on. `tensorflow` needs the user's own `@tensorflow/tfjs-node`. */
export type BackendName = 'wasm' | 'cpu' | 'tensorflow' | 'webgl' | 'webgpu';

let wasmRegistered: Promise<void> | null = null;

async function registerWasm(): Promise<void> {
  wasmRegistered ??= import('@tensorflow/tfjs-backend-wasm').then(() => undefined);
  return wasmRegistered;
}

/**
 * Select the TF.js backend. Default: WASM (SIMD) in Node, falling back to CPU if WASM cannot start.
 * Returns the backend actually in use.
 *
 * @example
 * await useBackend();          // 'wasm'
 * await useBackend('cpu');     // 'cpu'
 */
export async function useBackend(name?: BackendName): Promise<BackendName> {
  const wanted: BackendName = name ?? 'wasm';
  if (wanted === 'wasm') await registerWasm();
  // Missing/wrong gradient kernels of TF.js 4.22 (WASM and CPU); idempotent.
  installKernelFixes();
  if (tf.getBackend() === wanted && tf.engine().backend) return wanted;
  if (wanted === 'wasm') {
    try {
      if (await tf.setBackend('wasm')) {
        await tf.ready();
        return 'wasm';
      }
    } catch {
      // fall through to the CPU backend below
    }
    if (name) throw new ActmaxError('backend', 'the WASM backend could not start; use --backend cpu');
    await tf.setBackend('cpu');
    await tf.ready();
    return 'cpu';
  }
  if (wanted === 'tensorflow') {
    try {
      // Optional: only present if the user installed it themselves; never a dependency.
      const mod = '@tensorflow/tfjs-node';
      await import(/* @vite-ignore */ mod);
    } catch {
      throw new ActmaxError('backend', 'backend "tensorflow" needs @tensorflow/tfjs-node, which is not installed; use --backend wasm or cpu');
    }
  }
  let ok = false;
  try {
    ok = await tf.setBackend(wanted);
  } catch {
    ok = false;
  }
  if (!ok) throw new ActmaxError('backend', `backend "${wanted}" is not available here; choose one of: wasm, cpu`);
  await tf.ready();
  return wanted;
}

/** The backend TF.js is using now. @example currentBackend() // 'wasm' */
export function currentBackend(): string {
  return tf.getBackend();
}
