/**
 * OnnxTrainer: training steps of a plain convolutional network (DnCNN and any chain
 * of stride-1 'same' Conv2D, BatchNormalization and ReLU/LeakyReLU/linear layers,
 * optionally ending in hush's residual Subtract) run by onnxruntime-node as ONE
 * ONNX graph per step: forward pass, the reverse-mode gradient written out by hand
 * for this op set, and tfjs's Adam update. onnxruntime's native kernels (MLAS,
 * AVX-512 here) run the convolutions several times faster than tfjs's wasm build,
 * which is bound to 128-bit SIMD on one thread (docs/neural-engine.md measures both).
 *
 * Why hand-written and not a library: onnxruntime's training API (on-device
 * training artifacts) is not in the onnxruntime-node package, and tfjs cannot run
 * its kernels on onnxruntime. The graph is small because the op set is:
 * - conv, stride 1, dilation d, odd kernel k, 'same' padding (pad d(k-1)/2):
 *   dx = conv(dy, W flipped and transposed), same dilation and pads;
 *   dW[o, c, a, b] = sum_{n,i,j} dy[n,o,i,j] x[n,c,i+d(a-h),j+d(b-h)]: the k*k shifted
 *   copies of x come from one convolution with one-hot kernels (an im2col in
 *   MLAS), and a batched FusedMatMul with transB contracts them with dy per image,
 *   summed over the batch;
 * - batch norm in training mode (batch mean, biased variance, as tfjs-layers):
 *   dx = inv (dxhat - mean(dxhat) - xhat mean(dxhat xhat)), dxhat = dy gamma;
 *   the moving averages are updated here with the layer's momentum;
 * - ReLU / LeakyReLU: dy times the slope where the input is positive / negative;
 * - loss: l2 or l1 over a mask (all ones without one), divided by the mask's sum.
 * Adam is tfjs's: m, v, then w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps).
 *
 * The trainer owns the weights and moments while it runs; syncToModel() writes the
 * weights and moving statistics back into the tfjs model (for validation, saving and
 * export), and the moments travel in tfjs's layout for checkpoints.
 */
