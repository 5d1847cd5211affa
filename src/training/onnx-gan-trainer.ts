/**
 * OnnxGanTrainer: one step of GAN training (gan.ts's, on tfjs) as ONE onnxruntime
 * graph, in the order tfjs runs it:
 * 1. fake = G(noisy) (batch norm in training mode);
 * 2. the discriminator's step: L_D = BCE(D(clean), real) + BCE(D(fake), fake), both
 *    passes in training mode (each moves D's moving statistics), then Adam on D;
 * 3. the generator's step with the updated D in inference mode (its moving statistics
 *    after the two updates): L_G = wa BCE(D'(fake), real) + wp l2(fake - clean)
 *    + ws (l2(horizontal differences) + l2(vertical ones)), l2 = tf.nn.l2_loss (half
 *    the sum, the public code's reduction), the gradient through D' into fake and back through G,
 *    then Adam on G. tfjs runs G(noisy) again for this step, with the same weights
 *    and batch, so the output is the same; G's moving statistics move twice, as there.
 * BCE clips probabilities to [1e-7, 1 - 1e-7] with no gradient outside, as
 * losses.ts's adversarialLoss. The VGG feature loss is not in the op set: a GAN with
 * a feature weight trains on tfjs.
 */
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { HushError, invalidParameter } from '../core/errors.js';
import { loadOrt } from '../runtime/onnx.js';
import { GradientSum, GraphBuilder, NetState, emitAdam, emitBackward, emitForward, int, ints, parseNetwork, type AdamConstants, type BnNode, type Net, type Ort, type OrtTensor, type Pass, type Session } from './onnx-graph.js';
import { adamScalars, createTrainingSession, imageToImageUnsupported, onnxThreads } from './onnx-trainer.js';
import { TENSOR_TYPE } from '../onnx/proto.js';

export interface OnnxGanWeights {
  adversarial: number;
  pixel: number;
  smooth: number;
}

export interface OnnxGanTrainerOptions {
  weights: OnnxGanWeights;
  threads?: number;
  /** Adam's constants: beta1 0.5 as gan.ts (tf.train.adam(lr, 0.5)), tfjs's beta2 and epsilon */
  beta1?: number;
  beta2?: number;
  epsilon?: number;
}

/** Why this generator/discriminator pair cannot train on onnxruntime, or undefined. */
export function onnxGanUnsupported(generator: LayersModel, discriminator: LayersModel): string | undefined {
  try {
    return ganUnsupported(parseNetwork(generator, []), parseNetwork(discriminator, []));
  } catch (e) {
    return (e as Error).message;
  }
}

function ganUnsupported(g: Net, d: Net): string | undefined {
  const why = imageToImageUnsupported(g);
  if (why !== undefined) return `the generator: ${why}`;
  if (d.channels !== g.channels) return "the discriminator's input has other channels than the generator's";
  return undefined;
}

interface BuiltGanGraph {
  bytes: Uint8Array;
  /** G's batch statistics (one training-mode pass) */
  gStats: { node: number; mean: string; variance: string }[];
  /** D's BN nodes, in the order of the dmm/dmv inputs and new_dmm/new_dmv outputs */
  dBn: number[];
}

const P_MIN = 1e-7;
const P_MAX = 1 - 1e-7;

