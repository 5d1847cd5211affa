/**
 * fit: the training loop every method shares (SPEC section 5, "Common"): seeded
 * patches and augmentation, noise drawn on the fly, one batch per step from the
 * method, data-parallel gradient steps with Adam and a learning-rate schedule,
 * validation PSNR, `metrics.jsonl`, atomic checkpoints and an exact resume, the best
 * model kept with its metadata.
 *
 * Exact resume: the batch of step k depends only on (seed, k) (its generator is
 * seeded with deriveSeed(seed, k)), and a checkpoint holds the weights, the Adam
 * moments, its iteration count and bias-correction accumulators bit for bit. So a
 * run stopped after step k and resumed ends with the same weights as one that never
 * stopped.
 */
import { appendFile, cp, mkdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Optimizer, Tensor } from '@tensorflow/tfjs';
import { HushError, invalidParameter } from '../core/errors.js';
import { createImage, type Image } from '../core/image.js';
import { resolveParams } from '../core/params.js';
import { createRng, deriveSeed, type Rng } from '../core/rng.js';
import { checkNumber, checkOneOf } from '../core/validate.js';
import { swapInDir, writeFileAtomic } from '../io/atomic-write.js';
import { psnr } from '../metrics/psnr.js';
import { DataParallelTrainer } from '../models/data-parallel.js';
import type { HushModel, HushModelMetadata } from '../models/hush-model.js';
import { loadModel, saveModel } from '../models/io.js';
import { runModel } from '../models/run-model.js';
import { exportOnnx, saveOnnx } from '../onnx/export.js';
import { addNoise, type AddNoiseOptions } from '../noise/index.js';
import { jInvariantDenoise, jInvariantFromMetadata } from '../runtime/j-invariant.js';
import { recorruptedDenoise, recorruptionFromMetadata } from '../runtime/recorrupted.js';
import { loadOnnxModel } from '../runtime/onnx.js';
import { inferTiled } from '../runtime/tiled.js';
import { loadTfjs } from '../runtime/tfjs.js';
import type { ShardLossSpec } from '../models/shard-loss.js';
import { OnnxTrainer, onnxTrainingUnsupported } from './onnx-trainer.js';
import { samplePatches, type Augmentation, type TrainImage } from './data.js';
import { METHOD_REGISTRY, TRAINING_METHODS, type DataKind, type TrainingMethod } from './methods/index.js';

/**
 * Where training steps run: 'onnx' (onnxruntime-node, OnnxTrainer: plain conv/BN/ReLU
 * chains such as DnCNN, with a pixel or Noise2Same loss; several times faster), 'tfjs' (the wasm
 * backend on data-parallel worker threads: every network and loss), or 'auto'
 * (default): onnx where it can, tfjs otherwise.
 */
export const TRAINING_ENGINES = ['auto', 'onnx', 'tfjs'] as const;
export type TrainingEngine = (typeof TRAINING_ENGINES)[number];

export const LR_SCHEDULES = ['constant', 'cosine', 'step'] as const;
export type LrSchedule = (typeof LR_SCHEDULES)[number];

/** Noise drawn on the fly: a noise model's options without the seed (fit seeds it per step). */
export type OnTheFlyNoise = AddNoiseOptions extends infer T ? (T extends unknown ? Omit<T, 'seed'> : never) : never;

export interface ValidationItem {
  noisy: TrainImage;
  clean: TrainImage;
}

export interface FitProgress {
  step: number;
  steps: number;
  /** mean training loss since the previous report */
  loss: number;
  lr: number;
  /** latest validation PSNR (dB), if any */
  valPsnr?: number;
  bestPsnr?: number;
  stepsPerSecond: number;
  /** seconds of training so far, resumed runs included */
  elapsed: number;
  event: 'step' | 'validation' | 'checkpoint' | 'done';
}

