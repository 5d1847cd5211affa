/**
 * GAN training (ImageDenoisingGAN, SPEC section 3): alternating updates of a
 * discriminator D (real clean patches against generated ones) and a generator G with
 * L = wa * La + wp * Lp + wf * Lf + ws * Ls: adversarial (binary cross-entropy of
 * D(G(x)) against 'real', a mean), pixel (half the summed squared error), feature
 * (VGG16 'conv2' features, from a VGG16 file the user gives; summed squares over
 * the map divided by its channels) and smoothness (half the summed squared shifted
 * differences): the public code's reductions, under which its weights were chosen
 * (see tfjsGanStep). Presets: 'readme'
 * (0.5, 1, 1, 0.0001; the default) and 'public-code' (smoothness 1.0, learning rate
 * 0.002), as SPEC records the disagreement.
 *
 * Normalisation is one and the same everywhere, the trap of the public code: the
 * data, the noise, G's sigmoid output, D's input and the VGG's input (ImageNet
 * normalisation of [0, 1] images) are all on [0, 1], and nothing is rescaled on
 * saving. Runs are seeded per step and resumable exactly as fit's.
 */
import { appendFile, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { LayersModel, Optimizer, Scalar, Tensor, Tensor4D } from '@tensorflow/tfjs';
import { HushError, invalidParameter } from '../core/errors.js';
import { createImage } from '../core/image.js';
import { createRng, deriveSeed } from '../core/rng.js';
import { checkNumber, checkOneOf } from '../core/validate.js';
import { swapInDir, writeFileAtomic } from '../io/atomic-write.js';
import type { HushModel, HushModelMetadata } from '../models/hush-model.js';
import { loadModel, saveModel } from '../models/io.js';
import { addNoise, type AddNoiseOptions } from '../noise/index.js';
import { saveOnnx } from '../onnx/export.js';
import { loadTfjs } from '../runtime/tfjs.js';
import { samplePatches, type Augmentation, type TrainImage } from './data.js';
import type { FitProgress, OnTheFlyNoise } from './fit.js';
import { adversarialLoss, l2Loss, perceptualLoss, smoothnessLoss } from './losses.js';
import { OnnxGanTrainer, onnxGanUnsupported } from './onnx-gan-trainer.js';

export const GAN_PRESETS = {
  readme: { adversarial: 0.5, pixel: 1, feature: 1, smooth: 0.0001, lr: 0.001 },
  'public-code': { adversarial: 0.5, pixel: 1, feature: 1, smooth: 1, lr: 0.002 },
} as const;
export type GanPreset = keyof typeof GAN_PRESETS;

export interface FitGanOptions {
  /** clean training images (noise drawn on the fly) */
  sets: readonly (readonly TrainImage[])[];
  noise: OnTheFlyNoise;
  /** VGG16 features for the feature loss (loadVgg16Features); required unless weights.feature is 0 */
  vgg?: LayersModel;
  preset?: GanPreset;
  /** loss weights over the preset's */
  weights?: Partial<Record<'adversarial' | 'pixel' | 'feature' | 'smooth', number>>;
  steps: number;
  /** default 7 (ImageDenoisingGAN) */
  batchSize?: number;
  patchSize?: number;
  lr?: number;
  augmentation?: Augmentation;
  seed?: number;
  checkpointEvery?: number;
  out: string;
  resume?: boolean;
  budgetSeconds?: number;
  stopAfter?: number;
  reportEvery?: number;
  dataDescription?: string;
  onProgress?: (p: FitProgress & { discriminatorLoss: number }) => void;
  /**
   * where the steps run: 'onnx' (OnnxGanTrainer, one onnxruntime graph per step; no
   * feature loss), 'tfjs', or 'auto' (the default: onnx when it can)
   */
  engine?: GanEngine;
  /** onnxruntime threads (default: HUSH_THREADS or the number of cores) */
  threads?: number;
}

export const GAN_ENGINES = ['auto', 'onnx', 'tfjs'] as const;
export type GanEngine = (typeof GAN_ENGINES)[number];

interface GanState {
  step: number;
  elapsed: number;
  signature: string;
  adam: { g: AdamState; d: AdamState };
}
interface AdamState {
  iterations: number;
  accBeta1: number;
  accBeta2: number;
}
interface AdamInternals {
  accBeta1: { assign(t: Tensor): void; dataSync(): Float32Array };
  accBeta2: { assign(t: Tensor): void; dataSync(): Float32Array };
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** A file of float32 values (read at its own offset: small files share Node's buffer pool). */
async function readFloats(path: string): Promise<Float32Array> {
  const buf = await readFile(path);
  if (buf.byteLength % 4 !== 0) throw new HushError('ERR_DECODE', `fitGan: '${path}' is not a float32 file (${buf.byteLength} bytes)`);
  return new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
}

async function adamSave(opt: Optimizer): Promise<{ flat: Float32Array; state: AdamState }> {
  const w = await opt.getWeights();
  const flat = new Float32Array(w.slice(1).reduce((n, x) => n + x.tensor.size, 0));
  let at = 0;
  for (const x of w.slice(1)) {
    flat.set(x.tensor.dataSync() as Float32Array, at);
    at += x.tensor.size;
  }
  const a = opt as unknown as AdamInternals;
  const iterations = w.length > 0 ? (w[0].tensor.dataSync() as Int32Array)[0] : 0;
  // getWeights makes a new scalar for the step count; the moments are the optimizer's own variables
  if (w.length > 0) w[0].tensor.dispose();
  return { flat, state: { iterations, accBeta1: a.accBeta1.dataSync()[0], accBeta2: a.accBeta2.dataSync()[0] } };
}

async function adamRestore(tf: typeof import('@tensorflow/tfjs'), opt: Optimizer, model: LayersModel, flat: Float32Array, state: AdamState): Promise<void> {
  const named: { name: string; tensor: Tensor }[] = [{ name: 'iter', tensor: tf.scalar(state.iterations, 'int32') }];
  let at = 0;
  for (const kind of ['m', 'v']) {
    for (const w of model.trainableWeights) {
      const shape = w.shape as number[];
      const size = shape.reduce((a, b) => a * b, 1);
      named.push({ name: `${w.name}/${kind}`, tensor: tf.tensor(flat.subarray(at, at + size), shape) });
      at += size;
    }
  }
  await opt.setWeights(named);
  tf.dispose(named.map((n) => n.tensor));
  const a = opt as unknown as AdamInternals;
  const b1 = tf.scalar(state.accBeta1);
  const b2 = tf.scalar(state.accBeta2);
  a.accBeta1.assign(b1);
  a.accBeta2.assign(b2);
  tf.dispose([b1, b2]);
}

/** tf.nn.l2_loss of the horizontal and vertical differences: half their summed squares (ImageDenoisingGAN's get_smooth_loss). */
function smoothnessHalfSum(tf: typeof import('@tensorflow/tfjs'), y: Tensor4D): Scalar {
  const [b, h, w, c] = y.shape;
  if (h < 2 || w < 2) return smoothnessLoss(y); // refuses with the house-style message
  return tf.tidy(() => {
    const horizontal = tf.sum(tf.squaredDifference(tf.slice(y, [0, 0, 0, 0], [b, h, w - 1, c]), tf.slice(y, [0, 0, 1, 0], [b, h, w - 1, c])));
    const vertical = tf.sum(tf.squaredDifference(tf.slice(y, [0, 0, 0, 0], [b, h - 1, w, c]), tf.slice(y, [0, 1, 0, 0], [b, h - 1, w, c])));
    return tf.mul(tf.add(horizontal, vertical), 0.5) as Scalar;
  });
}

/**
 * One GAN step on tfjs: the discriminator's (real clean patches against G's current
 * output), then the generator's (fool D, stay close to the clean patch in pixels and
 * VGG features, stay smooth). Returns both losses before the updates.
 */
export function tfjsGanStep(
  tf: typeof import('@tensorflow/tfjs'),
  G: LayersModel,
  D: LayersModel,
  gOpt: Optimizer,
  dOpt: Optimizer,
  noisy: Tensor4D,
  clean: Tensor4D,
  weights: Record<'adversarial' | 'pixel' | 'feature' | 'smooth', number>,
  perceptual?: (y: Tensor4D, target: Tensor4D) => Scalar,
): { generator: number; discriminator: number } {
  const fake = tf.tidy(() => G.apply(noisy, { training: true }) as Tensor4D);
  const dLoss = dOpt.minimize(
    () => tf.tidy(() => tf.add(adversarialLoss(D.apply(clean, { training: true }) as Tensor, 'real'), adversarialLoss(D.apply(fake, { training: true }) as Tensor, 'fake')) as Scalar),
    true,
    D.trainableWeights.map((w) => w.read() as never),
  ) as Scalar;
  fake.dispose();
  const gLoss = gOpt.minimize(
    () =>
      tf.tidy(() => {
        const y = G.apply(noisy, { training: true }) as Tensor4D;
        // the public code's reductions (utils.py): BCE is a mean, the pixel and smoothness
        // terms are tf.nn.l2_loss (half the sum over the batch), the feature term the sum
        // of squares over the conv2 map divided by its channels; the weights only keep
        // their balance with these (with means, the adversarial term outweighs the pixel
        // term some 40,000 times at 7x64x64x3 and the generator drifts away from the image)
        const [n, h, w, c] = y.shape;
        let total = tf.mul(adversarialLoss(D.apply(y, { training: false }) as Tensor, 'real'), weights.adversarial);
        total = tf.add(total, tf.mul(l2Loss(y, clean), (weights.pixel * n * h * w * c) / 2));
        if (perceptual) total = tf.add(total, tf.mul(perceptual(y, clean), weights.feature * n * Math.floor(h / 2) * Math.floor(w / 2)));
        if (weights.smooth > 0) total = tf.add(total, tf.mul(smoothnessHalfSum(tf, y), weights.smooth));
        return total as Scalar;
      }),
    true,
    G.trainableWeights.map((w) => w.read() as never),
  ) as Scalar;
  const r = { generator: gLoss.dataSync()[0], discriminator: dLoss.dataSync()[0] };
  tf.dispose([gLoss, dLoss]);
  return r;
}

/** Trains `generator` against `discriminator`; both are changed in place. */
export async function fitGan(generator: HushModel, discriminator: HushModel, options: FitGanOptions): Promise<{ steps: number; finalLoss: number; elapsed: number; stopped: 'done' | 'budget' | 'stopAfter'; engine: 'onnx' | 'tfjs' }> {
  const fn = 'fitGan';
  const preset = checkOneOf(fn, 'options.preset', options.preset ?? 'readme', Object.keys(GAN_PRESETS) as GanPreset[]);
  const weights = { ...GAN_PRESETS[preset], ...(options.weights ?? {}) };
  for (const k of ['adversarial', 'pixel', 'feature', 'smooth'] as const) checkNumber(fn, `options.weights.${k}`, weights[k], { min: 0 });
  if (weights.feature > 0 && !options.vgg) {
    throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the feature loss needs VGG16 weights (options.vgg, --vgg FILE: a tfjs layers model of Keras' VGG16 without its top); or set its weight to 0`, { param: 'options.vgg' });
  }
  const steps = checkNumber(fn, 'options.steps', options.steps, { integer: true, min: 1 });
  const batch = checkNumber(fn, 'options.batchSize', options.batchSize ?? 7, { integer: true, min: 1 });
  const patch = checkNumber(fn, 'options.patchSize', options.patchSize ?? 64, { integer: true, min: 8 });
  const lr = checkNumber(fn, 'options.lr', options.lr ?? weights.lr, { above: 0 });
  const seed = checkNumber(fn, 'options.seed', options.seed ?? 1, { integer: true, min: 0 });
  const checkpointEvery = checkNumber(fn, 'options.checkpointEvery', options.checkpointEvery ?? 100, { integer: true, min: 1 });
  if (patch % generator.metadata.multiple !== 0) throw invalidParameter(fn, 'options.patchSize', `a multiple of ${generator.metadata.multiple}`, patch);
  const c = generator.metadata.channels;
  if (discriminator.metadata.channels !== c) throw invalidParameter(fn, 'discriminator', `a ${c}-channel discriminator (the generator's)`, discriminator.metadata.channels);
  for (const set of options.sets) for (const img of set) if (img.channels !== c) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: '${img.file}' has ${img.channels} channel(s) but the generator takes ${c}`);
  const engineOption = checkOneOf(fn, 'options.engine', options.engine ?? 'auto', GAN_ENGINES);
  const whyNot = weights.feature > 0 ? 'the VGG feature loss runs on tfjs only' : onnxGanUnsupported(generator.model, discriminator.model);
  if (engineOption === 'onnx' && whyNot !== undefined) throw new HushError('ERR_UNSUPPORTED', `${fn}: this GAN cannot train on onnxruntime (${whyNot}); use --engine tfjs`);
  const engine = engineOption === 'tfjs' || whyNot !== undefined ? 'tfjs' : 'onnx';

  const { tf } = await loadTfjs();
  await mkdir(options.out, { recursive: true });
  const ckDir = join(options.out, 'checkpoint');
  // reductions: the generator's terms as the public code reduces them (since 65a99a2; a checkpoint made with means is refused)
  const signature = JSON.stringify({ preset, weights, steps, batch, patch, lr, seed, items: options.sets.length, noise: options.noise, reductions: 'public-code' });
  const gOpt = tf.train.adam(lr, 0.5) as Optimizer;
  const dOpt = tf.train.adam(lr, 0.5) as Optimizer;
  const perceptual = weights.feature > 0 ? perceptualLoss({ vgg: options.vgg as LayersModel }) : undefined;
  let start = 0;
  let elapsedBefore = 0;
  let resumed: { g: Float32Array; d: Float32Array; iterations: number } | undefined;
  if (options.resume) {
    const dir = (await exists(join(ckDir, 'state.json'))) ? ckDir : (await exists(join(`${ckDir}.old`, 'state.json'))) ? `${ckDir}.old` : undefined;
    if (dir) {
      const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as GanState;
      if (state.signature !== signature) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the checkpoint in '${dir}' was made with other settings; resume with the same ones, or use a new --out`);
      for (const [m, name] of [[generator, 'generator'], [discriminator, 'discriminator']] as const) {
        const loaded = await loadModel(join(dir, name));
        m.model.setWeights(loaded.model.getWeights());
        loaded.dispose();
      }
      resumed = { g: await readFloats(join(dir, 'generator.adam')), d: await readFloats(join(dir, 'discriminator.adam')), iterations: state.adam.g.iterations };
      if (engine === 'tfjs') {
        await adamRestore(tf, gOpt, generator.model, resumed.g, state.adam.g);
        await adamRestore(tf, dOpt, discriminator.model, resumed.d, state.adam.d);
      }
      start = state.step;
      elapsedBefore = state.elapsed;
    }
  }
  let ortTrainer: OnnxGanTrainer | undefined;
  if (engine === 'onnx') {
    ortTrainer = await OnnxGanTrainer.create(generator.model, discriminator.model, { weights, threads: options.threads });
    if (resumed) ortTrainer.restore({ generator: resumed.g, discriminator: resumed.d }, resumed.iterations);
  }
  const t0 = performance.now();
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;
  const budgetMs = options.budgetSeconds === undefined ? Infinity : options.budgetSeconds * 1000;
  const metadataNow = (done: number): HushModelMetadata =>
    JSON.parse(
      JSON.stringify({
        ...generator.metadata,
        noise: { model: options.noise.model as string, level: (options.noise as { sigma?: number }).sigma, params: { ...options.noise } },
        training: { method: 'gan', data: options.dataDescription, steps: done, batchSize: batch, patchSize: patch, lr, seed, preset, weights },
      }),
    ) as HushModelMetadata;

  const saveCheckpoint = async (done: number) => {
    const tmp = `${ckDir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    generator.metadata = metadataNow(done);
    if (ortTrainer) await ortTrainer.syncToModels();
    await saveModel(generator, join(tmp, 'generator'));
    await saveModel(discriminator, join(tmp, 'discriminator'));
    let g: { flat: Float32Array; state: AdamState };
    let d: { flat: Float32Array; state: AdamState };
    if (ortTrainer) {
      const m = ortTrainer.moments();
      const t = ortTrainer.iterations;
      // tfjs's convention: after t updates accBeta holds beta^(t+1) (what the tfjs engine would resume with)
      const state = { iterations: t, accBeta1: ortTrainer.beta1 ** (t + 1), accBeta2: ortTrainer.beta2 ** (t + 1) };
      g = { flat: m.generator, state };
      d = { flat: m.discriminator, state };
    } else {
      g = await adamSave(gOpt);
      d = await adamSave(dOpt);
    }
    await writeFileAtomic(join(tmp, 'generator.adam'), new Uint8Array(g.flat.buffer), { ifExists: 'overwrite' });
    await writeFileAtomic(join(tmp, 'discriminator.adam'), new Uint8Array(d.flat.buffer), { ifExists: 'overwrite' });
    const state: GanState = { step: done, elapsed: elapsed(), signature, adam: { g: g.state, d: d.state } };
    await writeFileAtomic(join(tmp, 'state.json'), Buffer.from(JSON.stringify(state, null, 1)), { ifExists: 'overwrite' });
    await swapInDir(tmp, ckDir);
    await saveModel(generator, join(options.out, 'best'), { ifExists: 'overwrite' });
    await saveOnnx(generator, join(options.out, 'best', 'model.onnx'), { ifExists: 'overwrite' });
  };

  const G = generator.model;
  const D = discriminator.model;
  let lastG = NaN;
  let reportT = performance.now();
  let reportStep = start;
  let gSum = 0;
  let dSum = 0;
  let count = 0;
  const shape = [batch, patch, patch, c] as [number, number, number, number];
  try {
    for (let step = start; step < steps; step++) {
      const rng = createRng(deriveSeed(seed, step));
      const [cleanData] = samplePatches(options.sets, { size: patch, count: batch, augmentation: options.augmentation }, rng);
      const noisyData = addNoise(createImage(patch, batch * patch, c, cleanData), { ...(options.noise as AddNoiseOptions), seed: rng.nextUint32() } as AddNoiseOptions).data;
      const clean = ortTrainer ? undefined : tf.tensor4d(cleanData, shape);
      const noisy = ortTrainer ? undefined : tf.tensor4d(noisyData, shape);
      try {
        let d: number;
        if (ortTrainer) {
          const r = await ortTrainer.step(noisyData, cleanData, shape, lr);
          lastG = r.generator;
          d = r.discriminator;
        } else {
          const r = tfjsGanStep(tf, G, D, gOpt, dOpt, noisy!, clean!, weights, perceptual);
          lastG = r.generator;
          d = r.discriminator;
        }
        if (!Number.isFinite(lastG) || !Number.isFinite(d)) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the loss became ${lastG} (generator) / ${d} (discriminator) at step ${step + 1}; lower the learning rate`);
        gSum += lastG;
        dSum += d;
        count++;
      } finally {
        if (clean && noisy) tf.dispose([clean, noisy]);
      }
      const done = step + 1;
      const outOfBudget = performance.now() - t0 >= budgetMs;
      const stopNow = options.stopAfter !== undefined && done >= options.stopAfter;
      let event: FitProgress['event'] = 'step';
      if (done % checkpointEvery === 0 || done === steps || outOfBudget || stopNow) {
        await saveCheckpoint(done);
        event = 'checkpoint';
      }
      const now = performance.now();
      const due = options.reportEvery === undefined ? now - reportT > 1000 : done % options.reportEvery === 0;
      if (due || event !== 'step' || done === steps) {
        const p = {
          step: done,
          steps,
          loss: gSum / Math.max(count, 1),
          discriminatorLoss: dSum / Math.max(count, 1),
          lr,
          stepsPerSecond: (done - reportStep) / Math.max((now - reportT) / 1000, 1e-9),
          elapsed: elapsed(),
          event: done === steps ? ('done' as const) : event,
        };
        await appendFile(join(options.out, 'metrics.jsonl'), JSON.stringify({ ...p, time: new Date().toISOString() }) + '\n');
        options.onProgress?.(p);
        gSum = 0;
        dSum = 0;
        count = 0;
        reportT = now;
        reportStep = done;
      }
      if (stopNow) return { steps: done, finalLoss: lastG, elapsed: elapsed(), stopped: 'stopAfter', engine };
      if (outOfBudget && done < steps) return { steps: done, finalLoss: lastG, elapsed: elapsed(), stopped: 'budget', engine };
    }
    return { steps, finalLoss: lastG, elapsed: elapsed(), stopped: 'done', engine };
  } finally {
    gOpt.dispose();
    dOpt.dispose();
    await ortTrainer?.dispose();
  }
}