function buildGanGraph(gNet: Net, dNet: Net, shape: number[], weights: OnnxGanWeights, adam: AdamConstants): BuiltGanGraph {
  const [N, H, W] = shape;
  const g = new GraphBuilder();
  const nchw = ints('perm', [0, 3, 1, 2]);
  const x = g.op('Transpose', [g.input('noisy', shape)], [nchw]);
  const clean = g.op('Transpose', [g.input('clean', shape)], [nchw]);
  const gP = gNet.params.map((q, i) => g.input(`gp${i}`, q.onnxShape));
  const dP = dNet.params.map((q, i) => g.input(`dp${i}`, q.onnxShape));
  const scalars = { lr: g.input('lr', [1]), c1: g.input('c1', [1]), c2: g.input('c2', [1]) };
  const lo = g.scalar(P_MIN);
  const hi = g.scalar(P_MAX);
  const one = g.scalar(1);

  /** BCE of probabilities p against 'real' or 'fake' and its gradient dL/dp times `scale` */
  const bce = (pass: Pass, target: 'real' | 'fake', scale: number): { loss: string; grad: string } => {
    const p = pass.output;
    const [hd, wd] = pass.hw[pass.hw.length - 1];
    // a mean over every output value, channels too (adversarialLoss's tf.mean)
    const n = N * hd * wd * dNet.outChannels;
    const pc = g.op('Clip', [p, lo, hi]);
    const inRange = g.op('Cast', [g.op('And', [g.op('GreaterOrEqual', [p, lo]), g.op('LessOrEqual', [p, hi])])], [int('to', TENSOR_TYPE.FLOAT)]);
    const q = target === 'real' ? pc : g.op('Sub', [one, pc]);
    const loss = g.op('Mul', [g.sum(g.op('Log', [q])), g.scalar(-1 / n)]);
    // d(-log pc)/dp = -1/pc, d(-log(1 - pc))/dp = 1/(1 - pc), inside the clip range
    const grad = g.op('Mul', [g.op('Div', [inRange, q]), g.scalar(((target === 'real' ? -1 : 1) * scale) / n)]);
    return { loss, grad };
  };

  // 1. the generator's output
  const gp = emitForward(g, gNet, x, N, [H, W], gP, 'train');
  const gStats = gp.stats.map((s, k) => {
    const c = (gNet.nodes[s.node] as BnNode).c;
    g.output(s.mean, `g_mean_${k}`, [1, c, 1, 1]);
    g.output(s.variance, `g_var_${k}`, [1, c, 1, 1]);
    return { node: s.node, mean: `g_mean_${k}`, variance: `g_var_${k}` };
  });
  const fake = gp.output;

  // 2. the discriminator's step
  const real = emitForward(g, dNet, clean, N, [H, W], dP, 'train');
  const faked = emitForward(g, dNet, fake, N, [H, W], dP, 'train');
  const lr = bce(real, 'real', 1);
  const lf = bce(faked, 'fake', 1);
  g.output(g.op('Add', [lr.loss, lf.loss]), 'd_loss', [1]);
  const dSum = new GradientSum(g, dNet.params.length);
  emitBackward(g, dNet, real, lr.grad, dP, { accumulate: dSum.add, batch: N });
  emitBackward(g, dNet, faked, lf.grad, dP, { accumulate: dSum.add, batch: N });
  const newD = emitAdam(g, dNet.params, dP, dSum.grads, 'd', adam, scalars, false);
  // D's moving statistics after its two training-mode passes (real, then fake)
  const dBn = dNet.nodes.flatMap((n, i) => (n.kind === 'bn' ? [i] : []));
  const mean = new Map<number, string>();
  const variance = new Map<number, string>();
  dBn.forEach((node, k) => {
    const st = dNet.nodes[node] as BnNode;
    const decay = g.scalar(1 - st.momentum);
    const dims = [1, st.c, 1, 1];
    const move = (moving: string, batch: string) => g.op('Sub', [moving, g.op('Mul', [g.op('Sub', [moving, batch]), decay])]);
    const pick = (pass: Pass, key: 'mean' | 'variance') => pass.stats.find((s) => s.node === node)![key];
    const mm = move(move(g.input(`dmm${k}`, dims), pick(real, 'mean')), pick(faked, 'mean'));
    const mv = move(move(g.input(`dmv${k}`, dims), pick(real, 'variance')), pick(faked, 'variance'));
    g.output(mm, `new_dmm${k}`, dims);
    g.output(mv, `new_dmv${k}`, dims);
    mean.set(node, mm);
    variance.set(node, mv);
  });

  // 3. the generator's step
  const terms: string[] = [];
  const grads: string[] = [];
  if (weights.adversarial > 0) {
    const judged = emitForward(g, dNet, fake, N, [H, W], newD, { mean, variance });
    const la = bce(judged, 'real', weights.adversarial);
    terms.push(g.op('Mul', [la.loss, g.scalar(weights.adversarial)]));
    grads.push(emitBackward(g, dNet, judged, la.grad, newD, { inputGradient: true, batch: N })!);
  }
  const diff = g.op('Sub', [fake, clean]);
  // pixel and smoothness terms are tf.nn.l2_loss, half the sum, as in the public code (see gan.ts)
  terms.push(g.op('Mul', [g.sum(g.op('Mul', [diff, diff])), g.scalar(weights.pixel / 2)]));
  grads.push(g.op('Mul', [diff, g.scalar(weights.pixel)]));
  if (weights.smooth > 0) {
    if (H < 2 || W < 2) throw invalidParameter('OnnxGanTrainer', 'shape', 'patches at least 2x2', shape);
    // half the summed squares of y[.., x] - y[.., x + 1], and the same down the columns
    for (const axis of [3, 2]) {
      const len = axis === 3 ? W : H;
      const head = g.op('Slice', [fake, g.int64s([0]), g.int64s([len - 1]), g.int64s([axis])]);
      const tail = g.op('Slice', [fake, g.int64s([1]), g.int64s([len]), g.int64s([axis])]);
      const d = g.op('Sub', [head, tail]);
      terms.push(g.op('Mul', [g.sum(g.op('Mul', [d, d])), g.scalar(weights.smooth / 2)]));
      const gd = g.op('Mul', [d, g.scalar(weights.smooth)]);
      const padEnd = [0, 0, 0, 0, 0, 0, axis === 2 ? 1 : 0, axis === 3 ? 1 : 0];
      const padStart = [0, 0, axis === 2 ? 1 : 0, axis === 3 ? 1 : 0, 0, 0, 0, 0];
      grads.push(g.op('Sub', [g.op('Pad', [gd, g.int64s(padEnd)]), g.op('Pad', [gd, g.int64s(padStart)])]));
    }
  }
  g.output(terms.reduce((a, b) => g.op('Add', [a, b])), 'g_loss', [1]);
  const gSum = new GradientSum(g, gNet.params.length);
  emitBackward(g, gNet, gp, grads.reduce((a, b) => g.op('Add', [a, b])), gP, { accumulate: gSum.add, batch: N });
  emitAdam(g, gNet.params, gP, gSum.grads, 'g', adam, scalars, false);
  return { bytes: g.encode('hush_gan_step'), gStats, dBn };
}

