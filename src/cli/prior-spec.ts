import { promises as fs } from 'node:fs';
import { ActmaxError } from '../errors.js';
import type { Constraint } from '../constraints/constraint.js';
import { loadModel } from '../model/load.js';
import type { ActmaxModel } from '../model/types.js';
import { examplesPrior, loadDatasetPrior } from '../prior/dataset.js';
import { decoderPrior } from '../prior/decoder.js';
import { subspacePrior, type SubspaceOptions } from '../prior/subspace.js';

export { PRIOR_GRAMMAR } from './grammars.js';
import { PRIOR_GRAMMAR } from './grammars.js';

/** Default number of components of `--prior SOURCE` without `:subspace:K`. */
export const DEFAULT_PRIOR_COMPONENTS = 32;

function bad(spec: string, why: string): never {
  throw new ActmaxError('bad-spec', `bad prior "${spec}": ${why}; ${PRIOR_GRAMMAR}`);
}

/** Splits `SOURCE:opt:opt…` where options are `subspace:K`, `box=…`, `ball=…` (SOURCE may hold colons, e.g. a URL). */
function splitOptions(spec: string, rest: string): { source: string; options: Array<[string, string]> } {
  const m = /:(subspace:|box=|ball=|near=|clusters?=)/.exec(rest);
  const source = m ? rest.slice(0, m.index) : rest;
  const options: Array<[string, string]> = [];
  let tail = m ? rest.slice(m.index + 1) : '';
  while (tail) {
    const sub = /^subspace:([^:]*)(?::|$)/.exec(tail);
    const kv = /^(box|ball|near|clusters?)=([^:]*)(?::|$)/.exec(tail);
    const hit = sub ? (['subspace', sub[1]] as [string, string]) : kv ? ([kv[1], kv[2]] as [string, string]) : null;
    if (!hit) bad(spec, `unknown option "${tail.split(':')[0]}"`);
    if (options.some(([k]) => k === hit[0])) bad(spec, `${hit[0]} given twice`);
    options.push(hit);
    tail = tail.slice((sub ?? kv)![0].length);
  }
  if (!source) bad(spec, 'missing SOURCE');
  return { source, options };
}

/** `LOW-HIGH` percentiles of a box option. */
function percentiles(spec: string, s: string, what: string): [number, number] {
  const m = /^([\d.]+)-([\d.]+)$/.exec(s);
  if (!m) bad(spec, `${what}=LOW-HIGH takes two percentiles, e.g. ${what}=${what === 'box' ? '0.5-99.5' : '10-90'}`);
  return [number(spec, m[1], 'LOW'), number(spec, m[2], 'HIGH')];
}

function number(spec: string, s: string, what: string): number {
  const v = Number(s);
  if (s.trim() === '' || !Number.isFinite(v)) bad(spec, `${what} must be a number, got "${s}"`);
  return v;
}

/**
 * Parse `--prior` into a `prior` constraint on the model's first input, reading the stored or
 * example prior (computed and cached on first use) or loading the decoder. `dispose` frees a
 * loaded decoder.
 *
 * @example
 * const { constraint } = await parsePrior('dataset:subspace:32', model);
 */
export async function parsePrior(spec: string, model: ActmaxModel): Promise<{ constraint: Constraint; dispose(): void }> {
  const text = spec.trim();
  const input = model.inputs[0];
  if (text.startsWith('decoder:')) {
    const { source, options } = splitOptions(text, text.slice('decoder:'.length));
    if (options.some(([k]) => k === 'subspace')) bad(text, 'subspace:K is for example priors, not decoders');
    const box = options.find(([k]) => k === 'box')?.[1];
    const ball = options.find(([k]) => k === 'ball')?.[1];
    const cluster = options.find(([k]) => k === 'cluster')?.[1];
    const clusters = options.find(([k]) => k === 'clusters')?.[1];
    const near = options.find(([k]) => k === 'near')?.[1];
    let boxRange: [number, number] | undefined;
    // box=0.5-99.5: the box of all training codes the decoder records (the only percentiles it keeps).
    const allCodes = box !== undefined && !box.includes(',') && /^[\d.]+-[\d.]+$/.test(box);
    if (allCodes && box !== '0.5-99.5') bad(text, 'a decoder records only its codes\' 0.5–99.5 % box: give box=0.5-99.5, or box=LO,HI in latent units');
    if (box !== undefined && !allCodes) {
      const parts = box.split(',');
      if (parts.length !== 2) bad(text, 'a decoder box is box=LO,HI in latent units, or box=0.5-99.5 (the box of its training codes)');
      boxRange = [number(text, parts[0], 'LO'), number(text, parts[1], 'HI')];
      if (!(boxRange[0] < boxRange[1])) bad(text, 'box needs LO < HI');
    }
    const decoder = await loadModel(source);
    try {
      const prior = decoderPrior(decoder, { box: boxRange, ...(allCodes ? { allCodes } : {}), ball: ball === undefined ? undefined : number(text, ball, 'R'), cluster: cluster === undefined ? undefined : number(text, cluster, 'J'), ...(clusters === undefined ? {} : { clusterBox: percentiles(text, clusters, 'clusters') }), ...(near === undefined ? {} : { near: number(text, near, 'R') }) });
      return { constraint: { kind: 'prior', prior }, dispose: () => decoder.dispose() };
    } catch (e) {
      decoder.dispose();
      throw e;
    }
  }
  const { source, options } = splitOptions(text, text);
  const get = (k: string) => options.find(([key]) => key === k)?.[1];
  const kText = get('subspace');
  const k = kText === undefined ? DEFAULT_PRIOR_COMPONENTS : /^\d+$/.test(kText) ? Number(kText) : bad(text, `K must be a positive integer, got "${kText}"`);
  const opts: SubspaceOptions = {};
  const box = get('box');
  if (box !== undefined) opts.box = percentiles(text, box, 'box');
  const clusters = get('clusters');
  if (clusters !== undefined) opts.clusterBox = percentiles(text, clusters, 'clusters');
  const cluster = get('cluster');
  if (cluster !== undefined) opts.cluster = number(text, cluster, 'J');
  const near = get('near');
  if (near !== undefined) opts.near = number(text, near, 'R');
  const ball = get('ball');
  if (ball !== undefined) opts.ball = ball.startsWith('p') ? { percentile: number(text, ball.slice(1), 'the percentile') } : number(text, ball, 'R');
  if (source !== 'dataset' && !(await fs.stat(source).then(() => true, () => false))) bad(text, `"${source}" is neither "dataset" nor an existing file or folder of examples`);
  const { stored, file } = source === 'dataset' ? await loadDatasetPrior(model) : await examplesPrior(source, model, input);
  if (stored.features !== input.shape.reduce((a, b) => a * b, 1)) {
    throw new ActmaxError('bad-input', `the prior in ${file} has ${stored.features} features; input "${input.name}" has shape [${input.shape.join(', ')}]`);
  }
  const prior = subspacePrior(stored, k, opts, `${source === 'dataset' ? 'the dataset prior' : 'the examples'} ${file}`);
  return { constraint: { kind: 'prior', prior }, dispose() {} };
}
