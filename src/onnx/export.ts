/**
 * exportOnnx / saveOnnx: a TensorFlow.js LayersModel (a hush zoo model, or any
 * functional model made of the layer classes in ONNX_LAYER_CLASSES) as an ONNX model
 * (opset 17), written from TypeScript: the functional graph is walked from the
 * model's outputs through each layer's inbound nodes and every layer becomes one or
 * a few ONNX nodes, so no Python, tf2onnx or SavedModel is involved.
 *
 * The ONNX model is NCHW throughout (the layout ONNX's Conv, pooling and Resize
 * define), so no transposes wrap each convolution: input `input` is [N, C, H, W]
 * with symbolic N, H and W, a conditioned U-net's second input `exposure_ratio` is
 * [N, 1], and `output` is NCHW. Rank-4 tensors are NCHW inside; every other rank
 * keeps the tfjs layout. What tfjs computes is reproduced, not approximated:
 * - 'same' padding is TensorFlow's (the odd pixel at the bottom/right): explicit pads
 *   wherever they do not depend on the input size (stride 1, transposed convolutions);
 *   for a strided window, where TensorFlow's pads depend on the size modulo the
 *   stride, auto_pad SAME_UPPER, whose definition is TensorFlow's formula;
 * - UpSampling2D calls tf.image.resize* with alignCorners and halfPixelCenters false
 *   (tfjs 4.22), i.e. source = destination / scale: Resize with
 *   coordinate_transformation_mode 'asymmetric' (and nearest_mode 'floor');
 * - BatchNormalization (inference, moving statistics) directly after a convolution
 *   whose output feeds nothing else is folded into that convolution's weights and
 *   bias, as inference engines do anyway; elsewhere it stays a BatchNormalization.
 * The hush metadata travels in metadata_props under the key 'hush', as JSON.
 */
import { readFileSync } from 'node:fs';
import { version as tfjsVersions } from '@tensorflow/tfjs';
import type { LayersModel, SymbolicTensor, Tensor } from '@tensorflow/tfjs';
import { invalidParameter, unsupported } from '../core/errors.js';
import { checkObject, checkOneOf } from '../core/validate.js';
import { IF_EXISTS, writeFileAtomic, type IfExists } from '../io/atomic-write.js';
import type { HushModel } from '../models/hush-model.js';
import { AppendConstantChannel, MatchMean, Subtract } from '../models/layers/index.js';
import { MODEL_REGISTRY } from '../models/registry.js';
import { ATTRIBUTE_TYPE, TENSOR_TYPE, encodeModel, utf8, type OnnxAttribute, type OnnxDimension, type OnnxNode, type OnnxTensor, type OnnxValueInfo } from './proto.js';

export const ONNX_OPSET = 17;
/** IR version 8 is the one that goes with opset 17 (ONNX 1.12). */
export const ONNX_IR_VERSION = 8;

/** The tfjs layer classes exportOnnx maps to ONNX; any other class is refused with ERR_UNSUPPORTED. */
export const ONNX_LAYER_CLASSES = [
  'Activation',
  'Add',
  'AlphaDropout',
  'Average',
  'AveragePooling2D',
  'BatchNormalization',
  'Concatenate',
  'Conv2D',
  'Conv2DTranspose',
  'Dense',
  'Dropout',
  'ELU',
  'Flatten',
  'GaussianDropout',
  'GaussianNoise',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
  AppendConstantChannel.className,
  MatchMean.className,
  Subtract.className,
  'InputLayer',
  'LeakyReLU',
  'MaxPooling2D',
  'Maximum',
  'Minimum',
  'Multiply',
  'ReLU',
  'Reshape',
  'Softmax',
  'SpatialDropout2D',
  'UpSampling2D',
] as const;

export const BATCH_NORM_MODES = ['fold', 'keep'] as const;
export type BatchNormMode = (typeof BATCH_NORM_MODES)[number];

export interface ExportOnnxOptions {
  /**
   * 'fold' (default): a BatchNormalization right after a convolution that feeds
   * nothing else is folded into the convolution; 'keep': every one stays a node.
   */
  batchNorm?: BatchNormMode;
}

export interface SaveOnnxOptions extends ExportOnnxOptions {
  /** what to do when the file exists (default 'error') */
  ifExists?: IfExists;
}

type Shape = (number | null)[];

interface NodeLike {
  inputTensors: SymbolicTensor[];
  outputTensors: SymbolicTensor[];
}

interface LayerLike {
  name: string;
  getClassName(): string;
  getConfig(): Record<string, unknown>;
  getWeights(): Tensor[];
  inboundNodes: NodeLike[];
}

/** A tfjs tensor as it lives in the ONNX graph; `shape` is the tfjs (NHWC for rank 4) shape. */
interface Value {
  name: string;
  shape: Shape;
}

interface Initializer {
  name: string;
  dims: number[];
  data: Float32Array | BigInt64Array;
}

/** A convolution whose weights a following BatchNormalization may scale. */
interface FoldTarget {
  node: OnnxNode;
  layer: string;
  weight: Initializer;
  bias: Initializer | undefined;
  /** axis of the output channels in the weight: 0 for Conv [O, I, kh, kw], 1 for ConvTranspose [I, O, kh, kw] */
  outAxis: 0 | 1;
  channels: number;
}

