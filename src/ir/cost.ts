import type { IrGraph } from './ir.js';

/**
 * Multiply-adds of one example's forward pass through the network's convolutions and matrix
 * products (the work that threads share); other ops are not counted.
 *
 * @example
 * perRowMacs(model.ir!) // 101,632 for the bundled MLP (784·128 + 128·10)
 */
export function perRowMacs(ir: IrGraph): number {
  let macs = 0;
  for (const n of ir.nodes) {
    const out = ir.shapes.get(n.name);
    const w = ir.consts.get(n.inputs[1])?.shape ?? ir.shapes.get(n.inputs[1]);
    if (!out || !w) continue;
    const size = out.reduce((a, b) => a * b, 1);
    if (n.op === 'Conv2D') macs += size * w[0] * w[1] * w[2];
    else if (n.op === 'DepthwiseConv2D') macs += size * w[0] * w[1];
    else if (n.op === 'Conv2DTranspose') macs += size * w[0] * w[1] * w[3];
    else if (n.op === 'MatMul') macs += size * (n.transposeB ? w[w.length - 1] : w[w.length - 2]);
  }
  return macs;
}
