/**
 * The solver side of the HiGHS adapter, as JavaScript source that runs inside a worker (a Node
 * worker thread or a browser Web Worker; see solver-thread.ts and solver-thread.browser.ts).
 * It is plain, environment-free JavaScript text so both kinds of worker can evaluate it without a
 * TypeScript loader or a bundler. The worker's prelude must define:
 *
 * - `post(message)`: send a message to the owner,
 * - `stop`: an Int32Array whose element 0 becomes non-zero when the owner asks HiGHS to stop,
 * - `ready`: a promise of the loaded `highs` module.
 *
 * Messages in: `{ type: 'mip', model, timeLimit, gap, start?, stopAtSolution?, options }`,
 * `{ type: 'bounds', model, targets, seconds }` and `{ type: 'lps', model, costs, seconds, lpSeconds }`
 * (one LP per cost vector, warm-started from the last; the row duals of each), dispatched by `handle(msg)`.
 * Messages out: `progress`, `incumbent`, `done`, `bounds`, `lps`, `error`.
 *
 * @example
 * const source = `const post = …; let stop = …; const ready = …;\n${SOLVER_CORE_SOURCE}\nonmessage = (e) => handle(e.data);`;
 */
export const SOLVER_CORE_SOURCE = String.raw`
const inf = (h, v) => (v === Infinity ? h.infinity : v === -Infinity ? -h.infinity : v);
function build(h, w) {
  const model = h.createModel();
  model.passModel({
    numCols: w.numCols, numRows: w.numRows,
    sense: w.maximize ? h.constants.objectiveSense.maximize : h.constants.objectiveSense.minimize,
    offset: w.offset, colCost: w.colCost,
    colLower: w.colLower.map((v) => inf(h, v)), colUpper: w.colUpper.map((v) => inf(h, v)),
    rowLower: w.rowLower.map((v) => inf(h, v)), rowUpper: w.rowUpper.map((v) => inf(h, v)),
    matrix: { format: 'csr', numRows: w.numRows, numCols: w.numCols, starts: w.starts, indices: w.indices, values: w.values },
    integrality: w.integrality,
  });
  return model;
}
function safe(f, d) { try { const v = f(); return v === undefined ? d : v; } catch { return d; } }
// One LP of a batch: HiGHS can fail on an LP it finds numerically hard (kError); that LP then has
// no answer (null) and the next starts from a cleared solver.
function runOrReset(m) {
  const r = safe(() => m.run(), null);
  if (!r) safe(() => m.clearSolver());
  return r;
}
function runMip(h, msg) {
  const m = build(h, msg.model);
  const t0 = Date.now();
  try {
    m.options.set({ output_flag: false, time_limit: msg.timeLimit, mip_rel_gap: msg.gap, ...msg.options });
    if (msg.start) safe(() => m.setSolution({ colValue: msg.start }));
    const ct = h.constants.callbackType;
    let lastPost = 0, found = false;
    const progress = (d) => {
      post({ type: 'progress', incumbent: d.mip_primal_bound ?? null, bound: d.mip_dual_bound ?? null, gap: d.mip_gap ?? null,
        nodes: Number(d.mip_node_count ?? 0), seconds: (Date.now() - t0) / 1000 });
    };
    const r = m.run({
      [ct.mipImprovingSolution](e) {
        post({ type: 'incumbent', objective: e.data.objective_function_value, colValue: e.data.mip_solution });
        found = true;
      },
      [ct.mipLogging](e) { progress(e.data); lastPost = Date.now(); },
      [ct.mipInterrupt](e) {
        if (Atomics.load(stop, 0) !== 0 || (Date.now() - t0) / 1000 > msg.timeLimit || (found && msg.stopAtSolution)) e.interrupt();
        if (Date.now() - lastPost > 500) { progress(e.data); lastPost = Date.now(); }
      },
    });
    const sol = safe(() => m.getSolution().colValue, null);
    const hasSol = safe(() => m.info.get('primal_solution_status'), 0) === 2;
    post({ type: 'done', modelStatus: r.modelStatus,
      objective: hasSol ? safe(() => m.getObjectiveValue(), null) : null,
      // An LP (no integer columns) has no MIP bound: its optimum is the bound.
      bound: msg.model.integrality.some((v) => v !== 0) ? safe(() => m.info.get('mip_dual_bound'), null)
        : r.modelStatus === h.constants.modelStatus.optimal ? safe(() => m.getObjectiveValue(), null) : null,
      nodes: Math.max(0, Number(safe(() => m.info.get('mip_node_count'), 0))),
      colValue: hasSol ? sol : null, seconds: (Date.now() - t0) / 1000 });
  } finally { m.dispose(); }
}
function runBounds(h, msg) {
  const m = build(h, msg.model);
  const t0 = Date.now();
  const lo = new Float64Array(msg.targets.length).fill(-Infinity);
  const hi = new Float64Array(msg.targets.length).fill(Infinity);
  let done = 0;
  try {
    m.options.set({ output_flag: false, time_limit: Math.max(0.01, msg.seconds) });
    const optimal = h.constants.modelStatus.optimal;
    for (let k = 0; k < msg.targets.length; k++) {
      if ((Date.now() - t0) / 1000 > msg.seconds || Atomics.load(stop, 0) !== 0) break;
      const c = msg.targets[k];
      m.changeColCost(c, 1);
      for (const sense of ['min', 'max']) {
        m.changeObjectiveSense(sense === 'min' ? h.constants.objectiveSense.minimize : h.constants.objectiveSense.maximize);
        const r = runOrReset(m);
        if (r && r.modelStatus === optimal) {
          const v = m.getObjectiveValue();
          if (sense === 'min') lo[k] = v; else hi[k] = v;
        }
      }
      m.changeColCost(c, 0);
      done++;
    }
  } finally { m.dispose(); }
  post({ type: 'bounds', lo, hi, done, seconds: (Date.now() - t0) / 1000 });
}
function runLps(h, msg) {
  const m = build(h, msg.model);
  const t0 = Date.now();
  const duals = [];
  try {
    m.options.set({ output_flag: false, presolve: 'off', time_limit: msg.lpSeconds });
    const optimal = h.constants.modelStatus.optimal;
    const all = { kind: 'range', from: 0, to: msg.model.numCols - 1 };
    for (const cost of msg.costs) {
      if ((Date.now() - t0) / 1000 > msg.seconds || Atomics.load(stop, 0) !== 0) { duals.push(null); continue; }
      m.changeColsCost(all, cost);
      // HiGHS's time_limit counts from the model's first run unless its clocks are zeroed: per LP here.
      m.zeroAllClocks();
      const r = runOrReset(m);
      duals.push(r && r.modelStatus === optimal ? Float64Array.from(m.getSolution().rowDual) : null);
    }
  } finally { m.dispose(); }
  post({ type: 'lps', duals, seconds: (Date.now() - t0) / 1000 });
}
function handle(msg) {
  ready.then((h) => {
    if (msg.type === 'mip') runMip(h, msg);
    else if (msg.type === 'bounds') runBounds(h, msg);
    else if (msg.type === 'lps') runLps(h, msg);
  }).catch((e) => post({ type: 'error', message: String((e && e.stack) || e) }));
}
`;
