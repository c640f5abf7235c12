// The public API both entries share (index.ts for Node, browser.ts for browsers): nothing here may
// import a Node module. Files with a Node and a browser variant (local-files, solver-thread) are
// swapped by package.json's "browser" field.
export { ActmaxError, isActmaxError, type ActmaxErrorCode } from './errors.js';
export { useBackend, currentBackend, type BackendName } from './backend.js';
export { loadModel, type ModelSource } from './model/load.js';
export type { ActmaxModel, InputInfo, OutputInfo, LayerInfo, ModelFormat, ModelDescription, LoadOptions } from './model/types.js';
// The network description every loader produces (src/ir/ir.ts) and its TF.js interpreter.
export type { IrGraph, IrNode, IrOp, IrLayer, IrConst } from './ir/ir.js';
export { IrProgram } from './ir/tfjs-exec.js';
export { summarizeModel, type ModelSummary } from './model/inspect.js';
export type { ObjectiveSpec } from './objectives/spec.js';
export { Objective, asObjective, sum, logit, prob, margin, target, neuron, channel, layerEnergy, direction, inputL1, inputL2, totalVariation } from './objectives/objective.js';
export { parseObjective, OBJECTIVE_GRAMMAR, type ParseContext } from './objectives/parse.js';
export { parseObjectiveFor, objectiveContext, checkObjective, targetLabel } from './objectives/check.js';
export { formatObjective } from './objectives/format.js';
export * from './constraints/index.js';
export { maximize, type MaximizeOptions, type MaximizeResult, type TargetResult, type StepInfo, type InitSpec } from './optimize/maximize.js';
export type { OptimizerName } from './optimize/optimizers.js';
export { Rng } from './optimize/rng.js';
export type { Engine, EngineFactory, EngineRequest } from './engine/engine.js';
export { createTfjsEngine } from './engine/tfjs.js';
export { installKernelFixes } from './engine/wasm-kernels.js';
// Image pipeline: parameterisations, transforms, regularisers, defaults, atlases, animation.
export { imageDefaults, type ImageOptions, type ImageDefaults } from './pipeline/defaults.js';
export type { RegularizerSpec } from './pipeline/regularizers.js';
export { parseParamSpec, parseTransformSpec, parseRegularizerSpec, PARAM_GRAMMAR, TRANSFORM_GRAMMAR, REGULARIZER_GRAMMAR } from './pipeline/specs.js';
export { createParam, type ParamSpec, type Parameterisation } from './param/param.js';
export { applyTransforms, standardTransforms, type TransformSpec } from './transforms/transforms.js';
export { isImageShape, toRgba, gridImage, type RgbaImage, type GridPanel } from './io/raster.js';
export { atlasImage } from './image/atlas.js';
export { animationFrames, encodeGif, frameSteps } from './image/animation.js';
// Checking outside data (zod): one ActmaxError line naming where, the path, what was expected.
export { validate } from './io/validate.js';
// Results as JSON documents (result.json, --json, the web page's downloads).
export { runJson, exactRunJson, type RunSummary, type RunDocument, type ExactDocument } from './io/result-json.js';
// The exact answer: certified maximum of piecewise-linear networks by MILP (HiGHS).
export { maximizeExact, type ExactOptions, type ExactResult, type ExactProgress } from './exact/index.js';
// Engines and conversion.
export { chooseEngine, engineReport, type EngineChoice, type EngineReport } from './engine/select.js';
export { toTfjsLayers } from './model/convert.js';
// Data priors (answers that look like the data): a subspace of the examples or a decoder's range.
export { subspacePrior, subspaceCode, subspaceInput, subspaceResidual, latentViolation, DEFAULT_PERCENTILE_BOX, type SubspaceOptions } from './prior/subspace.js';
export { decoderPrior } from './prior/decoder.js';
export { buildStoredPrior, encodeStoredPrior, decodeStoredPrior, type StoredPrior } from './prior/store.js';
export { addValueWithoutPrior } from './prior/compare.js';
export { datasetPriorUrl, fetchStoredPrior, PRIOR_FILE } from './prior/fetch.js';
export { priorInputs } from './prior/render.js';
export { describePrior, latentSize, type DataPrior, type SubspacePrior, type DecoderPrior, type LatentSet } from './prior/types.js';
export type { PriorReport } from './prior/param.js';
