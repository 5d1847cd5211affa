/**
 * The pieces shared by hush's onnxruntime training graphs (onnx-trainer.ts for the
 * pixel and Noise2Same losses, onnx-gan-trainer.ts for the GAN): a tfjs layers model
 * read as a graph of nodes, its forward pass written into an ONNX graph (batch norm
 * in training mode, with batch statistics, or in inference mode, with given moving
 * statistics), the reverse-mode gradient of that pass written out by hand, Adam, and
 * the weights and moments kept as onnxruntime tensors between steps.
 *
 * The op set and its gradients (NCHW inside the graph):
 * - conv, any kernel, stride s, dilation d, TensorFlow 'same' padding (pads
 *   before = floor(total / 2), the odd one after, total = (out-1)s + (k-1)d + 1 - in):
 *   dW[o, c, a, b] = sum_{n,i,j} dy[n,o,i,j] x[n,c,si+d a-pt,sj+d b-pl]: the k*k
 *   shifted copies of x come from one convolution with one-hot kernels (an im2col in
 *   MLAS) and a batched FusedMatMul with transB contracts them with dy per image,
 *   summed over the batch; dx at stride 1 is the convolution of dy with the flipped,
 *   transposed kernel (pads (k-1)d - pads, before and after swapped), and at stride
 *   > 1 ConvTranspose, the adjoint, with the output padding that restores the size;
 * - batch norm in training mode (batch mean, biased variance, as tfjs-layers):
 *   dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy gamma (computed
 *   from the centred input c = inv^-1 xhat, with per-channel factors); in inference
 *   mode dx = dy gamma / sqrt(movingVar + eps);
 * - ReLU / LeakyReLU: dy times the slope where the output is positive / not;
 *   sigmoid: dy y (1 - y);
 * - transposed conv with kernel = stride k (no overlap): dx is the convolution of dy
 *   with the same kernel at stride k; dW[c, o, a, b] = sum x[n,c,i,j] dy[n,o,ki+a,kj+b],
 *   dy's k*k phases taken by one-hot kernels of stride k, contracted with x as above;
 * - 2x2 pooling: average: dy repeated 2x2, times 1/4; max: dy repeated 2x2 where the
 *   input equals its block's maximum (to each of them on a tie, where TensorFlow picks one);
 * - 2x up-sampling as tfjs (no half-pixel centres): nearest: dy summed over 2x2 blocks;
 *   bilinear, per axis out[2i] = x[i], out[2i+1] = (x[i] + x[min(i+1, n-1)]) / 2, and
 *   its adjoint dx[i] = dy[2i] + dy[2i+1]/2 + dy[2i-1]/2 (+ dy[2n-1]/2 at i = n-1);
 * - concatenation: dy sliced back into the inputs' channels;
 * - add: dy to every input; subtract (hush's residual): dy and -dy;
 * - match mean (y - mean(y) + mean(ref) over H and W): dy - mean(dy) into y, and
 *   mean(dy) spread over the map into ref.
 * Adam is tfjs's: m, v, then w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 */
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { invalidParameter } from '../core/errors.js';
import { ATTRIBUTE_TYPE, TENSOR_TYPE, encodeModel, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from '../onnx/proto.js';
import type { loadOrt } from '../runtime/onnx.js';

export type Ort = Awaited<ReturnType<typeof loadOrt>>;
export type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;
export type OrtTensor = InstanceType<Ort['Tensor']>;

/** The model's input, as a node index. */
export const INPUT = -1;

interface NodeBase {
  layer: string;
  /** indices of the nodes this one reads (INPUT for the model's input) */
  inputs: number[];
}
export interface ConvNode extends NodeBase {
  kind: 'conv';
  kh: number;
  kw: number;
  stride: number;
  dilation: number;
  ci: number;
  co: number;
  /** index into params of the kernel (ONNX layout [co, ci, kh, kw]) and of the bias */
  w: number;
  b?: number;
}
export interface BnNode extends NodeBase {
  kind: 'bn';
  c: number;
  gamma: number;
  beta: number;
  eps: number;
  momentum: number;
  /** moving mean and variance, kept by the trainer and written back by syncToModel */
  movingMean: Float32Array;
  movingVar: Float32Array;
}
export interface ActNode extends NodeBase {
  kind: 'act';
  /** slope for negative inputs: 0 for ReLU */
  alpha: number;
}
export interface SigmoidNode extends NodeBase {
  kind: 'sigmoid';
}
export interface AddNode extends NodeBase {
  kind: 'add';
}
/** inputs[0] - inputs[1] */
export interface SubNode extends NodeBase {
  kind: 'sub';
}
/** inputs[0] with the per-image, per-channel mean (over H and W) of inputs[1] */
export interface MatchMeanNode extends NodeBase {
  kind: 'meanmatch';
}
/** transposed convolution with kernel = stride (no overlap, no padding: the output is the input times the stride) */
export interface ConvTNode extends NodeBase {
  kind: 'convT';
  k: number;
  ci: number;
  co: number;
  /** the kernel (ONNX ConvTranspose layout [ci, co, k, k]) and the bias */
  w: number;
  b?: number;
}
/** channel concatenation; sizes are the inputs' channels */
export interface ConcatNode extends NodeBase {
  kind: 'concat';
  sizes: number[];
}
/** 2x2 pooling, stride 2 */
export interface PoolNode extends NodeBase {
  kind: 'pool';
  mode: 'avg' | 'max';
}
/** 2x up-sampling as tfjs's UpSampling2D (resize without half-pixel centres or aligned corners) */
export interface UpNode extends NodeBase {
  kind: 'up';
  mode: 'nearest' | 'bilinear';
}
export type NetNode = ConvNode | BnNode | ActNode | SigmoidNode | AddNode | SubNode | MatchMeanNode | ConvTNode | ConcatNode | PoolNode | UpNode;

export interface Param {
  /** the tfjs variable's name, as in model.trainableWeights */
  name: string;
  /** index in model.trainableWeights (the checkpoint's order) */
  order: number;
  tfShape: number[];
  onnxShape: number[];
  /** 'kernel': tfjs [kh, kw, ci, co] <-> ONNX [co, ci, kh, kw]; 'bn': [c] <-> [1, c, 1, 1]; 'plain': same layout */
  layout: 'kernel' | 'bn' | 'plain';
}

export interface Net {
  nodes: NetNode[];
  params: Param[];
  /** input channels */
  channels: number;
  /** output channels */
  outChannels: number;
}

/**
 * Reads `model` as a graph of the op set above (throws with the reason when it is
 * not one); the current values of its trainable weights are pushed to `tensors`,
 * in params' order.
 */
export function parseNetwork(model: LayersModel, tensors: Tensor[]): Net {
  const trainable = model.trainableWeights.map((w) => w.name);
  const params: Param[] = [];
  const addParam = (v: { name: string; shape: (number | null)[]; read(): Tensor }, layout: Param['layout']): number => {
    const order = trainable.indexOf(v.name);
    if (order < 0) throw new Error(`weight ${v.name} is not trainable`);
    const tfShape = v.shape as number[];
    const onnxShape = layout === 'kernel' ? [tfShape[3], tfShape[2], tfShape[0], tfShape[1]] : layout === 'bn' ? [1, tfShape[0], 1, 1] : tfShape;
    params.push({ name: v.name, order, tfShape, onnxShape, layout });
    tensors.push(v.read());
    return params.length - 1;
  };
  if (model.inputs.length !== 1 || model.outputs.length !== 1) throw new Error('the network has more than one input or output');
  const inputLayer = model.inputs[0].sourceLayer.name;
  const channels = model.inputs[0].shape[3] as number;
  const nodes: NetNode[] = [];
  /** layer name -> [node index of its output, its channels] */
  const produced = new Map<string, [number, number]>([[inputLayer, [INPUT, channels]]]);
  for (const layer of model.layers) {
    if (layer.name === inputLayer) continue;
    const cls = layer.getClassName();
    const inbound = layer.inboundNodes;
    if (inbound.length !== 1) throw new Error(`layer ${layer.name} is used more than once`);
    const from = inbound[0].inboundLayers.map((l) => {
      const p = produced.get(l.name);
      if (!p) throw new Error(`layer ${layer.name} reads ${l.name}, which is not in the graph`);
      return p;
    });
    const ins = from.map((f) => f[0]);
    const c = from[0][1];
    const push = (n: NetNode, outC: number) => {
      nodes.push(n);
      produced.set(layer.name, [nodes.length - 1, outC]);
    };
    const cfg = layer.getConfig() as Record<string, unknown>;
    /** a (transposed) convolution node, its bias, and its fused activation as a node of its own */
    const pushConv = (st: ConvNode | ConvTNode) => {
      if (cfg.useBias) st.b = addParam(layer.trainableWeights[1] as never, 'plain');
      push(st, st.co);
      const act = cfg.activation as string;
      if (act === 'relu') push({ kind: 'act', layer: layer.name, inputs: [nodes.length - 1], alpha: 0 }, st.co);
      else if (act === 'sigmoid') push({ kind: 'sigmoid', layer: layer.name, inputs: [nodes.length - 1] }, st.co);
      else if (act !== 'linear') throw new Error(`layer ${layer.name}: activation ${act}`);
    };
    if (cls === 'HushSubtract' || cls === 'Add') {
      if (from.length !== 2 && cls === 'HushSubtract') throw new Error(`layer ${layer.name}: a subtraction of ${from.length} inputs`);
      if (from.some((f) => f[1] !== c)) throw new Error(`layer ${layer.name}: inputs with different channels`);
      push({ kind: cls === 'Add' ? 'add' : 'sub', layer: layer.name, inputs: ins }, c);
      continue;
    }
    if (cls === 'HushMatchMean') {
      if (from.length !== 2 || from[1][1] !== c) throw new Error(`layer ${layer.name}: a mean match needs two inputs with the same channels`);
      push({ kind: 'meanmatch', layer: layer.name, inputs: ins }, c);
      continue;
    }
    if (cls === 'Concatenate') {
      const ax = cfg.axis as number;
      if (ax !== -1 && ax !== 3) throw new Error(`layer ${layer.name}: a concatenation along another axis than the channels`);
      push({ kind: 'concat', layer: layer.name, inputs: ins, sizes: from.map((f) => f[1]) }, from.reduce((n, f) => n + f[1], 0));
      continue;
    }
    if (from.length !== 1) throw new Error(`layer ${layer.name} (${cls}) has ${from.length} inputs`);
    if (cls === 'Conv2D') {
      const [kh, kw] = cfg.kernelSize as number[];
      const strides = cfg.strides as number[];
      const dil = cfg.dilationRate as number | number[];
      const d = Array.isArray(dil) ? dil[0] : dil;
      if (strides[0] !== strides[1]) throw new Error(`layer ${layer.name}: only equal strides`);
      if (cfg.padding !== 'same') throw new Error(`layer ${layer.name}: only 'same' padding`);
      if (Array.isArray(dil) && dil[0] !== dil[1]) throw new Error(`layer ${layer.name}: only equal dilations`);
      if (d !== 1 && strides[0] !== 1) throw new Error(`layer ${layer.name}: dilation with stride`);
      const co = cfg.filters as number;
      const lw = layer.trainableWeights;
      pushConv({ kind: 'conv', layer: layer.name, inputs: ins, kh, kw, stride: strides[0], dilation: d, ci: c, co, w: addParam(lw[0] as never, 'kernel') });
    } else if (cls === 'Conv2DTranspose') {
      const [kh, kw] = cfg.kernelSize as number[];
      const strides = cfg.strides as number[];
      const dil = cfg.dilationRate as number | number[];
      if (kh !== kw || strides[0] !== kh || strides[1] !== kw) throw new Error(`layer ${layer.name}: a transposed convolution whose kernel is not its stride`);
      if (dil != null && (Array.isArray(dil) ? dil.some((d) => d !== 1) : dil !== 1)) throw new Error(`layer ${layer.name}: a dilated transposed convolution`);
      const co = cfg.filters as number;
      const lw = layer.trainableWeights;
      pushConv({ kind: 'convT', layer: layer.name, inputs: ins, k: kh, ci: c, co, w: addParam(lw[0] as never, 'kernel') });
    } else if (cls === 'AveragePooling2D' || cls === 'MaxPooling2D') {
      const pool = cfg.poolSize as number[];
      const strides = (cfg.strides as number[] | null) ?? pool;
      if (pool[0] !== 2 || pool[1] !== 2 || strides[0] !== 2 || strides[1] !== 2) throw new Error(`layer ${layer.name}: pooling other than 2x2 with stride 2`);
      push({ kind: 'pool', layer: layer.name, inputs: ins, mode: cls === 'MaxPooling2D' ? 'max' : 'avg' }, c);
    } else if (cls === 'UpSampling2D') {
      const size = cfg.size as number[];
      if (size[0] !== 2 || size[1] !== 2) throw new Error(`layer ${layer.name}: up-sampling other than 2x`);
      const mode = (cfg.interpolation as string | undefined) ?? 'nearest';
      if (mode !== 'nearest' && mode !== 'bilinear') throw new Error(`layer ${layer.name}: ${mode} up-sampling`);
      push({ kind: 'up', layer: layer.name, inputs: ins, mode }, c);
    } else if (cls === 'BatchNormalization') {
      if (!cfg.center || !cfg.scale) throw new Error(`layer ${layer.name}: batch norm without centre or scale`);
      const ax = cfg.axis as number | number[];
      const axis = Array.isArray(ax) ? ax[0] : ax;
      if (axis !== -1 && axis !== 3) throw new Error(`layer ${layer.name}: batch norm over another axis`);
      const lw = layer.trainableWeights;
      const all = layer.getWeights();
      push(
        {
          kind: 'bn',
          layer: layer.name,
          inputs: ins,
          c,
          gamma: addParam(lw[0] as never, 'bn'),
          beta: addParam(lw[1] as never, 'bn'),
          eps: cfg.epsilon as number,
          momentum: cfg.momentum as number,
          movingMean: (all[2].dataSync() as Float32Array).slice(),
          movingVar: (all[3].dataSync() as Float32Array).slice(),
        },
        c,
      );
    } else if (cls === 'Activation' || cls === 'ReLU' || cls === 'LeakyReLU') {
      if (cls === 'LeakyReLU') push({ kind: 'act', layer: layer.name, inputs: ins, alpha: cfg.alpha as number }, c);
      else if (cls === 'ReLU') {
        if (cfg.maxValue != null) throw new Error(`layer ${layer.name}: capped ReLU`);
        push({ kind: 'act', layer: layer.name, inputs: ins, alpha: 0 }, c);
      } else if (cfg.activation === 'relu') push({ kind: 'act', layer: layer.name, inputs: ins, alpha: 0 }, c);
      else if (cfg.activation === 'sigmoid') push({ kind: 'sigmoid', layer: layer.name, inputs: ins }, c);
      else if (cfg.activation === 'linear') produced.set(layer.name, from[0]);
      else throw new Error(`layer ${layer.name}: activation ${String(cfg.activation)}`);
    } else throw new Error(`layer ${layer.name} is a ${cls}`);
  }
  const out = produced.get(model.outputs[0].sourceLayer.name);
  if (!out || out[0] === INPUT) throw new Error('the output is not computed from the input');
  if (out[0] !== nodes.length - 1) throw new Error('the output is not the last layer');
  if (params.length !== trainable.length) throw new Error('the network has trainable weights outside the graph');
  return { nodes, params, channels, outChannels: out[1] };
}

/** A parameter's values moved between tfjs's layout and ONNX's (kernels [kh, kw, ci, co] <-> [co, ci, kh, kw]; the rest copied). */
function relayout(p: Param, data: Float32Array, to: 'onnx' | 'tfjs'): Float32Array {
  if (p.layout !== 'kernel') return data.slice();
  const [k, k2, ci, co] = p.tfShape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < k; a++) {
    for (let b = 0; b < k2; b++) {
      for (let c = 0; c < ci; c++) {
        for (let o = 0; o < co; o++) {
          const tf = ((a * k2 + b) * ci + c) * co + o;
          const onnx = ((o * ci + c) * k + a) * k2 + b;
          if (to === 'onnx') out[onnx] = data[tf];
          else out[tf] = data[onnx];
        }
      }
    }
  }
  return out;
}

