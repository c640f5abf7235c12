import type { IrOpName } from '../../../ir/ir.js';
import { BINARY_RULES } from './binary.js';
import type { Rules } from './common.js';
import { LINEAR_RULES } from './linear.js';
import { REDUCE_RULES } from './reduce.js';
import { SHAPE_RULES } from './shape.js';
import { UNARY_RULES } from './unary.js';
import { WINDOW_RULES } from './window.js';

/** One forward + gradient rule for every IR op (a missing one is a type error). */
export const RULES: Rules<IrOpName> = { ...UNARY_RULES, ...BINARY_RULES, ...LINEAR_RULES, ...WINDOW_RULES, ...REDUCE_RULES, ...SHAPE_RULES };
