/**
 * Single-image self-supervised denoising: fit a small network on the noisy image
 * itself (Noise2Self, Noise2Same or Noise2SamePro: no clean data, no training set),
 * within a time budget, then denoise the image with it. The learning-rate schedule
 * (cosine) and Noise2SamePro's last phase follow the clock, so they span the budget
 * whatever the machine's speed; the budget is also the stop.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HushError, invalidParameter } from '../core/errors.js';
import { checkImage, colourChannels, extractChannel, type Image } from '../core/image.js';
import { checkNumber, checkObject, checkOneOf } from '../core/validate.js';
import { createModel, type HushModel } from '../models/hush-model.js';
import { estimateSigma } from '../noise/estimate-sigma.js';
import { jInvariantDenoise } from '../runtime/j-invariant.js';
import { recorruptedDenoise } from '../runtime/recorrupted.js';
import { inferTiled, type TileRunner } from '../runtime/tiled.js';
import { loadOnnxModel } from '../runtime/onnx.js';
import { exportOnnx } from '../onnx/export.js';
import { tfjsTileRunner } from '../runtime/tfjs-tile-runner.js';
import { fit } from './fit.js';
import type { TrainImage } from './data.js';

export const SELF_SUPERVISED_METHODS = ['n2fast', 'r2r', 'n2self', 'n2same', 'n2same-pro'] as const;
export type SelfSupervisedMethod = (typeof SELF_SUPERVISED_METHODS)[number];

export const SELF_SUPERVISED_NETWORKS = ['dncnn', 'unet-baby'] as const;
export type SelfSupervisedNetwork = (typeof SELF_SUPERVISED_NETWORKS)[number];

export interface DenoiseSelfSupervisedOptions {
  /** training method (default 'n2self') */
  method?: SelfSupervisedMethod;
  /** seconds for fitting and denoising (default 120) */
  budgetSeconds?: number;
  seed?: number;
  threads?: number;
  /**
   * the network fitted: 'dncnn' (default: depth 8, width 32, trained on onnxruntime) or
   * 'unet-baby' (Noise2Self's U-net). With J-invariant inference the
   * DnCNN did better on Set12 01 and 02 at 120 s (24.0 / 27.0 dB against 22.4 / 26.1);
   * see docs/training.md
   */
  network?: SelfSupervisedNetwork;
  /** patch size (default 24 for r2r and n2fast on dncnn, else 64 for dncnn, 32 for unet-baby) */
  patchSize?: number;
  /** patches per step (default 4 for r2r and n2fast on dncnn, else 16 for dncnn, 8 for unet-baby) */
  batchSize?: number;
  /** Adam's learning rate (default 3e-3), decayed by a cosine schedule over the budget */
  lr?: number;
  /** r2r: the recorruption strength alpha (default 0.5) */
  alpha?: number;
  /** r2r: recorrupted passes averaged at inference (default 16) */
  passes?: number;
  /** DnCNN depth and width (default 8 and 32) */
  depth?: number;
  width?: number;
  /** fraction 0..1 of the budget used, for progress bars */
  onProgress?: (fraction: number, detail?: string) => void;
}

export interface DenoiseSelfSupervisedResult {
  image: Image;
  method: SelfSupervisedMethod;
  steps: number;
  seconds: number;
  network: SelfSupervisedNetwork;
  /** the noise sigma estimated from the image (used for n2same's lambda and r2r) */
  sigma: number;
  /** the settings the fit ran with, defaults filled */
  settings: { batchSize: number; patchSize: number; lr: number; depth: number; width: number; alpha?: number; passes?: number };
}

/**
 * Noise2Fast's checkerboard squeeze (Lequyer et al. 2022): the pixels of one colour of
 * the checkerboard, packed along x (width halved) or along y (height halved). The two
 * colours of one direction see the same scene through independent noise, a pixel
 * apart: a noisy/noisy pair.
 */
export function checkerboardSqueeze(t: TrainImage, along: 'x' | 'y', colour: 0 | 1): TrainImage {
  const { width: w, height: h, channels: c } = t;
  const ow = along === 'x' ? w >> 1 : w;
  const oh = along === 'y' ? h >> 1 : h;
  const data = new Float32Array(ow * oh * c);
  for (let k = 0; k < c; k++) {
    const src = k * w * h;
    const dst = k * ow * oh;
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        // (sx + sy) % 2 === colour
        const sx = along === 'x' ? 2 * x + ((y + colour) & 1) : x;
        const sy = along === 'y' ? 2 * y + ((x + colour) & 1) : y;
        data[dst + y * ow + x] = t.data[src + sy * w + sx];
      }
    }
  }
  return { data, width: ow, height: oh, channels: c, file: `${t.file} (${along} squeeze ${colour})` };
}

function toTrainImage(image: Image): TrainImage {
  const c = colourChannels(image);
  const plane = image.width * image.height;
  const data = new Float32Array(plane * c);
  for (let k = 0; k < c; k++) data.set(extractChannel(image, k), k * plane);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new HushError('ERR_INVALID_PARAMETER', 'denoiseSelfSupervised: the image has NaN or infinite pixels; fill or crop them first');
  }
  return { data, width: image.width, height: image.height, channels: c, file: 'image' };
}