/** tfjs layout -> ONNX layout */
export const toOnnx = (p: Param, data: Float32Array): Float32Array => relayout(p, data, 'onnx');

/** ONNX layout -> tfjs layout */
export const toTfjs = (p: Param, data: Float32Array): Float32Array => relayout(p, data, 'tfjs');

export class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly inits: OnnxTensor[] = [];
  readonly inputs: OnnxValueInfo[] = [];
  readonly outputs: OnnxValueInfo[] = [];
  private n = 0;

  op(type: string, ins: string[], attrs: OnnxAttribute[] = [], domain?: string): string {
    const out = `${type}_${this.n++}`;
    this.nodes.push({ op_type: type, input: ins, output: [out], attribute: attrs, ...(domain ? { domain } : {}) });
    return out;
  }

  floats(vals: number[], dims: number[] = [vals.length]): string {
    const name = `c_${this.n++}`;
    this.inits.push({ name, dims, data_type: TENSOR_TYPE.FLOAT, float_data: vals });
    return name;
  }

  scalar(v: number): string {
    return this.floats([v], [1]);
  }

  int64s(vals: number[]): string {
    const name = `c_${this.n++}`;
    this.inits.push({ name, dims: [vals.length], data_type: TENSOR_TYPE.INT64, int64_data: vals });
    return name;
  }

  input(name: string, dims: number[]): string {
    this.inputs.push(valueInfo(name, dims));
    return name;
  }

  output(value: string, name: string, dims: number[]): void {
    this.nodes.push({ op_type: 'Identity', input: [value], output: [name] });
    this.outputs.push(valueInfo(name, dims));
  }

  /** mean over `axes`, kept as size-1 dimensions */
  mean(x: string, axes: number[]): string {
    return this.op('ReduceMean', [x], [ints('axes', axes), int('keepdims', 1)]);
  }

  /** sum over every axis, as a scalar */
  sum(x: string): string {
    return this.op('ReduceSum', [x], [int('keepdims', 0)]);
  }

  encode(name: string): Uint8Array {
    // constants no node reads (onnxruntime warns about each) are left out
    const used = new Set(this.nodes.flatMap((n) => n.input));
    return encodeModel({
      ir_version: 8,
      opset_import: [{ version: 17 }, { domain: 'com.microsoft', version: 1 }],
      producer_name: 'hush',
      graph: { name, node: this.nodes, initializer: this.inits.filter((t) => t.name !== undefined && used.has(t.name)), input: this.inputs, output: this.outputs },
    });
  }
}

