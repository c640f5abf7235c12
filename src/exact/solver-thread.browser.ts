/// <reference lib="dom" />
import { SOLVER_CORE_SOURCE } from './highs-core.js';
import type { SolverThread } from './solver-thread.js';

/**
 * Where HiGHS runs in a browser: a module Web Worker (started from the page or nested inside a
 * compute worker) that imports the `highs` package's ES module and WebAssembly from URLs the web
 * build serves (web/vite.config.ts copies them to `highs/`). The web build aliases
 * solver-thread.ts to this file, so no Node module reaches the bundle.
 *
 * Without cross-origin isolation there is no shared memory, so a running solve cannot be asked to
 * stop; {@link SolverThread.requestStop} returns false and the caller terminates the worker,
 * keeping the best incumbent it has already received.
 */

let highsBase: string | null = null;

/**
 * Tell the solver where the `highs` files are served: a folder URL holding `highs.mjs` and
 * `highs.wasm`. Call once before the first exact solve.
 *
 * @example
 * setHighsLocation(new URL('highs/', 'https://example.org/playground/').href); // a page's document.baseURI
 */
export function setHighsLocation(folderUrl: string): void {
  highsBase = folderUrl.endsWith('/') ? folderUrl : `${folderUrl}/`;
}

/**
 * The folder URL the `highs` files are served from (set by {@link setHighsLocation}, else
 * `highs/` next to the page).
 *
 * @example
 * const url = new URL('highs.mjs', highsLocation());
 */
export function highsLocation(): string {
  const g = globalThis as unknown as { location?: { href: string } };
  return highsBase ?? new URL('highs/', g.location?.href ?? 'http://localhost/').href;
}

function browserPrelude(base: string): string {
  const moduleUrl = JSON.stringify(new URL('highs.mjs', base).href);
  return String.raw`
let stop = new Int32Array(1);
const post = (m) => self.postMessage(m);
const ready = import(${moduleUrl}).then((mod) => mod.default({ locateFile: (file) => new URL(file, ${JSON.stringify(base)}).href }));
ready.catch(() => {});
`;
}

const BROWSER_LISTEN = String.raw`
self.onmessage = (e) => {
  if (e.data && e.data.type === 'stop-buffer') { stop = new Int32Array(e.data.buffer); return; }
  handle(e.data);
};
`;

/**
 * Start HiGHS in a module Web Worker built from the solver core's source.
 *
 * @example
 * setHighsLocation('/highs/');
 * const thread = startSolverThread();
 */
export function startSolverThread(): SolverThread {
  const base = highsLocation();
  const source = `${browserPrelude(base)}\n${SOLVER_CORE_SOURCE}\n${BROWSER_LISTEN}`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  const worker = new Worker(url, { type: 'module', name: 'highs' });
  // Shared memory exists only in cross-origin isolated pages; elsewhere Stop terminates the worker.
  const shared = typeof SharedArrayBuffer !== 'undefined' && (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated === true;
  const stop = shared ? new Int32Array(new SharedArrayBuffer(4)) : null;
  if (stop) worker.postMessage({ type: 'stop-buffer', buffer: stop.buffer });
  let ended = false;
  return {
    post: (message) => worker.postMessage(message),
    onMessage(handler) {
      const listener = (ev: MessageEvent) => handler(ev.data as Record<string, unknown>);
      worker.addEventListener('message', listener);
      return () => worker.removeEventListener('message', listener);
    },
    onError(handler) {
      const listener = (ev: ErrorEvent) => {
        ev.preventDefault();
        handler(new Error(`HiGHS worker: ${ev.message || 'it failed to start (is highs/highs.mjs served?)'}`));
      };
      worker.addEventListener('error', listener);
      return () => worker.removeEventListener('error', listener);
    },
    requestStop() {
      if (!stop) return false;
      Atomics.store(stop, 0, 1);
      return true;
    },
    clearStop() {
      if (stop) Atomics.store(stop, 0, 0);
    },
    async terminate() {
      if (ended) return;
      ended = true;
      worker.terminate();
      URL.revokeObjectURL(url);
    },
  };
}
