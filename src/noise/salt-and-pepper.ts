/**
 * Salt-and-pepper (impulse) noise: each pixel (or sample) is hit independently with
 * probability `amount`, and a hit becomes salt (`high`, 1) with probability
 * `saltRatio`, else pepper (`low`, 0) — the Bernoulli model of scikit-image's
 * `random_noise(mode='s&p')` (Gonzalez & Woods, "Digital Image Processing", ch. 5).
 * On physical-scale images (float TIFF, FITS) pass `low` and `high` on that scale.
 */
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { createRng } from '../core/rng.js';
import type { NoiseModelInfo } from './index.js';
import {
  resolveNoiseParams,
  SEED_PARAM,
  UNIT_PARAM,
  withSamples,
  type NoiseParamSpec,
  type NoiseUnit,
} from './conventions.js';

export interface AddSaltAndPepperNoiseOptions {
  /** probability that a pixel (sample) is hit (default 0.05) */
  amount?: number;
  /** fraction of hits that are salt (default 0.5) */
  saltRatio?: number;
  /** pepper value (default 0) */
  low?: number;
  /** salt value (default 1) */
  high?: number;
  per?: NoiseUnit;
  seed?: number;
}

export const SALT_AND_PEPPER_PARAMS: readonly NoiseParamSpec[] = [
  {
    name: 'amount',
    type: 'number',
    min: 0,
    max: 1,
    default: 0.05,
    description: 'probability that a pixel is hit (each independently, so the hit fraction is amount on average)',
  },
  {
    name: 'saltRatio',
    type: 'number',
    min: 0,
    max: 1,
    default: 0.5,
    description: 'fraction of the hits set to salt (high); the rest become pepper (low)',
  },
  {
    name: 'low',
    type: 'number',
    default: 0,
    description: "pepper value; 0 for 8- and 16-bit images, give the black level on a physical scale (FITS, float TIFF)",
  },
  {
    name: 'high',
    type: 'number',
    default: 1,
    description: "salt value; 1 for 8- and 16-bit images, give the saturation level on a physical scale (FITS, float TIFF)",
  },
  UNIT_PARAM,
  SEED_PARAM,
];

export function addSaltAndPepperNoise(image: Image, options: AddSaltAndPepperNoiseOptions = {}): Image {
  const fn = 'addSaltAndPepperNoise';
  checkImage(fn, image);
  const o = resolveNoiseParams(fn, SALT_AND_PEPPER_PARAMS, options);
  const amount = o.amount as number;
  const saltRatio = o.saltRatio as number;
  const low = o.low as number;
  const high = o.high as number;
  const rng = createRng(o.seed as number);
  const out = image.data.slice();
  const { channels, mask } = image;
  const colours = colourChannels(image);
  const pixels = image.width * image.height;
  if (o.per === 'sample') {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < colours; c++) {
        const i = p * channels + c;
        if (rng.next() >= amount) continue;
        const v = rng.next() < saltRatio ? high : low;
        if (!(mask && mask[i])) out[i] = v;
      }
    }
  } else {
    for (let p = 0; p < pixels; p++) {
      if (rng.next() >= amount) continue;
      const v = rng.next() < saltRatio ? high : low;
      for (let c = 0, i = p * channels; c < colours; c++, i++) if (!(mask && mask[i])) out[i] = v;
    }
  }
  return withSamples(image, out);
}

export const SALT_AND_PEPPER_NOISE: NoiseModelInfo = {
  id: 'salt-and-pepper',
  summary: 'impulse noise: a fraction amount of pixels set to high (salt, 1) or low (pepper, 0)',
  params: SALT_AND_PEPPER_PARAMS,
  add: (image, options) => addSaltAndPepperNoise(image, options as unknown as AddSaltAndPepperNoiseOptions),
};