function valueInfo(name: string, dims: number[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: TENSOR_TYPE.FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

export const ints = (name: string, v: number[]): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.INTS, ints: v });
export const int = (name: string, v: number): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.INT, i: v });

/** TensorFlow's 'same' padding along one axis: [before, after, output size]. */
function samePads(size: number, k: number, stride: number, dilation: number): [number, number, number] {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + (k - 1) * dilation + 1 - size, 0);
  const before = Math.floor(total / 2);
  return [before, total - before, out];
}

/**
 * The [H, W] of every node's output for an input of size inHw; throws where the sizes
 * do not fit (pooling an odd size, adding or concatenating maps of different sizes).
 */
export function nodeSizes(net: Net, inHw: [number, number]): [number, number][] {
  const hw: [number, number][] = [];
  const of = (i: number) => (i === INPUT ? inHw : hw[i]);
  net.nodes.forEach((st, idx) => {
    const [h, w] = of(st.inputs[0]);
    for (const j of st.inputs.slice(1)) {
      const o = of(j);
      if (st.kind !== 'meanmatch' && (o[0] !== h || o[1] !== w)) throw new Error(`layer ${st.layer} joins maps of ${h}x${w} and ${o[0]}x${o[1]}`);
    }
    if (st.kind === 'conv') hw[idx] = [samePads(h, st.kh, st.stride, st.dilation)[2], samePads(w, st.kw, st.stride, st.dilation)[2]];
    else if (st.kind === 'convT') hw[idx] = [h * st.k, w * st.k];
    else if (st.kind === 'pool') {
      if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`layer ${st.layer} pools a ${h}x${w} map (an odd size)`);
      hw[idx] = [h / 2, w / 2];
    } else if (st.kind === 'up') hw[idx] = [h * 2, w * 2];
    else hw[idx] = [h, w];
  });
  return hw;
}