import { availableParallelism } from 'node:os';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { HushError, invalidParameter } from '../core/errors.js';
import { checkNumber } from '../core/validate.js';
import { ATTRIBUTE_TYPE, TENSOR_TYPE, encodeModel, type OnnxAttribute, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from '../onnx/proto.js';
import { loadOrt } from '../runtime/onnx.js';

type Ort = Awaited<ReturnType<typeof loadOrt>>;
type Session = Awaited<ReturnType<Ort['InferenceSession']['create']>>;
type OrtTensor = InstanceType<Ort['Tensor']>;

interface ConvStage {
  kind: 'conv';
  layer: string;
  k: number;
  dilation: number;
  ci: number;
  co: number;
  /** index into params of the kernel (ONNX layout [co, ci, k, k]) and of the bias */
  w: number;
  b?: number;
}
interface BnStage {
  kind: 'bn';
  layer: string;
  c: number;
  gamma: number;
  beta: number;
  eps: number;
  momentum: number;
  /** moving mean and variance, kept here and written back by syncToModel */
  movingMean: Float32Array;
  movingVar: Float32Array;
}
interface ActStage {
  kind: 'act';
  /** slope for negative inputs: 0 for ReLU */
  alpha: number;
}
type Stage = ConvStage | BnStage | ActStage;

interface Param {
  /** the tfjs variable's name, as in model.trainableWeights */
  name: string;
  /** index in model.trainableWeights (the checkpoint's order) */
  order: number;
  tfShape: number[];
  onnxShape: number[];
  /** 'kernel': tfjs [k, k, ci, co] <-> ONNX [co, ci, k, k]; 'bn': [c] <-> [1, c, 1, 1]; 'plain': same layout */
  layout: 'kernel' | 'bn' | 'plain';
}

export interface OnnxTrainerOptions {
  /** onnxruntime intra-op threads (default: HUSH_THREADS or the number of cores) */
  threads?: number;
  /** pixel loss, or Noise2Same's (default l2) */
  loss?: OnnxTrainingLoss;
  /** Adam's constants (tfjs's defaults) */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

export interface OnnxTrainerBatch {
  /** network input, NHWC */
  input: Float32Array;
  /** target, NHWC, same shape */
  target: Float32Array;
  /** optional loss mask (1 = counts), same shape; Noise2Same: its blind spots (required) */
  mask?: Float32Array;
  /** Noise2Same: the masked input (the second pass) */
  input2?: Float32Array;
  /** this step's loss, when it differs from options.loss (Noise2SamePro switches variant for its last steps) */
  loss?: OnnxTrainingLoss;
  /** Noise2Same: lambda of 'noise2same' (default 2, as noise2SameLoss) */
  lambda?: number;
  /** [N, H, W, C] */
  shape: number[];
}

/**
 * Why `model` cannot train on onnxruntime, or undefined when it can: a chain of
 * stride-1 'same' convolutions (odd kernels, any dilation), batch norms over the
 * channels and ReLU/LeakyReLU/linear activations, optionally ending in hush's
 * residual Subtract of the input.
 */
export function onnxTrainingUnsupported(model: LayersModel): string | undefined {
  try {
    parseChain(model, []);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}

interface Chain {
  stages: Stage[];
  residual: boolean;
  params: Param[];
  channels: number;
}

function parseChain(model: LayersModel, tensors: Tensor[]): Chain {
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
  const stages: Stage[] = [];
  let residual = false;
  let prev = inputLayer;
  let c = channels;
  for (const layer of model.layers) {
    if (layer.name === inputLayer) continue;
    const cls = layer.getClassName();
    const inbound = layer.inboundNodes;
    if (inbound.length !== 1) throw new Error(`layer ${layer.name} is used more than once`);
    const from = inbound[0].inboundLayers.map((l) => l.name);
    if (cls === 'HushSubtract') {
      if (from.length !== 2 || from[0] !== inputLayer || from[1] !== prev || layer !== model.layers[model.layers.length - 1]) throw new Error('the residual subtraction is not input minus the last layer');
      residual = true;
      continue;
    }
    if (from.length !== 1 || from[0] !== prev) throw new Error(`layer ${layer.name} does not follow the previous layer (only plain chains train on onnxruntime)`);
    const cfg = layer.getConfig() as Record<string, unknown>;
    if (cls === 'Conv2D') {
      const k = (cfg.kernelSize as number[])[0];
      const strides = cfg.strides as number[];
      const dil = cfg.dilationRate as number | number[];
      const d = Array.isArray(dil) ? dil[0] : dil;
      if ((cfg.kernelSize as number[])[1] !== k || k % 2 !== 1) throw new Error(`layer ${layer.name}: only square odd kernels`);
      if (strides[0] !== 1 || strides[1] !== 1 || cfg.padding !== 'same') throw new Error(`layer ${layer.name}: only stride 1 and 'same' padding`);
      if (Array.isArray(dil) && dil[0] !== dil[1]) throw new Error(`layer ${layer.name}: only equal dilations`);
      const co = cfg.filters as number;
      const lw = layer.trainableWeights;
      const st: ConvStage = { kind: 'conv', layer: layer.name, k, dilation: d, ci: c, co, w: addParam(lw[0] as never, 'kernel') };
      if (cfg.useBias) st.b = addParam(lw[1] as never, 'plain');
      stages.push(st);
      c = co;
      const act = cfg.activation as string;
      if (act === 'relu') stages.push({ kind: 'act', alpha: 0 });
      else if (act !== 'linear') throw new Error(`layer ${layer.name}: activation ${act}`);
    } else if (cls === 'BatchNormalization') {
      if (!cfg.center || !cfg.scale) throw new Error(`layer ${layer.name}: batch norm without centre or scale`);
      const ax = cfg.axis as number | number[];
      if ((Array.isArray(ax) ? ax[0] : ax) !== -1 && (Array.isArray(ax) ? ax[0] : ax) !== 3) throw new Error(`layer ${layer.name}: batch norm over another axis`);
      const lw = layer.trainableWeights;
      const all = layer.getWeights();
      const movingMean = (all[2].dataSync() as Float32Array).slice();
      const movingVar = (all[3].dataSync() as Float32Array).slice();
      stages.push({
        kind: 'bn',
        layer: layer.name,
        c,
        gamma: addParam(lw[0] as never, 'bn'),
        beta: addParam(lw[1] as never, 'bn'),
        eps: cfg.epsilon as number,
        momentum: cfg.momentum as number,
        movingMean,
        movingVar,
      });
    } else if (cls === 'Activation' || cls === 'ReLU' || cls === 'LeakyReLU') {
      if (cls === 'LeakyReLU') stages.push({ kind: 'act', alpha: cfg.alpha as number });
      else if (cls === 'ReLU') {
        if (cfg.maxValue != null) throw new Error(`layer ${layer.name}: capped ReLU`);
        stages.push({ kind: 'act', alpha: 0 });
      } else if (cfg.activation === 'relu') stages.push({ kind: 'act', alpha: 0 });
      else if (cfg.activation !== 'linear') throw new Error(`layer ${layer.name}: activation ${String(cfg.activation)}`);
    } else throw new Error(`layer ${layer.name} is a ${cls}`);
    prev = layer.name;
  }
  if (c !== channels && residual) throw new Error('the residual output has other channels than the input');
  if (params.length !== trainable.length) throw new Error('the network has trainable weights outside the chain');
  return { stages, residual, params, channels };
}

/** tfjs layout -> ONNX layout */
function toOnnx(p: Param, data: Float32Array): Float32Array {
  if (p.layout !== 'kernel') return data.slice();
  const [k, k2, ci, co] = p.tfShape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < k; a++) for (let b = 0; b < k2; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) out[((o * ci + c) * k + a) * k2 + b] = data[((a * k2 + b) * ci + c) * co + o];
  return out;
}

/** ONNX layout -> tfjs layout */
function toTfjs(p: Param, data: Float32Array): Float32Array {
  if (p.layout !== 'kernel') return data.slice();
  const [k, k2, ci, co] = p.tfShape;
  const out = new Float32Array(data.length);
  for (let a = 0; a < k; a++) for (let b = 0; b < k2; b++) for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) out[((a * k2 + b) * ci + c) * co + o] = data[((o * ci + c) * k + a) * k2 + b];
  return out;
}

class GraphBuilder {
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
}

function valueInfo(name: string, dims: number[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: TENSOR_TYPE.FLOAT, shape: { dim: dims.map((d) => ({ dim_value: d })) } } } };
}

