/**
 * Additive white Gaussian noise, y = x + N(0, sigma^2), the noise of the DnCNN/KAIR
 * benchmark protocol (Zhang et al., "Beyond a Gaussian Denoiser: Residual Learning of
 * Deep CNN for Image Denoising", IEEE TIP 2017): clean image in [0,1], sigma = s/255,
 * no clipping and no quantisation of the noisy input. Deviates come from the ziggurat
 * in core/rng.ts, written straight into the output buffer.
 */
import { checkImage, type Image } from '../core/image.js';
import { createRng } from '../core/rng.js';
import type { NoiseModelInfo } from './index.js';
import { resolveNoiseParams, SEED_PARAM, untouchedSamples, withSamples, type NoiseParamSpec } from './conventions.js';

export const GAUSSIAN_CLIP_MODES = ['none', 'unit'] as const;
export type GaussianClipMode = (typeof GAUSSIAN_CLIP_MODES)[number];

export interface AddGaussianNoiseOptions {
  /** standard deviation on the image's value scale (25/255 for sigma 25 on an 8-bit image) */
  sigma: number;
  /** 'none' (default): values may leave [0,1]; 'unit': clamp to [0,1] */
  clip?: GaussianClipMode;
  seed?: number;
}

export const GAUSSIAN_PARAMS: readonly NoiseParamSpec[] = [
  {
    name: 'sigma',
    type: 'number',
    min: 0,
    required: true,
    description:
      "standard deviation of the noise on the image's own value scale (0..1 for 8- and 16-bit images, so 25/255 for the sigma-25 benchmark; physical units for float images)",
  },
  {
    name: 'clip',
    type: 'enum',
    choices: GAUSSIAN_CLIP_MODES,
    default: 'none',
    description: "'none' keeps values outside [0,1], as the DnCNN/KAIR benchmark protocol does; 'unit' clamps the result to [0,1]",
  },
  SEED_PARAM,
];

export function addGaussianNoise(image: Image, options: AddGaussianNoiseOptions): Image {
  const fn = 'addGaussianNoise';
  checkImage(fn, image);
  const o = resolveNoiseParams(fn, GAUSSIAN_PARAMS, options);
  const sigma = o.sigma as number;
  const clip = o.clip as GaussianClipMode;
  const src = image.data;
  const out = createRng(o.seed as number).addNormal(new Float32Array(src.length), src, sigma);
  const n = out.length;
  if (clip === 'unit') {
    for (let i = 0; i < n; i++) {
      const v = out[i];
      if (v < 0) out[i] = 0;
      else if (v > 1) out[i] = 1;
    }
  }
  // noise is drawn for every sample, so the noise at a pixel does not depend on alpha or mask
  const keep = untouchedSamples(image);
  if (keep) for (let i = 0; i < n; i++) if (keep[i]) out[i] = src[i];
  return withSamples(image, out);
}

export const GAUSSIAN_NOISE: NoiseModelInfo = {
  id: 'gaussian',
  summary: 'additive white Gaussian noise y = x + N(0, sigma^2) (the DnCNN benchmark protocol: no clipping)',
  params: GAUSSIAN_PARAMS,
  add: (image, options) => addGaussianNoise(image, options as unknown as AddGaussianNoiseOptions),
};