/** kh*kw one-hot kernels [kh*kw, 1, kh, kw]: a convolution with them is an im2col of one-channel planes */
function oneHotKernels(g: GraphBuilder, kh: number, kw: number): string {
  const onehot: number[] = [];
  for (let q = 0; q < kh * kw; q++) for (let r = 0; r < kh * kw; r++) onehot.push(q === r ? 1 : 0);
  return g.floats(onehot, [kh * kw, 1, kh, kw]);
}

/** x [N, C, H, W] -> [N, C, 2H, 2W], each value repeated 2x2 (nearest-neighbour up-sampling) */
function repeat2x2(g: GraphBuilder, x: string, [h, w]: [number, number]): string {
  const x6 = g.op('Reshape', [x, g.int64s([0, 0, h, 1, w, 1])]);
  return g.op('Reshape', [g.op('Expand', [x6, g.int64s([1, 1, 1, 2, 1, 2])]), g.int64s([0, 0, 2 * h, 2 * w])]);
}

/** the adjoint of repeat2x2: dy [N, C, 2H, 2W] -> [N, C, H, W], each 2x2 block summed */
function sum2x2(g: GraphBuilder, dy: string, [h, w]: [number, number]): string {
  return g.op('ReduceSum', [g.op('Reshape', [dy, g.int64s([0, 0, h, 2, w, 2])]), g.int64s([3, 5])], [int('keepdims', 0)]);
}

/**
 * tfjs's bilinear 2x up-sampling along one axis (2 or 3) of x [N, C, H, W], n = the
 * axis' size: out[2i] = x[i], out[2i+1] = (x[i] + x[min(i+1, n-1)]) / 2.
 */
function bilinearUp1d(g: GraphBuilder, x: string, axis: 2 | 3, n: number, other: number): string {
  const ax = g.int64s([axis]);
  const next = n === 1 ? x : g.op('Concat', [g.op('Slice', [x, g.int64s([1]), g.int64s([n]), ax]), g.op('Slice', [x, g.int64s([n - 1]), g.int64s([n]), ax])], [int('axis', axis)]);
  const odd = g.op('Mul', [g.op('Add', [x, next]), g.scalar(0.5)]);
  // interleave: [.., n, 1, ..] pairs along a new axis after `axis`, then merged
  const pair = g.op('Concat', [g.op('Unsqueeze', [x, g.int64s([axis + 1])]), g.op('Unsqueeze', [odd, g.int64s([axis + 1])])], [int('axis', axis + 1)]);
  return g.op('Reshape', [pair, g.int64s(axis === 2 ? [0, 0, 2 * n, other] : [0, 0, other, 2 * n])]);
}

