/**
 * The denoiser registry: one list of ids feeds the type, the validator and its error
 * text, the CLI's `--method` choices and flags, calibration, automatic mode and the
 * docs. Each classical denoiser lives in its own file (`src/denoise/<id>.ts`) and
 * exports `<ID>_DENOISER: DenoiserInfo`; this file only gathers them and adds the one
 * thing every caller needs: `sigma` estimated when a method uses it and none is given.
 *
 * To register a denoiser: add its import in the IMPORTS block, its id in DENOISERS and
 * its entry in DENOISER_REGISTRY (the compiler checks that the last two agree), then
 * run the registry test (test/denoise/registry.test.ts).
 */
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { checkObject, checkOneOf } from '../core/validate.js';
import { estimateSigma } from '../noise/estimate-sigma.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';

// ---- IMPORTS: one line per denoiser, `import { <ID>_DENOISER } from './<id>.js';` ----
import { TV_CHAMBOLLE_DENOISER } from './tv-chambolle.js';
import { WAVELET_DENOISER } from './wavelet.js';
import { GAUSSIAN_DENOISER } from './gaussian.js';
import { MEDIAN_DENOISER } from './median.js';
import { DONUT_MEDIAN_DENOISER } from './donut-median.js';
import { BILATERAL_DENOISER } from './bilateral.js';
import { NL_MEANS_DENOISER } from './nl-means.js';
import { BM3D_DENOISER } from './bm3d.js';
// ---- end of IMPORTS ----

/** Every registered denoiser id, in the order help and docs list them. */
export const DENOISERS = [
  // ---- IDS: one line per denoiser, `'<id>',` ----
  'tv-chambolle',
  'wavelet',
  'gaussian',
  'median',
  'donut-median',
  'bilateral',
  'nl-means',
  'bm3d',
  // ---- end of IDS ----
] as const;
export type DenoiserId = (typeof DENOISERS)[number];

/** Each denoiser's entry, keyed by its id (the entry's `id` equals its key). */
export const DENOISER_REGISTRY: { readonly [K in DenoiserId]: DenoiserInfo } = {
  // ---- ENTRIES: one line per denoiser, `'<id>': <ID>_DENOISER,` ----
  'tv-chambolle': TV_CHAMBOLLE_DENOISER,
  'wavelet': WAVELET_DENOISER,
  'gaussian': GAUSSIAN_DENOISER,
  'median': MEDIAN_DENOISER,
  'donut-median': DONUT_MEDIAN_DENOISER,
  'bilateral': BILATERAL_DENOISER,
  'nl-means': NL_MEANS_DENOISER,
  'bm3d': BM3D_DENOISER,
  // ---- end of ENTRIES ----
};

/** The entry for `id`, with the house-style error (and a suggestion) for an unknown id. */
export function getDenoiser(id: unknown, fn = 'getDenoiser', param = 'method'): DenoiserInfo {
  const key = checkOneOf(fn, param, id, DENOISERS as readonly string[]);
  return (DENOISER_REGISTRY as Record<string, DenoiserInfo>)[key];
}

/**
 * One noise level for a whole image, as the denoisers take it: the mean over colour
 * channels of estimateSigma (scikit-image's `estimate_sigma(average_sigmas=True)`).
 */
export function estimateImageSigma(image: Image): number {
  const s = estimateSigma(image);
  let sum = 0;
  for (const v of s) sum += v;
  return sum / colourChannels(image);
}

export type DenoiseOptions = { method: DenoiserId | string } & Record<string, unknown>;

/**
 * Denoises with any registered method: `denoise(image, { method: 'nl-means', h: 0.05 })`.
 * For a method that uses `sigma`, a missing `sigma` is estimated from the image
 * (estimateImageSigma). The input is not modified.
 */
export async function denoise(image: Image, options: DenoiseOptions, context: DenoiseContext = {}): Promise<Image> {
  const fn = 'denoise';
  checkImage(fn, image);
  const { method, ...rest } = checkObject(fn, 'options', options);
  const info = getDenoiser(method, fn, 'options.method');
  return info.denoise(image, withSigma(info, image, rest), context);
}

/** `options` with `sigma` filled in by estimation when `info` uses it and it is absent. */
export function withSigma(info: DenoiserInfo, image: Image, options: Record<string, unknown>): Record<string, unknown> {
  if (!info.usesSigma || options.sigma !== undefined) return options;
  if (!info.params.some((p) => p.name === 'sigma')) return options;
  return { ...options, sigma: estimateImageSigma(image) };
}

export type { DenoiseContext, DenoiserInfo, ParameterGrid } from './types.js';
