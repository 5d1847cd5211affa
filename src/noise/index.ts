/**
 * The noise registry: one list of model ids feeds the type, the validator and its
 * error text, the CLI's `hush noise --model` choices and flags, and docs/noise.md.
 * Each model lives in its own file (`src/noise/<id>.ts`) and exports its function,
 * its parameter table and its registry entry; this file only gathers them.
 */
import type { Image } from '../core/image.js';
import { checkImage } from '../core/image.js';
import { checkObject, checkOneOf } from '../core/validate.js';
import type { NoiseParamSpec } from './conventions.js';
import { GAUSSIAN_NOISE, type AddGaussianNoiseOptions } from './gaussian.js';
import { POISSON_NOISE, type AddPoissonNoiseOptions } from './poisson.js';
import { POISSON_GAUSSIAN_NOISE, type AddPoissonGaussianNoiseOptions } from './poisson-gaussian.js';
import { SALT_AND_PEPPER_NOISE, type AddSaltAndPepperNoiseOptions } from './salt-and-pepper.js';
import { PARTIAL_INNER_MODELS, PARTIAL_NOISE, type AddPartialNoiseOptions } from './partial.js';
import { PIXEL_MODIFICATION_NOISE, type AddPixelModificationNoiseOptions } from './pixel-modification.js';

export const NOISE_MODELS = [
  'gaussian',
  'poisson',
  'poisson-gaussian',
  'salt-and-pepper',
  'partial',
  'pixel-modification',
] as const;
export type NoiseModel = (typeof NOISE_MODELS)[number];

export interface NoiseModelInfo {
  readonly id: NoiseModel;
  /** one line for `hush noise --help` and the docs table */
  readonly summary: string;
  /**
   * Every option the model takes, in the order to show them. A param with `required: true`
   * has no default and must be given; every other one either has a default or is optional
   * (its description says what happens when it is left out).
   */
  readonly params: readonly NoiseParamSpec[];
  /** validates `options` against `params` and returns a new image */
  readonly add: (image: Image, options: Record<string, unknown>) => Image;
}

/** Each model's entry, keyed by its id (the entry's `id` equals its key). */
export const NOISE_REGISTRY: { readonly [K in NoiseModel]: NoiseModelInfo } = {
  gaussian: GAUSSIAN_NOISE,
  poisson: POISSON_NOISE,
  'poisson-gaussian': POISSON_GAUSSIAN_NOISE,
  'salt-and-pepper': SALT_AND_PEPPER_NOISE,
  partial: PARTIAL_NOISE,
  'pixel-modification': PIXEL_MODIFICATION_NOISE,
};

export type AddNoiseOptions =
  | ({ model: 'gaussian' } & AddGaussianNoiseOptions)
  | ({ model: 'poisson' } & AddPoissonNoiseOptions)
  | ({ model: 'poisson-gaussian' } & AddPoissonGaussianNoiseOptions)
  | ({ model: 'salt-and-pepper' } & AddSaltAndPepperNoiseOptions)
  | ({ model: 'partial' } & AddPartialNoiseOptions)
  | ({ model: 'pixel-modification' } & AddPixelModificationNoiseOptions);

/** Adds noise of any registered model: `addNoise(image, { model: 'gaussian', sigma: 25 / 255, seed: 1 })`. */
export function addNoise(image: Image, options: AddNoiseOptions): Image {
  const fn = 'addNoise';
  checkImage(fn, image);
  const { model, ...rest } = checkObject(fn, 'options', options);
  const id = checkOneOf(fn, 'options.model', model, NOISE_MODELS);
  return NOISE_REGISTRY[id].add(image, rest);
}

/**
 * Every option `model` accepts, for building flags and help: for 'partial' with an
 * inner model, partial's own params followed by the inner model's (its seed excepted,
 * since partial's seed drives both).
 */
export function noiseModelParams(model: NoiseModel, inner?: NoiseModel): readonly NoiseParamSpec[] {
  const own = NOISE_REGISTRY[checkOneOf('noiseModelParams', 'model', model, NOISE_MODELS)].params;
  if (model !== 'partial' || inner === undefined) return own;
  const innerId = checkOneOf('noiseModelParams', 'inner', inner, PARTIAL_INNER_MODELS);
  return [...own, ...NOISE_REGISTRY[innerId].params.filter((s) => s.name !== 'seed')];
}

export { DEFAULT_NOISE_SEED, NOISE_UNITS, type NoiseParamSpec, type NoiseUnit } from './conventions.js';
export { addGaussianNoise, GAUSSIAN_CLIP_MODES, GAUSSIAN_PARAMS } from './gaussian.js';
export type { AddGaussianNoiseOptions, GaussianClipMode } from './gaussian.js';
export { addPoissonNoise, POISSON_PARAMS } from './poisson.js';
export type { AddPoissonNoiseOptions } from './poisson.js';
export {
  addPoissonGaussianNoise,
  fitsExposureTime,
  POISSON_GAUSSIAN_PARAMS,
  DEFAULT_DARK_CURRENT,
  DEFAULT_READ_NOISE,
} from './poisson-gaussian.js';
export type { AddPoissonGaussianNoiseOptions } from './poisson-gaussian.js';
export { addSaltAndPepperNoise, SALT_AND_PEPPER_PARAMS } from './salt-and-pepper.js';
export type { AddSaltAndPepperNoiseOptions } from './salt-and-pepper.js';
export {
  addPartialNoise,
  partialNoiseRegions,
  PARTIAL_INNER_MODELS,
  PARTIAL_PARAMS,
  DEFAULT_MAX_RECT_SIZE,
} from './partial.js';
export type {
  AddPartialNoiseOptions,
  PartialInnerModel,
  PartialNoiseRegionsOptions,
  PartialNoiseRegionsResult,
  Rectangle,
} from './partial.js';
export {
  addPixelModificationNoise,
  PIXEL_MODIFICATION_PARAMS,
  PIXEL_MODIFICATION_VALUES,
} from './pixel-modification.js';
export type { AddPixelModificationNoiseOptions, PixelModificationValue } from './pixel-modification.js';
export { estimateSigma } from './estimate-sigma.js';