/** the adjoint of bilinearUp1d: dy with 2n along `axis` -> n */
function bilinearUp1dAdjoint(g: GraphBuilder, dy: string, axis: 2 | 3, n: number, other: number): string {
  const split = g.op('Reshape', [dy, g.int64s(axis === 2 ? [0, 0, n, 2, other] : [0, 0, other, n, 2])]);
  const k = g.int64s([axis + 1]);
  const even = g.op('Squeeze', [g.op('Slice', [split, g.int64s([0]), g.int64s([1]), k]), k]);
  const half = g.op('Mul', [g.op('Squeeze', [g.op('Slice', [split, g.int64s([1]), g.int64s([2]), k]), k]), g.scalar(0.5)]);
  // odd row i gives half to x[i] and half to x[min(i+1, n-1)]
  const ax = g.int64s([axis]);
  const pads = (before: number, after: number) => g.int64s(axis === 2 ? [0, 0, before, 0, 0, 0, after, 0] : [0, 0, 0, before, 0, 0, 0, after]);
  let shifted: string;
  if (n === 1) shifted = half;
  else {
    const down = g.op('Pad', [g.op('Slice', [half, g.int64s([0]), g.int64s([n - 1]), ax]), pads(1, 0)]);
    const last = g.op('Pad', [g.op('Slice', [half, g.int64s([n - 1]), g.int64s([n]), ax]), pads(n - 1, 0)]);
    shifted = g.op('Add', [down, last]);
  }
  return g.op('Add', [g.op('Add', [even, half]), shifted]);
}

/** What a forward pass keeps for its backward pass. */
export interface Pass {
  input: string;
  /** [H, W] of the input */
  inHw: [number, number];
  values: string[];
  hw: [number, number][];
  /** batch norms: their input minus the mean, 1 / sqrt(variance + eps), and gamma times that */
  centred: (string | undefined)[];
  inv: (string | undefined)[];
  scale: (string | undefined)[];
  /** training-mode batch norms' batch statistics, in node order */
  stats: { node: number; mean: string; variance: string }[];
  output: string;
}

/**
 * Batch norms in training mode ('train': batch statistics), or in inference mode with
 * the graph values of each BN node's moving mean and variance ([1, c, 1, 1]).
 */
export type BnMode = 'train' | { mean: Map<number, string>; variance: Map<number, string> };

/** The forward pass of `net` on x (NCHW, `batch` images of size inHw), parameters from the graph values p. */
export function emitForward(g: GraphBuilder, net: Net, x: string, batch: number, inHw: [number, number], p: readonly string[], bn: BnMode): Pass {
  const pass: Pass = { input: x, inHw, values: [], hw: nodeSizes(net, inHw), centred: [], inv: [], scale: [], stats: [], output: '' };
  const value = (i: number) => (i === INPUT ? x : pass.values[i]);
  const hwOf = (i: number) => (i === INPUT ? inHw : pass.hw[i]);
  net.nodes.forEach((st, idx) => {
    const h = value(st.inputs[0]);
    const hw = hwOf(st.inputs[0]);
    let y: string;
    if (st.kind === 'conv') {
      const [pt, pb] = samePads(hw[0], st.kh, st.stride, st.dilation);
      const [pl, pr] = samePads(hw[1], st.kw, st.stride, st.dilation);
      const ins = [h, p[st.w]];
      if (st.b !== undefined) ins.push(p[st.b]);
      y = g.op('Conv', ins, [ints('pads', [pt, pl, pb, pr]), ints('strides', [st.stride, st.stride]), ints('dilations', [st.dilation, st.dilation]), ints('kernel_shape', [st.kh, st.kw])]);
    } else if (st.kind === 'convT') {
      const ins = [h, p[st.w]];
      if (st.b !== undefined) ins.push(p[st.b]);
      y = g.op('ConvTranspose', ins, [ints('strides', [st.k, st.k]), ints('kernel_shape', [st.k, st.k])]);
    } else if (st.kind === 'concat') {
      y = g.op('Concat', st.inputs.map(value), [int('axis', 1)]);
    } else if (st.kind === 'pool') {
      y = g.op(st.mode === 'max' ? 'MaxPool' : 'AveragePool', [h], [ints('kernel_shape', [2, 2]), ints('strides', [2, 2])]);
    } else if (st.kind === 'up') {
      y = st.mode === 'nearest' ? repeat2x2(g, h, hw) : bilinearUp1d(g, bilinearUp1d(g, h, 2, hw[0], hw[1]), 3, hw[1], 2 * hw[0]);
    } else if (st.kind === 'bn') {
      let mean: string;
      let variance: string;
      let centred: string;
      if (bn === 'train') {
        mean = g.mean(h, [0, 2, 3]);
        centred = g.op('Sub', [h, mean]);
        variance = g.op('Mul', [g.op('ReduceSumSquare', [centred], [ints('axes', [0, 2, 3]), int('keepdims', 1)]), g.scalar(1 / (batch * hw[0] * hw[1]))]);
        pass.stats.push({ node: idx, mean, variance });
      } else {
        mean = bn.mean.get(idx)!;
        variance = bn.variance.get(idx)!;
        centred = g.op('Sub', [h, mean]);
      }
      const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.scalar(st.eps)])])]);
      // (h - mean) (gamma inv) + beta: the per-channel product first, so one full-size multiply
      const scale = g.op('Mul', [p[st.gamma], inv]);
      pass.centred[idx] = centred;
      pass.inv[idx] = inv;
      pass.scale[idx] = scale;
      y = g.op('Add', [g.op('Mul', [centred, scale]), p[st.beta]]);
    } else if (st.kind === 'act') {
      y = st.alpha === 0 ? g.op('Relu', [h]) : g.op('LeakyRelu', [h], [{ name: 'alpha', type: ATTRIBUTE_TYPE.FLOAT, f: st.alpha }]);
    } else if (st.kind === 'sigmoid') {
      y = g.op('Sigmoid', [h]);
    } else if (st.kind === 'add') {
      y = st.inputs.slice(1).reduce((acc, i) => g.op('Add', [acc, value(i)]), h);
    } else if (st.kind === 'meanmatch') {
      y = g.op('Add', [g.op('Sub', [h, g.mean(h, [2, 3])]), g.mean(value(st.inputs[1]), [2, 3])]);
    } else {
      y = g.op('Sub', [h, value(st.inputs[1])]);
    }
    pass.values[idx] = y;
  });
  pass.output = pass.values[net.nodes.length - 1];
  return pass;
}