const FN = 'exportOnnx';

const int = (name: string, i: number): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.INT, i });
const ints = (name: string, values: number[]): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.INTS, ints: values });
const float = (name: string, f: number): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.FLOAT, f });
const str = (name: string, s: string): OnnxAttribute => ({ name, type: ATTRIBUTE_TYPE.STRING, s: utf8(s) });

class GraphBuilder {
  readonly nodes: OnnxNode[] = [];
  readonly initializers: Initializer[] = [];
  private readonly used = new Set<string>();

  constructor(reserved: readonly string[]) {
    for (const r of reserved) this.used.add(r);
  }

  /** A value or node name not used before: `base`, else `base_1`, `base_2`, ... */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  floats(base: string, dims: number[], data: Float32Array): Initializer {
    const init = { name: this.unique(base), dims, data };
    this.initializers.push(init);
    return init;
  }

  int64s(base: string, values: number[]): string {
    const init = { name: this.unique(base), dims: [values.length], data: BigInt64Array.from(values, (v) => BigInt(v)) };
    this.initializers.push(init);
    return init.name;
  }

  /** Appends a node with one output named after `out`; returns the output name. */
  node(op: string, inputs: string[], attributes: OnnxAttribute[], out: string): string {
    const output = this.unique(out);
    this.nodes.push({ op_type: op, name: output, input: inputs, output: [output], ...(attributes.length > 0 ? { attribute: attributes } : {}) });
    return output;
  }

  /** The last node (to keep a handle for BatchNormalization folding). */
  last(): OnnxNode {
    return this.nodes[this.nodes.length - 1];
  }
}

function isHushModel(m: unknown): m is HushModel {
  return typeof m === 'object' && m !== null && 'model' in m && 'metadata' in m;
}

function isLayersModel(m: unknown): m is LayersModel {
  return typeof m === 'object' && m !== null && Array.isArray((m as LayersModel).layers) && Array.isArray((m as LayersModel).inputs) && Array.isArray((m as LayersModel).outputs);
}

function pair(v: unknown, fallback: number): [number, number] {
  if (v === undefined || v === null) return [fallback, fallback];
  if (typeof v === 'number') return [v, v];
  const a = v as number[];
  return [a[0], a[1] ?? a[0]];
}

/** Permutes a row-major tensor of `dims` (rank 4 at most) by `perm`: output axis i is input axis perm[i]. */
export function permute(data: Float32Array, dims: number[], perm: number[]): Float32Array {
  const rank = dims.length;
  if (rank > 4 || perm.length !== rank) throw new RangeError(`permute: rank ${rank} with perm [${perm.join(', ')}]`);
  const outStrides = new Array<number>(rank);
  for (let i = rank - 1, s = 1; i >= 0; i--) {
    outStrides[i] = s;
    s *= dims[perm[i]];
  }
  // the output stride of each input axis, padded to 4 axes in front
  const stride = [0, 0, 0, 0];
  const size = [1, 1, 1, 1];
  for (let i = 0; i < rank; i++) {
    stride[4 - rank + perm[i]] = outStrides[i];
    size[4 - rank + i] = dims[i];
  }
  const out = new Float32Array(data.length);
  // the last two axes in 32 x 32 tiles: a conv kernel's (in, out) transpose stays in cache
  const T = 32;
  for (let a = 0; a < size[0]; a++) {
    for (let b = 0; b < size[1]; b++) {
      const plane = (a * size[1] + b) * size[2] * size[3];
      const base = a * stride[0] + b * stride[1];
      for (let c0 = 0; c0 < size[2]; c0 += T) {
        for (let d0 = 0; d0 < size[3]; d0 += T) {
          const c1 = Math.min(c0 + T, size[2]);
          const d1 = Math.min(d0 + T, size[3]);
          for (let c = c0; c < c1; c++) {
            const src = plane + c * size[3];
            const dst = base + c * stride[2];
            for (let d = d0; d < d1; d++) out[dst + d * stride[3]] = data[src + d];
          }
        }
      }
    }
  }
  return out;
}

/**
 * TensorFlow 'same' padding of one spatial axis, [head, tail], when it does not depend
 * on the input size; undefined when it does (a strided window wider than one pixel).
 */
