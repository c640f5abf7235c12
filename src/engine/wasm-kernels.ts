import * as tf from '@tensorflow/tfjs';

/*
 * Gradient kernels TF.js 4.22 lacks or gets wrong (measured, see shared notes):
 *  - WASM misses DepthwiseConv2dNativeBackpropInput / …BackpropFilter (Depthwise/SeparableConv2D),
 *    Conv2DBackpropFilter (hit by every linear Conv2D: the fused-conv gradient computes the filter
 *    gradient even when only the input gradient is wanted) and UnsortedSegmentSum (gradient of gather).
 *  - WASM's MaxPoolGrad sends the gradient to the window's first element when the whole window is
 *    negative (it then runs only for non-negative inputs, else the CPU kernel); its
 *    Conv3DBackpropInputV2 is wrong.
 *  - The CPU backend's ResizeNearestNeighborGrad (UpSampling2D) reads dy with the wrong batch stride
 *    for batch > 1.
 *  - Both backends' AvgPoolGrad divide by the full window size, but the forward op averages over the
 *    unpadded pixels only: wrong gradients at the borders with 'same' padding.
 * WASM gets the CPU backend's (correct) kernels, run on copies of the data; the CPU backend gets a
 * corrected ResizeNearestNeighborGrad (also used for WASM, whose own one is replaced to be safe).
 */

type KernelFunc = tf.KernelConfig['kernelFunc'];
type TensorInfo = tf.TensorInfo;
interface DataBackend {
  readSync(dataId: object): ArrayLike<number> | Uint8Array[];
  write(values: unknown, shape: number[], dtype: tf.DataType): object;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** Kernels WASM runs through the CPU backend. */
const VIA_CPU = [
  'DepthwiseConv2dNativeBackpropInput',
  'DepthwiseConv2dNativeBackpropFilter',
  'Conv2DBackpropFilter',
  'UnsortedSegmentSum',
  'Conv3DBackpropInputV2',
] as const;

const installed = new Map<string, KernelFunc>();

function cpuBackend(): DataBackend {
  const cpu = tf.engine().findBackend('cpu') as unknown as DataBackend | null;
  if (!cpu) throw new Error('the TF.js CPU backend is not registered; it is needed for WASM gradient kernels');
  return cpu;
}

/** A WASM kernel that copies its inputs to the CPU backend, runs the CPU kernel and copies the result back. */
function viaCpu(kernelName: string): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }) => {
    const wasm = args.backend as DataBackend & { makeOutput(shape: number[], dtype: tf.DataType, memoryOffset?: number, values?: unknown): TensorInfo };
    const cpu = cpuBackend();
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpuKernel) throw new Error(`TF.js CPU backend has no ${kernelName} kernel`);
    const moved: Record<string, TensorInfo> = {};
    for (const [name, t] of Object.entries(args.inputs)) {
      if (!t) continue;
      moved[name] = { dataId: cpu.write(wasm.readSync(t.dataId), t.shape, t.dtype), shape: t.shape, dtype: t.dtype };
    }
    try {
      const out = cpuKernel.kernelFunc({ inputs: moved, attrs: (args.attrs ?? {}) as tf.NamedAttrMap, backend: cpu as unknown as tf.KernelBackend });
      const list = Array.isArray(out) ? out : [out];
      const back = list.map((o) => {
        const values = cpu.readSync(o.dataId);
        cpu.disposeData(o.dataId, true);
        return wasm.makeOutput(o.shape, o.dtype, undefined, values);
      });
      return Array.isArray(out) ? back : back[0];
    } finally {
      for (const t of Object.values(moved)) cpu.disposeData(t.dataId, true);
    }
  }) as unknown as KernelFunc;
}

