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
import { inferTiled, type TileRunner } from '../runtime/tiled.js';
import { loadOnnxModel } from '../runtime/onnx.js';
import { exportOnnx } from '../onnx/export.js';
import { tfjsTileRunner } from '../runtime/tfjs-tile-runner.js';
import { fit } from './fit.js';
import type { TrainImage } from './data.js';

export const SELF_SUPERVISED_METHODS = ['n2self', 'n2same', 'n2same-pro'] as const;
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
   * 'unet-baby' (Noise2Self's U-net, trained on tfjs). With J-invariant inference the
   * DnCNN did better on Set12 01 and 02 at 120 s (24.0 / 27.0 dB against 22.4 / 26.1);
   * see docs/training.md
   */
  network?: SelfSupervisedNetwork;
  /** patch size (default 64 for dncnn, 32 for unet-baby) */
  patchSize?: number;
  /** fraction 0..1 of the budget used, for progress bars */
  onProgress?: (fraction: number, detail?: string) => void;
}

export interface DenoiseSelfSupervisedResult {
  image: Image;
  method: SelfSupervisedMethod;
  steps: number;
  seconds: number;
  network: SelfSupervisedNetwork;
  /** the noise sigma estimated from the image (used for n2same's lambda) */
  sigma: number;
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
  const method = checkOneOf(fn, 'options.method', o.method ?? 'n2self', SELF_SUPERVISED_METHODS);
  const budget = checkNumber(fn, 'options.budgetSeconds', o.budgetSeconds ?? 120, { min: 5 });
  const seed = checkNumber(fn, 'options.seed', o.seed ?? 1, { integer: true, min: 0 });
  const network = checkOneOf(fn, 'options.network', o.network ?? 'dncnn', SELF_SUPERVISED_NETWORKS);
  const wanted = checkNumber(fn, 'options.patchSize', o.patchSize ?? (network === 'dncnn' ? 64 : 32), { integer: true, min: 8, max: 512 });
  if (image.width < 16 || image.height < 16) throw invalidParameter(fn, 'image', 'at least 16x16 pixels to learn from', `${image.width}x${image.height}`);
  const t0 = performance.now();
  const train = toTrainImage(image);
  // one sigma for all colour channels: their mean
  const perChannel = estimateSigma(image).slice(0, train.channels);
  const sigma = perChannel.reduce((a, b) => a + b, 0) / perChannel.length;
  const patch = Math.min(wanted, 8 * Math.floor(Math.min(image.width, image.height) / 8));
  const dir = await mkdtemp(join(tmpdir(), 'hush-self-'));
  const make = () =>
    network === 'dncnn'
      ? createModel('dncnn', { channels: train.channels, depth: 8, width: 32, seed })
      : createModel('unet', { channels: train.channels, preset: 'baby', seed });
  let model: HushModel | undefined;
  try {
    const common = {
      method,
      dataKind: 'noisy' as const,
      sets: [[train]],
      sigma,
      batchSize: network === 'dncnn' ? 16 : 8,
      patchSize: patch,
      lr: 3e-3,
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
    // Noise2Self networks denoise J-invariantly (16 masked passes): in one pass they stay near the identity
    const once = (im: Image) => inferTiled(im, runner, { tileSize: 512, tileOverlap: 32 });
    const out = await (method === 'n2self' ? jInvariantDenoise(image, once, { stride: 4 }) : once(image)).finally(() => onnx?.dispose());
    o.onProgress?.(1);
    return { image: out, method, network, steps: r.steps, seconds: (performance.now() - t0) / 1000, sigma };
  } finally {
    model?.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