function staticSamePads(kernel: number, stride: number, dilation: number): [number, number] | undefined {
  const extent = (kernel - 1) * dilation + 1;
  if (extent <= 1) return [0, 0];
  if (stride !== 1) return undefined;
  const total = extent - 1;
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

class Exporter {
  readonly g: GraphBuilder;
  private readonly values = new Map<number, Value>();
  private readonly foldable = new Map<string, FoldTarget>();
  private readonly consumers = new Map<number, number>();
  readonly inputNames: string[] = [];

  constructor(
    private readonly model: LayersModel,
    private readonly batchNorm: BatchNormMode,
  ) {
    this.g = new GraphBuilder(model.outputs.map((_, i) => (i === 0 ? 'output' : `output_${i}`)));
    // 'input', then the tfjs names of any further inputs ('exposure_ratio' for the astro U-net)
    model.inputs.forEach((t, i) => {
      const name = this.g.unique(i === 0 ? 'input' : sanitize(t.sourceLayer.name));
      this.values.set(t.id, { name, shape: t.shape });
      this.inputNames.push(name);
    });
  }

  /** The model's (layer, node) calls in topological order, from its outputs back to its inputs. */
  private order(): { layer: LayerLike; node: NodeLike }[] {
    const order: { layer: LayerLike; node: NodeLike }[] = [];
    const seen = new Set<string>();
    const inputs = new Set(this.model.inputs.map((t) => t.id));
    const visit = (t: SymbolicTensor) => {
      if (inputs.has(t.id)) return;
      const layer = t.sourceLayer as unknown as LayerLike;
      const key = `${layer.name}#${t.nodeIndex}`;
      if (seen.has(key)) return;
      seen.add(key);
      const node = layer.inboundNodes[t.nodeIndex];
      if (layer.getClassName() === 'InputLayer' || node.inputTensors.length === 0) {
        throw unsupported(FN, `layer '${layer.name}' (${layer.getClassName()}) is an input that is not among the model's inputs`);
      }
      for (const x of node.inputTensors) visit(x);
      order.push({ layer, node });
    };
    this.model.outputs.forEach(visit);
    return order;
  }

  run(): Value[] {
    const order = this.order();
    for (const { node } of order) for (const t of node.inputTensors) this.consumers.set(t.id, (this.consumers.get(t.id) ?? 0) + 1);
    for (const t of this.model.outputs) this.consumers.set(t.id, (this.consumers.get(t.id) ?? 0) + 1);
    for (const { layer, node } of order) {
      const inputs = node.inputTensors.map((t) => this.values.get(t.id) as Value);
      const outs = this.convert(layer, node, inputs);
      node.outputTensors.forEach((t, i) => this.values.set(t.id, { name: outs[i], shape: t.shape }));
    }
    return this.model.outputs.map((t) => this.values.get(t.id) as Value);
  }

  private refuse(layer: LayerLike, why: string): never {
    throw unsupported(FN, `layer '${layer.name}' (${layer.getClassName()}) ${why}`);
  }

  private weights(layer: LayerLike): { data: Float32Array; dims: number[] }[] {
    return layer.getWeights().map((w) => {
      if (w.dtype !== 'float32') this.refuse(layer, `has a ${w.dtype} weight; only float32 weights are mapped`);
      return { data: w.dataSync() as Float32Array, dims: w.shape.slice() };
    });
  }

  private channelsLast(layer: LayerLike, config: Record<string, unknown>): void {
    const format = config.dataFormat;
    if (format !== undefined && format !== 'channelsLast') this.refuse(layer, `uses dataFormat '${String(format)}'; only 'channelsLast' is mapped`);
  }

  /** Emits the layer's nodes; returns the ONNX names of its outputs. */
  private convert(layer: LayerLike, node: NodeLike, inputs: Value[]): string[] {
    const cls = layer.getClassName();
    const config = layer.getConfig();
    const [x] = inputs;
    const name = sanitize(layer.name);
    switch (cls) {
      case 'Conv2D':
        return [this.conv(layer, config, x, name)];
      case 'Conv2DTranspose':
        return [this.convTranspose(layer, config, x, name)];
      case 'Dense':
        return [this.dense(layer, config, x, name)];
      case 'BatchNormalization':
        return [this.batchNormalization(layer, config, node, x, name)];
      case 'Activation':
        return [this.activation(layer, String(config.activation), x, name)];
      case 'LeakyReLU':
        return [this.g.node('LeakyRelu', [x.name], [float('alpha', (config.alpha as number | undefined) ?? 0.3)], name)];
      case 'ReLU': {
        const max = config.maxValue as number | null | undefined;
        if (max === null || max === undefined) return [this.g.node('Relu', [x.name], [], name)];
        return [this.clip(x.name, 0, max, name)];
      }
      case 'ELU':
        return [this.g.node('Elu', [x.name], [float('alpha', (config.alpha as number | undefined) ?? 1)], name)];
      case 'Softmax': {
        const axis = config.axis as number | number[] | undefined;
        const a = Array.isArray(axis) ? axis : [axis ?? -1];
        if (a.length !== 1) this.refuse(layer, `has softmax axes [${a.join(', ')}]; one axis is mapped`);
        return [this.g.node('Softmax', [x.name], [int('axis', onnxAxis(a[0], x.shape.length))], name)];
      }
      case 'Add':
      case 'Multiply':
      case 'Average':
      case 'Maximum':
      case 'Minimum':
        return [this.merge(layer, cls, inputs, name)];
      case Subtract.className:
        return [this.g.node('Sub', [inputs[0].name, inputs[1].name], [], name)];
      case 'Concatenate': {
        const rank = x.shape.length;
        if (inputs.some((v) => v.shape.length !== rank)) this.refuse(layer, 'concatenates tensors of different ranks');
        return [this.g.node('Concat', inputs.map((v) => v.name), [int('axis', onnxAxis((config.axis as number | undefined) ?? -1, rank))], name)];
      }
      case AppendConstantChannel.className:
        return [this.appendConstantChannel(inputs, name)];
      case MatchMean.className: {
        // y - mean(y) + mean(ref) over H and W (NCHW axes 2 and 3)
        const mean = (v: Value, tag: string) => this.g.node('ReduceMean', [v.name], [ints('axes', [2, 3]), int('keepdims', 1)], `${name}/${tag}`);
        const centred = this.g.node('Sub', [inputs[0].name, mean(inputs[0], 'mean_y')], [], `${name}/centred`);
        return [this.g.node('Add', [centred, mean(inputs[1], 'mean_ref')], [], name)];
      }
      case 'MaxPooling2D':
      case 'AveragePooling2D':
        return [this.pool(layer, cls, config, x, name)];
      case 'GlobalAveragePooling2D':
      case 'GlobalMaxPooling2D': {
        this.channelsLast(layer, config);
        const pooled = this.g.node(cls === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x.name], [], config.keepDims === true ? name : `${name}/pool`);
        return [config.keepDims === true ? pooled : this.g.node('Flatten', [pooled], [int('axis', 1)], name)];
      }
      case 'Reshape':
        // tfjs keeps the unknown dimension (-1) as null
        return [this.reshape(layer, (config.targetShape as (number | null)[]).map((d) => d ?? -1), x, node.outputTensors[0].shape, name)];
      case 'Flatten':
        return [this.g.node('Flatten', [this.flatOrder(x, name)], [int('axis', 1)], name)];
      case 'UpSampling2D':
        return [this.upsample(layer, config, x, name)];
      case 'Dropout':
      case 'SpatialDropout2D':
      case 'GaussianNoise':
      case 'GaussianDropout':
      case 'AlphaDropout':
        // identities at inference
        return [this.g.node('Identity', [x.name], [], name)];
      default:
        throw unsupported(FN, `layer '${layer.name}' (${cls}) has no ONNX mapping`, `Supported layer classes: ${[...ONNX_LAYER_CLASSES].sort().join(', ')}`);
    }
  }

  private activation(layer: LayerLike, activation: string, x: Value, out: string): string {
    const g = this.g;
    const rank = x.shape.length;
    switch (activation) {
      case 'linear':
        return g.node('Identity', [x.name], [], out);
      case 'relu':
        return g.node('Relu', [x.name], [], out);
      case 'relu6':
        return this.clip(x.name, 0, 6, out);
      case 'sigmoid':
        return g.node('Sigmoid', [x.name], [], out);
      case 'tanh':
        return g.node('Tanh', [x.name], [], out);
      case 'elu':
        return g.node('Elu', [x.name], [float('alpha', 1)], out);
      case 'selu':
        return g.node('Selu', [x.name], [], out);
      case 'softplus':
        return g.node('Softplus', [x.name], [], out);
      case 'softsign':
        return g.node('Softsign', [x.name], [], out);
      case 'hardSigmoid':
        // tfjs: clip(0.2 x + 0.5, 0, 1), ONNX's defaults
        return g.node('HardSigmoid', [x.name], [float('alpha', 0.2), float('beta', 0.5)], out);
      case 'softmax':
        return g.node('Softmax', [x.name], [int('axis', onnxAxis(-1, rank))], out);
      case 'logSoftmax':
        return g.node('LogSoftmax', [x.name], [int('axis', onnxAxis(-1, rank))], out);
      case 'swish':
        return g.node('Mul', [x.name, g.node('Sigmoid', [x.name], [], `${out}/sigmoid`)], [], out);
      case 'mish': {
        const sp = g.node('Softplus', [x.name], [], `${out}/softplus`);
        return g.node('Mul', [x.name, g.node('Tanh', [sp], [], `${out}/tanh`)], [], out);
      }
      case 'gelu': {
        // 0.5 x (1 + erf(x / sqrt 2)), as tfjs computes it
        const e = g.node('Erf', [g.node('Div', [x.name, this.scalar(`${out}/sqrt2`, Math.SQRT2)], [], `${out}/scaled`)], [], `${out}/erf`);
        const cdf = g.node('Mul', [this.scalar(`${out}/half`, 0.5), g.node('Add', [this.scalar(`${out}/one`, 1), e], [], `${out}/1+erf`)], [], `${out}/cdf`);
        return g.node('Mul', [x.name, cdf], [], out);
      }
      case 'gelu_new': {
        // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
        const cube = g.node('Pow', [x.name, this.scalar(`${out}/three`, 3)], [], `${out}/cube`);
        const inner = g.node('Add', [x.name, g.node('Mul', [this.scalar(`${out}/c`, 0.044715), cube], [], `${out}/c*cube`)], [], `${out}/inner`);
        const t = g.node('Tanh', [g.node('Mul', [this.scalar(`${out}/k`, Math.sqrt(2 / Math.PI)), inner], [], `${out}/k*inner`)], [], `${out}/tanh`);
        const half = g.node('Mul', [this.scalar(`${out}/half`, 0.5), x.name], [], `${out}/half_x`);
        return g.node('Mul', [half, g.node('Add', [this.scalar(`${out}/one`, 1), t], [], `${out}/1+tanh`)], [], out);
      }
      default:
        return this.refuse(layer, `uses activation '${activation}', which has no ONNX mapping`);
    }
  }

  private scalar(base: string, value: number): string {
    return this.g.floats(base, [], Float32Array.of(value)).name;
  }

  private clip(x: string, lo: number, hi: number, out: string): string {
    return this.g.node('Clip', [x, this.scalar(`${out}/min`, lo), this.scalar(`${out}/max`, hi)], [], out);
  }

  private conv(layer: LayerLike, config: Record<string, unknown>, x: Value, name: string): string {
    this.channelsLast(layer, config);
    if (x.shape.length !== 4) this.refuse(layer, `has a rank-${x.shape.length} input; Conv2D takes rank 4`);
    const [kh, kw] = pair(config.kernelSize, 1);
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    const [kernel, bias] = this.weights(layer);
    const [, , ci, co] = kernel.dims;
    const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw]), ints('dilations', [dh, dw])];
    if (config.padding === 'same') {
      const ph = staticSamePads(kh, sh, dh);
      const pw = staticSamePads(kw, sw, dw);
      if (ph && pw) attrs.push(ints('pads', [ph[0], pw[0], ph[1], pw[1]]));
      else if ((kh - 1) * dh + 1 < sh || (kw - 1) * dw + 1 < sw) this.refuse(layer, `has a ${kh}x${kw} kernel narrower than its stride ${sh}x${sw} with 'same' padding`);
      // TensorFlow's padding depends on the size modulo the stride; SAME_UPPER is that rule
      else attrs.push(str('auto_pad', 'SAME_UPPER'));
    } else if (config.padding === 'valid') {
      attrs.push(ints('pads', [0, 0, 0, 0]));
    } else {
      this.refuse(layer, `uses padding '${String(config.padding)}'`);
    }
    const w = this.g.floats(`${name}/kernel`, [co, ci, kh, kw], permute(kernel.data, kernel.dims, [3, 2, 0, 1]));
    const b = bias ? this.g.floats(`${name}/bias`, [co], bias.data.slice()) : undefined;
    const activation = String(config.activation ?? 'linear');
    const y = this.g.node('Conv', b ? [x.name, w.name, b.name] : [x.name, w.name], attrs, activation === 'linear' ? name : `${name}/conv`);
    if (activation === 'linear') {
      this.foldable.set(y, { node: this.g.last(), layer: layer.name, weight: w, bias: b, outAxis: 0, channels: co });
      return y;
    }
    return this.activation(layer, activation, { name: y, shape: x.shape }, name);
  }

  private convTranspose(layer: LayerLike, config: Record<string, unknown>, x: Value, name: string): string {
    this.channelsLast(layer, config);
    const [kh, kw] = pair(config.kernelSize, 1);
    const [sh, sw] = pair(config.strides, 1);
    const [dh, dw] = pair(config.dilationRate, 1);
    if (dh !== 1 || dw !== 1) this.refuse(layer, 'is dilated; tfjs conv2dTranspose ignores dilation, so no mapping is defined');
    if (config.padding !== 'same' && config.padding !== 'valid') this.refuse(layer, `uses padding '${String(config.padding)}'`);
    const [kernel, bias] = this.weights(layer);
    // tfjs kernel [kh, kw, out, in]; ONNX ConvTranspose weight [in, out, kh, kw]
    const [, , co, ci] = kernel.dims;
    // tfjs output: in * s ('same') or in * s + max(k - s, 0) ('valid'); ONNX: s (in - 1) + k + output_padding - pads
    const axis = (k: number, s: number) => {
      const total = config.padding === 'same' ? Math.max(k - s, 0) : 0;
      return { head: Math.floor(total / 2), tail: total - Math.floor(total / 2), extra: Math.max(s - k, 0) };
    };
    const ah = axis(kh, sh);
    const aw = axis(kw, sw);
    const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw]), ints('pads', [ah.head, aw.head, ah.tail, aw.tail])];
    if (ah.extra > 0 || aw.extra > 0) attrs.push(ints('output_padding', [ah.extra, aw.extra]));
    const w = this.g.floats(`${name}/kernel`, [ci, co, kh, kw], permute(kernel.data, kernel.dims, [3, 2, 0, 1]));
    const b = bias ? this.g.floats(`${name}/bias`, [co], bias.data.slice()) : undefined;
    const activation = String(config.activation ?? 'linear');
    const y = this.g.node('ConvTranspose', b ? [x.name, w.name, b.name] : [x.name, w.name], attrs, activation === 'linear' ? name : `${name}/conv`);
    if (activation === 'linear') {
      this.foldable.set(y, { node: this.g.last(), layer: layer.name, weight: w, bias: b, outAxis: 1, channels: co });
      return y;
    }
    return this.activation(layer, activation, { name: y, shape: x.shape }, name);
  }

  private dense(layer: LayerLike, config: Record<string, unknown>, x: Value, name: string): string {
    const [kernel, bias] = this.weights(layer);
    const [inner, units] = kernel.dims;
    const activation = String(config.activation ?? 'linear');
    const pre = activation === 'linear' ? name : `${name}/dense`;
    let y: string;
    if (x.shape.length === 4) {
      // on NHWC, Dense acts on channels: a 1x1 convolution in NCHW
      const w = this.g.floats(`${name}/kernel`, [units, inner, 1, 1], permute(kernel.data, kernel.dims, [1, 0]));
      const inputs = [x.name, w.name];
      if (bias) inputs.push(this.g.floats(`${name}/bias`, [units], bias.data.slice()).name);
      y = this.g.node('Conv', inputs, [ints('kernel_shape', [1, 1])], pre);
    } else {
      const w = this.g.floats(`${name}/kernel`, [inner, units], kernel.data.slice());
      y = bias ? this.g.node('MatMul', [x.name, w.name], [], `${name}/matmul`) : this.g.node('MatMul', [x.name, w.name], [], pre);
      if (bias) y = this.g.node('Add', [y, this.g.floats(`${name}/bias`, [units], bias.data.slice()).name], [], pre);
    }
    return activation === 'linear' ? y : this.activation(layer, activation, { name: y, shape: x.shape }, name);
  }

  private batchNormalization(layer: LayerLike, config: Record<string, unknown>, node: NodeLike, x: Value, name: string): string {
    const rank = x.shape.length;
    const axis = Array.isArray(config.axis) ? (config.axis as number[]) : [(config.axis as number | undefined) ?? -1];
    if (axis.length !== 1 || (axis[0] + rank) % rank !== rank - 1) this.refuse(layer, `normalises axis ${JSON.stringify(config.axis)}; only the channel (last) axis is mapped`);
    const eps = (config.epsilon as number | undefined) ?? 1e-3;
    const ws = this.weights(layer);
    const c = ws[ws.length - 1].dims[0];
    let k = 0;
    const gamma = config.scale === false ? new Float32Array(c).fill(1) : ws[k++].data;
    const beta = config.center === false ? new Float32Array(c) : ws[k++].data;
    const mean = ws[k++].data;
    const variance = ws[k++].data;
    const target = this.foldable.get(x.name);
    const input = node.inputTensors[0];
    if (this.batchNorm === 'fold' && target && this.consumers.get(input.id) === 1) {
      // W' = W s, b' = (b - mean) s + beta, s = gamma / sqrt(var + eps), per output channel
      const s = Float64Array.from(gamma, (gm, i) => gm / Math.sqrt(variance[i] + eps));
      const w = target.weight;
      const per = w.data.length / (w.dims[0] * w.dims[1]);
      const data = w.data as Float32Array;
      for (let a = 0; a < w.dims[0]; a++) {
        for (let b = 0; b < w.dims[1]; b++) {
          const scale = s[target.outAxis === 0 ? a : b];
          const off = (a * w.dims[1] + b) * per;
          for (let i = 0; i < per; i++) data[off + i] *= scale;
        }
      }
      const bias = target.bias ?? this.g.floats(`${sanitize(target.layer)}/bias`, [target.channels], new Float32Array(target.channels));
      const bd = bias.data as Float32Array;
      for (let i = 0; i < target.channels; i++) bd[i] = (bd[i] - mean[i]) * s[i] + beta[i];
      if (!target.bias) target.node.input.push(bias.name);
      this.foldable.delete(x.name);
      return x.name;
    }
    const params = [gamma, beta, mean, variance].map((d, i) => this.g.floats(`${name}/${['scale', 'bias', 'mean', 'var'][i]}`, [c], d.slice()).name);
    return this.g.node('BatchNormalization', [x.name, ...params], [float('epsilon', eps)], name);
  }

  private merge(layer: LayerLike, cls: string, inputs: Value[], name: string): string {
    const rank = inputs[0].shape.length;
    if (inputs.some((v) => v.shape.length !== rank)) this.refuse(layer, 'merges tensors of different ranks');
    const names = inputs.map((v) => v.name);
    if (cls === 'Multiply') {
      let y = names[0];
      for (let i = 1; i < names.length; i++) y = this.g.node('Mul', [y, names[i]], [], i === names.length - 1 ? name : `${name}/${i}`);
      return y;
    }
    const op = cls === 'Add' ? (names.length === 2 ? 'Add' : 'Sum') : cls === 'Average' ? 'Mean' : cls === 'Maximum' ? 'Max' : 'Min';
    return this.g.node(op, names, [], name);
  }

  /** [features (NCHW), value (N, 1)] -> features with the value as one more constant channel. */
  private appendConstantChannel(inputs: Value[], name: string): string {
    const [features, value] = inputs;
    const g = this.g;
    const column = g.node('Reshape', [value.name, g.int64s(`${name}/nc11`, [0, 1, 1, 1])], [], `${name}/value`);
    const hw = g.node('Shape', [features.name], [int('start', 2)], `${name}/hw`);
    const size = g.node('Concat', [g.int64s(`${name}/one_one`, [1, 1]), hw], [int('axis', 0)], `${name}/plane_shape`);
    const plane = g.node('Expand', [column, size], [], `${name}/plane`);
    return g.node('Concat', [features.name, plane], [int('axis', 1)], name);
  }

  private pool(layer: LayerLike, cls: string, config: Record<string, unknown>, x: Value, name: string): string {
    this.channelsLast(layer, config);
    const [kh, kw] = pair(config.poolSize, 2);
    const [sh, sw] = config.strides === undefined || config.strides === null ? [kh, kw] : pair(config.strides, kh);
    const attrs = [ints('kernel_shape', [kh, kw]), ints('strides', [sh, sw])];
    if (config.padding === 'same') {
      const ph = staticSamePads(kh, sh, 1);
      const pw = staticSamePads(kw, sw, 1);
      if (ph && pw) attrs.push(ints('pads', [ph[0], pw[0], ph[1], pw[1]]));
      else if (kh < sh || kw < sw) this.refuse(layer, `has a ${kh}x${kw} window narrower than its stride ${sh}x${sw} with 'same' padding`);
      else attrs.push(str('auto_pad', 'SAME_UPPER'));
      // TensorFlow averages over the pixels inside the image only
      if (cls === 'AveragePooling2D') attrs.push(int('count_include_pad', 0));
    } else if (config.padding === 'valid' || config.padding === undefined) {
      attrs.push(ints('pads', [0, 0, 0, 0]));
    } else {
      this.refuse(layer, `uses padding '${String(config.padding)}'`);
    }
    return this.g.node(cls === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool', [x.name], attrs, name);
  }

  private upsample(layer: LayerLike, config: Record<string, unknown>, x: Value, name: string): string {
    this.channelsLast(layer, config);
    const [sh, sw] = pair(config.size, 2);
    const interpolation = (config.interpolation as string | undefined) ?? 'nearest';
    if (interpolation !== 'nearest' && interpolation !== 'bilinear') this.refuse(layer, `uses interpolation '${interpolation}'`);
    const scales = this.g.floats(`${name}/scales`, [4], Float32Array.of(1, 1, sh, sw)).name;
    // tf.image.resize* with alignCorners = halfPixelCenters = false: source = destination / scale
    const attrs = [str('mode', interpolation === 'nearest' ? 'nearest' : 'linear'), str('coordinate_transformation_mode', 'asymmetric')];
    if (interpolation === 'nearest') attrs.push(str('nearest_mode', 'floor'));
    return this.g.node('Resize', [x.name, '', scales], attrs, name);
  }

  /** `x` in tfjs (NHWC) memory order: a transpose for rank 4, unless H and W are known to be 1. */
  private flatOrder(x: Value, name: string): string {
    if (x.shape.length !== 4 || (x.shape[1] === 1 && x.shape[2] === 1)) return x.name;
    return this.g.node('Transpose', [x.name], [ints('perm', [0, 2, 3, 1])], `${name}/nhwc`);
  }

  private reshape(layer: LayerLike, target: number[], x: Value, outShape: Shape, name: string): string {
    if (target.some((d) => d === 0)) this.refuse(layer, 'has a zero in its target shape');
    const src = this.flatOrder(x, name);
    if (target.length !== 3) return this.g.node('Reshape', [src, this.g.int64s(`${name}/shape`, [0, ...target])], [], name);
    if (outShape[1] === 1 && outShape[2] === 1) {
      // [N, 1, 1, C] is laid out as [N, C, 1, 1]
      return this.g.node('Reshape', [src, this.g.int64s(`${name}/shape`, [0, outShape[3] ?? -1, 1, 1])], [], name);
    }
    const nhwc = this.g.node('Reshape', [src, this.g.int64s(`${name}/shape`, [0, ...target])], [], `${name}/nhwc`);
    return this.g.node('Transpose', [nhwc], [ints('perm', [0, 3, 1, 2])], name);
  }
}

