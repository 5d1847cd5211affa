/**
 * Poisson (photon-counting, shot) noise, y = Pois(x * peak) / peak: `peak` photons
 * are counted where the image is 1, so the signal-to-noise ratio at value x is
 * sqrt(x * peak). Deviates are exact at every mean: inversion below 10 and Hörmann's
 * PTRS transformed rejection above ("The transformed rejection method for generating
 * Poisson random variables", Insurance: Mathematics and Economics 12, 1993), both in
 * core/rng.ts.
 */
import { checkImage, type Image } from '../core/image.js';
import { createRng } from '../core/rng.js';
import type { NoiseModelInfo } from './index.js';
import { resolveNoiseParams, SEED_PARAM, untouchedSamples, withSamples, type NoiseParamSpec } from './conventions.js';

export interface AddPoissonNoiseOptions {
  /** expected photon count at value 1 */
  peak: number;
  seed?: number;
}

export const POISSON_PARAMS: readonly NoiseParamSpec[] = [
  {
    name: 'peak',
    type: 'number',
    above: 0,
    required: true,
    description:
      'expected photon count where the image is 1: y = Pois(x * peak) / peak, so a larger peak means less noise (negative values count as 0 photons)',
  },
  SEED_PARAM,
];

export function addPoissonNoise(image: Image, options: AddPoissonNoiseOptions): Image {
  const fn = 'addPoissonNoise';
  checkImage(fn, image);
  const o = resolveNoiseParams(fn, POISSON_PARAMS, options);
  const peak = o.peak as number;
  const rng = createRng(o.seed as number);
  const src = image.data;
  const out = new Float32Array(src.length);
  const keep = untouchedSamples(image);
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    if ((keep && keep[i]) || !Number.isFinite(x)) out[i] = x;
    else out[i] = x > 0 ? rng.poisson(x * peak) / peak : 0;
  }
  return withSamples(image, out);
}

export const POISSON_NOISE: NoiseModelInfo = {
  id: 'poisson',
  summary: 'photon-counting (shot) noise y = Pois(x * peak) / peak',
  params: POISSON_PARAMS,
  add: (image, options) => addPoissonNoise(image, options as unknown as AddPoissonNoiseOptions),
};
