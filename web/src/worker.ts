/// <reference lib="webworker" />
/**
 * The compute worker: holds the TF.js model and runs gradient search (and the exact solver,
 * when the build has one) off the page's thread, so the page stays responsive. It speaks only
 * the typed messages of messages.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import {
  chooseEngine, decoderPrior, fetchStoredPrior, installKernelFixes, loadModel, maximize, priorInputs, setOnnxLocation, setOnnxThreads, subspacePrior, validate,
  type ActmaxModel, type Constraint, type Engine, type EngineFactory, type StoredPrior,
} from 'actmax/browser';
import { PageToWorkerSchema, type BackendChoice, type ExactRequest, type ModelSummary, type PageToWorker, type PriorRequest, type RunRequest, type WorkerToPage } from './messages.js';
import { runExact, exactAvailable, configureExact } from './exact-bridge.js';

declare const self: DedicatedWorkerGlobalScope;

let model: ActmaxModel | null = null;
let bundledUrl = '';
let activeRun: { id: number; abort: AbortController } | null = null;
let activeExact: { id: number; abort: AbortController } | null = null;
let backendReady: Promise<string> | null = null;

function post(msg: WorkerToPage, transfer: Transferable[] = []): void {
  self.postMessage(msg, transfer);
}

function errorMessage(e: unknown): { code?: string; message: string } {
  const err = e as { code?: string; message?: string };
  return { code: typeof err?.code === 'string' ? err.code : undefined, message: err?.message ?? String(e) };
}

/** Try the backends in order; each must also compute a tiny sum correctly before it is trusted. */
async function pickBackend(choice: BackendChoice, wasmPrefix: string, tried: string[]): Promise<string> {
  setWasmPaths(wasmPrefix);
  // The WASM module is imported above, so its kernels exist: add the missing/corrected gradients.
  installKernelFixes();
  const order: Array<'webgl' | 'wasm' | 'cpu'> = choice === 'auto' ? ['webgl', 'wasm', 'cpu'] : [choice, ...(['wasm', 'cpu'] as const).filter((b) => b !== choice)];
  for (const name of order) {
    try {
      if (!(await tf.setBackend(name))) {
        tried.push(`${name}: not available`);
        continue;
      }
      await tf.ready();
      const check = tf.tidy(() => tf.add(tf.scalar(1), tf.scalar(2)).dataSync()[0]);
      if (check !== 3) throw new Error(`1+2 gave ${check}`);
      // WebGL emulated on the CPU (SwiftShader, llvmpipe) is several times slower than WASM SIMD.
      const renderer = name === 'webgl' ? webglRenderer() : '';
      if (choice === 'auto' && /swiftshader|llvmpipe|software/i.test(renderer)) {
        tried.push(`webgl: software renderer (${renderer}), skipped`);
        continue;
      }
      tried.push(`${name}: ok`);
      return name;
    } catch (e) {
      tried.push(`${name}: ${errorMessage(e).message}`);
    }
  }
  throw new Error(`no TF.js backend could start (${tried.join('; ')})`);
}

/** The GPU's name as WebGL reports it ('' when unknown). */
function webglRenderer(): string {
  try {
    const gl = (tf.backend() as unknown as { gpgpu?: { gl?: WebGLRenderingContext } }).gpgpu?.gl;
    if (!gl) return '';
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    return String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER) ?? '');
  } catch {
    return '';
  }
}

function summarize(m: ActmaxModel, bundled: boolean): ModelSummary {
  return { source: m.source, format: m.format, kerasVersion: m.kerasVersion, inputs: m.inputs, outputs: m.outputs, layers: m.layers, notes: m.notes, bundled };
}

async function load(source: string | Record<string, ArrayBuffer>): Promise<void> {
  await backendReady;
  post({ type: 'loading', what: typeof source === 'string' ? source : Object.keys(source).join(', ') });
  try {
    const next = typeof source === 'string' ? await loadModel(source) : await loadModel({ files: source });
    activeRun?.abort.abort();
    model?.dispose();
    model = next;
    post({ type: 'model', summary: summarize(next, typeof source === 'string' && source === bundledUrl) });
  } catch (e) {
    post({ type: 'error', ...errorMessage(e) });
  }
}

