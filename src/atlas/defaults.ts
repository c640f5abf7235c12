// The atlas's and queue worker's defaults, apart from their code: the CLI shows them in --help
// without loading TF.js or the queue.

/** Atlas defaults: fewer steps and restarts than `maximize`, because an atlas runs every unit. */
export const ATLAS_DEFAULTS = { steps: 100, restarts: 4, seed: 0, image: 'auto' } as const;

/** Stalled-job defaults: 30 s locks, a check every 15 s, 2 recoveries per job. */
export const WORKER_DEFAULTS = { lockSeconds: 30, maxStalled: 2, threads: 1 } as const;