const ints = (name: string, v: number[]): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.INTS, ints: v });
const int = (name: string, v: number): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.INT, i: v });

interface BuiltGraph {
  bytes: Uint8Array;
  /** the BN stages' batch statistics outputs, in stage order */
  stats: { mean: string; variance: string }[];
}

/** The training loss: a pixel loss over a mask, or Noise2Same's (two passes; see losses.ts). */
export const ONNX_TRAINING_LOSSES = ['l1', 'l2', 'noise2same', 'noise2same-pro'] as const;
export type OnnxTrainingLoss = (typeof ONNX_TRAINING_LOSSES)[number];

/** The training-step graph for one batch shape. */
function buildStepGraph(chain: Chain, shape: number[], loss: OnnxTrainingLoss, adam: { beta1: number; beta2: number; epsilon: number }, withGradients: boolean): BuiltGraph {
  const [N, H, W] = shape;
  const g = new GraphBuilder();
  const nchw = ints('perm', [0, 3, 1, 2]);
  const n2same = loss === 'noise2same' || loss === 'noise2same-pro';
  const x = g.op('Transpose', [g.input('input', shape)], [nchw]);
  const x2 = n2same ? g.op('Transpose', [g.input('input2', shape)], [nchw]) : undefined;
  const target = g.op('Transpose', [g.input('target', shape)], [nchw]);
  const mask = g.op('Transpose', [g.input('mask', shape)], [nchw]);
  const invCount = g.input('inv_count', [1]);
  const paramNames = chain.params.map((_, i) => g.input(`p${i}`, chain.params[i].onnxShape));
  const axes023 = g.int64s([0, 2, 3]);
  const zero = g.floats([0], [1]);
  const stats: BuiltGraph['stats'] = [];

  interface Saved { input: string; output: string; xhat?: string; inv?: string }
  /** one forward pass, keeping what the backward pass needs */
  const forward = (x0: string): { pred: string; saved: Saved[] } => {
    const saved: Saved[] = [];
    let h = x0;
    for (const st of chain.stages) {
      const s: Saved = { input: h, output: '' };
      if (st.kind === 'conv') {
        const pad = (st.dilation * (st.k - 1)) / 2;
        const ins = [h, paramNames[st.w]];
        if (st.b !== undefined) ins.push(paramNames[st.b]);
        h = g.op('Conv', ins, [ints('pads', [pad, pad, pad, pad]), ints('dilations', [st.dilation, st.dilation]), ints('kernel_shape', [st.k, st.k])]);
      } else if (st.kind === 'bn') {
        const mean = g.op('ReduceMean', [h], [ints('axes', [0, 2, 3]), int('keepdims', 1)]);
        const d = g.op('Sub', [h, mean]);
        const variance = g.op('ReduceMean', [g.op('Mul', [d, d])], [ints('axes', [0, 2, 3]), int('keepdims', 1)]);
        const inv = g.op('Reciprocal', [g.op('Sqrt', [g.op('Add', [variance, g.floats([st.eps], [1])])])]);
        const xhat = g.op('Mul', [d, inv]);
        s.xhat = xhat;
        s.inv = inv;
        h = g.op('Add', [g.op('Mul', [xhat, paramNames[st.gamma]]), paramNames[st.beta]]);
        stats.push({ mean: `stat_mean_${stats.length}`, variance: `stat_var_${stats.length}` });
        g.output(mean, stats[stats.length - 1].mean, [1, st.c, 1, 1]);
        g.output(variance, stats[stats.length - 1].variance, [1, st.c, 1, 1]);
      } else {
        h = st.alpha === 0 ? g.op('Relu', [h]) : g.op('LeakyRelu', [h], [{ name: 'alpha', type: ATTRIBUTE_TYPE.FLOAT, f: st.alpha }]);
      }
      s.output = h;
      saved.push(s);
    }
    return { pred: chain.residual ? g.op('Sub', [x0, h]) : h, saved };
  };

  /** the backward pass of one forward pass from the loss gradient of its prediction; the parameter gradients are added into grads */
  const grads: string[] = new Array(chain.params.length);
  const accumulate = (i: number, value: string) => {
    grads[i] = grads[i] === undefined ? value : g.op('Add', [grads[i], value]);
  };
  const backward = (dPred: string, saved: Saved[]) => {
    let dy = chain.residual ? g.op('Neg', [dPred]) : dPred;
    for (let i = chain.stages.length - 1; i >= 0; i--) {
      const st = chain.stages[i];
      const s = saved[i];
      if (st.kind === 'act') {
        const pos = g.op('Cast', [g.op('Greater', [s.output, zero])], [int('to', TENSOR_TYPE.FLOAT)]);
        // slope: 1 where positive, alpha elsewhere
        const slope = st.alpha === 0 ? pos : g.op('Add', [g.op('Mul', [pos, g.floats([1 - st.alpha], [1])]), g.floats([st.alpha], [1])]);
        dy = g.op('Mul', [dy, slope]);
      } else if (st.kind === 'bn') {
        accumulate(st.beta, g.op('ReduceSum', [dy, axes023], [int('keepdims', 1)]));
        accumulate(st.gamma, g.op('ReduceSum', [g.op('Mul', [dy, s.xhat!]), axes023], [int('keepdims', 1)]));
        const dxhat = g.op('Mul', [dy, paramNames[st.gamma]]);
        const m1 = g.op('ReduceMean', [dxhat], [ints('axes', [0, 2, 3]), int('keepdims', 1)]);
        const m2 = g.op('ReduceMean', [g.op('Mul', [dxhat, s.xhat!])], [ints('axes', [0, 2, 3]), int('keepdims', 1)]);
        dy = g.op('Mul', [g.op('Sub', [g.op('Sub', [dxhat, m1]), g.op('Mul', [s.xhat!, m2])]), s.inv!]);
      } else {
        const { k, dilation: d, ci, co } = st;
        const pad = (d * (k - 1)) / 2;
        if (st.b !== undefined) accumulate(st.b, g.op('ReduceSum', [dy, axes023], [int('keepdims', 0)]));
        // im2col of the input by one-hot kernels, then dW = sum_n dy_n col_n^T
        const onehot: number[] = [];
        for (let q = 0; q < k * k; q++) for (let r = 0; r < k * k; r++) onehot.push(q === r ? 1 : 0);
        const planes = g.op('Reshape', [s.input, g.int64s([N * ci, 1, H, W])]);
        const col = g.op('Conv', [planes, g.floats(onehot, [k * k, 1, k, k])], [ints('pads', [pad, pad, pad, pad]), ints('dilations', [d, d]), ints('kernel_shape', [k, k])]);
        const colR = g.op('Reshape', [col, g.int64s([N, ci * k * k, H * W])]);
        const dyR = g.op('Reshape', [dy, g.int64s([N, co, H * W])]);
        const per = g.op('FusedMatMul', [dyR, colR], [int('transB', 1)], 'com.microsoft');
        accumulate(st.w, g.op('Reshape', [g.op('ReduceSum', [per, g.int64s([0])], [int('keepdims', 0)]), g.int64s([co, ci, k, k])]));
        if (i > 0) {
          // dx: convolution with the flipped, transposed kernel
          const wt = g.op('Transpose', [paramNames[st.w]], [ints('perm', [1, 0, 2, 3])]);
          const flipped = g.op('Slice', [wt, g.int64s([-1, -1]), g.int64s([-(2 ** 31), -(2 ** 31)]), g.int64s([2, 3]), g.int64s([-1, -1])]);
          dy = g.op('Conv', [dy, flipped], [ints('pads', [pad, pad, pad, pad]), ints('dilations', [d, d]), ints('kernel_shape', [k, k])]);
        }
      }
    }
  };

  if (!n2same) {
    const { pred, saved } = forward(x);
    const diff = g.op('Sub', [pred, target]);
    const e = loss === 'l2' ? g.op('Mul', [diff, diff]) : g.op('Abs', [diff]);
    g.output(g.op('Mul', [g.op('ReduceSum', [g.op('Mul', [e, mask])], [int('keepdims', 0)]), invCount]), 'loss', [1]);
    const dl = loss === 'l2' ? g.op('Mul', [diff, g.floats([2], [1])]) : g.op('Sign', [diff]);
    backward(g.op('Mul', [g.op('Mul', [dl, mask]), invCount]), saved);
  } else {
    // Noise2Same (losses.ts noise2SameLoss): rec = mean((f(x) - target)^2) over every value (inv_count = 1 / size);
    // inv = sqrt(sum(mask (f(x) - f(x_masked))^2) / max(sum(mask), 1e-12) + 1e-12);
    // loss = rec + w inv, w = lambda ('noise2same') or 2 sqrt(rec + 1e-12) ('noise2same-pro', differentiated too)
    const eps = g.floats([1e-12], [1]);
    const a = forward(x);
    const b = forward(x2!);
    const r = g.op('Sub', [a.pred, target]);
    const rec = g.op('Mul', [g.op('ReduceSum', [g.op('Mul', [r, r])], [int('keepdims', 0)]), invCount]);
    const dm = g.op('Sub', [a.pred, b.pred]);
    const msum = g.op('Max', [g.op('ReduceSum', [mask], [int('keepdims', 0)]), eps]);
    const inv = g.op('Sqrt', [g.op('Add', [g.op('Div', [g.op('ReduceSum', [g.op('Mul', [g.op('Mul', [dm, dm]), mask])], [int('keepdims', 0)]), msum]), eps])]);
    const sqrtRec = g.op('Sqrt', [g.op('Add', [rec, eps])]);
    const w = loss === 'noise2same' ? g.input('lambda', [1]) : g.op('Mul', [sqrtRec, g.floats([2], [1])]);
    g.output(g.op('Add', [rec, g.op('Mul', [w, inv])]), 'loss', [1]);
    // dL/drec: 1, plus inv / sqrt(rec + eps) when w depends on rec
    const dRec = loss === 'noise2same' ? undefined : g.op('Add', [g.floats([1], [1]), g.op('Div', [inv, sqrtRec])]);
    let dA = g.op('Mul', [r, g.op('Mul', [invCount, g.floats([2], [1])])]);
    if (dRec) dA = g.op('Mul', [dA, dRec]);
    // d(w inv)/d f(x) = w mask dm / (msum inv); the masked pass gets its negative
    const dInv = g.op('Mul', [g.op('Mul', [dm, mask]), g.op('Div', [w, g.op('Mul', [msum, inv])])]);
    backward(g.op('Add', [dA, dInv]), a.saved);
    backward(g.op('Neg', [dInv]), b.saved);
  }

  // Adam (tfjs's form)
  const lr = g.input('lr', [1]);
  const c1 = g.input('c1', [1]); // 1 / (1 - beta1^t)
  const c2 = g.input('c2', [1]); // 1 / (1 - beta2^t)
  const b1 = g.floats([adam.beta1], [1]);
  const b1c = g.floats([1 - adam.beta1], [1]);
  const b2 = g.floats([adam.beta2], [1]);
  const b2c = g.floats([1 - adam.beta2], [1]);
  const eps = g.floats([adam.epsilon], [1]);
  chain.params.forEach((p, i) => {
    const m = g.input(`m${i}`, p.onnxShape);
    const v = g.input(`v${i}`, p.onnxShape);
    const gr = grads[i];
    if (withGradients) g.output(gr, `grad${i}`, p.onnxShape);
    const m2 = g.op('Add', [g.op('Mul', [m, b1]), g.op('Mul', [gr, b1c])]);
    const v2 = g.op('Add', [g.op('Mul', [v, b2]), g.op('Mul', [g.op('Mul', [gr, gr]), b2c])]);
    const upd = g.op('Div', [g.op('Mul', [m2, c1]), g.op('Add', [g.op('Sqrt', [g.op('Mul', [v2, c2])]), eps])]);
    g.output(g.op('Sub', [paramNames[i], g.op('Mul', [upd, lr])]), `new_p${i}`, p.onnxShape);
    g.output(m2, `new_m${i}`, p.onnxShape);
    g.output(v2, `new_v${i}`, p.onnxShape);
  });
  const bytes = encodeModel({
    ir_version: 8,
    opset_import: [{ version: 17 }, { domain: 'com.microsoft', version: 1 }],
    producer_name: 'hush',
    graph: { name: 'hush_train_step', node: g.nodes, initializer: g.inits, input: g.inputs, output: g.outputs },
  });
  return { bytes, stats };
}