const yieldToEventLoop = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

/** The engine of the run in progress, for the status line. */
let engineName = '';

/** An engine giving the worker's event loop a turn every ~25 ms (between steps or fused chunks), so a Stop message gets through. */
function yielding(factory: EngineFactory): EngineFactory {
  return async (req) => {
    const inner: Engine = await factory(req);
    engineName = inner.name;
    let last = performance.now();
    const turn = async () => {
      if (performance.now() - last > 25) {
        await yieldToEventLoop();
        last = performance.now();
      }
    };
    const ascent = inner.ascent?.bind(inner);
    return {
      name: inner.name,
      rows: inner.rows,
      async valueAndGrad(xs, draws) {
        await turn();
        return inner.valueAndGrad(xs, draws);
      },
      evaluate: (xs) => inner.evaluate(xs),
      ...(ascent ? {
        async ascent(plan) {
          const a = await ascent(plan);
          return {
            ...(a.stepsPerCall ? { stepsPerCall: a.stepsPerCall } : {}),
            async run(state, alphas, draws) {
              await turn();
              return a.run(state, alphas, draws);
            },
          };
        },
      } : {}),
      dispose: () => inner.dispose(),
    };
  };
}

/** The first model output for each row of x (rows × features), or null for multi-input models. */
function firstOutputs(m: ActmaxModel, x: Float32Array, rows: number): Float32Array | null {
  if (m.inputs.length !== 1) return null;
  const y = tf.tidy(() => {
    const out = m.net.predict(tf.tensor(x, [rows, ...m.inputs[0].shape])) as tf.Tensor | tf.Tensor[];
    return (Array.isArray(out) ? out[0] : out).reshape([rows, -1]);
  });
  const data = Float32Array.from(y.dataSync());
  y.dispose();
  return data;
}

/** Stored priors by URL, fetched once (a failed fetch is forgotten, so a later run tries again). */
const storedPriors = new Map<string, Promise<StoredPrior>>();
/** The decoder of the last decoder prior, kept for the next run. */
let decoder: { url: string; model: Promise<ActmaxModel> } | null = null;

/** The `prior` constraint of a request: the stored subspace (K components) or the decoder, each with the library's default code set. */
async function priorConstraint(req: PriorRequest): Promise<Extract<Constraint, { kind: 'prior' }>> {
  if (req.kind === 'subspace') {
    let stored = storedPriors.get(req.url);
    if (!stored) {
      stored = fetchStoredPrior(req.url);
      storedPriors.set(req.url, stored);
      stored.catch(() => storedPriors.delete(req.url));
    }
    return { kind: 'prior', prior: subspacePrior(await stored, req.components, {}, `the dataset prior ${req.url}`) };
  }
  if (decoder?.url !== req.url) {
    void decoder?.model.then((m) => m.dispose(), () => {});
    const model = loadModel(req.url);
    decoder = { url: req.url, model };
    model.catch(() => (decoder = null));
  }
  return { kind: 'prior', prior: decoderPrior(await decoder.model) };
}

