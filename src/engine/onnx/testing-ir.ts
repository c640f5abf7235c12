import type * as tf from '@tensorflow/tfjs';
import type { IrGraph, IrLayer, IrNode, Pads2D } from '../../ir/ir.js';
import type { ActmaxModel } from '../../model/types.js';

/*
 * Tests only, until the layers importer (src/ir, branch `ir`) lands: the IR of a chain of
 * Dense / Conv2D / pooling / Flatten / activation layers, attached to a loaded model so the ONNX
 * engine can compile it.
 */

const ACT: Record<string, IrNode['op']> = { relu: 'Relu', sigmoid: 'Sigmoid', tanh: 'Tanh', elu: 'Elu', softmax: 'Softmax', linear: 'Identity', selu: 'Selu', softplus: 'Softplus' };

function pads(n: number, k: number, s: number, d: number, padding: string): [number, number] {
  if (padding !== 'same') return [0, 0];
  const out = Math.ceil(n / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - n, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

const pair = (v: unknown, d: number): [number, number] => (v === undefined || v === null ? [d, d] : Array.isArray(v) ? [v[0], v[1] ?? v[0]] : [Number(v), Number(v)]);

/** Attach the IR of a chain-shaped layers model (tests only). @example withTestIr(model) */
export function withTestIr(model: ActmaxModel): ActmaxModel {
  const net = model.net as tf.LayersModel;
  const input = model.inputs[0];
  const nodes: IrNode[] = [];
  const consts = new Map<string, { shape: number[]; data: Float32Array }>();
  const shapes = new Map<string, number[]>([[input.name, input.shape]]);
  const layers: IrLayer[] = [];
  let cur = input.name;
  const add = (node: Record<string, unknown> & { op: string; name: string; inputs: string[] }, layer: string, shape: number[]) => {
    nodes.push({ ...node, layer } as unknown as IrNode);
    shapes.set(node.name, shape);
    cur = node.name;
  };
  for (const l of net.layers) {
    const cls = l.getClassName();
    if (cls === 'InputLayer') continue;
    const cfg = l.getConfig() as Record<string, unknown>;
    const w = l.getWeights().map((t) => ({ shape: t.shape, data: Float32Array.from(t.dataSync()) }));
    const inShape = shapes.get(cur)!;
    const outShape = (l.outputShape as number[]).slice(1);
    const c = (suffix: string, t: { shape: number[]; data: Float32Array }) => {
      const name = `${l.name}/${suffix}`;
      consts.set(name, t);
      return name;
    };
    let pre = '';
    switch (cls) {
      case 'Flatten':
        add({ op: 'Reshape', name: l.name, inputs: [cur], shape: outShape }, l.name, outShape);
        break;
      case 'Dropout':
        add({ op: 'Identity', name: l.name, inputs: [cur] }, l.name, outShape);
        break;
      case 'Dense':
        add({ op: 'MatMul', name: `${l.name}/MatMul`, inputs: [cur, c('kernel', w[0]), ...(w[1] ? [c('bias', w[1])] : [])] }, l.name, outShape);
        break;
      case 'Conv2D': {
        const [kh, kw] = w[0].shape;
        const s = pair(cfg.strides, 1), d = pair(cfg.dilationRate, 1);
        const ph = pads(inShape[0], kh, s[0], d[0], cfg.padding as string), pw = pads(inShape[1], kw, s[1], d[1], cfg.padding as string);
        add({ op: 'Conv2D', name: `${l.name}/Conv2D`, inputs: [cur, c('kernel', w[0]), ...(w[1] ? [c('bias', w[1])] : [])], strides: s, dilations: d, pads: [ph[0], ph[1], pw[0], pw[1]] as Pads2D }, l.name, outShape);
        break;
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D': {
        const k = pair(cfg.poolSize, 2), s = pair(cfg.strides ?? cfg.poolSize, 2);
        const ph = pads(inShape[0], k[0], s[0], 1, cfg.padding as string), pw = pads(inShape[1], k[1], s[1], 1, cfg.padding as string);
        add({ op: cls === 'MaxPooling2D' ? 'MaxPool' : 'AvgPool', name: l.name, inputs: [cur], ksize: k, strides: s, pads: [ph[0], ph[1], pw[0], pw[1]] }, l.name, outShape);
        break;
      }
      case 'GlobalAveragePooling2D':
        add({ op: 'Mean', name: l.name, inputs: [cur], axes: [1, 2], keepDims: false }, l.name, outShape);
        break;
      case 'Activation':
      case 'ReLU':
        break;
      default:
        throw new Error(`test IR: layer class ${cls} is not handled`);
    }
    pre = cur;
    const act = cls === 'ReLU' ? 'relu' : ((cfg.activation as string | undefined) ?? 'linear');
    if (act !== 'linear') {
      const op = ACT[act];
      if (!op) throw new Error(`test IR: activation ${act} is not handled`);
      add({ op, name: l.name === cur ? `${l.name}/act` : l.name, inputs: [cur], ...(op === 'Softmax' ? { axis: outShape.length } : {}) }, l.name, outShape);
    }
    layers.push({ name: l.name, kind: cls, output: cur, pre });
  }
  const ir: IrGraph = { inputs: [{ name: input.name, shape: input.shape }], outputs: [{ name: model.outputs[0].name, value: cur }], nodes, consts, shapes, layers, batch: 'free', dynamic: new Map() };
  return Object.assign(model, { ir });
}