export interface FitOptions {
  method: TrainingMethod;
  /** the method's own options (METHOD_REGISTRY[method].params) */
  methodOptions?: Record<string, unknown>;
  /** what the data gives; `sets` holds one list of aligned images per training item */
  dataKind: DataKind;
  /** [clean] for 'clean', [noisy, clean] for 'noisy-clean', [noisy, noisy2] for 'noisy-noisy', [noisy] for 'noisy' */
  sets: readonly (readonly TrainImage[])[];
  /** noise added on the fly to clean data (required for dataKind 'clean') */
  noise?: OnTheFlyNoise;
  /** the noise sigma on the data's scale, for methods that use it (n2same's lambda) */
  sigma?: number;
  steps: number;
  batchSize?: number;
  patchSize?: number;
  augmentation?: Augmentation;
  lr?: number;
  schedule?: LrSchedule;
  seed?: number;
  threads?: number;
  /** where the steps run (default 'auto') */
  engine?: TrainingEngine;
  validation?: readonly ValidationItem[];
  validateEvery?: number;
  checkpointEvery?: number;
  /** run folder: checkpoint/, best/ (tfjs model.json + weights.bin, and model.onnx), metrics.jsonl */
  out: string;
  /** continue from out/checkpoint if there is one */
  resume?: boolean;
  /**
   * Start from another run's folder when `out` has no checkpoint of its own: its
   * checkpoint, best model and metrics are copied into `out` and training goes on from
   * there. The run must have the same settings, or be of the method this one continues
   * up to a step it has not passed (n2same for n2same-pro before the pro phase), so the
   * result equals an uninterrupted run. With `resume`, a checkpoint `out` already has wins.
   */
  resumeFrom?: string;
  /** stop (after a checkpoint) once this many seconds of this call have passed */
  budgetSeconds?: number;
  /**
   * 'steps' (default): the learning-rate schedule and the methods' phase follow step/steps.
   * 'time': they follow the fraction of budgetSeconds used (for fixed-time fits; steps is then only a cap).
   */
  scheduleBy?: 'steps' | 'time';
  /** stop after this step (inclusive count), checkpointing first: for tests of resume */
  stopAfter?: number;
  /** report (onProgress, metrics.jsonl) every this many steps (default: about once a second) */
  reportEvery?: number;
  /** describes the data in the model's metadata */
  dataDescription?: string;
  onProgress?: (p: FitProgress) => void;
}

export interface FitResult {
  model: HushModel;
  steps: number;
  bestPsnr?: number;
  finalLoss: number;
  elapsed: number;
  stopped: 'done' | 'budget' | 'stopAfter';
  /** the engine the steps ran on */
  engine: 'onnx' | 'tfjs';
}

interface CheckpointState {
  step: number;
  elapsed: number;
  bestPsnr?: number;
  lastLoss: number;
  adam: { iterations: number; accBeta1: number; accBeta2: number };
  /** an object; a JSON string with fewer keys in checkpoints of earlier versions */
  signature: Record<string, unknown> | string;
}