/** tfjs axis (NHWC for rank 4) to the ONNX axis (NCHW for rank 4). */
function onnxAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  return rank === 4 ? [0, 2, 3, 1][a] : a;
}

function sanitize(name: string): string {
  return name.replace(/[^A-Za-z0-9_./-]/g, '_');
}

function dims(shape: Shape, names: string[]): OnnxDimension[] {
  return shape.map((d, i) => (d === null ? { dim_param: names[i] } : { dim_value: d }));
}

/** ONNX (NCHW for rank 4) dimensions of a tfjs shape, symbolic where tfjs has null. */
function onnxDims(shape: Shape, names: { batch: string; height: string; width: string }): OnnxDimension[] {
  if (shape.length === 4) return dims([shape[0], shape[3], shape[1], shape[2]], [names.batch, 'C', names.height, names.width]);
  return dims(shape, shape.map((_, i) => (i === 0 ? names.batch : `d${i}`)));
}

function valueInfo(name: string, shape: OnnxDimension[]): OnnxValueInfo {
  return { name, type: { tensor_type: { elem_type: TENSOR_TYPE.FLOAT, shape: { dim: shape } } } };
}

function littleEndianBytes(data: Float32Array | BigInt64Array): Uint8Array {
  const bytes = new Uint8Array(data.byteLength);
  if (new Uint8Array(Uint16Array.of(1).buffer)[0] === 1) {
    bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return bytes;
  }
  const view = new DataView(bytes.buffer);
  if (data instanceof Float32Array) data.forEach((v, i) => view.setFloat32(i * 4, v, true));
  else data.forEach((v, i) => view.setBigInt64(i * 8, v, true));
  return bytes;
}

