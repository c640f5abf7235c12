import { createRequire } from 'node:module';
import { beforeAll, describe, expect, it } from 'vitest';
import { useBackend } from '../backend.js';
import { resolveConstraints } from '../constraints/index.js';
import { intervalBounds } from './bounds.js';
import { encode } from './encode.js';
import { toLpText } from './lpText.js';
import { maximizeExact } from './maximizeExact.js';
import { extractNetwork } from './network.js';
import { exactObjective } from './objective.js';
import { mlp } from './test-nets.js';

beforeAll(async () => {
  await useBackend('cpu');
});

// y = 2·relu(x0 − x1) − relu(x0 + x1 − 1) + 0.5 on [0, 1]²: the first unit can raise the
// objective (binary d3), the second can only lower it (no binary: y5 ≥ z4, y5 ≥ 0 is exact).
const EXPECTED = `\\ actmax exact: maximise the objective over inputs satisfying the constraints
Maximize
 obj: 2 y3 - y5 + 0.5
Subject To
 def_z2: z2 - x0 + x1 = 0
 act3_ge_z: y3 - z2 >= 0
 act3_on: y3 - z2 + d3 <= 1
 act3_off: y3 - d3 <= 0
 def_z4: z4 - x0 - x1 = -1
 act5_ge_z: y5 - z4 >= 0
Bounds
 0 <= x0 <= 1
 0 <= x1 <= 1
 -1 <= z2 <= 1
 0 <= y3 <= 1
 0 <= d3 <= 1
 -1 <= z4 <= 1
 0 <= y5 <= 1
Binaries
 d3
End
`;

describe('toLpText', () => {
  const model = mlp(2, [[[1, 1, -1, 1], [0, -1]], [[2, -1], [0.5]]]);

  it('writes the MILP of a 2-unit network exactly', () => {
    const net = extractNetwork(model);
    const rc = resolveConstraints([], model.inputs[0], 0);
    const text = toLpText(encode(net, rc, intervalBounds(net, rc.lo, rc.hi), exactObjective(model, net, { kind: 'logit', index: 0 })));
    expect(text).toBe(EXPECTED);
  });

  it('the text solves (HiGHS one-shot) to the same maximum as maximizeExact: 2.5 at (1, 0)', async () => {
    const highs = await (createRequire(import.meta.url)('highs') as () => Promise<{ solve(t: string, o?: object): { Status: string; ObjectiveValue: number } }>)();
    const r = highs.solve(EXPECTED, { mip_rel_gap: 0 });
    expect(r.Status).toBe('Optimal');
    expect(r.ObjectiveValue).toBeCloseTo(2.5, 9);
    const res = await maximizeExact(model, { kind: 'logit', index: 0 }, { timeLimit: 10, warmStart: false });
    expect(res.status).toBe('optimal');
    expect(res.value).toBeCloseTo(2.5, 9);
    expect(res.input[0]).toBeCloseTo(1, 9);
    expect(res.input[1]).toBeCloseTo(0, 9);
  });
});
