/**
 * Self-supervised calibration of a denoiser's parameters (Batson & Royer,
 * "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019; scikit-image's
 * `calibrate_denoiser`): for every setting of a parameter grid, the J-invariant
 * version f of the denoiser is scored by the self-supervised loss L = mean (f(x) - x)^2,
 * and the lowest loss wins. For a J-invariant f and noise that is zero-mean and
 * independent across pixels, E L = E mean (f(x) - y)^2 + sigma^2 (y the clean image),
 * so L ranks settings as the true error does, with no clean image.
 *
 * The same identity gives the shrinkage of the Noise2Self notebook: the blend
 * g = lambda f(x) + (1 - lambda) x has true error lambda^2 e + (1 - lambda)^2 sigma^2
 * (e = L - sigma^2, the cross term vanishing because f(x)_j is independent of the
 * noise at j), minimal at lambda = sigma^2 / (e + sigma^2) = sigma^2 / L: noise
 * variance over the self-supervised loss, where the blend's error is lambda e. It holds
 * for the J-invariant output f only, not for the plain denoiser (whose output is
 * correlated with the noise it was given).
 *
 * Loss: 'approximate' (default, as scikit-image) uses one mask, offset stride^2 div 2,
 * so a setting costs one denoiser call; 'full' uses all stride^2 masks. Masked pixels
 * are filled by the 'renoised' mean by default (see invariant.ts and
 * DEFAULT_CALIBRATION_INTERPOLATION); interpolation 'four-neighbour' gives scikit-image's
 * numbers exactly.
 */
import { checkImage, colourChannels, hasAlpha, sameShape, type Image } from '../core/image.js';
import { HushError, invalidParameter } from '../core/errors.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject, checkOneOf, optionalNumber } from '../core/validate.js';
import { estimateImageSigma, getDenoiser } from './index.js';
import type { DenoiseContext, DenoiserInfo, ParameterGrid } from './types.js';
import { invariantOnMasks, maskPixels, resolveInvariantOptions, type Interpolation } from './invariant.js';

export const CALIBRATION_LOSSES = ['approximate', 'full'] as const;
export type CalibrationLoss = (typeof CALIBRATION_LOSSES)[number];

/**
 * Calibration fills masked pixels with the 'renoised' mean by default, not scikit-image's
 * plain four-neighbour mean: on Set12 sigma 25 the plain mean let weak settings win
 * (wavelet thresholds at half sigma, 3.6 dB below the best setting; NL-means h at 0.4
 * sigma, up to 0.7 dB), the renoised fill does not (bench/quality/denoise/calibration.bench.ts,
 * docs/calibration.md).
 */
export const DEFAULT_CALIBRATION_INTERPOLATION: Interpolation = 'renoised';

/** The most settings one calibration may try (a typo such as 'h=0:1e-6:1' should fail fast, not run for days). */
export const MAX_GRID_SETTINGS = 1000;

export type ParameterSetting = Record<string, number | string>;

export interface CalibrateDenoiserOptions {
  /** grid spacing of the J-invariant masks (default 4) */
  stride?: number;
  /** how masked pixels are filled (default 'renoised'; 'four-neighbour' is scikit-image's) */
  interpolation?: Interpolation;
  /** 'renoised': seed of the fresh noise (default 0) */
  seed?: number;
  /** 'approximate' (one mask, default) or 'full' (all stride^2 masks, stride^2 times slower) */
  loss?: CalibrationLoss;
  /** noise standard deviation for the default grid, the shrinkage and methods that use sigma (default: estimated) */
  sigma?: number;
  /** options held fixed across the grid, e.g. { mode: 'fast' } */
  fixed?: Record<string, unknown>;
  /** a clean image: adds the true error of every setting to the table (one more denoiser call each) */
  reference?: Image;
  /** threads and progress for the denoiser calls */
  context?: DenoiseContext;
}