export class OnnxTrainer {
  /** Adam's step count (tfjs's `iterations`) */
  iterations = 0;
  private session?: { key: string; session: Session; graph: BuiltGraph };
  private onesMask?: Float32Array;

  private constructor(
    private readonly ort: Ort,
    private readonly model: LayersModel,
    private readonly chain: Chain,
    private params: OrtTensor[],
    private m: OrtTensor[],
    private v: OrtTensor[],
    private readonly options: Required<OnnxTrainerOptions>,
    /** also output the gradients (tests) */
    private readonly withGradients: boolean,
  ) {}

  /** The last step's gradients in tfjs layout (only with `withGradients`). */
  lastGradients?: Float32Array[];

  static async create(model: LayersModel, options: OnnxTrainerOptions = {}, withGradients = false): Promise<OnnxTrainer> {
    const fn = 'OnnxTrainer.create';
    const tensors: Tensor[] = [];
    let chain: Chain;
    try {
      chain = parseChain(model, tensors);
    } catch (e) {
      throw new HushError('ERR_UNSUPPORTED', `${fn}: this network cannot train on onnxruntime (${(e as Error).message}); use the tfjs engine`);
    }
    const envThreads = process.env.HUSH_THREADS === undefined ? undefined : Number(process.env.HUSH_THREADS);
    const threads = checkNumber(fn, 'options.threads', options.threads ?? envThreads ?? availableParallelism(), { integer: true, min: 1, max: 256 });
    const loss = options.loss ?? 'l2';
    if (!(ONNX_TRAINING_LOSSES as readonly string[]).includes(loss)) throw invalidParameter(fn, 'options.loss', `one of ${ONNX_TRAINING_LOSSES.join(', ')}`, loss);
    const ort = await loadOrt();
    const params = chain.params.map((p, i) => new ort.Tensor('float32', toOnnx(p, tensors[i].dataSync() as Float32Array), p.onnxShape));
    const zeros = () => chain.params.map((p) => new ort.Tensor('float32', new Float32Array(p.onnxShape.reduce((a, b) => a * b, 1)), p.onnxShape));
    return new OnnxTrainer(ort, model, chain, params, zeros(), zeros(), { threads, loss, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-7 }, withGradients);
  }

