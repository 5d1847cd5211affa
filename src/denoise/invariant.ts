/**
 * J-invariant denoising (Batson & Royer, "Noise2Self: Blind Denoising by
 * Self-Supervision", ICML 2019, section 3): any denoiser g becomes J-invariant on a
 * grid partition J of stride w (w^2 masks) by feeding g, for each mask, the image with
 * the masked pixels replaced by the mean of their neighbours and keeping g's output on
 * that mask. The output on a mask then never depends on the input there, so with noise
 * independent across pixels the self-supervised loss ||f(x) - x||^2 ranks parameters as
 * the true error does. Conventions follow scikit-image 0.19's `denoise_invariant`
 * (`restoration/j_invariant.py`): mask k covers rows k div w, columns k mod w, every w
 * pixels; the neighbour mean is a convolution of the input with
 * [[0,1,0],[1,0,1],[0,1,0]]/4 in 'mirror' boundary mode (d c b | a b c d | c b a),
 * per channel, and a mask covers every channel of its pixels. The donut kernel
 * [[.5,1,.5],[1,0,1],[.5,1,.5]]/6 (Noise2Self, Noise2Same) is the second choice.
 * The third, 'renoised', is hush's: the four-neighbour mean plus fresh Gaussian noise of
 * variance sigma^2 / 4 (RENOISE_VARIANCE). A mean is a denoiser in itself, so with the
 * plain mean the J-invariant version of a weak setting (a small h, a small wavelet
 * threshold) inherits the mean's smoothing and scores better than the plain denoiser at
 * that setting would; the fresh noise takes that credit away, so the J-invariant loss
 * follows the plain denoiser's error more closely (docs/calibration.md).
 * The output is still J-invariant: the fill depends only on other pixels and on noise
 * independent of the image. Beyond scikit-image: masked (no-data) and non-finite
 * neighbours are left out of the mean (weights renormalised), no-data pixels are never
 * replaced, and alpha is kept.
 */
import { checkImage, hasAlpha, withData, type Image } from '../core/image.js';
import { invalidParameter } from '../core/errors.js';
import { checkObject, checkOneOf, optionalNumber } from '../core/validate.js';
import { createRng, deriveSeed } from '../core/rng.js';
import { estimateSigma } from '../noise/estimate-sigma.js';

export const INTERPOLATIONS = ['four-neighbour', 'donut', 'renoised'] as const;
export type Interpolation = (typeof INTERPOLATIONS)[number];

/** Neighbour weights in row-major order over the 3x3 window (centre 0), unnormalised. */
const KERNELS: Record<'four-neighbour' | 'donut', readonly number[]> = {
  'four-neighbour': [0, 1, 0, 1, 0, 1, 0, 1, 0],
  donut: [0.5, 1, 0.5, 1, 0, 1, 0.5, 1, 0.5],
};
const KERNEL_SUMS: Record<'four-neighbour' | 'donut', number> = { 'four-neighbour': 4, donut: 6 };

/**
 * Variance of the fresh noise of the 'renoised' fill, in units of sigma^2. The
 * four-neighbour mean carries sigma^2 / 4 of the neighbours' noise, so the fill's noise
 * is sigma^2 / 2 in all, half way between the plain mean (sigma^2 / 4, whose smoothing
 * flatters weak settings) and a full top-up to sigma^2 (3/4 here: the fill's noise is
 * then correlated with its four neighbours', which penalises settings that weigh the
 * centre pixel and flatters strong ones: TV weights 2 steps too strong on Set12 09).
 * Chosen on Set12 sigma 25 (docs/calibration.md, with the held-out checks).
 */
export const RENOISE_VARIANCE = 0.25;

/** The default stride, scikit-image's. */
export const DEFAULT_STRIDE = 4;
export const MAX_STRIDE = 64;

/** A denoiser as calibration sees it: one image in, one image out. */
export type ImageDenoiser = (image: Image) => Promise<Image> | Image;

