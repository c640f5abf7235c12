import type { Milp } from './encode.js';

/** Shortest text that reads back as the same float64. */
const num = (v: number): string => (Object.is(v, -0) ? '0' : String(v));

/** ` + 2 x0 - 0.5 z3 …`, broken into lines of at most `perLine` terms (LP readers limit line length). */
function terms(names: string[], idx: number[], coef: number[], perLine = 8): string {
  const parts: string[] = [];
  idx.forEach((c, k) => {
    const w = coef[k];
    const sign = w < 0 ? '-' : '+';
    const a = Math.abs(w);
    parts.push(`${sign} ${a === 1 ? '' : num(a) + ' '}${names[c]}`);
  });
  if (parts.length === 0) return ' 0';
  let out = '';
  parts.forEach((p, k) => {
    out += (k > 0 && k % perLine === 0 ? '\n   ' : ' ') + (k === 0 && p.startsWith('+ ') ? p.slice(2) : p);
  });
  return out;
}

/**
 * The MILP in CPLEX LP format (the text HiGHS, CPLEX, Gurobi, SCIP and GLPK read): no variable on
 * a right-hand side, every bound written out, binaries and general integers listed.
 *
 * @example
 * fs.writeFileSync('model.lp', toLpText(milp));
 */
export function toLpText(milp: Milp): string {
  const names = milp.columns.map((c) => c.name);
  const lines: string[] = ['\\ actmax exact: maximise the objective over inputs satisfying the constraints', 'Maximize'];
  const o = milp.objective;
  let obj = ` obj:${terms(names, o.idx, o.coef)}`;
  if (o.c !== 0) obj += ` ${o.c < 0 ? '-' : '+'} ${num(Math.abs(o.c))}`;
  lines.push(obj, 'Subject To');
  for (const r of milp.rows) lines.push(` ${r.name}:${terms(names, r.idx, r.coef)} ${r.sense} ${num(r.rhs)}`);
  lines.push('Bounds');
  const binaries: string[] = [];
  const generals: string[] = [];
  milp.columns.forEach((c) => {
    const lo = c.lo === -Infinity ? '-inf' : num(c.lo);
    const hi = c.hi === Infinity ? '+inf' : num(c.hi);
    if (c.lo === c.hi) lines.push(` ${c.name} = ${num(c.lo)}`);
    else lines.push(` ${lo} <= ${c.name} <= ${hi}`);
    if (c.integer) (c.lo === 0 && c.hi === 1 ? binaries : generals).push(c.name);
  });
  if (binaries.length) lines.push('Binaries', ...chunk(binaries));
  if (generals.length) lines.push('Generals', ...chunk(generals));
  lines.push('End', '');
  return lines.join('\n');
}

function chunk(names: string[], per = 16): string[] {
  const out: string[] = [];
  for (let i = 0; i < names.length; i += per) out.push(' ' + names.slice(i, i + per).join(' '));
  return out;
}