/** Nearest-neighbour resize gradient, correct for any batch size (mirrors the forward op's index rule). */
function resizeNearestNeighborGrad(args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }): TensorInfo {
  const backend = args.backend as DataBackend & { makeTensorInfo?: (s: number[], d: tf.DataType, v: Float32Array) => TensorInfo; makeOutput?: (s: number[], d: tf.DataType, m?: number, v?: unknown) => TensorInfo };
  const { images, dy } = args.inputs;
  const alignCorners = Boolean(args.attrs?.alignCorners);
  const [batch, xH, xW, depth] = images.shape;
  const [, yH, yW] = dy.shape;
  const dyValues = backend.readSync(dy.dataId) as ArrayLike<number>;
  const out = new Float32Array(batch * xH * xW * depth);
  const hScale = (alignCorners && yH > 1 ? xH - 1 : xH) / (alignCorners && yH > 1 ? yH - 1 : yH);
  const wScale = (alignCorners && yW > 1 ? xW - 1 : xW) / (alignCorners && yW > 1 ? yW - 1 : yW);
  // Source pixel of each output row/column, exactly as the forward kernel chooses it.
  const srcRow = Array.from({ length: yH }, (_, r) => Math.min(xH - 1, alignCorners ? Math.round(r * hScale) : Math.floor(r * hScale)));
  const srcCol = Array.from({ length: yW }, (_, c) => Math.min(xW - 1, alignCorners ? Math.round(c * wScale) : Math.floor(c * wScale)));
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < yH; r++) {
      for (let c = 0; c < yW; c++) {
        const from = ((b * yH + r) * yW + c) * depth;
        const to = ((b * xH + srcRow[r]) * xW + srcCol[c]) * depth;
        for (let d = 0; d < depth; d++) out[to + d] += dyValues[from + d];
      }
    }
  }
  if (backend.makeTensorInfo) return backend.makeTensorInfo(images.shape, 'float32', out);
  return backend.makeOutput!(images.shape, 'float32', undefined, out);
}

/**
 * Average-pool gradient that divides by the number of real (unpadded) pixels in each window, as
 * the forward op does; both backends' own kernels divide by the full window size, so 'same'
 * padding gave wrong gradients at the borders.
 */
function avgPoolGrad(args: { inputs: Record<string, TensorInfo>; attrs?: Record<string, unknown>; backend: unknown }): TensorInfo {
  const backend = args.backend as DataBackend & { makeTensorInfo?: (s: number[], d: tf.DataType, v: Float32Array) => TensorInfo; makeOutput?: (s: number[], d: tf.DataType, m?: number, v?: unknown) => TensorInfo };
  const { dy, input } = args.inputs;
  const attrs = args.attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], attrs.filterSize, attrs.strides, 1, attrs.pad, attrs.dimRoundingMode);
  const { batchSize, inHeight, inWidth, inChannels: depth, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const top = info.padInfo.top, left = info.padInfo.left;
  const dyValues = backend.readSync(dy.dataId) as ArrayLike<number>;
  const out = new Float32Array(batchSize * inHeight * inWidth * depth);
  for (let b = 0; b < batchSize; b++) {
    for (let oy = 0; oy < outHeight; oy++) {
      const r0 = Math.max(0, oy * strideHeight - top), r1 = Math.min(inHeight, oy * strideHeight - top + filterHeight);
      for (let ox = 0; ox < outWidth; ox++) {
        const c0 = Math.max(0, ox * strideWidth - left), c1 = Math.min(inWidth, ox * strideWidth - left + filterWidth);
        const count = (r1 - r0) * (c1 - c0);
        if (count <= 0) continue;
        const from = ((b * outHeight + oy) * outWidth + ox) * depth;
        for (let r = r0; r < r1; r++) {
          for (let c = c0; c < c1; c++) {
            const to = ((b * inHeight + r) * inWidth + c) * depth;
            for (let d = 0; d < depth; d++) out[to + d] += dyValues[from + d] / count;
          }
        }
      }
    }
  }
  if (backend.makeTensorInfo) return backend.makeTensorInfo(input.shape, 'float32', out);
  return backend.makeOutput!(input.shape, 'float32', undefined, out);
}

/** Spread a [kh, kw, ci, co] filter to its dilated form (zeros between taps). */
function dilateFilter(filter: tf.Tensor4D, dh: number, dw: number): tf.Tensor4D {
  const spread = (w: tf.Tensor4D, axis: 0 | 1, d: number): tf.Tensor4D => {
    if (d === 1) return w;
    const k = w.shape[axis];
    const zeroShape = w.shape.slice() as [number, number, number, number];
    zeroShape[axis] = 1;
    const padded = tf.concat([w, tf.zeros(zeroShape)], axis);
    const index = Array.from({ length: (k - 1) * d + 1 }, (_, p) => (p % d === 0 ? p / d : k));
    return tf.gather(padded, index, axis) as tf.Tensor4D;
  };
  return spread(spread(filter, 0, dh), 1, dw);
}

let conv2dGradPatched = false;

