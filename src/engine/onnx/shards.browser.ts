import type { ShardThread } from './shards.js';

/*
 * The browser twin of shards.ts: no worker-thread sessions (onnxruntime-web threads itself, and
 * the page already runs the library in a worker).
 */

export type { ShardSession, ShardThread, StepwiseSpec, WireTensor } from './shards.js';

/** Whether sessions can run in worker threads here (the browser: no). @example shardsAvailable() // false */
export function shardsAvailable(): boolean {
  return false;
}

/** Not available in the browser (see {@link shardsAvailable}). @example openShardThread() // throws */
export function openShardThread(): ShardThread {
  throw new Error('sessions in worker threads are a Node feature');
}

/** No runs of rows in the browser: one. @example shardCores() // 1 */
export function shardCores(): number {
  return 1;
}
