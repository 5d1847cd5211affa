/**
 * OnnxTrainer: training steps of a convolutional network (DnCNN, the GAN's generator,
 * any graph of 'same' stride-1 Conv2D, BatchNormalization, ReLU/LeakyReLU/sigmoid
 * activations, additions and hush's residual Subtract; onnx-graph.ts has the op set
 * and its gradients) run by onnxruntime-node as ONE ONNX graph per step: forward
 * pass, the reverse-mode gradient written out by hand, and tfjs's Adam update.
 * onnxruntime's native kernels (MLAS, AVX-512 here) run the convolutions several
 * times faster than tfjs's wasm build, which is bound to 128-bit SIMD on one thread
 * (docs/neural-engine.md measures both).
 *
 * Why hand-written and not a library: onnxruntime's training API (on-device
 * training artifacts) is not in the onnxruntime-node package, and tfjs cannot run
 * its kernels on onnxruntime.
 * Losses: l2 or l1 over a mask (all ones without one), divided by the mask's sum;
 * Noise2Same's and Noise2SamePro's (two passes).
 *
 * The trainer owns the weights and moments while it runs; syncToModel() writes the
 * weights and moving statistics back into the tfjs model (for validation, saving and
 * export), and the moments travel in tfjs's layout for checkpoints.
 */
import { availableParallelism } from 'node:os';
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { HushError, invalidParameter } from '../core/errors.js';
import { checkNumber } from '../core/validate.js';
import { loadOrt } from '../runtime/onnx.js';
import { GradientSum, GraphBuilder, NetState, emitAdam, emitBackward, emitForward, ints, nodeSizes, parseNetwork, toTfjs, type Net, type Ort, type OrtTensor, type Session } from './onnx-graph.js';

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
 * Why `model` cannot train on onnxruntime, or undefined when it can: a graph of 'same'
 * convolutions (any kernel; stride or dilation), batch norms over the channels,
 * ReLU/LeakyReLU/sigmoid/linear activations, additions and hush's residual Subtract,
 * with one image in and one image of the input's size out.
 */
export function onnxTrainingUnsupported(model: LayersModel): string | undefined {
  try {
    return imageToImageUnsupported(parseNetwork(model, []));
  } catch (e) {
    return (e as Error).message;
  }
}

/** Why a parsed network does not map an image to an image of the same size and channels, or undefined. */
export function imageToImageUnsupported(net: Net): string | undefined {
  // a size every down-sampling of up to 2^6 divides
  let hw: [number, number];
  try {
    hw = nodeSizes(net, [192, 128]).at(-1)!;
  } catch (e) {
    return (e as Error).message;
  }
  if (hw[0] !== 192 || hw[1] !== 128) return `the output is ${hw[0]}x${hw[1]} for a 192x128 input: the network changes the image size`;
  if (net.outChannels !== net.channels) return 'the output has other channels than the input';
  return undefined;
}

interface BuiltGraph {
  bytes: Uint8Array;
  /** the BN nodes' batch statistics outputs, one per training-mode BN call, in the order the passes ran */
  stats: { node: number; mean: string; variance: string }[];
}

/** The training loss: a pixel loss over a mask, or Noise2Same's (two passes; see losses.ts). */
export const ONNX_TRAINING_LOSSES = ['l1', 'l2', 'noise2same', 'noise2same-pro'] as const;
export type OnnxTrainingLoss = (typeof ONNX_TRAINING_LOSSES)[number];