export interface CalibrationEntry {
  /** the grid setting (only the parameters the grid varies) */
  params: ParameterSetting;
  /** self-supervised loss: mean squared difference between the J-invariant output and the noisy input, on the loss pixels */
  loss: number;
  /** with a reference: mean squared error of the J-invariant output against it, on the same pixels */
  invariantMse?: number;
  /** with a reference: MSE of the plain denoiser's output (whole image) against it */
  mse?: number;
  /** with a reference: PSNR of the plain denoiser's output (data range 1) */
  psnr?: number;
  /** seconds spent on this setting */
  seconds: number;
}

export interface CalibrateDenoiserResult {
  method: string;
  /** the options to denoise with: fixed options, the best setting, and sigma where the method uses it */
  best: Record<string, unknown>;
  /** index of the best setting in table */
  bestIndex: number;
  /** one row per setting, in grid order (the last grid parameter varies fastest) */
  table: CalibrationEntry[];
  /** noise standard deviation used (given or estimated) */
  sigma: number;
  /** the shrinkage weight of the best setting, the same as shrinkage.lambda */
  lambda: number;
  /**
   * lambda f(x) + (1 - lambda) x for the J-invariant output f of the best setting, with lambda =
   * sigma^2 / loss clamped to [0, 1]; loss is its predicted self-supervised-equivalent loss
   * lambda (L - sigma^2) + sigma^2 (on the table's scale: subtract sigma^2 for the expected MSE).
   */
  shrinkage: { lambda: number; loss: number };
  loss: CalibrationLoss;
  stride: number;
  interpolation: Interpolation;
}

/** Cartesian product of a grid in insertion order, the last key varying fastest (itertools.product). */
export function gridSettings(grid: ParameterGrid): ParameterSetting[] {
  let settings: ParameterSetting[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    const next: ParameterSetting[] = [];
    for (const s of settings) for (const v of values) next.push({ ...s, [key]: v });
    settings = next;
  }
  return settings;
}

/** Checks a grid against a denoiser's params: known names, non-empty value lists, every setting valid. An empty grid is one setting, the defaults. */
export function checkGrid(fn: string, info: DenoiserInfo, grid: unknown, fixed: Record<string, unknown> = {}): ParameterGrid {
  const g = checkObject(fn, 'parameterGrid', grid);
  const names = info.params.map((p) => p.name);
  const keys = Object.keys(g);
  let count = 1;
  for (const k of keys) {
    if (!names.includes(k)) checkOneOf(fn, 'parameterGrid keys', k, names);
    const values = g[k];
    if (!Array.isArray(values) || values.length === 0) throw invalidParameter(fn, `parameterGrid.${k}`, 'a non-empty array of values', values);
    count *= values.length;
  }
  if (count > MAX_GRID_SETTINGS) throw invalidParameter(fn, 'parameterGrid', `at most ${MAX_GRID_SETTINGS} settings`, `${count} settings`);
  for (const k of keys) {
    const spec = info.params.find((p) => p.name === k) as ParamSpec;
    for (const v of g[k] as unknown[]) resolveParams(fn, [spec], { [k]: v });
  }
  const out = g as ParameterGrid;
  for (const s of gridSettings(out)) resolveParams(info.id, info.params, { ...fixed, ...s });
  return out;
}


/**
 * Indices of the samples a loss is taken over: colour samples (alpha excluded) of the given
 * pixels that carry data (not masked, finite).
 */
function lossSamples(image: Image, pixels: Uint32Array | undefined): number[] {
  const { channels, data, mask } = image;
  const nc = colourChannels(image);
  const out: number[] = [];
  const n = pixels ? pixels.length : image.width * image.height;
  for (let k = 0; k < n; k++) {
    const p = pixels ? pixels[k] : k;
    for (let c = 0; c < nc; c++) {
      const i = p * channels + c;
      if ((mask && mask[i]) || !Number.isFinite(data[i])) continue;
      out.push(i);
    }
  }
  return out;
}