/**
 * The backward pass of `pass` from dOut (the loss gradient of its output). Parameter
 * gradients go to `accumulate` (only when given: a pass whose parameters stay fixed
 * passes undefined); returns the gradient of the input when `inputGradient`.
 */
export function emitBackward(
  g: GraphBuilder,
  net: Net,
  pass: Pass,
  dOut: string,
  p: readonly string[],
  options: { accumulate?: (param: number, value: string) => void; inputGradient?: boolean; batch: number },
): string | undefined {
  const N = options.batch;
  const grads: (string | undefined)[] = new Array(net.nodes.length);
  let dInput: string | undefined;
  const addTo = (i: number, v: string) => {
    if (i === INPUT) {
      if (options.inputGradient) dInput = dInput === undefined ? v : g.op('Add', [dInput, v]);
    } else grads[i] = grads[i] === undefined ? v : g.op('Add', [grads[i]!, v]);
  };
  /** whether a gradient into node i (or the input) is used at all */
  const wanted = (i: number) => i !== INPUT || options.inputGradient === true;
  const axes023 = g.int64s([0, 2, 3]);
  const zero = g.scalar(0);
  const acc = options.accumulate;
  grads[net.nodes.length - 1] = dOut;
  for (let i = net.nodes.length - 1; i >= 0; i--) {
    const dy = grads[i];
    if (dy === undefined) continue;
    const st = net.nodes[i];
    const src = st.inputs[0];
    const out = pass.values[i];
    // the node's (first) input and its [H, W]
    const input = src === INPUT ? pass.input : pass.values[src];
    const [H, W] = src === INPUT ? pass.inHw : pass.hw[src];
    if (st.kind === 'act') {
      const pos = g.op('Cast', [g.op('Greater', [out, zero])], [int('to', TENSOR_TYPE.FLOAT)]);
      const slope = st.alpha === 0 ? pos : g.op('Add', [g.op('Mul', [pos, g.scalar(1 - st.alpha)]), g.scalar(st.alpha)]);
      addTo(src, g.op('Mul', [dy, slope]));
    } else if (st.kind === 'sigmoid') {
      addTo(src, g.op('Mul', [dy, g.op('Mul', [out, g.op('Sub', [g.scalar(1), out])])]));
    } else if (st.kind === 'add') {
      for (const j of st.inputs) addTo(j, dy);
    } else if (st.kind === 'sub') {
      addTo(st.inputs[0], dy);
      if (wanted(st.inputs[1])) addTo(st.inputs[1], g.op('Neg', [dy]));
    } else if (st.kind === 'meanmatch') {
      const m = g.mean(dy, [2, 3]);
      addTo(st.inputs[0], g.op('Sub', [dy, m]));
      const ref = st.inputs[1];
      if (wanted(ref)) addTo(ref, g.op('Expand', [m, g.op('Shape', [ref === INPUT ? pass.input : pass.values[ref]])]));
    } else if (st.kind === 'concat') {
      let at = 0;
      st.inputs.forEach((j, q) => {
        if (wanted(j)) addTo(j, g.op('Slice', [dy, g.int64s([at]), g.int64s([at + st.sizes[q]]), g.int64s([1])]));
        at += st.sizes[q];
      });
    } else if (st.kind === 'pool') {
      if (wanted(src)) {
        const hw = pass.hw[i];
        if (st.mode === 'avg') addTo(src, g.op('Mul', [repeat2x2(g, dy, hw), g.scalar(0.25)]));
        else {
          // to the maximum of each 2x2 block (to each of them when tied)
          const isMax = g.op('Cast', [g.op('Equal', [input, repeat2x2(g, out, hw)])], [int('to', TENSOR_TYPE.FLOAT)]);
          addTo(src, g.op('Mul', [repeat2x2(g, dy, hw), isMax]));
        }
      }
    } else if (st.kind === 'up') {
      if (wanted(src)) {
        addTo(src, st.mode === 'nearest' ? sum2x2(g, dy, [H, W]) : bilinearUp1dAdjoint(g, bilinearUp1dAdjoint(g, dy, 3, W, 2 * H), 2, H, W));
      }
    } else if (st.kind === 'convT') {
      const { k, ci, co } = st;
      if (acc) {
        if (st.b !== undefined) acc(st.b, g.op('ReduceSum', [dy, axes023], [int('keepdims', 0)]));
        // dW[c, o, a, b] = sum_{n,i,j} x[n, c, i, j] dy[n, o, k i + a, k j + b]: dy's k*k phases by one-hot kernels of stride k
        const planes = g.op('Reshape', [dy, g.int64s([N * co, 1, H * k, W * k])]);
        const col = g.op('Conv', [planes, oneHotKernels(g, k, k)], [ints('strides', [k, k]), ints('kernel_shape', [k, k])]);
        const colR = g.op('Reshape', [col, g.int64s([N, co * k * k, H * W])]);
        const xR = g.op('Reshape', [input, g.int64s([N, ci, H * W])]);
        const per = g.op('FusedMatMul', [xR, colR], [int('transB', 1)], 'com.microsoft');
        acc(st.w, g.op('Reshape', [g.op('ReduceSum', [per, g.int64s([0])], [int('keepdims', 0)]), g.int64s([ci, co, k, k])]));
      }
      // the adjoint of a non-overlapping transposed convolution is the convolution of stride k with the same kernel
      if (wanted(src)) addTo(src, g.op('Conv', [dy, p[st.w]], [ints('strides', [k, k]), ints('kernel_shape', [k, k])]));
    } else if (st.kind === 'bn') {
      // with c = x - mean and a = gamma inv: dbeta = sum(dy), dgamma = inv sum(dy c), and in
      // training mode dx = a dy - a inv^2 mean(dy c) c - a mean(dy) (the usual form with
      // xhat = inv c, written so that it takes three full-size multiplies and two adds)
      const c = pass.centred[i]!;
      const inv = pass.inv[i]!;
      const training = pass.stats.some((s) => s.node === i);
      // sum(dy) and sum(dy c), for the parameters' gradients and training mode's dx
      const sums = acc || (training && wanted(src)) ? [g.op('ReduceSum', [dy, axes023], [int('keepdims', 1)]), g.op('ReduceSum', [g.op('Mul', [dy, c]), axes023], [int('keepdims', 1)])] : undefined;
      if (acc && sums) {
        acc(st.beta, sums[0]);
        acc(st.gamma, g.op('Mul', [sums[1], inv]));
      }
      if (wanted(src)) {
        const a = pass.scale[i]!;
        if (training && sums) {
          const [sumDy, sumDyC] = sums;
          const perCount = g.scalar(-1 / (N * H * W));
          const bc = g.op('Mul', [g.op('Mul', [a, g.op('Mul', [inv, inv])]), g.op('Mul', [sumDyC, perCount])]);
          const shift = g.op('Mul', [a, g.op('Mul', [sumDy, perCount])]);
          addTo(src, g.op('Add', [g.op('Mul', [dy, a]), g.op('Add', [g.op('Mul', [c, bc]), shift])]));
        } else addTo(src, g.op('Mul', [dy, a]));
      }
    } else {
      const { kh, kw, stride: s, dilation: d, ci, co } = st;
      const [pt, pb] = samePads(H, kh, s, d);
      const [pl, pr] = samePads(W, kw, s, d);
      const [Ho, Wo] = pass.hw[i];
      if (acc) {
        if (st.b !== undefined) acc(st.b, g.op('ReduceSum', [dy, axes023], [int('keepdims', 0)]));
        // im2col of the input by one-hot kernels, then dW = sum_n dy_n col_n^T
        const planes = g.op('Reshape', [input, g.int64s([N * ci, 1, H, W])]);
        const col = g.op('Conv', [planes, oneHotKernels(g, kh, kw)], [ints('pads', [pt, pl, pb, pr]), ints('strides', [s, s]), ints('dilations', [d, d]), ints('kernel_shape', [kh, kw])]);
        const colR = g.op('Reshape', [col, g.int64s([N, ci * kh * kw, Ho * Wo])]);
        const dyR = g.op('Reshape', [dy, g.int64s([N, co, Ho * Wo])]);
        const per = g.op('FusedMatMul', [dyR, colR], [int('transB', 1)], 'com.microsoft');
        acc(st.w, g.op('Reshape', [g.op('ReduceSum', [per, g.int64s([0])], [int('keepdims', 0)]), g.int64s([co, ci, kh, kw])]));
      }
      if (wanted(src)) {
        if (s === 1) {
          // convolution with the flipped, transposed kernel
          const wt = g.op('Transpose', [p[st.w]], [ints('perm', [1, 0, 2, 3])]);
          const flipped = g.op('Slice', [wt, g.int64s([-1, -1]), g.int64s([-(2 ** 31), -(2 ** 31)]), g.int64s([2, 3]), g.int64s([-1, -1])]);
          const ph = (kh - 1) * d;
          const pw = (kw - 1) * d;
          addTo(src, g.op('Conv', [dy, flipped], [ints('pads', [ph - pt, pw - pl, ph - pb, pw - pr]), ints('dilations', [d, d]), ints('kernel_shape', [kh, kw])]));
        } else {
          const oh = H - (s * (Ho - 1) + kh - pt - pb);
          const ow = W - (s * (Wo - 1) + kw - pl - pr);
          addTo(src, g.op('ConvTranspose', [dy, p[st.w]], [ints('pads', [pt, pl, pb, pr]), ints('strides', [s, s]), ints('kernel_shape', [kh, kw]), ints('output_padding', [oh, ow])]));
        }
      }
    }
  }
  return dInput;
}