export class OnnxGanTrainer {
  /** Adam's step count, the same for both networks */
  iterations = 0;
  private session?: { key: string; session: Session; graph: BuiltGanGraph };

  private constructor(
    private readonly ort: Ort,
    private readonly gState: NetState,
    private readonly dState: NetState,
    private readonly options: Required<Omit<OnnxGanTrainerOptions, 'weights'>> & { weights: OnnxGanWeights },
  ) {}

  static async create(generator: LayersModel, discriminator: LayersModel, options: OnnxGanTrainerOptions): Promise<OnnxGanTrainer> {
    const fn = 'OnnxGanTrainer.create';
    const gT: Tensor[] = [];
    const dT: Tensor[] = [];
    let nets: [Net, Net] | undefined;
    let why: string | undefined;
    try {
      nets = [parseNetwork(generator, gT), parseNetwork(discriminator, dT)];
      why = ganUnsupported(...nets);
    } catch (e) {
      why = (e as Error).message;
    }
    if (why !== undefined || !nets) throw new HushError('ERR_UNSUPPORTED', `${fn}: this GAN cannot train on onnxruntime (${why}); use the tfjs engine`);
    const [gNet, dNet] = nets;
    const threads = onnxThreads(fn, options.threads);
    const ort = await loadOrt();
    return new OnnxGanTrainer(ort, new NetState(ort, generator, gNet, gT), new NetState(ort, discriminator, dNet, dT), {
      weights: { ...options.weights },
      threads,
      beta1: options.beta1 ?? 0.5,
      beta2: options.beta2 ?? 0.999,
      epsilon: options.epsilon ?? 1e-7,
    });
  }