  private async sessionFor(shape: number[], loss: OnnxTrainingLoss): Promise<{ session: Session; graph: BuiltGraph }> {
    const key = `${shape.join('x')} ${loss}`;
    if (this.session?.key === key) return this.session;
    const old = this.session;
    this.session = undefined;
    await old?.session.release();
    const graph = buildStepGraph(this.chain, shape, loss, this.options, this.withGradients);
    const session = await this.ort.InferenceSession.create(graph.bytes, { intraOpNumThreads: this.options.threads, interOpNumThreads: 1, graphOptimizationLevel: 'all', executionMode: 'sequential' });
    this.session = { key, session, graph };
    return this.session;
  }

  /** One Adam step at learning rate `lr`; returns the batch loss before the update. */
  async step(batch: OnnxTrainerBatch, lr: number): Promise<number> {
    const fn = 'OnnxTrainer.step';
    const { shape } = batch;
    if (shape.length !== 4 || shape[3] !== this.chain.channels) throw invalidParameter(fn, 'batch.shape', `[N, H, W, ${this.chain.channels}]`, shape);
    const size = shape.reduce((a, b) => a * b, 1);
    const loss = batch.loss ?? this.options.loss;
    if (!(ONNX_TRAINING_LOSSES as readonly string[]).includes(loss)) throw invalidParameter(fn, 'batch.loss', `one of ${ONNX_TRAINING_LOSSES.join(', ')}`, loss);
    const n2same = loss === 'noise2same' || loss === 'noise2same-pro';
    if (n2same && (!batch.input2 || !batch.mask)) throw invalidParameter(fn, 'batch', 'input2 (the masked input) and mask for the Noise2Same loss', 'a batch without them');
    // lambda defaults to 2 as in noise2SameLoss (the public code's, for standardised inputs)
    const lambda = batch.lambda ?? 2;
    if (loss === 'noise2same' && !(typeof lambda === 'number' && lambda >= 0)) throw invalidParameter(fn, 'batch.lambda', 'a number >= 0 for the Noise2Same loss', lambda);
    for (const [name, arr] of [['input', batch.input], ['input2', batch.input2], ['target', batch.target], ['mask', batch.mask]] as const) {
      if (arr !== undefined && arr.length !== size) throw invalidParameter(fn, `batch.${name}`, `${size} values (shape ${shape.join('x')})`, `${arr.length} values`);
    }
    const { session, graph } = await this.sessionFor(shape, loss);
    let mask = batch.mask;
    if (!mask) {
      if (this.onesMask?.length !== size) this.onesMask = new Float32Array(size).fill(1);
      mask = this.onesMask;
    }
    let msum = 0;
    if (batch.mask && !n2same) for (let i = 0; i < size; i++) msum += mask[i];
    else msum = size;
    const t = this.iterations + 1;
    const { Tensor: T } = this.ort;
    const feeds: Record<string, OrtTensor> = {
      input: new T('float32', batch.input, shape),
      target: new T('float32', batch.target, shape),
      mask: new T('float32', mask, shape),
      inv_count: new T('float32', Float32Array.of(1 / Math.max(msum, 1)), [1]),
      lr: new T('float32', Float32Array.of(lr), [1]),
      c1: new T('float32', Float32Array.of(1 / (1 - this.options.beta1 ** t)), [1]),
      c2: new T('float32', Float32Array.of(1 / (1 - this.options.beta2 ** t)), [1]),
    };
    if (n2same) feeds.input2 = new T('float32', batch.input2!, shape);
    if (loss === 'noise2same') feeds.lambda = new T('float32', Float32Array.of(lambda), [1]);
    this.chain.params.forEach((_, i) => {
      feeds[`p${i}`] = this.params[i];
      feeds[`m${i}`] = this.m[i];
      feeds[`v${i}`] = this.v[i];
    });
    const out = await session.run(feeds);
    const value = (out.loss.data as Float32Array)[0];
    this.params = this.chain.params.map((_, i) => out[`new_p${i}`]);
    this.m = this.chain.params.map((_, i) => out[`new_m${i}`]);
    this.v = this.chain.params.map((_, i) => out[`new_v${i}`]);
    if (this.withGradients) this.lastGradients = this.chain.params.map((p, i) => toTfjs(p, out[`grad${i}`].data as Float32Array));
    // one set of statistics per pass, in the order the passes ran (tfjs updates the moving averages per call too)
    const bns = this.chain.stages.filter((st): st is BnStage => st.kind === 'bn');
    for (let s = 0; s < graph.stats.length; s++) {
      const st = bns[s % bns.length];
      const mean = out[graph.stats[s].mean].data as Float32Array;
      const variance = out[graph.stats[s].variance].data as Float32Array;
      const decay = 1 - st.momentum;
      for (let c = 0; c < st.c; c++) {
        st.movingMean[c] -= (st.movingMean[c] - mean[c]) * decay;
        st.movingVar[c] -= (st.movingVar[c] - variance[c]) * decay;
      }
    }
    this.iterations = t;
    return value;
  }

