// The atlas's and queue worker's defaults, apart from their code: the CLI shows them in --help
// without loading TF.js or the queue.

/** Atlas defaults: fewer steps and restarts than `maximize`, because an atlas runs every unit. */
export const ATLAS_DEFAULTS = { steps: 100, restarts: 4, seed: 0, image: 'auto' } as const;

/** Stalled-job defaults: 30 s locks, a check every 15 s, 2 recoveries per job. */
export const WORKER_DEFAULTS = { lockSeconds: 30, maxStalled: 2, threads: 1 } as const;

/**
 * The atlas scales by workers (threads or `actmax worker` processes), one per core, so each runs
 * its ONNX sessions on one intra-op thread: two workers then use two cores, not four threads
 * fighting over two. Raise it (`--intra-op-threads`) when a machine has more cores than workers.
 */
export const ATLAS_INTRA_OP_THREADS = 1;
