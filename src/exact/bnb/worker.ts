import { parentPort } from 'node:worker_threads';
import { loadHighsHere } from '../highs-here.js';
import { NodeWorkbench } from './executor.js';

/**
 * Entry of a branch-and-bound worker thread (started by threads.ts). It holds one problem's
 * {@link NodeWorkbench} and answers one request at a time:
 * `{ id, type: 'init', problem, effort, stop }` (stop: a SharedArrayBuffer of one Int32),
 * `{ id, type: 'run', node, target }`,
 * `{ id, type: 'polish' | 'explore', s, options }`, `{ id, type: 'release' }` →
 * `{ id, ok: true, result }` or `{ id, ok: false, message }`.
 */
const port = parentPort;
if (!port) throw new Error('bnb worker: not in a worker thread');
let bench: NodeWorkbench | null = null;

port.on('message', (m: { id: number; type: string; [k: string]: unknown }) => {
  void handle(m).then(
    (result) => port.postMessage({ id: m.id, ok: true, result }),
    (e: unknown) => port.postMessage({ id: m.id, ok: false, message: e instanceof Error ? (e.stack ?? e.message) : String(e) }),
  );
});

async function handle(m: { type: string; [k: string]: unknown }): Promise<unknown> {
  switch (m.type) {
    case 'init': {
      const highs = await loadHighsHere();
      bench?.dispose();
      bench = new NodeWorkbench(highs, m.problem as ConstructorParameters<typeof NodeWorkbench>[1], m.effort as ConstructorParameters<typeof NodeWorkbench>[2], new Int32Array(m.stop as SharedArrayBuffer));
      return null;
    }
    case 'run':
      if (!bench) throw new Error('bnb worker: no problem loaded');
      return bench.run(m.node as Parameters<NodeWorkbench['run']>[0], m.target as number);
    case 'polish':
      if (!bench) throw new Error('bnb worker: no problem loaded');
      return bench.polish(m.s as Float64Array, m.options as Parameters<NodeWorkbench['polish']>[1]);
    case 'explore':
      if (!bench) throw new Error('bnb worker: no problem loaded');
      return bench.explore(m.s as Float64Array, m.options as Parameters<NodeWorkbench['explore']>[1]);
    case 'release':
      bench?.dispose();
      bench = null;
      return null;
    default:
      throw new Error(`bnb worker: unknown request ${m.type}`);
  }
}