function meanSquaredOver(a: Float32Array, b: Float32Array, samples: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const i of samples) {
    const d = a[i] - b[i];
    if (!Number.isFinite(d)) continue;
    s += d * d;
    n++;
  }
  return n === 0 ? Number.NaN : s / n;
}

/** PSNR from an MSE, data range 1. */
function psnrFromMse(mse: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

/**
 * Calibrates `denoiser` on `image` without a clean image: the self-supervised loss of its
 * J-invariant version for every setting of `parameterGrid` (default: the denoiser's
 * calibrationGrid(sigma), sigma estimated from the image unless given).
 */
export async function calibrateDenoiser(
  image: Image,
  denoiser: DenoiserInfo | string,
  parameterGrid?: ParameterGrid,
  options: CalibrateDenoiserOptions = {},
): Promise<CalibrateDenoiserResult> {
  const fn = 'calibrateDenoiser';
  checkImage(fn, image);
  const info = typeof denoiser === 'string' ? getDenoiser(denoiser, fn, 'denoiser') : checkDenoiserInfo(fn, denoiser);
  const o = checkObject(fn, 'options', options);
  const { stride, interpolation, seed } = resolveInvariantOptions(fn, { stride: o.stride, interpolation: o.interpolation, seed: o.seed }, DEFAULT_CALIBRATION_INTERPOLATION);
  const loss = o.loss === undefined ? 'approximate' : checkOneOf(fn, 'options.loss', o.loss, CALIBRATION_LOSSES);
  const fixed = checkObject(fn, 'options.fixed', o.fixed);
  const reference = o.reference === undefined ? undefined : checkImage(fn, o.reference, 'options.reference');
  if (reference && !sameShape(reference, image)) {
    throw invalidParameter(fn, 'options.reference', `an image of ${image.width}x${image.height}x${image.channels}`, `${reference.width}x${reference.height}x${reference.channels}`);
  }
  const context = (o.context ?? {}) as DenoiseContext;
  const sigma = o.sigma === undefined ? estimateImageSigma(image) : optionalNumber(fn, 'options.sigma', o.sigma, 0, { min: 0 });
  const grid = checkGrid(fn, info, parameterGrid ?? info.calibrationGrid(sigma), fixed);
  const settings = gridSettings(grid);
  // sigma goes to the denoiser when it has the option and uses it (or the caller gave it), unless fixed or gridded
  const baseOptions: Record<string, unknown> = { ...fixed };
  if (info.params.some((p) => p.name === 'sigma') && fixed.sigma === undefined && (info.usesSigma || o.sigma !== undefined)) baseOptions.sigma = sigma;

  const { width, height } = image;
  const n = stride * stride;
  const offsets = loss === 'full' ? Array.from({ length: n }, (_, k) => k) : [Math.floor(n / 2)];
  if (loss === 'approximate' && maskPixels(width, height, stride, offsets[0]).length === 0) {
    throw invalidParameter(fn, 'options.stride', `a stride under the image size (${width}x${height}) for the approximate loss`, stride);
  }
  const pixels = loss === 'full' ? undefined : maskPixels(width, height, stride, offsets[0]);
  const samples = lossSamples(image, pixels);
  if (samples.length === 0) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the image has no valid samples on the loss pixels (all masked or not finite)`);

  const table: CalibrationEntry[] = [];
  const perSetting = reference ? offsets.length + 1 : offsets.length;
  const total = settings.length * perSetting;
  let calls = 0;
  const progress = (f: number): void => context.onProgress?.(Math.min(1, (calls + f) / total));
  for (const setting of settings) {
    const t0 = performance.now();
    const opts = { ...baseOptions, ...setting };
    const run = (im: Image): Promise<Image> => info.denoise(im, opts, { threads: context.threads, onProgress: progress });
    const out = image.data.slice();
    await invariantOnMasks(image, async (im) => {
      const r = await run(im);
      calls++;
      return r;
    }, stride, offsets, interpolation, out, undefined, seed, sigma);
    const entry: CalibrationEntry = { params: setting, loss: meanSquaredOver(out, image.data, samples), seconds: 0 };
    if (reference) {
      entry.invariantMse = meanSquaredOver(out, reference.data, samples);
      const plain = await run(image);
      calls++;
      entry.mse = meanSquaredOver(plain.data, reference.data, lossSamples(image, undefined));
      entry.psnr = psnrFromMse(entry.mse);
    }
    entry.seconds = (performance.now() - t0) / 1000;
    table.push(entry);
    context.onProgress?.(Math.min(1, calls / total));
  }
  let bestIndex = -1;
  for (let i = 0; i < table.length; i++) if (Number.isFinite(table[i].loss) && (bestIndex < 0 || table[i].loss < table[bestIndex].loss)) bestIndex = i;
  if (bestIndex < 0) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: every setting gave a non-finite loss (the denoiser returned NaN on the loss pixels)`);
  const bestLoss = table[bestIndex].loss;
  const lambda = shrinkageWeight(sigma, bestLoss);
  return {
    method: info.id,
    best: { ...baseOptions, ...settings[bestIndex] },
    bestIndex,
    table,
    sigma,
    lambda,
    shrinkage: { lambda, loss: lambda * Math.max(0, bestLoss - sigma * sigma) + sigma * sigma },
    loss,
    stride,
    interpolation,
  };
}