/** Collects parameter gradients (summing those of several passes). */
export class GradientSum {
  readonly grads: (string | undefined)[];
  constructor(
    private readonly g: GraphBuilder,
    count: number,
  ) {
    this.grads = new Array(count);
  }
  readonly add = (i: number, value: string): void => {
    this.grads[i] = this.grads[i] === undefined ? value : this.g.op('Add', [this.grads[i]!, value]);
  };
}

export interface AdamConstants {
  beta1: number;
  beta2: number;
  epsilon: number;
}

/**
 * Adam on every parameter: reads graph inputs `${prefix}p${i}`, `${prefix}m${i}`,
 * `${prefix}v${i}` (the caller declares the p's), the scalars lr, c1 = 1/(1 - beta1^t)
 * and c2; writes `new_${prefix}p${i}` etc. Returns the new parameters' value names.
 */
export function emitAdam(g: GraphBuilder, params: readonly Param[], p: readonly string[], grads: readonly (string | undefined)[], prefix: string, adam: AdamConstants, scalars: { lr: string; c1: string; c2: string }, outputGradients: boolean): string[] {
  const b1 = g.scalar(adam.beta1);
  const b1c = g.scalar(1 - adam.beta1);
  const b2 = g.scalar(adam.beta2);
  const b2c = g.scalar(1 - adam.beta2);
  const eps = g.scalar(adam.epsilon);
  return params.map((q, i) => {
    const m = g.input(`${prefix}m${i}`, q.onnxShape);
    const v = g.input(`${prefix}v${i}`, q.onnxShape);
    const gr = grads[i];
    if (gr === undefined) throw new Error(`no gradient reaches ${q.name}`);
    if (outputGradients) g.output(gr, `${prefix}grad${i}`, q.onnxShape);
    const m2 = g.op('Add', [g.op('Mul', [m, b1]), g.op('Mul', [gr, b1c])]);
    const v2 = g.op('Add', [g.op('Mul', [v, b2]), g.op('Mul', [g.op('Mul', [gr, gr]), b2c])]);
    const upd = g.op('Div', [g.op('Mul', [m2, scalars.c1]), g.op('Add', [g.op('Sqrt', [g.op('Mul', [v2, scalars.c2])]), eps])]);
    const np = g.op('Sub', [p[i], g.op('Mul', [upd, scalars.lr])]);
    g.output(np, `new_${prefix}p${i}`, q.onnxShape);
    g.output(m2, `new_${prefix}m${i}`, q.onnxShape);
    g.output(v2, `new_${prefix}v${i}`, q.onnxShape);
    return np;
  });
}

