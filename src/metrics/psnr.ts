/**
 * Peak signal-to-noise ratio, 10 log10(dataRange^2 / MSE), as scikit-image's
 * `peak_signal_noise_ratio` computes it: no clipping, MSE in float64 over the colour
 * samples. `dataRange` is required: guessing it from the dtype or the values is the
 * classic source of PSNR figures that differ by 48 dB (255 vs 1).
 */
import { invalidParameter } from '../core/errors.js';
import type { Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { checkImagePair, sumSquaredError } from './mse.js';

export interface PsnrOptions {
  /** max - min of the values the images can hold: 1 for [0,1] images, 255 for 0..255 */
  dataRange: number;
}

export const PSNR_PARAMS: readonly ParamSpec[] = [
  { name: 'dataRange', type: 'number', above: 0, description: 'range of possible values (1 for [0,1] images, 255 for 0..255)' },
];

export const DATA_RANGE_HINT = 'Pass the range of possible values explicitly: 1 for images in [0,1], 255 for 0..255.';

/** Reads options.dataRange, which has no default on purpose. */
export function requireDataRange(fn: string, params: Record<string, unknown>): number {
  if (params.dataRange === undefined) {
    throw invalidParameter(fn, 'options.dataRange', 'a finite number above 0', undefined, DATA_RANGE_HINT);
  }
  return params.dataRange as number;
}

/**
 * PSNR in dB of `test` against `reference`; Infinity when they are equal. Alpha is
 * ignored and masked samples are excluded, as in `mse`.
 */
export function psnr(reference: Image, test: Image, options: PsnrOptions): number {
  const [ref, tst] = checkImagePair('psnr', reference, test);
  const params = resolveParams('psnr', PSNR_PARAMS, checkObject('psnr', 'options', options));
  const dataRange = requireDataRange('psnr', params);
  const { sum, count } = sumSquaredError('psnr', ref, tst);
  return 10 * Math.log10((dataRange * dataRange) / (sum / count));
}
