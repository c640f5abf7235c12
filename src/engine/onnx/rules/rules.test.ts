import { describe, expect, it } from 'vitest';
import { afterConv, opCases } from './cases.js';
import { finiteDifferenceError, probe } from '../testing.js';
import { networkSupport } from '../net.js';

/*
 * Every op rule's gradient against central finite differences of its own forward pass (the judge:
 * TF.js itself has wrong gradient kernels), in the IR layout and, for image inputs, after a
 * convolution (NCHW inside the graph), in both layout modes.
 */

const FD_TOL = 3e-3;

describe('op rules: gradient = central finite differences', () => {
  for (const c of opCases()) {
    it(c.name, async () => {
      expect(networkSupport(c.ir, c.ir.outputs.map((o) => o.value))).toBeNull();
      const variants = [{ c, mode: 'propagate' as const }];
      const nchw = afterConv(c);
      if (nchw) variants.push({ c: nchw, mode: 'propagate' }, { c: nchw, mode: 'transposes' as never });
      for (const v of variants) {
        const p = await probe(v.c.ir, 1, v.mode);
        try {
          const err = await finiteDifferenceError(p, v.c.ir, v.c.inputs);
          expect(err, `${v.c.name} (${v.mode})`).toBeLessThan(FD_TOL);
        } finally {
          await p.release();
        }
      }
    });
  }
});