/** Fits a small network on `image` alone and returns the denoised image. */
export async function denoiseSelfSupervised(image: Image, options: DenoiseSelfSupervisedOptions = {}): Promise<DenoiseSelfSupervisedResult> {
  const fn = 'denoiseSelfSupervised';
  checkImage(fn, image);
  const o = checkObject(fn, 'options', options) as DenoiseSelfSupervisedOptions;
  const method = checkOneOf(fn, 'options.method', o.method ?? 'r2r', SELF_SUPERVISED_METHODS);
  const budget = checkNumber(fn, 'options.budgetSeconds', o.budgetSeconds ?? 120, { min: 5 });
  const seed = checkNumber(fn, 'options.seed', o.seed ?? 1, { integer: true, min: 0 });
  const network = checkOneOf(fn, 'options.network', o.network ?? 'dncnn', SELF_SUPERVISED_NETWORKS);
  // many small steps: on Set12 01 at 60 s, r2r gave 28.23 dB at 4x64x64 per step, 28.84 at 4x24x24 (docs/training.md)
  const small = network === 'dncnn' && (method === 'r2r' || method === 'n2fast');
  const wanted = checkNumber(fn, 'options.patchSize', o.patchSize ?? (small ? 24 : network === 'dncnn' ? 64 : 32), { integer: true, min: 8, max: 512 });
  if (image.width < 16 || image.height < 16) throw invalidParameter(fn, 'image', 'at least 16x16 pixels to learn from', `${image.width}x${image.height}`);
  const lr = checkNumber(fn, 'options.lr', o.lr ?? 3e-3, { above: 0, max: 1 });
  const alpha = checkNumber(fn, 'options.alpha', o.alpha ?? 0.5, { above: 0, max: 10 });
  const passes = checkNumber(fn, 'options.passes', o.passes ?? 16, { integer: true, min: 1, max: 1024 });
  const depth = checkNumber(fn, 'options.depth', o.depth ?? 8, { integer: true, min: 2, max: 30 });
  const width = checkNumber(fn, 'options.width', o.width ?? 32, { integer: true, min: 4, max: 256 });
  const t0 = performance.now();
  const train = toTrainImage(image);
  // one sigma for all colour channels: their mean
  const perChannel = estimateSigma(image).slice(0, train.channels);
  const sigma = perChannel.reduce((a, b) => a + b, 0) / perChannel.length;
  const fast = method === 'n2fast';
  const patch = Math.min(wanted, 8 * Math.floor(Math.min(image.width, image.height) / (fast ? 16 : 8)));
  const batchSize = checkNumber(fn, 'options.batchSize', o.batchSize ?? (small ? 4 : network === 'dncnn' ? 16 : 8), { integer: true, min: 1, max: 256 });
  const dir = await mkdtemp(join(tmpdir(), 'hush-self-'));
  const make = () =>
    network === 'dncnn'
      ? createModel('dncnn', { channels: train.channels, depth, width, seed })
      : createModel('unet', { channels: train.channels, preset: 'baby', seed });
  let model: HushModel | undefined;
  try {
    const squeezed = fast ? (['x', 'y'] as const).map((a) => [checkerboardSqueeze(train, a, 0), checkerboardSqueeze(train, a, 1)]) : [];
    const common = {
      method: fast ? ('n2n' as const) : method,
      dataKind: fast ? ('noisy-noisy' as const) : ('noisy' as const),
      // Noise2Fast: each squeeze colour is the other's target, both ways
      sets: fast ? squeezed.flatMap(([a, b]) => [[a, b], [b, a]]) : [[train]],
      sigma,
      batchSize,
      patchSize: patch,
      lr,
      methodOptions: method === 'r2r' ? { alpha } : undefined,
      seed,
      threads: o.threads,
      validateEvery: 1e9,
      checkpointEvery: 1e9,
    };
    // one run whose learning-rate schedule follows the clock; about 10 % of the budget is left for inference
    const left = budget - (performance.now() - t0) / 1000;
    model = await make();
    const r = await fit(model, {
      ...common,
      steps: 1_000_000,
      scheduleBy: 'time',
      out: join(dir, 'run'),
      budgetSeconds: Math.max(1, 0.9 * left),
      onProgress: (p) => o.onProgress?.(Math.min(0.95, (performance.now() - t0) / 1000 / budget), `step ${p.step} loss ${p.loss.toExponential(3)}`),
    });
    // inference on onnxruntime (the exported network), tfjs where it cannot be exported
    let runner: TileRunner = tfjsTileRunner(model);
    let onnx: Awaited<ReturnType<typeof loadOnnxModel>> | undefined;
    try {
      onnx = await loadOnnxModel(exportOnnx(model), { threads: o.threads });
      runner = onnx;
    } catch {
      onnx = undefined;
    }
    // Noise2Self networks denoise J-invariantly (16 masked passes): in one pass they stay near the identity;
    // r2r over recorruptions in the 8 symmetries, the others in the 8 symmetries (a self-ensemble)
    const once = (im: Image) => inferTiled(im, runner, { tileSize: 512, tileOverlap: 32 });
    const out = await (method === 'n2self' ? jInvariantDenoise(image, once, { stride: 4 }) : method === 'r2r' ? recorruptedDenoise(image, once, { alpha, sigma, passes, seed }) : recorruptedDenoise(image, once, { sigma: 0, passes: 8 })).finally(() => onnx?.dispose());
    o.onProgress?.(1);
    const settings = { batchSize, patchSize: patch, lr, depth, width, ...(method === 'r2r' ? { alpha, passes } : {}) };
    return { image: out, method, network, steps: r.steps, seconds: (performance.now() - t0) / 1000, sigma, settings };
  } finally {
    model?.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