/** The training-step graph for one batch shape. */
function buildStepGraph(net: Net, shape: number[], loss: OnnxTrainingLoss, adam: { beta1: number; beta2: number; epsilon: number }, withGradients: boolean): BuiltGraph {
  const [N, H, W] = shape;
  const g = new GraphBuilder();
  const nchw = ints('perm', [0, 3, 1, 2]);
  const n2same = loss === 'noise2same' || loss === 'noise2same-pro';
  const x = g.op('Transpose', [g.input('input', shape)], [nchw]);
  const x2 = n2same ? g.op('Transpose', [g.input('input2', shape)], [nchw]) : undefined;
  const target = g.op('Transpose', [g.input('target', shape)], [nchw]);
  const mask = g.op('Transpose', [g.input('mask', shape)], [nchw]);
  const invCount = g.input('inv_count', [1]);
  const p = net.params.map((q, i) => g.input(`p${i}`, q.onnxShape));
  const sum = new GradientSum(g, net.params.length);
  const stats: BuiltGraph['stats'] = [];
  const forward = (input: string) => {
    const pass = emitForward(g, net, input, N, [H, W], p, 'train');
    for (const s of pass.stats) {
      const k = stats.length;
      const c = (net.nodes[s.node] as { c: number }).c;
      stats.push({ node: s.node, mean: `stat_mean_${k}`, variance: `stat_var_${k}` });
      g.output(s.mean, `stat_mean_${k}`, [1, c, 1, 1]);
      g.output(s.variance, `stat_var_${k}`, [1, c, 1, 1]);
    }
    return pass;
  };
  const backward = (pass: ReturnType<typeof forward>, dPred: string) => emitBackward(g, net, pass, dPred, p, { accumulate: sum.add, batch: N });

  if (!n2same) {
    const a = forward(x);
    const diff = g.op('Sub', [a.output, target]);
    const e = loss === 'l2' ? g.op('Mul', [diff, diff]) : g.op('Abs', [diff]);
    g.output(g.op('Mul', [g.sum(g.op('Mul', [e, mask])), invCount]), 'loss', [1]);
    const dl = loss === 'l2' ? g.op('Mul', [diff, g.scalar(2)]) : g.op('Sign', [diff]);
    backward(a, g.op('Mul', [g.op('Mul', [dl, mask]), invCount]));
  } else {
    // Noise2Same (losses.ts noise2SameLoss): rec = mean((f(x) - target)^2) over every value (inv_count = 1 / size);
    // inv = sqrt(sum(mask (f(x) - f(x_masked))^2) / max(sum(mask), 1e-12) + 1e-12);
    // loss = rec + w inv, w = lambda ('noise2same') or 2 sqrt(rec + 1e-12) ('noise2same-pro', differentiated too)
    const eps = g.scalar(1e-12);
    const a = forward(x);
    const b = forward(x2!);
    const r = g.op('Sub', [a.output, target]);
    const rec = g.op('Mul', [g.sum(g.op('Mul', [r, r])), invCount]);
    const dm = g.op('Sub', [a.output, b.output]);
    const msum = g.op('Max', [g.sum(mask), eps]);
    const inv = g.op('Sqrt', [g.op('Add', [g.op('Div', [g.sum(g.op('Mul', [g.op('Mul', [dm, dm]), mask])), msum]), eps])]);
    const sqrtRec = g.op('Sqrt', [g.op('Add', [rec, eps])]);
    const w = loss === 'noise2same' ? g.input('lambda', [1]) : g.op('Mul', [sqrtRec, g.scalar(2)]);
    g.output(g.op('Add', [rec, g.op('Mul', [w, inv])]), 'loss', [1]);
    // dL/drec: 1, plus inv / sqrt(rec + eps) when w depends on rec
    const dRec = loss === 'noise2same' ? undefined : g.op('Add', [g.scalar(1), g.op('Div', [inv, sqrtRec])]);
    let dA = g.op('Mul', [r, g.op('Mul', [invCount, g.scalar(2)])]);
    if (dRec) dA = g.op('Mul', [dA, dRec]);
    // d(w inv)/d f(x) = w mask dm / (msum inv); the masked pass gets its negative
    const dInv = g.op('Mul', [g.op('Mul', [dm, mask]), g.op('Div', [w, g.op('Mul', [msum, inv])])]);
    backward(a, g.op('Add', [dA, dInv]));
    backward(b, g.op('Neg', [dInv]));
  }

  // Adam (tfjs's form)
  const scalars = { lr: g.input('lr', [1]), c1: g.input('c1', [1]), c2: g.input('c2', [1]) }; // c1 = 1 / (1 - beta1^t), c2 likewise
  emitAdam(g, net.params, p, sum.grads, '', adam, scalars, withGradients);
  return { bytes: g.encode('hush_train_step'), stats };
}

export class OnnxTrainer {
  /** Adam's step count (tfjs's `iterations`) */
  iterations = 0;
  private session?: { key: string; session: Session; graph: BuiltGraph };
  private onesMask?: Float32Array;

  private constructor(
    private readonly ort: Ort,
    private readonly state: NetState,
    private readonly options: Required<OnnxTrainerOptions>,
    /** also output the gradients (tests) */
    private readonly withGradients: boolean,
  ) {}

  /** The last step's gradients in tfjs layout (only with `withGradients`). */
  lastGradients?: Float32Array[];

  static async create(model: LayersModel, options: OnnxTrainerOptions = {}, withGradients = false): Promise<OnnxTrainer> {
    const fn = 'OnnxTrainer.create';
    const tensors: Tensor[] = [];
    let net: Net | undefined;
    let why: string | undefined;
    try {
      net = parseNetwork(model, tensors);
      why = imageToImageUnsupported(net);
    } catch (e) {
      why = (e as Error).message;
    }
    if (why !== undefined || !net) throw new HushError('ERR_UNSUPPORTED', `${fn}: this network cannot train on onnxruntime (${why}); use the tfjs engine`);
    const threads = onnxThreads(fn, options.threads);
    const loss = options.loss ?? 'l2';
    if (!(ONNX_TRAINING_LOSSES as readonly string[]).includes(loss)) throw invalidParameter(fn, 'options.loss', `one of ${ONNX_TRAINING_LOSSES.join(', ')}`, loss);
    const ort = await loadOrt();
    return new OnnxTrainer(ort, new NetState(ort, model, net, tensors), { threads, loss, beta1: options.beta1 ?? 0.9, beta2: options.beta2 ?? 0.999, epsilon: options.epsilon ?? 1e-7 }, withGradients);
  }