/**
 * TF.js refuses the gradient of a dilated Conv2D. A dilated conv equals an ordinary conv with the
 * dilated filter (stride is 1 whenever dilation > 1), so its input gradient is that conv's
 * backprop. Only the unfused Conv2D kernel can be patched: a dilated Conv2D with a *linear*
 * activation and a bias runs as a fused op whose gradient still refuses.
 */
function patchDilatedConv2dGradient(): void {
  if (conv2dGradPatched) return;
  const original = tf.getGradient('Conv2D');
  if (!original) return;
  conv2dGradPatched = true;
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as { dilations: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dataFormat?: string };
      const [dh, dw] = typeof a.dilations === 'number' ? [a.dilations, a.dilations] : a.dilations ?? [1, 1];
      if ((dh === 1 && dw === 1) || (a.dataFormat && a.dataFormat !== 'NHWC')) return original.gradFunc(dy, saved, attrs);
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      return {
        x: () => tf.conv2dTranspose(dy as tf.Tensor4D, dilateFilter(filter, dh, dw), x.shape, a.strides, a.pad),
        filter: () => {
          throw new Error(`the filter gradient of a dilated Conv2D (dilations ${dh},${dw}) is not supported`);
        },
      };
    },
  });
}

/**
 * WASM's own MaxPoolGrad is right whenever every window's maximum is ≥ 0 and a window with maximum
 * 0 is all zeros (any choice among equal zeros is then fine) — guaranteed when the pooled input has
 * no negative value, the usual ReLU → MaxPool case. Otherwise the CPU kernel runs.
 */
function maxPoolGrad(wasmOwn: KernelFunc, cpuFallback: KernelFunc): KernelFunc {
  return ((args: { inputs: Record<string, TensorInfo>; backend: unknown }) => {
    const wasm = args.backend as { typedArrayFromHeap(t: TensorInfo): ArrayLike<number> };
    const x = wasm.typedArrayFromHeap(args.inputs.input);
    let nonNegative = true;
    for (let i = 0; i < x.length; i++) {
      if (!(x[i] >= 0)) {
        nonNegative = false;
        break;
      }
    }
    return (nonNegative ? wasmOwn : cpuFallback)(args as never);
  }) as unknown as KernelFunc;
}

function install(kernelName: string, backendName: string, kernelFunc: KernelFunc, setupFunc?: tf.KernelConfig['setupFunc']): void {
  const key = `${backendName}_${kernelName}`;
  const current = tf.getKernel(kernelName, backendName);
  if (current && current.kernelFunc === installed.get(key)) return;
  if (current) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc, setupFunc });
  installed.set(key, kernelFunc);
}

/**
 * Register the missing and corrected gradient kernels for the WASM and CPU backends. Idempotent;
 * call it after the WASM backend's module is imported (a later import would overwrite the fixes,
 * and calling again re-installs them). `useBackend` does this.
 *
 * @example
 * await import('@tensorflow/tfjs-backend-wasm');
 * installKernelFixes();
 * await tf.setBackend('wasm');
 */
export function installKernelFixes(): void {
  patchDilatedConv2dGradient();
  // Until the WASM module is imported its kernels are not registered; registering ours first would
  // be overwritten (noisily) by the import, so wait for the next call.
  const wasmLoaded = tf.getKernel('Conv2D', 'wasm') !== undefined;
  for (const name of wasmLoaded ? VIA_CPU : []) {
    const key = `wasm_${name}`;
    install(name, 'wasm', installed.get(key) ?? viaCpu(name));
  }
  const resize = installed.get('cpu_ResizeNearestNeighborGrad') ?? installed.get('wasm_ResizeNearestNeighborGrad') ?? (resizeNearestNeighborGrad as unknown as KernelFunc);
  install('ResizeNearestNeighborGrad', 'cpu', resize);
  if (wasmLoaded) install('ResizeNearestNeighborGrad', 'wasm', resize);
  if (wasmLoaded) {
    const current = tf.getKernel('MaxPoolGrad', 'wasm');
    const ours = installed.get('wasm_MaxPoolGrad');
    if (current && current.kernelFunc !== ours) install('MaxPoolGrad', 'wasm', maxPoolGrad(current.kernelFunc, viaCpu('MaxPoolGrad')), current.setupFunc); // its setup binds the WASM function
  }
  const avg = installed.get('cpu_AvgPoolGrad') ?? (avgPoolGrad as unknown as KernelFunc);
  install('AvgPoolGrad', 'cpu', avg);
  if (wasmLoaded) install('AvgPoolGrad', 'wasm', avg);
}
