// actmax's public API for Node: everything in api.ts (shared with the browser entry) plus what
// needs the file system.
export * from './api.js';
export { writeImageFiles } from './image/files.js';
export { writeRunFiles } from './io/results.js';
// The atlas (issue 15): every unit of every layer, resumable, on local threads or a BullMQ queue.
export { runAtlas, localRunner, type AtlasOptions, type AtlasSummary, type AtlasProgress, type BatchRunner } from './atlas/run.js';
export { planAtlas, chooseLayers, ATLAS_DEFAULTS, type PlanOptions } from './atlas/plan.js';
export { queueRunner, QUEUE_NAME } from './atlas/queue.js';
export { runQueueWorker, type QueueWorkerOptions } from './atlas/worker.js';
export type { AtlasPlan, AtlasSettings, ManifestUnit, PlannedUnit, UnitResult } from './atlas/types.js';
// Data priors read from files: the prior stored with a model, or computed from example files.
export { readStoredPrior, loadDatasetPrior, examplesPrior, datasetPriorPath } from './prior/dataset.js';