/** lambda = sigma^2 / L clamped to [0, 1] (L below sigma^2 only through estimation noise). */
export function shrinkageWeight(sigma: number, loss: number): number {
  if (!(loss > 0)) return 1;
  return Math.min(1, Math.max(0, (sigma * sigma) / loss));
}

/**
 * lambda * denoised + (1 - lambda) * noisy on colour samples (alpha and no-data samples
 * from `denoised`). Meant for a J-invariant `denoised` (see the file comment).
 */
export function shrink(denoised: Image, noisy: Image, lambda: number): Image {
  const fn = 'shrink';
  checkImage(fn, denoised, 'denoised');
  checkImage(fn, noisy, 'noisy');
  if (!sameShape(denoised, noisy)) throw invalidParameter(fn, 'noisy', `an image of ${denoised.width}x${denoised.height}x${denoised.channels}`, `${noisy.width}x${noisy.height}x${noisy.channels}`);
  const l = optionalNumber(fn, 'lambda', lambda, 1, { min: 0, max: 1 });
  const out = denoised.data.slice();
  const { channels } = denoised;
  const alpha = hasAlpha(denoised) ? channels - 1 : -1;
  for (let i = 0; i < out.length; i++) {
    if (i % channels === alpha) continue;
    const v = l * denoised.data[i] + (1 - l) * noisy.data[i];
    if (Number.isFinite(v)) out[i] = v;
  }
  return { ...denoised, data: out };
}

function checkDenoiserInfo(fn: string, d: unknown): DenoiserInfo {
  const info = d as Partial<DenoiserInfo> | null;
  if (info === null || typeof info !== 'object' || typeof info.denoise !== 'function' || !Array.isArray(info.params) || typeof info.calibrationGrid !== 'function') {
    throw invalidParameter(fn, 'denoiser', 'a registered denoiser id or a DenoiserInfo', d);
  }
  return info as DenoiserInfo;
}

/** Parses the CLI grid text `h=0.02,0.04;patchSize=5,7` (numbers where they parse, text otherwise). */
export function parseGrid(text: string, fn = 'parseGrid', param = 'grid'): ParameterGrid {
  const grid: Record<string, (number | string)[]> = {};
  const parts = text.split(';').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw invalidParameter(fn, param, "'name=v1,v2;name2=v3,...'", text);
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    const values = eq < 0 ? [] : part.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (name === '' || values.length === 0) throw invalidParameter(fn, param, "'name=v1,v2;name2=v3,...'", part);
    if (grid[name]) throw invalidParameter(fn, param, 'each parameter once', name);
    grid[name] = values.map((v) => (v !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
  }
  return grid;
}