/** The learning rate at `step` (0-based) of `steps`. */
export function learningRate(schedule: LrSchedule, base: number, step: number, steps: number): number {
  if (schedule === 'constant') return base;
  // step: divided by 10 at half and again at three quarters of the run
  if (schedule === 'step') return base * (step >= 0.5 * steps ? 0.1 : 1) * (step >= 0.75 * steps ? 0.1 : 1);
  // cosine from base to base/100
  const t = Math.min(1, step / Math.max(steps, 1));
  return base * (0.01 + 0.99 * 0.5 * (1 + Math.cos(Math.PI * t)));
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Adam's private state that setWeights does not restore bit-exactly (it recomputes beta^t with pow). */
interface AdamInternals {
  learningRate: number;
  accBeta1: { assign(t: Tensor): void; dataSync(): Float32Array };
  accBeta2: { assign(t: Tensor): void; dataSync(): Float32Array };
}

/** Everything that shapes the training path: a checkpoint resumes only under the same values. */
function signatureOf(o: FitOptions, model: HushModel, batch: number, patch: number, lr: number, schedule: string, seed: number, scheduleBy: string): Record<string, unknown> {
  // a JSON round trip drops undefined values, so absent and undefined compare equal
  return JSON.parse(JSON.stringify({
    method: o.method,
    methodOptions: o.methodOptions ?? {},
    model: { architecture: model.metadata.architecture, options: model.metadata.options },
    dataKind: o.dataKind,
    items: o.sets.length,
    noise: o.noise ?? null,
    sigma: o.sigma ?? null,
    augmentation: o.augmentation ?? null,
    steps: o.steps,
    batch,
    patch,
    lr,
    schedule,
    scheduleBy,
    seed,
  })) as Record<string, unknown>;
}

/** The settings whose values differ between two signatures (older checkpoints stored a JSON string with fewer keys). */
function signatureDifference(saved: unknown, now: Record<string, unknown>): string[] {
  let old: Record<string, unknown>;
  try {
    old = (typeof saved === 'string' ? JSON.parse(saved) : saved) as Record<string, unknown>;
  } catch {
    return Object.keys(now);
  }
  const keys = typeof saved === 'string' ? Object.keys(now).filter((k) => k in (old ?? {})) : Object.keys(now);
  return keys.filter((k) => JSON.stringify(old?.[k] ?? null) !== JSON.stringify(now[k] ?? null));
}

/** Trains `model` in place as `options` say; returns it with its metadata filled. */
export async function fit(model: HushModel, options: FitOptions): Promise<FitResult> {
  const fn = 'fit';
  const method = METHOD_REGISTRY[checkOneOf(fn, 'options.method', options.method, TRAINING_METHODS)];
  const methodOptions = resolveParams(fn, method.params, options.methodOptions ?? {});
  if (!method.accepts.includes(options.dataKind)) {
    throw new HushError('ERR_INVALID_PARAMETER', `${fn}: ${method.id} cannot train from ${options.dataKind} data; it takes ${method.accepts.join(', ')}`);
  }
  if (options.dataKind === 'clean' && !options.noise) throw invalidParameter(fn, 'options.noise', 'a noise model to draw on the fly (the data is clean)', undefined);
  if (options.sets.length === 0) throw invalidParameter(fn, 'options.sets', 'at least one training image', 0);
  const steps = checkNumber(fn, 'options.steps', options.steps, { integer: true, min: 1 });
  const batch = checkNumber(fn, 'options.batchSize', options.batchSize ?? 16, { integer: true, min: 1, max: 4096 });
  const patch = checkNumber(fn, 'options.patchSize', options.patchSize ?? 64, { integer: true, min: 4, max: 4096 });
  if (patch % model.metadata.multiple !== 0) {
    throw invalidParameter(fn, 'options.patchSize', `a multiple of ${model.metadata.multiple} (the network down-samples by that)`, patch);
  }
  const baseLr = checkNumber(fn, 'options.lr', options.lr ?? 1e-3, { above: 0 });
  const schedule = checkOneOf(fn, 'options.schedule', options.schedule ?? 'cosine', LR_SCHEDULES);
  const seed = checkNumber(fn, 'options.seed', options.seed ?? 1, { integer: true, min: 0 });
  const validateEvery = checkNumber(fn, 'options.validateEvery', options.validateEvery ?? 250, { integer: true, min: 1 });
  const checkpointEvery = checkNumber(fn, 'options.checkpointEvery', options.checkpointEvery ?? 100, { integer: true, min: 1 });
  const channels = model.metadata.channels;
  if (model.metadata.normalization.kind !== 'none') {
    // inference would map inputs the way the metadata says, but fit feeds the data as it is
    throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the model maps its inputs with normalization '${model.metadata.normalization.kind}', but fit trains on the data's own scale; give a model with normalization 'none' and scale the data instead`);
  }
  for (const set of options.sets) {
    for (const img of set) {
      if (img.channels !== channels) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: '${img.file}' has ${img.channels} channel(s) but the model takes ${channels}`);
      if (img.width < patch || img.height < patch) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: '${img.file}' is ${img.width}x${img.height}, smaller than the ${patch}x${patch} patches`);
    }
  }
  const { tf } = await loadTfjs();
  await mkdir(options.out, { recursive: true });
  const ckDir = join(options.out, 'checkpoint');
  const bestDir = join(options.out, 'best');
  const metricsPath = join(options.out, 'metrics.jsonl');
  const scheduleBy = checkOneOf(fn, 'options.scheduleBy', options.scheduleBy ?? 'steps', ['steps', 'time']);
  const signature = signatureOf(options, model, batch, patch, baseLr, schedule, seed, scheduleBy);

  let net = model;
  const optimizer = tf.train.adam(baseLr) as Optimizer;
  const adam = optimizer as unknown as AdamInternals;
  let start = 0;
  let elapsedBefore = 0;
  let bestPsnr: number | undefined;
  let lastLoss = NaN;
  const engineChoice = checkOneOf(fn, 'options.engine', options.engine ?? 'auto', TRAINING_ENGINES);
  let resumed: { moments: Float32Array; iterations: number } | undefined;

  const checkpointIn = async (run: string) => ((await exists(join(run, 'checkpoint', 'state.json'))) ? join(run, 'checkpoint') : (await exists(join(run, 'checkpoint.old', 'state.json'))) ? join(run, 'checkpoint.old') : undefined);
  /**
   * Copies another run's checkpoint (made under this run's settings, or under those of
   * the method this one continues, up to the step where they part), its best model and
   * its metrics up to the checkpoint's step into out; returns out's checkpoint folder.
   * The copy is given this run's signature, so a plain resume continues it after a kill.
   */
  const startFrom = async (run: string): Promise<string> => {
    const from = await checkpointIn(run);
    if (from === undefined) throw new HushError('ERR_IO', `${fn}: '${run}' holds no checkpoint (checkpoint/state.json) to start from`);
    const state = JSON.parse(await readFile(join(from, 'state.json'), 'utf8')) as CheckpointState;
    const differ = signatureDifference(state.signature, signature);
    if (differ.length > 0) {
      const saved = (typeof state.signature === 'string' ? JSON.parse(state.signature) : state.signature) as Record<string, unknown>;
      const cont = method.continues?.(options.methodOptions ?? {}, methodOptions, steps);
      const onlyMethod = differ.every((k) => k === 'method' || k === 'methodOptions');
      let sameOptions = false;
      if (cont !== undefined && saved.method === cont.method) {
        // compared with defaults filled in, so '--box 14' and no --box are the same
        const params = METHOD_REGISTRY[cont.method].params;
        try {
          sameOptions = JSON.stringify(resolveParams(fn, params, (saved.methodOptions ?? {}) as Record<string, unknown>)) === JSON.stringify(resolveParams(fn, params, cont.methodOptions));
        } catch {
          sameOptions = false;
        }
      }
      if (!onlyMethod || !sameOptions || scheduleBy !== 'steps') {
        throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the checkpoint in '${from}' was made with other settings (${differ.join(', ')} differ)${cont ? `; ${method.id} can start from an ${cont.method} run with the same settings and method options` : ''}`);
      }
      if (state.step > cont!.partsAt) {
        throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the ${cont!.method} checkpoint in '${from}' is at step ${state.step}, past step ${cont!.partsAt} where ${method.id} stops training as ${cont!.method}; use a checkpoint from step ${cont!.partsAt} or earlier (hush train --stop-after ${cont!.partsAt})`);
      }
    }
    // each folder is copied aside and swapped in whole
    const copyIn = async (src: string, dst: string, edit?: (dir: string) => Promise<void>) => {
      const tmp = `${dst}.tmp-${process.pid}`;
      await rm(tmp, { recursive: true, force: true });
      await cp(src, tmp, { recursive: true });
      await edit?.(tmp);
      await swapInDir(tmp, dst);
    };
    // the best model, unless it is newer than the checkpoint (the source went on after it)
    const bestFrom = join(run, 'best');
    if (await exists(join(bestFrom, 'model.json'))) {
      const bestSteps = (JSON.parse(await readFile(join(bestFrom, 'model.json'), 'utf8')) as { userDefinedMetadata?: { hush?: HushModelMetadata } }).userDefinedMetadata?.hush?.training?.steps;
      if (bestSteps === undefined || bestSteps <= state.step) await copyIn(bestFrom, bestDir);
    }
    if (await exists(join(run, 'metrics.jsonl'))) {
      const rows = (await readFile(join(run, 'metrics.jsonl'), 'utf8')).split('\n').filter((l) => {
        try {
          return (JSON.parse(l) as { step: number }).step <= state.step;
        } catch {
          return false;
        }
      });
      await writeFileAtomic(metricsPath, new TextEncoder().encode(rows.map((l) => `${l}\n`).join('')), { ifExists: 'overwrite' });
    }
    await copyIn(from, ckDir, async (dir) => {
      const own: CheckpointState & { startedFrom?: unknown } = { ...state, signature, startedFrom: { run, step: state.step, signature: state.signature } };
      await writeFileAtomic(join(dir, 'state.json'), new TextEncoder().encode(JSON.stringify(own)), { ifExists: 'overwrite' });
    });
    return ckDir;
  };
  const own = options.resume || options.resumeFrom !== undefined ? await checkpointIn(options.out) : undefined;
  if (options.resumeFrom !== undefined && own !== undefined && !options.resume) {
    throw new HushError('ERR_INVALID_PARAMETER', `${fn}: '${options.out}' already holds a checkpoint; add resume to continue it, or use a new out folder (nothing was overwritten)`);
  }
  const dir = options.resume && own !== undefined ? own : options.resumeFrom !== undefined ? await startFrom(options.resumeFrom) : undefined;
  if (dir !== undefined) {
    const state = JSON.parse(await readFile(join(dir, 'state.json'), 'utf8')) as CheckpointState;
    const differ = signatureDifference(state.signature, signature);
    if (differ.length > 0) {
      throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the checkpoint in '${dir}' was made with other settings (${differ.join(', ')} differ); resume with the same settings, or use a new --out`);
    }
    const loaded = await loadModel(join(dir, 'model'));
    // copy the weights into the caller's model so it stays the one trained
    model.model.setWeights(loaded.model.getWeights());
    loaded.dispose();
    const buf = await readFile(join(dir, 'optimizer.bin'));
    const vars = model.model.trainableWeights.map((w) => ({ name: w.name, shape: w.shape as number[], size: (w.shape as number[]).reduce((a, b) => a * b, 1) }));
    const expected = 2 * vars.reduce((n, v) => n + v.size, 0);
    if (buf.byteLength !== expected * 4) {
      throw new HushError('ERR_DECODE', `${fn}: '${join(dir, 'optimizer.bin')}' holds ${buf.byteLength} bytes, not the ${expected * 4} of this model's Adam moments; the checkpoint is damaged or from another network`);
    }
    // a copy: a small Buffer can sit in Node's shared pool at an offset
    const moments = new Float32Array(buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.byteLength));
    // Adam creates its moment variables on the first applyGradients; build them from the file instead
    const named: { name: string; tensor: Tensor }[] = [{ name: 'iter', tensor: tf.scalar(state.adam.iterations, 'int32') }];
    let at = 0;
    for (const kind of ['m', 'v']) {
      for (const v of vars) {
        named.push({ name: `${v.name}/${kind}`, tensor: tf.tensor(moments.subarray(at, at + v.size), v.shape) });
        at += v.size;
      }
    }
    await optimizer.setWeights(named);
    tf.dispose(named.map((n) => n.tensor));
    const b1 = tf.scalar(state.adam.accBeta1);
    const b2 = tf.scalar(state.adam.accBeta2);
    adam.accBeta1.assign(b1);
    adam.accBeta2.assign(b2);
    tf.dispose([b1, b2]);
    resumed = { moments, iterations: state.adam.iterations };
    start = state.step;
    elapsedBefore = state.elapsed;
    bestPsnr = state.bestPsnr;
    lastLoss = state.lastLoss;
  }
  net = model;

  // the engine is picked at the first batch, when the method's loss is known
  let trainer: DataParallelTrainer | undefined;
  let ortTrainer: OnnxTrainer | undefined;
  let engine: FitResult['engine'] | undefined;
  const startEngine = async (b: { inputs: Float32Array[]; loss: ShardLossSpec }) => {
    const why = b.inputs.length !== (b.loss.kind === 'noise2same' ? 2 : 1) ? `${method.id} gives ${b.inputs.length} inputs` : onnxTrainingUnsupported(net.model);
    if (engineChoice === 'onnx' && why !== undefined) throw new HushError('ERR_UNSUPPORTED', `${fn}: the onnx engine cannot train this (${why}); use engine 'tfjs' or 'auto'`);
    if (engineChoice !== 'tfjs' && why === undefined) {
      const kind = b.loss.kind === 'noise2same' ? b.loss.variant : b.loss.kind;
      ortTrainer = await OnnxTrainer.create(net.model, { threads: options.threads, loss: kind });
      if (resumed) ortTrainer.restore(resumed.moments, resumed.iterations);
      engine = 'onnx';
    } else {
      trainer = await DataParallelTrainer.create(net.model, optimizer, { threads: options.threads });
      engine = 'tfjs';
    }
  };
  /** the onnx engine keeps the weights while it runs: copy them into the tfjs model before it is read */
  const syncModel = async () => {
    if (ortTrainer) await ortTrainer.syncToModel();
  };
  const t0 = performance.now();
  const budgetMs = options.budgetSeconds === undefined ? Infinity : options.budgetSeconds * 1000;
  const byTime = scheduleBy === 'time';
  if (byTime && !Number.isFinite(budgetMs)) throw invalidParameter(fn, 'options.budgetSeconds', "a time budget (scheduleBy 'time' follows it)", undefined);
  let lossSum = 0;
  let lossCount = 0;
  let reportT = performance.now();
  let reportStep = start;
  let lastVal: number | undefined;
  let stopped: FitResult['stopped'] = 'done';
  const elapsed = () => elapsedBefore + (performance.now() - t0) / 1000;

  // a JSON round trip drops undefined values, which tfjs refuses in user-defined metadata
  const metadataNow = (stepsDone: number): HushModelMetadata => JSON.parse(JSON.stringify({
    ...net.metadata,
    noise: options.noise ? { model: options.noise.model as string, level: (options.noise as { sigma?: number }).sigma, params: { ...options.noise } } : net.metadata.noise,
    training: { method: method.id, data: options.dataDescription, steps: stepsDone, batchSize: batch, patchSize: patch, lr: baseLr, schedule, seed, methodOptions, ...(options.sigma === undefined ? {} : { sigma: options.sigma }) },
    ...(bestPsnr === undefined ? {} : { validation: { psnr: bestPsnr } }),
  })) as HushModelMetadata;

  const saveCheckpoint = async (stepsDone: number) => {
    const tmp = `${ckDir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    net.metadata = metadataNow(stepsDone);
    await syncModel();
    await saveModel(net, join(tmp, 'model'));
    let flat: Float32Array;
    let adamState: CheckpointState['adam'];
    if (ortTrainer) {
      // the same file layout as tfjs's optimizer: m of every trainable weight, then v
      flat = ortTrainer.moments();
      const t = ortTrainer.iterations;
      // tfjs's convention: after t updates accBeta holds beta^(t+1) (what the tfjs engine would resume with)
      adamState = { iterations: t, accBeta1: 0.9 ** (t + 1), accBeta2: 0.999 ** (t + 1) };
    } else {
      const w = await optimizer.getWeights();
      const total = w.slice(1).reduce((n, x) => n + x.tensor.size, 0);
      flat = new Float32Array(total);
      let at = 0;
      for (const x of w.slice(1)) {
        flat.set(x.tensor.dataSync() as Float32Array, at);
        at += x.tensor.size;
      }
      adamState = { iterations: (w[0].tensor.dataSync() as Int32Array)[0], accBeta1: adam.accBeta1.dataSync()[0], accBeta2: adam.accBeta2.dataSync()[0] };
      // getWeights makes a new 'iter' scalar each call; the moments are the optimizer's own
      w[0].tensor.dispose();
    }
    const state: CheckpointState = { step: stepsDone, elapsed: elapsed(), bestPsnr, lastLoss, adam: adamState, signature };
    await writeFileAtomic(join(tmp, 'optimizer.bin'), new Uint8Array(flat.buffer), { ifExists: 'overwrite' });
    await writeFileAtomic(join(tmp, 'state.json'), Buffer.from(JSON.stringify(state, null, 1)), { ifExists: 'overwrite' });
    // swap: checkpoint -> checkpoint.old, tmp -> checkpoint, drop old (a kill at any point leaves one whole checkpoint)
    await swapInDir(tmp, ckDir);
  };

  /** the best model so far, in tfjs format and as ONNX beside it */
  const saveBest = async () => {
    await syncModel();
    // written whole beside it, then swapped in, so model.json, the weights and model.onnx always match
    const tmp = `${bestDir}.tmp`;
    await rm(tmp, { recursive: true, force: true });
    await saveModel(net, tmp);
    await saveOnnx(net, join(tmp, 'model.onnx'));
    await swapInDir(tmp, bestDir);
  };

  // validation denoises as the trained model will (J-invariant for Noise2Self by default)
  const ji = jInvariantFromMetadata({ training: { method: method.id, methodOptions } } as unknown as HushModelMetadata);
  // and over recorruptions for Recorrupted-to-Recorrupted
  const rc = recorruptionFromMetadata({ training: { method: method.id, methodOptions } } as unknown as HushModelMetadata);
  const validate = async (): Promise<number | undefined> => {
    if (!options.validation || options.validation.length === 0) return undefined;
    await syncModel();
    // on the onnx engine the model runs in onnxruntime (an in-memory export), several
    // times faster than the tfjs backend; J-invariant validation takes stride^2 passes
    const session = ortTrainer ? await loadOnnxModel(exportOnnx(net), { threads: options.threads }) : undefined;
    const run = (im: Image): Promise<Image> => (session ? inferTiled(im, session, { tileSize: 1024 }) : runModel(net, im));
    let sum = 0;
    try {
      for (const item of options.validation) {
        const { width, height } = item.noisy;
        const toImage = (t: TrainImage) => {
          const plane = width * height;
          const hwc = new Float32Array(plane * channels);
          for (let i = 0; i < plane; i++) for (let k = 0; k < channels; k++) hwc[i * channels + k] = t.data[k * plane + i];
          return createImage(width, height, channels, hwc);
        };
        const out =
          ji ? await jInvariantDenoise(toImage(item.noisy), run, ji)
          : rc && options.sigma !== undefined ? await recorruptedDenoise(toImage(item.noisy), run, { alpha: rc.alpha, sigma: options.sigma, passes: 8, seed })
          : await run(toImage(item.noisy));
        sum += psnr(toImage(item.clean), out, { dataRange: 1 });
      }
    } finally {
      await session?.dispose();
    }
    return sum / options.validation.length;
  };

  const drawNoise = (clean: Float32Array, rngSeed: number): Float32Array => {
    const img = createImage(patch, (clean.length / (patch * channels)) | 0, channels, clean);
    return addNoise(img, { ...(options.noise as AddNoiseOptions), seed: rngSeed } as AddNoiseOptions).data;
  };

  if (options.stopAfter !== undefined && start >= options.stopAfter && start < steps) {
    // a resumed run already at (or past) its stop: nothing to train
    optimizer.dispose();
    return { model: net, steps: start, bestPsnr, finalLoss: lastLoss, elapsed: elapsedBefore, stopped: 'stopAfter', engine: engineChoice === 'tfjs' ? 'tfjs' : 'onnx' };
  }
  try {
    for (let step = start; step < steps; step++) {
      const rng: Rng = createRng(deriveSeed(seed, step));
      const drawn = samplePatches(options.sets, { size: patch, count: batch, augmentation: options.augmentation }, rng);
      let noisy: Float32Array;
      let clean: Float32Array | undefined;
      let noisy2: Float32Array | undefined;
      if (options.dataKind === 'clean') {
        clean = drawn[0];
        noisy = drawNoise(clean, rng.nextUint32());
        noisy2 = method.id === 'n2n' ? drawNoise(clean, rng.nextUint32()) : undefined;
      } else if (options.dataKind === 'noisy-clean') {
        [noisy, clean] = drawn;
      } else if (options.dataKind === 'noisy-noisy') {
        [noisy, noisy2] = drawn;
      } else {
        noisy = drawn[0];
      }
      // where the run is, for the schedule and the method's phase: by steps, or by the budget's time
      // (time counts the runs before a resume too, so a resumed time schedule goes on where it was)
      const phase = byTime ? Math.min(steps - 1, Math.floor(((elapsed() * 1000) / budgetMs) * steps)) : step;
      const b = method.batch({ noisy, clean, noisy2, shape: { n: batch, h: patch, w: patch, c: channels }, rng, step: phase, steps, sigma: options.sigma }, methodOptions);
      adam.learningRate = learningRate(schedule, baseLr, phase, steps);
      const shape = [batch, patch, patch, channels];
      if (!engine) await startEngine(b);
      const loss = ortTrainer
        ? await ortTrainer.step({ input: b.inputs[0], input2: b.inputs[1], loss: b.loss.kind === 'noise2same' ? b.loss.variant : b.loss.kind, lambda: b.loss.kind === 'noise2same' ? b.loss.lambda : undefined, target: b.target, mask: b.mask, shape }, adam.learningRate)
        : await trainer!.step({ inputs: b.inputs, inputShapes: b.inputs.map(() => shape), target: b.target, targetShape: shape, mask: b.mask }, b.loss);
      if (!Number.isFinite(loss)) {
        throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the loss became ${loss} at step ${step + 1}; lower --lr (now ${adam.learningRate.toExponential(2)}) or check the data for extreme values`);
      }
      lastLoss = loss;
      lossSum += loss;
      lossCount++;
      const done = step + 1;
      let event: FitProgress['event'] = 'step';
      if (done % validateEvery === 0 || done === steps) {
        lastVal = await validate();
        if (lastVal !== undefined && (bestPsnr === undefined || lastVal > bestPsnr)) {
          bestPsnr = lastVal;
          net.metadata = metadataNow(done);
          await saveBest();
        }
        event = 'validation';
      }
      const outOfBudget = performance.now() - t0 >= budgetMs;
      const stopNow = options.stopAfter !== undefined && done >= options.stopAfter && done < steps;
      if (done % checkpointEvery === 0 || done === steps || outOfBudget || stopNow) {
        await saveCheckpoint(done);
        if (event === 'step') event = 'checkpoint';
      }
      const now = performance.now();
      const due = options.reportEvery === undefined ? now - reportT > 1000 : done % options.reportEvery === 0;
      if (event !== 'step' || due || done === steps) {
        const p: FitProgress = {
          step: done,
          steps,
          loss: lossSum / Math.max(lossCount, 1),
          lr: adam.learningRate,
          valPsnr: lastVal,
          bestPsnr,
          stepsPerSecond: (done - reportStep) / Math.max((now - reportT) / 1000, 1e-9),
          elapsed: elapsed(),
          event: done === steps ? 'done' : event,
        };
        await appendFile(metricsPath, JSON.stringify({ ...p, time: new Date().toISOString() }) + '\n');
        options.onProgress?.(p);
        lossSum = 0;
        lossCount = 0;
        reportT = now;
        reportStep = done;
      }
      if (stopNow) {
        stopped = 'stopAfter';
        await syncModel();
        return { model: net, steps: done, bestPsnr, finalLoss: lastLoss, elapsed: elapsed(), stopped, engine: engine! };
      }
      if (outOfBudget && done < steps) {
        stopped = 'budget';
        await syncModel();
        return { model: net, steps: done, bestPsnr, finalLoss: lastLoss, elapsed: elapsed(), stopped, engine: engine! };
      }
    }
    net.metadata = metadataNow(steps);
    await syncModel();
    if (!options.validation || options.validation.length === 0) await saveBest();
    return { model: net, steps, bestPsnr, finalLoss: lastLoss, elapsed: elapsed(), stopped, engine: engine ?? (engineChoice === 'onnx' ? 'onnx' : 'tfjs') };
  } finally {
    await trainer?.dispose();
    await ortTrainer?.dispose();
    optimizer.dispose();
  }
}
