import type { NodeExecutor } from './executor.js';

/**
 * The browser twin of threads.ts (the web build aliases it): no worker threads, so the
 * branch-and-bound runs in the calling thread (the playground's compute worker).
 */

/** One thread: the caller's. @example defaultThreads() // 1 */
export function defaultThreads(): number {
  return 1;
}

/** No workers here. @example acquireExecutors(2) // [] */
export function acquireExecutors(_count: number): NodeExecutor[] {
  return [];
}

/** No workers here. @example acquireIdleExecutors(2) // [] */
export function acquireIdleExecutors(_count: number): NodeExecutor[] {
  return [];
}

/** Nothing to give back. @example releaseExecutors([]) */
export function releaseExecutors(_exs: NodeExecutor[]): void {}

/** Worker threads are not available here. @example threadsAvailable() // false */
export function threadsAvailable(): boolean {
  return false;
}
