// Fuzz runner child: loads a model file with loadModel and runs one forward pass on zeros and on
// random inputs, then prints ONE line `@@fuzz {json}` per file.
//   node --import tsx scripts/fuzz/child.ts FILE     one file
//   node --import tsx scripts/fuzz/child.ts --serve  files as JSON lines {id, file} on stdin
import { createInterface } from 'node:readline';
import { isActmaxError } from '../../src/errors.js';

/**
 * TF.js and the loaders (≈ 3 CPU s to import), loaded before the child says it is ready. In
 * self-test mode they are loaded only for a file that is not a self-test: the self-tests misbehave
 * before any model is read, and the harness test starts a child for each.
 */
async function importStack() {
  const [tf, { useBackend }, { loadModel }, { buildForward }] = await Promise.all([
    import('@tensorflow/tfjs'),
    import('../../src/backend.js'),
    import('../../src/model/load.js'),
    import('../../src/model/activations.js'),
  ]);
  await useBackend(process.env.ACTMAX_FUZZ_BACKEND === 'cpu' ? 'cpu' : 'wasm');
  return { tf, loadModel, buildForward };
}
let stack: Awaited<ReturnType<typeof importStack>> | undefined;
const selfTesting = process.env.ACTMAX_FUZZ_SELFTEST === '1';

/** What the child reports for one file. */
export interface ChildResult {
  id?: number;
  status: 'ok' | 'actmax-error' | 'exception' | 'nonfinite';
  code?: string;
  message?: string;
  name?: string;
  stack?: string;
  /** The third-party error loadModel's safety net wrapped, when that is what caught it. */
  wrapped?: string;
  ms: number;
}

let current: number | undefined;

function emit(r: ChildResult): void {
  process.stdout.write(`@@fuzz ${JSON.stringify(r)}\n`);
}

// Anything escaping the awaited chain (a stray rejection, a throw in a callback) is a crash too.
for (const ev of ['uncaughtException', 'unhandledRejection'] as const) {
  process.on(ev, (e: unknown) => {
    const err = e as Error;
    emit({ id: current, status: 'exception', name: `${ev}:${err?.name}`, message: String(err?.message ?? e), stack: err?.stack, ms: 0 });
    process.exit(3);
  });
}

/** Misbehaviours on request, so tests can prove the harness detects each kind of failure. */
async function selfTest(file: string): Promise<void> {
  const what = file.split(/[\\/]/).pop();
  if (what === 'selftest-hang') for (;;);
  if (what === 'selftest-exit') process.exit(7);
  if (what === 'selftest-throw') throw new TypeError('cannot read properties of undefined');
  if (what === 'selftest-escape') {
    setTimeout(() => { throw new RangeError('thrown from a timer'); }, 0);
    // Wait for it: a fast refusal of the (missing) file must not report first.
    await new Promise((r) => setTimeout(r, 2000));
  }
  if (what === 'selftest-oom') {
    const hold: Uint8Array[] = [];
    for (;;) {
      hold.push(new Uint8Array(32 << 20).fill(1));
      await new Promise((r) => setTimeout(r, 5));
    }
  }
}

async function runOne(file: string): Promise<Omit<ChildResult, 'id' | 'ms'>> {
  try {
    if (selfTesting) await selfTest(file);
    stack ??= await importStack();
    const { tf, loadModel, buildForward } = stack;
    const model = await loadModel(file);
    try {
      const forward = buildForward(model, []);
      try {
        const bad = tf.tidy(() => {
          const inputs = model.inputs.map((i) => {
            const zeros = tf.zeros([1, ...i.shape]);
            const rand = tf.randomUniform([1, ...i.shape], i.range[0], i.range[1], 'float32', 7);
            return tf.concat([zeros, rand], 0);
          });
          const { outputs } = forward.run(inputs);
          for (const o of outputs) {
            const v = o.dataSync();
            for (let k = 0; k < v.length; k++) if (!Number.isFinite(v[k])) return `output ${o.shape} value ${k} is ${v[k]}`;
          }
          return null;
        });
        return bad ? { status: 'nonfinite', message: bad } : { status: 'ok' };
      } finally {
        forward.dispose();
      }
    } finally {
      model.dispose();
    }
  } catch (e) {
    if (isActmaxError(e)) {
      // Caught only by loadModel's safety net: passes, but the report lists it for a proper check.
      const cause = (e as { cause?: unknown }).cause;
      const wrapped = cause && !isActmaxError(cause) ? `${(cause as Error).name}: ${(cause as Error).stack?.split('\n').slice(0, 4).join(' | ')}` : undefined;
      return { status: 'actmax-error', code: e.code, message: e.message, ...(wrapped ? { wrapped } : {}) };
    }
    const err = e as Error;
    return { status: 'exception', name: err?.name ?? typeof e, message: String(err?.message ?? e), stack: err?.stack };
  }
}

async function main(): Promise<void> {
  if (!selfTesting) stack = await importStack();
  const args = process.argv.slice(2);
  if (args[0] !== '--serve') {
    const t = performance.now();
    emit({ ...(await runOne(args[0])), ms: performance.now() - t });
    return;
  }
  process.stdout.write('@@fuzz-ready\n');
  const rl = createInterface({ input: process.stdin });
  for await (const line of rl) {
    if (!line.trim()) continue;
    const job = JSON.parse(line) as { id: number; file: string };
    current = job.id;
    const t = performance.now();
    emit({ id: job.id, ...(await runOne(job.file)), ms: performance.now() - t });
    current = undefined;
  }
}

await main();
