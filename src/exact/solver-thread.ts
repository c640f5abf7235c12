import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { ActmaxError } from '../errors.js';
import { SOLVER_CORE_SOURCE } from './highs-core.js';

/**
 * Where HiGHS runs: this file is the Node variant (a `worker_threads` worker). The web build
 * replaces it with solver-thread.browser.ts (an alias in web/vite.config.ts), which starts a Web
 * Worker instead; both export the same {@link SolverThread} interface.
 */

/** A worker running the solver core of highs-core.ts. */
export interface SolverThread {
  /** Send a request (`mip` or `bounds`) to the worker. */
  post(message: unknown): void;
  /** Listen to the worker's messages; returns a function that stops listening. */
  onMessage(handler: (message: Record<string, unknown>) => void): () => void;
  /** Listen to the worker's crashes; returns a function that stops listening. */
  onError(handler: (error: Error) => void): () => void;
  /**
   * Ask HiGHS to stop at its next checkpoint. Returns false when this environment cannot signal a
   * running solve (no shared memory): then only {@link SolverThread.terminate} stops it.
   */
  requestStop(): boolean;
  /** Clear a stop request before the next solve. */
  clearStop(): void;
  /** End the worker (a running solve is lost; its best incumbent was already posted). */
  terminate(): Promise<void>;
}

// The worker is plain CommonJS JavaScript (no TypeScript loader needed in the thread).
const NODE_PRELUDE = String.raw`
const { parentPort, workerData } = require('node:worker_threads');
const loadHighs = require(workerData.highsPath);
const stop = new Int32Array(workerData.stop);
const ready = loadHighs();
const post = (m) => parentPort.postMessage(m);
`;

/**
 * Start HiGHS in a Node worker thread (it loads its WebAssembly there).
 *
 * @example
 * const thread = startSolverThread();
 * const off = thread.onMessage((m) => console.log(m.type));
 * thread.post({ type: 'mip', … });
 */
export function startSolverThread(): SolverThread {
  const require = createRequire(import.meta.url);
  let highsPath: string;
  try {
    highsPath = require.resolve('highs');
  } catch {
    throw new ActmaxError('unsupported', 'exact mode needs the npm package "highs"; install it with npm install highs');
  }
  const stopBuffer = new SharedArrayBuffer(4);
  const stop = new Int32Array(stopBuffer);
  const source = `${NODE_PRELUDE}\n${SOLVER_CORE_SOURCE}\nparentPort.on('message', handle);\n`;
  const worker = new Worker(source, { eval: true, workerData: { highsPath, stop: stopBuffer } });
  worker.unref();
  return {
    post: (message) => worker.postMessage(message),
    onMessage(handler) {
      worker.on('message', handler);
      return () => worker.off('message', handler);
    },
    onError(handler) {
      worker.on('error', handler);
      return () => worker.off('error', handler);
    },
    requestStop() {
      Atomics.store(stop, 0, 1);
      return true;
    },
    clearStop() {
      Atomics.store(stop, 0, 0);
    },
    async terminate() {
      await worker.terminate();
    },
  };
}