export interface DenoiseInvariantOptions {
  /** grid spacing w: w^2 masks (default 4, from 2 to 64) */
  stride?: number;
  /** how masked pixels are filled (default 'four-neighbour', scikit-image's) */
  interpolation?: Interpolation;
  /** 'renoised': the noise standard deviation (default: estimated from the image) */
  sigma?: number;
  /** 'renoised': seed of the fresh noise (default 0) */
  seed?: number;
  /** called with the fraction done, 0..1, after each mask */
  onProgress?: (fraction: number) => void;
}

export interface ResolvedInvariantOptions {
  stride: number;
  interpolation: Interpolation;
  seed: number;
}

export function resolveInvariantOptions(fn: string, options: unknown, defaultInterpolation: Interpolation = 'four-neighbour'): ResolvedInvariantOptions {
  const o = checkObject(fn, 'options', options);
  const stride = optionalNumber(fn, 'options.stride', o.stride, DEFAULT_STRIDE, { integer: true, min: 2, max: MAX_STRIDE });
  const interpolation = o.interpolation === undefined ? defaultInterpolation : checkOneOf(fn, 'options.interpolation', o.interpolation, INTERPOLATIONS);
  const seed = optionalNumber(fn, 'options.seed', o.seed, 0, { integer: true, min: 0, max: 4294967295 });
  return { stride, interpolation, seed };
}

/** scipy.ndimage 'mirror' extension for an offset of at most one pixel. */
function mirror(i: number, n: number): number {
  if (i < 0) return n === 1 ? 0 : 1;
  if (i >= n) return n === 1 ? 0 : n - 2;
  return i;
}

/** True where a sample carries no data (mask or non-finite). */
function isMissing(image: Image, i: number): boolean {
  return (image.mask !== undefined && image.mask[i] === 1) || !Number.isFinite(image.data[i]);
}

/**
 * The neighbour mean of every colour sample (alpha copied), computed in float64 in
 * scipy's order of summation and rounded to float32 once, so it equals scikit-image's
 * `_interpolate_image` on float32 input. Missing neighbours are left out; a sample with
 * no valid neighbour keeps its own value.
 */
export function interpolateImage(image: Image, interpolation: Interpolation = 'four-neighbour'): Float32Array {
  checkImage('interpolateImage', image);
  const { width, height, channels, data } = image;
  const kernel = KERNELS[checkOneOf('interpolateImage', 'interpolation', interpolation, ['four-neighbour', 'donut'] as const)];
  const total = KERNEL_SUMS[interpolation as 'donut'];
  const out = new Float32Array(data.length);
  const alpha = hasAlpha(image) ? channels - 1 : -1;
  const anyMissing = image.mask !== undefined || data.some((v) => !Number.isFinite(v));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = (y * width + x) * channels;
      for (let c = 0; c < channels; c++) {
        const i = base + c;
        if (c === alpha) {
          out[i] = data[i];
          continue;
        }
        let sum = 0;
        let weight = 0;
        for (let k = 0; k < 9; k++) {
          const w = kernel[k];
          if (w === 0) continue;
          const j = (mirror(y + Math.floor(k / 3) - 1, height) * width + mirror(x + (k % 3) - 1, width)) * channels + c;
          if (anyMissing && isMissing(image, j)) continue;
          sum += (w / total) * data[j];
          weight += w;
        }
        if (weight === 0) out[i] = data[i];
        else out[i] = weight === total ? sum : (sum * total) / weight;
      }
    }
  }
  return out;
}

/** estimateSigma averaged over colour channels (the registry's estimateImageSigma, without importing the registry). */
function meanSigma(image: Image): number {
  const s = estimateSigma(image);
  return s.reduce((a, b) => a + b, 0) / s.length;
}

