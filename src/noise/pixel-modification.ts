/**
 * Pixel modification ("Bernoulli holes"): each pixel is replaced, independently with
 * probability `fraction`, by 0, by 1 or by a uniform random value in [0, 1): the
 * "Bernoulli holes" in the Hanzi data of Batson & Royer ("Noise2Self: Blind
 * Denoising by Self-Supervision", ICML 2019). The values are on the unit scale of
 * 8- and 16-bit images.
 */
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { createRng, deriveSeed } from '../core/rng.js';
import type { NoiseModelInfo } from './index.js';
import {
  resolveNoiseParams,
  SEED_PARAM,
  UNIT_PARAM,
  withSamples,
  type NoiseParamSpec,
  type NoiseUnit,
} from './conventions.js';

export const PIXEL_MODIFICATION_VALUES = ['zero', 'one', 'random'] as const;
export type PixelModificationValue = (typeof PIXEL_MODIFICATION_VALUES)[number];

export interface AddPixelModificationNoiseOptions {
  /** probability that a pixel (sample) is replaced */
  fraction: number;
  /** what a replaced sample becomes: 0, 1, or uniform in [0, 1) (default 'zero') */
  value?: PixelModificationValue;
  per?: NoiseUnit;
  seed?: number;
}

export const PIXEL_MODIFICATION_PARAMS: readonly NoiseParamSpec[] = [
  {
    name: 'fraction',
    type: 'number',
    min: 0,
    max: 1,
    required: true,
    description: 'probability that a pixel is replaced (each independently, so the replaced fraction is this on average)',
  },
  {
    name: 'value',
    type: 'enum',
    choices: PIXEL_MODIFICATION_VALUES,
    default: 'zero',
    description:
      "what a replaced pixel becomes: 'zero' (0), 'one' (1), or 'random' (uniform in [0, 1), drawn per colour sample)",
  },
  UNIT_PARAM,
  SEED_PARAM,
];

export function addPixelModificationNoise(image: Image, options: AddPixelModificationNoiseOptions): Image {
  const fn = 'addPixelModificationNoise';
  checkImage(fn, image);
  const o = resolveNoiseParams(fn, PIXEL_MODIFICATION_PARAMS, options);
  const fraction = o.fraction as number;
  const value = o.value as PixelModificationValue;
  const rng = createRng(o.seed as number);
  // random values come from their own stream, so a seed picks the same pixels whatever `value` is
  const values = createRng(deriveSeed(o.seed as number, 1));
  const fixed = value === 'one' ? 1 : 0;
  const draw = value === 'random' ? () => values.next() : () => fixed;
  const out = image.data.slice();
  const { channels, mask } = image;
  const colours = colourChannels(image);
  const pixels = image.width * image.height;
  if (o.per === 'sample') {
    for (let p = 0; p < pixels; p++) {
      for (let c = 0; c < colours; c++) {
        const i = p * channels + c;
        if (rng.next() >= fraction) continue;
        const v = draw();
        if (!(mask && mask[i])) out[i] = v;
      }
    }
  } else {
    for (let p = 0; p < pixels; p++) {
      if (rng.next() >= fraction) continue;
      for (let c = 0, i = p * channels; c < colours; c++, i++) {
        const v = draw();
        if (!(mask && mask[i])) out[i] = v;
      }
    }
  }
  return withSamples(image, out);
}

export const PIXEL_MODIFICATION_NOISE: NoiseModelInfo = {
  id: 'pixel-modification',
  summary: "a random fraction of pixels replaced by 0, 1 or a uniform random value (Noise2Self's Bernoulli holes)",
  params: PIXEL_MODIFICATION_PARAMS,
  add: (image, options) => addPixelModificationNoise(image, options as unknown as AddPixelModificationNoiseOptions),
};