let hushVersion: string | undefined;

function producerVersion(): string {
  if (hushVersion === undefined) {
    try {
      hushVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    } catch {
      hushVersion = 'unknown';
    }
  }
  return hushVersion;
}

function docString(net: LayersModel, meta: HushModel['metadata'] | undefined, inputs: string[]): string {
  const what = meta ? `hush ${meta.architecture}${meta.preset === undefined ? '' : ` (preset ${meta.preset})`} for ${meta.channels === 1 ? 'grey' : 'RGB'} images` : `the TensorFlow.js model '${net.name}'`;
  const multiple = meta && meta.multiple > 1 ? `, H and W multiples of ${meta.multiple}` : '';
  const extra = inputs.slice(1).map((n) => `, '${n}' [N, 1]`).join('');
  const norm = meta ? ` Normalise the input as metadata_props 'hush' says (normalization: ${meta.normalization.kind}).` : '';
  return `${what}, exported by hush ${producerVersion()} (exportOnnx). Input 'input' float32 NCHW [N, C, H, W]${multiple}${extra}; output 'output' NCHW.${norm}`;
}

/**
 * The ONNX bytes (opset 17) of a hush model or a tfjs LayersModel. Throws
 * ERR_UNSUPPORTED naming the first layer (and its class) that has no mapping.
 */