/** The (row, column) phase of mask `offset` of a stride-w grid: numpy.unravel_index(offset, (w, w)). */
export function maskPhase(offset: number, stride: number): { row: number; column: number } {
  return { row: Math.floor(offset / stride), column: offset % stride };
}

/** Pixel indices (y * width + x) of mask `offset`, in row-major order. */
export function maskPixels(width: number, height: number, stride: number, offset: number): Uint32Array {
  const { row, column } = maskPhase(offset, stride);
  const nx = column < width ? Math.ceil((width - column) / stride) : 0;
  const ny = row < height ? Math.ceil((height - row) / stride) : 0;
  const out = new Uint32Array(nx * ny);
  let k = 0;
  for (let y = row; y < height; y += stride) for (let x = column; x < width; x += stride) out[k++] = y * width + x;
  return out;
}

/**
 * The J-invariant output on the given masks only: `out` holds g's output on the pixels
 * of those masks and is otherwise untouched. Shared by denoiseInvariant and calibration
 * (whose approximate loss uses one mask, as scikit-image's).
 */
export async function invariantOnMasks(
  image: Image,
  denoiser: ImageDenoiser,
  stride: number,
  offsets: readonly number[],
  interpolation: Interpolation,
  out: Float32Array,
  onProgress?: (fraction: number) => void,
  seed = 0,
  sigma?: number,
): Promise<void> {
  const { width, height, channels, data } = image;
  const renoised = interpolation === 'renoised';
  const interp = interpolateImage(image, renoised ? 'four-neighbour' : interpolation);
  const topUp = renoised ? Math.sqrt(RENOISE_VARIANCE) * (sigma ?? 0) : 0;
  const alpha = hasAlpha(image) ? channels - 1 : -1;
  const missing = image.mask !== undefined || data.some((v) => !Number.isFinite(v));
  let done = 0;
  for (const offset of offsets) {
    const pixels = maskPixels(width, height, stride, offset);
    const input = data.slice();
    // one generator per mask, so a mask's fill does not depend on which masks ran before it
    const rng = renoised ? createRng(deriveSeed(seed, offset)) : undefined;
    for (const p of pixels) {
      for (let c = 0; c < channels; c++) {
        const i = p * channels + c;
        if (c === alpha || (missing && isMissing(image, i))) continue;
        input[i] = rng ? interp[i] + topUp * rng.normal() : interp[i];
      }
    }
    const result = await denoiser({ ...withData(image, input), exact: undefined });
    if (result.data.length !== data.length) {
      throw invalidParameter('denoiseInvariant', 'denoiser', `a function returning an image of ${width}x${height}x${channels}`, result.data);
    }
    for (const p of pixels) {
      for (let c = 0; c < channels; c++) {
        const i = p * channels + c;
        out[i] = c === alpha ? data[i] : result.data[i];
      }
    }
    onProgress?.(++done / offsets.length);
  }
}

/**
 * The J-invariant version of `denoiser` applied to `image`: stride^2 calls of the
 * denoiser, each on the image with one grid mask filled by neighbour means.
 */
export async function denoiseInvariant(image: Image, denoiser: ImageDenoiser, options: DenoiseInvariantOptions = {}): Promise<Image> {
  const fn = 'denoiseInvariant';
  checkImage(fn, image);
  if (typeof denoiser !== 'function') throw invalidParameter(fn, 'denoiser', 'a function (image) => Image', denoiser);
  const { stride, interpolation, seed } = resolveInvariantOptions(fn, options);
  let sigma: number | undefined;
  if (interpolation === 'renoised') {
    const given = (options as Record<string, unknown>).sigma;
    sigma = given === undefined ? meanSigma(image) : optionalNumber(fn, 'options.sigma', given, 0, { min: 0 });
  }
  const out = image.data.slice();
  const offsets = Array.from({ length: stride * stride }, (_, k) => k);
  await invariantOnMasks(image, denoiser, stride, offsets, interpolation, out, options.onProgress, seed, sigma);
  return withData(image, out);
}