  private async sessionFor(shape: number[], loss: OnnxTrainingLoss): Promise<{ session: Session; graph: BuiltGraph }> {
    const key = `${shape.join('x')} ${loss}`;
    if (this.session?.key === key) return this.session;
    const old = this.session;
    this.session = undefined;
    await old?.session.release();
    const graph = buildStepGraph(this.state.net, shape, loss, this.options, this.withGradients);
    const session = await createTrainingSession(this.ort, graph.bytes, this.options.threads);
    this.session = { key, session, graph };
    return this.session;
  }

  /** One Adam step at learning rate `lr`; returns the batch loss before the update. */
  async step(batch: OnnxTrainerBatch, lr: number): Promise<number> {
    const fn = 'OnnxTrainer.step';
    const { shape } = batch;
    const net = this.state.net;
    if (shape.length !== 4 || shape[3] !== net.channels) throw invalidParameter(fn, 'batch.shape', `[N, H, W, ${net.channels}]`, shape);
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
      ...adamScalars(this.ort, lr, t, this.options),
    };
    if (n2same) feeds.input2 = new T('float32', batch.input2!, shape);
    if (loss === 'noise2same') feeds.lambda = new T('float32', Float32Array.of(lambda), [1]);
    this.state.feed(feeds, '');
    const out = await session.run(feeds);
    const value = (out.loss.data as Float32Array)[0];
    this.state.take(out, '');
    if (this.withGradients) this.lastGradients = net.params.map((p, i) => toTfjs(p, out[`grad${i}`].data as Float32Array));
    // one set of statistics per pass, in the order the passes ran (tfjs updates the moving averages per call too)
    this.state.updateMoving(graph.stats.map((s) => ({ node: s.node, mean: out[s.mean].data as Float32Array, variance: out[s.variance].data as Float32Array })));
    this.iterations = t;
    return value;
  }

  /** Writes the weights and the batch norms' moving statistics into the tfjs model. */
  async syncToModel(): Promise<void> {
    await this.state.syncToModel();
  }

  /** Adam's moments in tfjs's checkpoint order: m of every trainable weight in model order, then v. */
  moments(): Float32Array {
    return this.state.moments();
  }

  /** Restores the moments written by moments(), the step count, and the weights from the tfjs model. */
  restore(moments: Float32Array, iterations: number): void {
    this.state.restore('OnnxTrainer.restore', moments);
    this.iterations = iterations;
  }

  async dispose(): Promise<void> {
    await this.session?.session.release();
    this.session = undefined;
  }
}

/** onnxruntime intra-op threads: the option, HUSH_THREADS, or the number of cores. */
export function onnxThreads(fn: string, threads: number | undefined): number {
  const envThreads = process.env.HUSH_THREADS === undefined ? undefined : Number(process.env.HUSH_THREADS);
  return checkNumber(fn, 'options.threads', threads ?? envThreads ?? availableParallelism(), { integer: true, min: 1, max: 256 });
}

export async function createTrainingSession(ort: Ort, bytes: Uint8Array, threads: number): Promise<Session> {
  // 'extended', not 'all': the layout pass of 'all' gives the convolutions NCHWc kernels, but in a
  // training graph nearly every conv output also feeds batch-norm statistics, gradients and
  // reshapes, so it reorders back and forth (17 % of a DnCNN step); 'extended' steps are 5-9 %
  // faster for DnCNN, 7 % for the baby U-net, and a new batch shape warms up in half the time
  return ort.InferenceSession.create(bytes, { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'extended', executionMode: 'sequential' });
}

/** Adam's per-step scalars for step t (1-based). */
export function adamScalars(ort: Ort, lr: number, t: number, adam: { beta1: number; beta2: number }): Record<'lr' | 'c1' | 'c2', OrtTensor> {
  const { Tensor: T } = ort;
  return {
    lr: new T('float32', Float32Array.of(lr), [1]),
    c1: new T('float32', Float32Array.of(1 / (1 - adam.beta1 ** t)), [1]),
    c2: new T('float32', Float32Array.of(1 / (1 - adam.beta2 ** t)), [1]),
  };
}
