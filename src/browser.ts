// actmax's public API for browsers (`import … from 'actmax/browser'`): everything in api.ts, and
// where the exact solver's Web Worker finds HiGHS. No Node modules in its import graph.
export * from './api.js';
export { setHighsLocation } from './exact/solver-thread.browser.js';
export { setOnnxLocation, setOnnxThreads } from './engine/onnx/runtime.browser.js';