async function run(req: RunRequest): Promise<void> {
  const m = model;
  if (!m) return post({ type: 'error', id: req.id, message: 'no model is loaded yet' });
  activeRun?.abort.abort();
  const abort = new AbortController();
  activeRun = { id: req.id, abort };
  const rows = req.targets.length * req.restarts;
  let lastPost = 0;
  // The rate is counted from the first reported step, so compiling the engine is not in it.
  let first: { step: number; at: number } | null = null;
  try {
    const prior = req.prior ? await priorConstraint(req.prior) : null;
    // The ONNX engine (onnxruntime-web) when it can compile the model and objectives, else TF.js;
    // a decoder prior renders its input on TF.js only (a subspace prior is a matrix product).
    const choice = prior?.prior.type === 'decoder' && req.engine !== 'onnx'
      ? { ...(await chooseEngine(m, req.targets, { engine: 'tfjs' })), fallbackReason: 'a decoder prior renders the input, and only TF.js renders decoders' }
      : await chooseEngine(m, req.targets, { engine: req.engine ?? 'auto' });
    const constraints = prior ? [...req.constraints, prior] : req.constraints;
    // With a prior the search moves codes z: the page is shown the inputs they stand for.
    const shown = (x: Float32Array): Float32Array => (prior ? priorInputs(prior.prior, x, rows) : Float32Array.from(x));
    const result = await maximize(m, req.targets, {
      steps: req.steps,
      restarts: req.restarts,
      optimizer: req.optimizer,
      lr: req.lr,
      seed: req.seed,
      constraints,
      init: req.init ? { input: req.init } : 'random',
      signal: abort.signal,
      engine: yielding(choice.factory),
      onStep(info) {
        const now = performance.now();
        first ??= { step: info.step, at: now };
        // Throttled: about 8 pictures a second, plus the first and the last step.
        if (now - lastPost < 120 && info.step !== 0 && info.step !== info.steps - 1) return;
        lastPost = now;
        const x = shown(info.x);
        const outputs = firstOutputs(m, x, rows);
        const current = Float32Array.from(info.current);
        const seconds = (now - first.at) / 1000;
        post(
          {
            type: 'progress', id: req.id, step: info.step + 1, steps: info.steps, best: info.best, current, x,
            rowsPerTarget: info.rowsPerTarget, outputs, imageStepsPerSecond: seconds > 0 ? ((info.step - first.step) * rows) / seconds : 0, engine: engineName,
          },
          [x.buffer, current.buffer, ...(outputs ? [outputs.buffer] : [])],
        );
      },
    });
    const { results, ...summary } = result;
    post({ type: 'done', id: req.id, results, run: { ...summary, engine: choice.fallbackReason ? `${result.engine} (onnx: ${choice.fallbackReason})` : result.engine } });
  } catch (e) {
    post({ type: 'error', id: req.id, ...errorMessage(e) });
  } finally {
    if (activeRun?.id === req.id) activeRun = null;
  }
}

async function exact(req: ExactRequest): Promise<void> {
  const m = model;
  if (!m) return post({ type: 'error', id: req.id, message: 'no model is loaded yet' });
  if (!exactAvailable()) {
    return post({ type: 'exact-unavailable', id: req.id, message: 'this browser cannot start a Web Worker inside the compute worker, which the exact solver needs; use gradient search (Run)' });
  }
  activeExact?.abort.abort();
  const abort = new AbortController();
  activeExact = { id: req.id, abort };
  try {
    const constraints = req.prior ? [...req.constraints, await priorConstraint(req.prior)] : req.constraints;
    const result = await runExact(m, { ...req, constraints }, abort.signal, (p) => post({ type: 'exact-progress', id: req.id, ...p }));
    post({ type: 'exact-done', id: req.id, result });
  } catch (e) {
    post({ type: 'error', id: req.id, ...errorMessage(e) });
  } finally {
    if (activeExact?.id === req.id) activeExact = null;
  }
}

self.onmessage = (ev: MessageEvent<unknown>) => {
  let msg: PageToWorker;
  try {
    msg = validate(PageToWorkerSchema, ev.data, { where: 'message to the compute worker', expected: 'one of the page\'s messages (messages.ts)' }) as PageToWorker;
  } catch (e) {
    return post({ type: 'error', ...errorMessage(e) });
  }
  switch (msg.type) {
    case 'init': {
      bundledUrl = msg.modelUrl;
      configureExact(msg.highsPrefix);
      if (msg.onnxThreads) setOnnxThreads(msg.onnxThreads);
      const tried: string[] = [];
      backendReady = pickBackend(msg.backend, msg.wasmPrefix, tried);
      backendReady.then(
        (backend) => {
          post({ type: 'ready', backend, exactAvailable: exactAvailable(), tried });
          void load(msg.modelUrl);
        },
        (e) => post({ type: 'error', ...errorMessage(e) }),
      );
      break;
    }
    case 'load-url':
      void load(msg.url);
      break;
    case 'load-files':
      void load(msg.files);
      break;
    case 'run':
      void run(msg.run);
      break;
    case 'stop':
      if (activeRun?.id === msg.id) activeRun.abort.abort();
      break;
    case 'exact':
      void exact(msg.exact);
      break;
    case 'stop-exact':
      if (activeExact?.id === msg.id) activeExact.abort.abort();
      break;
  }
};