export function exportOnnx(model: HushModel | LayersModel, options: ExportOnnxOptions = {}): Uint8Array {
  const opts = checkObject(FN, 'options', options) as ExportOnnxOptions;
  const batchNorm = opts.batchNorm === undefined ? 'fold' : checkOneOf(FN, 'options.batchNorm', opts.batchNorm, BATCH_NORM_MODES);
  const hush = isHushModel(model) ? model : undefined;
  const net = hush ? hush.model : model;
  if (!isLayersModel(net)) throw invalidParameter(FN, 'model', 'a HushModel or a tfjs LayersModel', model);

  const exporter = new Exporter(net, batchNorm);
  const results = exporter.run();
  const g = exporter.g;
  const outputNames = results.map((_, i) => (i === 0 ? 'output' : `output_${i}`));
  // the producing node's output takes the output's name; an input or a value already
  // renamed (one tensor as two outputs) goes through an Identity
  const renamed = new Map<string, string>();
  results.forEach((v, i) => {
    const producer = g.nodes.find((n) => n.output.includes(v.name));
    if (!producer || renamed.has(v.name)) {
      g.nodes.push({ op_type: 'Identity', name: outputNames[i], input: [renamed.get(v.name) ?? v.name], output: [outputNames[i]] });
      return;
    }
    renamed.set(v.name, outputNames[i]);
    for (const n of g.nodes) {
      n.output = n.output.map((o) => (o === v.name ? outputNames[i] : o));
      n.input = n.input.map((o) => (o === v.name ? outputNames[i] : o));
    }
  });

  const sameSize = hush !== undefined && MODEL_REGISTRY[hush.metadata.architecture]?.role === 'denoiser';
  const inputNames = { batch: 'N', height: 'H', width: 'W' };
  const outNames = sameSize ? inputNames : { batch: 'N', height: 'H_out', width: 'W_out' };
  const initializer: OnnxTensor[] = g.initializers.map((t) => ({
    name: t.name,
    dims: t.dims,
    data_type: t.data instanceof Float32Array ? TENSOR_TYPE.FLOAT : TENSOR_TYPE.INT64,
    raw_data: littleEndianBytes(t.data),
  }));
  const version = producerVersion();
  const metadata = [
    ...(hush ? [{ key: 'hush', value: JSON.stringify(hush.metadata) }] : []),
    { key: 'producer', value: `hush ${version} exportOnnx` },
    { key: 'source', value: `TensorFlow.js ${tfjsVersions.tfjs} layers model '${net.name}'` },
  ];
  return encodeModel({
    ir_version: ONNX_IR_VERSION,
    opset_import: [{ version: ONNX_OPSET }],
    producer_name: 'hush',
    producer_version: version,
    doc_string: docString(net, hush?.metadata, exporter.inputNames),
    metadata_props: metadata,
    graph: {
      name: sanitize(net.name),
      node: g.nodes,
      initializer,
      input: net.inputs.map((t, i) => valueInfo(exporter.inputNames[i], onnxDims(t.shape, inputNames))),
      output: net.outputs.map((t, i) => valueInfo(outputNames[i], onnxDims(t.shape, outNames))),
    },
  });
}

/** Writes exportOnnx's bytes to `path` atomically; an existing file is an error unless ifExists is 'overwrite'. */
export async function saveOnnx(model: HushModel | LayersModel, path: string, options: SaveOnnxOptions = {}): Promise<void> {
  const fn = 'saveOnnx';
  if (typeof path !== 'string' || path === '') throw invalidParameter(fn, 'path', 'a file path', path);
  const { ifExists, ...exportOptions } = checkObject(fn, 'options', options) as SaveOnnxOptions;
  const mode = ifExists === undefined ? 'error' : checkOneOf(fn, 'options.ifExists', ifExists, IF_EXISTS);
  await writeFileAtomic(path, exportOnnx(model, exportOptions), { ifExists: mode });
}