  /** Writes the weights and the batch norms' moving statistics into the tfjs model. */
  async syncToModel(): Promise<void> {
    const { tensor } = await import('@tensorflow/tfjs');
    const byName = new Map<string, Float32Array>();
    this.chain.params.forEach((p, i) => byName.set(p.name, toTfjs(p, this.params[i].data as Float32Array)));
    for (const st of this.chain.stages) {
      if (st.kind !== 'bn') continue;
      const layer = this.model.getLayer(st.layer);
      const names = layer.weights.map((w) => w.name);
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

  /** Adam's moments in tfjs's checkpoint order: m of every trainable weight in model order, then v. */
  moments(): Float32Array {
    const total = this.chain.params.reduce((n, p) => n + p.tfShape.reduce((a, b) => a * b, 1), 0);
    const flat = new Float32Array(2 * total);
    const order = [...this.chain.params.keys()].sort((a, b) => this.chain.params[a].order - this.chain.params[b].order);
    let at = 0;
    for (const list of [this.m, this.v]) {
      for (const i of order) {
        const d = toTfjs(this.chain.params[i], list[i].data as Float32Array);
        flat.set(d, at);
        at += d.length;
      }
    }
    return flat;
  }

  /** Restores the moments written by moments(), the step count, and the weights from the tfjs model. */
  restore(moments: Float32Array, iterations: number): void {
    const order = [...this.chain.params.keys()].sort((a, b) => this.chain.params[a].order - this.chain.params[b].order);
    const total = this.chain.params.reduce((n, p) => n + p.tfShape.reduce((a, b) => a * b, 1), 0);
    if (moments.length !== 2 * total) throw invalidParameter('OnnxTrainer.restore', 'moments', `${2 * total} values`, `${moments.length} values`);
    let at = 0;
    for (const list of [this.m, this.v]) {
      for (const i of order) {
        const p = this.chain.params[i];
        const n = p.tfShape.reduce((a, b) => a * b, 1);
        list[i] = new this.ort.Tensor('float32', toOnnx(p, moments.subarray(at, at + n)), p.onnxShape);
        at += n;
      }
    }
    const tensors: Tensor[] = [];
    const chain = parseChain(this.model, tensors);
    this.params = chain.params.map((p, i) => new this.ort.Tensor('float32', toOnnx(p, tensors[i].dataSync() as Float32Array), p.onnxShape));
    chain.stages.forEach((st, i) => {
      const mine = this.chain.stages[i];
      if (st.kind === 'bn' && mine.kind === 'bn') {
        mine.movingMean = st.movingMean.slice();
        mine.movingVar = st.movingVar.slice();
      }
    });
    this.iterations = iterations;
  }

  async dispose(): Promise<void> {
    await this.session?.session.release();
    this.session = undefined;
  }
}