/**
 * A network's weights and Adam moments as onnxruntime tensors between steps, with the
 * way back into the tfjs model and to and from tfjs's checkpoint layout.
 */
export class NetState {
  params: OrtTensor[];
  m: OrtTensor[];
  v: OrtTensor[];

  constructor(
    private readonly ort: Ort,
    readonly model: LayersModel,
    readonly net: Net,
    tensors: Tensor[],
  ) {
    this.params = net.params.map((p, i) => new ort.Tensor('float32', toOnnx(p, tensors[i].dataSync() as Float32Array), p.onnxShape));
    const zeros = () => net.params.map((p) => new ort.Tensor('float32', new Float32Array(p.onnxShape.reduce((a, b) => a * b, 1)), p.onnxShape));
    this.m = zeros();
    this.v = zeros();
  }

  /** Puts the parameters and moments in `feeds` under `${prefix}p${i}` etc. */
  feed(feeds: Record<string, OrtTensor>, prefix: string): void {
    this.net.params.forEach((_, i) => {
      feeds[`${prefix}p${i}`] = this.params[i];
      feeds[`${prefix}m${i}`] = this.m[i];
      feeds[`${prefix}v${i}`] = this.v[i];
    });
  }

  /** Takes the new parameters and moments from a step's outputs. */
  take(out: Record<string, OrtTensor>, prefix: string): void {
    this.params = this.net.params.map((_, i) => out[`new_${prefix}p${i}`]);
    this.m = this.net.params.map((_, i) => out[`new_${prefix}m${i}`]);
    this.v = this.net.params.map((_, i) => out[`new_${prefix}v${i}`]);
  }

  bnNodes(): BnNode[] {
    return this.net.nodes.filter((st): st is BnNode => st.kind === 'bn');
  }

  /** Writes the weights and the batch norms' moving statistics into the tfjs model. */
  async syncToModel(): Promise<void> {
    const { tensor } = await import('@tensorflow/tfjs');
    const byName = new Map<string, Float32Array>();
    this.net.params.forEach((p, i) => byName.set(p.name, toTfjs(p, this.params[i].data as Float32Array)));
    for (const st of this.bnNodes()) {
      const names = this.model.getLayer(st.layer).weights.map((w) => w.name);
      byName.set(names[2], st.movingMean);
      byName.set(names[3], st.movingVar);
    }
    for (const layer of this.model.layers) {
      if (layer.weights.length === 0 || !layer.weights.some((w) => byName.has(w.name))) continue;
      const values = layer.weights.map((w) => {
        const data = byName.get(w.name);
        return data ? tensor(data, w.shape as number[]) : w.read().clone();
      });
      layer.setWeights(values);
      for (const t of values) t.dispose();
    }
  }

  private order(): number[] {
    return [...this.net.params.keys()].sort((a, b) => this.net.params[a].order - this.net.params[b].order);
  }

  private total(): number {
    return this.net.params.reduce((n, p) => n + p.tfShape.reduce((a, b) => a * b, 1), 0);
  }

  /** Adam's moments in tfjs's checkpoint order: m of every trainable weight in model order, then v. */
  moments(): Float32Array {
    const flat = new Float32Array(2 * this.total());
    let at = 0;
    for (const list of [this.m, this.v]) {
      for (const i of this.order()) {
        const d = toTfjs(this.net.params[i], list[i].data as Float32Array);
        flat.set(d, at);
        at += d.length;
      }
    }
    return flat;
  }

  /** Restores the moments written by moments(), and the weights and moving statistics from the tfjs model. */
  restore(fn: string, moments: Float32Array): void {
    if (moments.length !== 2 * this.total()) throw invalidParameter(fn, 'moments', `${2 * this.total()} values`, `${moments.length} values`);
    let at = 0;
    for (const list of [this.m, this.v]) {
      for (const i of this.order()) {
        const p = this.net.params[i];
        const n = p.tfShape.reduce((a, b) => a * b, 1);
        list[i] = new this.ort.Tensor('float32', toOnnx(p, moments.subarray(at, at + n)), p.onnxShape);
        at += n;
      }
    }
    const tensors: Tensor[] = [];
    const fresh = parseNetwork(this.model, tensors);
    this.params = fresh.params.map((p, i) => new this.ort.Tensor('float32', toOnnx(p, tensors[i].dataSync() as Float32Array), p.onnxShape));
    fresh.nodes.forEach((st, i) => {
      const mine = this.net.nodes[i];
      if (st.kind === 'bn' && mine.kind === 'bn') {
        mine.movingMean = st.movingMean.slice();
        mine.movingVar = st.movingVar.slice();
      }
    });
  }

  /** Moves the moving statistics of the BN nodes towards batch statistics, as tfjs-layers does per training-mode call. */
  updateMoving(stats: { node: number; mean: Float32Array; variance: Float32Array }[]): void {
    for (const s of stats) {
      const st = this.net.nodes[s.node] as BnNode;
      const decay = 1 - st.momentum;
      for (let c = 0; c < st.c; c++) {
        st.movingMean[c] -= (st.movingMean[c] - s.mean[c]) * decay;
        st.movingVar[c] -= (st.movingVar[c] - s.variance[c]) * decay;
      }
    }
  }
}
