/**
 * Keras/TF.js activation names → IR nodes, shared by the layers importer (a layer's
 * `activation`) and activation layers.
 */
import type { IrOp } from './ir.js';
import type { IrBuilder } from './builder.js';
import { IrError } from './errors.js';

/** The IR op of an activation name (TF.js spelling, Keras spellings too); null for linear. */
function activationOp(name: string): IrOp | null {
  switch (name) {
    case 'linear': case 'identity': return null;
    case 'relu': return { op: 'Relu' };
    case 'relu6': return { op: 'Relu6' };
    case 'sigmoid': return { op: 'Sigmoid' };
    // TF.js / Keras 2: clip(0.2x + 0.5, 0, 1); Keras 3 (registered by actmax): relu6(x + 3)/6.
    case 'hardSigmoid': case 'hard_sigmoid': return { op: 'HardSigmoid', alpha: 0.2, beta: 0.5 };
    case 'actmaxHardSigmoidV3': return { op: 'HardSigmoid', alpha: 1 / 6, beta: 0.5 };
    case 'tanh': return { op: 'Tanh' };
    case 'softmax': return { op: 'Softmax', axis: -1 };
    case 'logSoftmax': case 'log_softmax': return { op: 'LogSoftmax', axis: -1 };
    case 'softplus': return { op: 'Softplus' };
    case 'softsign': return { op: 'Softsign' };
    case 'elu': return { op: 'Elu' };
    case 'selu': return { op: 'Selu' };
    case 'gelu': return { op: 'Gelu', approximate: false };
    case 'gelu_new': return { op: 'Gelu', approximate: true };
    case 'mish': return { op: 'Mish' };
    case 'swish': case 'silu': return { op: 'Swish' };
    case 'leakyRelu': case 'leaky_relu': return { op: 'LeakyRelu', alpha: 0.2 };
    case 'hard_swish': case 'hardSwish': return { op: 'HardSwish' };
    default: throw new IrError(`activation "${name}" has no IR op`);
  }
}

/** Lower-case Keras spelling of an activation name, for `inspect`. @example activationLabel('hardSigmoid') // 'hard_sigmoid' */
export function activationLabel(name: string): string {
  return name === 'actmaxHardSigmoidV3' ? 'hard_sigmoid' : name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/**
 * Apply an activation to `x`; returns the output value (x itself for linear).
 *
 * @example
 * const y = applyActivation(b, 'relu', x, 'dense', 'dense/Relu');
 */
export function applyActivation(b: IrBuilder, name: string, x: string, layer: string, nodeName?: string): string {
  const op = activationOp(name);
  if (!op) return x;
  return b.node(op, [x], layer, nodeName ?? `${layer}/${op.op}`);
}
