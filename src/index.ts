// actmax's public API.
export { ActmaxError, isActmaxError, type ActmaxErrorCode } from './errors.js';
export { useBackend, currentBackend, type BackendName } from './backend.js';
export { loadModel, type ModelSource } from './model/load.js';
export type { ActmaxModel, InputInfo, OutputInfo, LayerInfo, ModelFormat } from './model/types.js';
export { summarizeModel, type ModelSummary } from './model/inspect.js';
export type { ObjectiveSpec } from './objectives/spec.js';
export { Objective, asObjective, sum, logit, prob, margin, target, neuron, channel, layerEnergy, direction, inputL1, inputL2, totalVariation } from './objectives/objective.js';
export { parseObjective, OBJECTIVE_GRAMMAR } from './objectives/parse.js';
export { formatObjective } from './objectives/format.js';
export * from './constraints/index.js';
export { maximize, type MaximizeOptions, type MaximizeResult, type TargetResult, type StepInfo, type InitSpec } from './optimize/maximize.js';
export type { OptimizerName } from './optimize/optimizers.js';
export type { Engine, EngineFactory, EngineRequest } from './engine/engine.js';
export { createTfjsEngine } from './engine/tfjs.js';