  /** Adam's beta1 and beta2 (checkpoints store beta^(t+1) as tfjs's optimizer does) */
  get beta1(): number {
    return this.options.beta1;
  }
  get beta2(): number {
    return this.options.beta2;
  }

  /** One discriminator step then one generator step; returns both losses (before the updates). */
  async step(noisy: Float32Array, clean: Float32Array, shape: number[], lr: number): Promise<{ generator: number; discriminator: number }> {
    const fn = 'OnnxGanTrainer.step';
    const c = this.gState.net.channels;
    if (shape.length !== 4 || shape[3] !== c) throw invalidParameter(fn, 'shape', `[N, H, W, ${c}]`, shape);
    const size = shape.reduce((a, b) => a * b, 1);
    if (noisy.length !== size || clean.length !== size) throw invalidParameter(fn, 'noisy/clean', `${size} values each (shape ${shape.join('x')})`, `${noisy.length} and ${clean.length}`);
    const key = shape.join('x');
    if (this.session?.key !== key) {
      await this.session?.session.release();
      this.session = undefined;
      const graph = buildGanGraph(this.gState.net, this.dState.net, shape, this.options.weights, this.options);
      this.session = { key, session: await createTrainingSession(this.ort, graph.bytes, this.options.threads), graph };
    }
    const { session, graph } = this.session;
    const t = this.iterations + 1;
    const T = this.ort.Tensor;
    const feeds: Record<string, OrtTensor> = { noisy: new T('float32', noisy, shape), clean: new T('float32', clean, shape), ...adamScalars(this.ort, lr, t, this.options) };
    this.gState.feed(feeds, 'g');
    this.dState.feed(feeds, 'd');
    graph.dBn.forEach((node, k) => {
      const st = this.dState.net.nodes[node] as BnNode;
      feeds[`dmm${k}`] = new T('float32', st.movingMean, [1, st.c, 1, 1]);
      feeds[`dmv${k}`] = new T('float32', st.movingVar, [1, st.c, 1, 1]);
    });
    const out = await session.run(feeds);
    this.gState.take(out, 'g');
    this.dState.take(out, 'd');
    graph.dBn.forEach((node, k) => {
      const st = this.dState.net.nodes[node] as BnNode;
      st.movingMean = (out[`new_dmm${k}`].data as Float32Array).slice();
      st.movingVar = (out[`new_dmv${k}`].data as Float32Array).slice();
    });
    const stats = graph.gStats.map((s) => ({ node: s.node, mean: out[s.mean].data as Float32Array, variance: out[s.variance].data as Float32Array }));
    // tfjs applies G in training mode twice per step (for D's step and for G's), on the same batch
    this.gState.updateMoving(stats);
    this.gState.updateMoving(stats);
    this.iterations = t;
    return { generator: (out.g_loss.data as Float32Array)[0], discriminator: (out.d_loss.data as Float32Array)[0] };
  }

  /** Writes both networks' weights and moving statistics into their tfjs models. */
  async syncToModels(): Promise<void> {
    await this.gState.syncToModel();
    await this.dState.syncToModel();
  }

  /** Adam's moments of each network in tfjs's checkpoint order. */
  moments(): { generator: Float32Array; discriminator: Float32Array } {
    return { generator: this.gState.moments(), discriminator: this.dState.moments() };
  }

  /** Restores moments (as moments() gives them), the step count, and the weights from the tfjs models. */
  restore(moments: { generator: Float32Array; discriminator: Float32Array }, iterations: number): void {
    this.gState.restore('OnnxGanTrainer.restore', moments.generator);
    this.dState.restore('OnnxGanTrainer.restore', moments.discriminator);
    this.iterations = iterations;
  }

  async dispose(): Promise<void> {
    await this.session?.session.release();
    this.session = undefined;
  }
}
