/**
 * Partial noise: another noise model applied only inside random axis-aligned
 * rectangles whose union covers a given fraction of the image, the rest left clean
 * (spatially non-uniform corruption; SPEC section 1, "Partial noise"). Rectangles
 * are placed one at a time, each centred on a random pixel not yet covered, and the
 * last one is cut row by row so the union hits the target within one rectangle row.
 * The inner model runs with everything outside the rectangles masked, so it follows
 * its own rules for alpha and masked samples.
 */
import { checkImage, type Image } from '../core/image.js';
import { createRng, deriveSeed } from '../core/rng.js';
import { checkNumber, checkObject, checkOneOf } from '../core/validate.js';
import type { NoiseModel, NoiseModelInfo } from './index.js';
import { resolveNoiseParams, SEED_PARAM, withSamples, type NoiseParamSpec } from './conventions.js';
import { GAUSSIAN_NOISE } from './gaussian.js';
import { POISSON_NOISE } from './poisson.js';
import { POISSON_GAUSSIAN_NOISE } from './poisson-gaussian.js';
import { SALT_AND_PEPPER_NOISE } from './salt-and-pepper.js';
import { PIXEL_MODIFICATION_NOISE } from './pixel-modification.js';

export type PartialInnerModel = Exclude<NoiseModel, 'partial'>;

// typed by the registry's id list, so adding a model to NOISE_MODELS fails to compile until it is listed here
const INNER: { readonly [K in PartialInnerModel]: NoiseModelInfo } = {
  gaussian: GAUSSIAN_NOISE,
  poisson: POISSON_NOISE,
  'poisson-gaussian': POISSON_GAUSSIAN_NOISE,
  'salt-and-pepper': SALT_AND_PEPPER_NOISE,
  'pixel-modification': PIXEL_MODIFICATION_NOISE,
};

/** Models that `partial` can apply: every model but itself. */
export const PARTIAL_INNER_MODELS = Object.keys(INNER) as readonly PartialInnerModel[];

export const DEFAULT_MAX_RECT_SIZE = 0.25;

export interface Rectangle {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PartialNoiseRegionsOptions {
  /** fraction of the image the rectangles' union covers, 0..1 */
  fraction: number;
  /** largest rectangle side as a fraction of the image side (default 0.25) */
  maxRectSize?: number;
  seed?: number;
}

export interface PartialNoiseRegionsResult {
  rectangles: Rectangle[];
  /** 1 for each pixel (row-major, width x height) inside a rectangle */
  covered: Uint8Array;
  /** covered pixels / all pixels */
  fraction: number;
}

export type AddPartialNoiseOptions = {
  /** the model applied inside the rectangles; its own options go alongside */
  inner: PartialInnerModel;
} & PartialNoiseRegionsOptions &
  Record<string, unknown>;

const REGION_PARAMS: readonly NoiseParamSpec[] = [
  {
    name: 'fraction',
    type: 'number',
    min: 0,
    max: 1,
    required: true,
    description: 'fraction of the image covered by the noisy rectangles (their union, to within one rectangle row)',
  },
  {
    name: 'maxRectSize',
    type: 'number',
    above: 0,
    max: 1,
    default: DEFAULT_MAX_RECT_SIZE,
    description:
      "largest rectangle side as a fraction of the image's width (height); sides are uniform from a quarter of it up to it",
  },
  {
    ...SEED_PARAM,
    description: 'seed of the random generator for both the rectangles and the inner noise: the same seed gives the same noise',
  },
];

export const PARTIAL_PARAMS: readonly NoiseParamSpec[] = [
  {
    name: 'inner',
    type: 'enum',
    choices: PARTIAL_INNER_MODELS,
    required: true,
    description:
      "the noise model applied inside the rectangles; that model's own options (except seed) are given alongside, e.g. sigma for 'gaussian'",
  },
  ...REGION_PARAMS,
];

/** The rectangles `addPartialNoise` would use for an image of this size. */
export function partialNoiseRegions(
  width: number,
  height: number,
  options: PartialNoiseRegionsOptions,
): PartialNoiseRegionsResult {
  const fn = 'partialNoiseRegions';
  checkNumber(fn, 'width', width, { integer: true, min: 1 });
  checkNumber(fn, 'height', height, { integer: true, min: 1 });
  const o = resolveNoiseParams(fn, REGION_PARAMS, options);
  return placeRectangles(width, height, o.fraction as number, o.maxRectSize as number, o.seed as number);
}

function placeRectangles(
  width: number,
  height: number,
  fraction: number,
  maxRectSize: number,
  seed: number,
): PartialNoiseRegionsResult {
  const total = width * height;
  const covered = new Uint8Array(total);
  const rectangles: Rectangle[] = [];
  const target = Math.round(fraction * total);
  if (target >= total) {
    covered.fill(1);
    return { rectangles: [{ x: 0, y: 0, width, height }], covered, fraction: 1 };
  }
  const rng = createRng(deriveSeed(seed, 1));
  const maxW = Math.max(1, Math.round(maxRectSize * width));
  const maxH = Math.max(1, Math.round(maxRectSize * height));
  const minW = Math.max(1, Math.ceil(maxW / 4));
  const minH = Math.max(1, Math.ceil(maxH / 4));
  let count = 0;
  while (count < target) {
    // centring on an uncovered pixel guarantees progress; the expected number of tries is
    // total / (total - count) <= 1 / (1 - fraction)
    let p: number;
    do p = rng.int(total);
    while (covered[p]);
    const w = minW + rng.int(maxW - minW + 1);
    const h = minH + rng.int(maxH - minH + 1);
    const px = p % width;
    const py = (p - px) / width;
    const x = Math.min(Math.max(px - (w >> 1), 0), width - w);
    const y = Math.min(Math.max(py - (h >> 1), 0), height - h);
    let rows = 0;
    for (; rows < h; rows++) {
      const row = (y + rows) * width + x;
      let fresh = 0;
      for (let i = row; i < row + w; i++) fresh += 1 - covered[i];
      // the last rectangle stops at the row that brings the union closest to the target
      if (count + fresh > target && count + fresh - target > target - count) break;
      covered.fill(1, row, row + w);
      count += fresh;
      if (count >= target) {
        rows++;
        break;
      }
    }
    if (rows > 0) rectangles.push({ x, y, width: w, height: rows });
    if (rows < h) break;
  }
  return { rectangles, covered, fraction: count / total };
}

export function addPartialNoise(image: Image, options: AddPartialNoiseOptions): Image {
  const fn = 'addPartialNoise';
  checkImage(fn, image);
  const opts = checkObject(fn, 'options', options);
  const innerId = checkOneOf(fn, 'options.inner', opts.inner, PARTIAL_INNER_MODELS);
  const inner = INNER[innerId];
  const passed = inner.params.map((s) => s.name).filter((name) => name !== 'seed');
  const o = resolveNoiseParams(fn, PARTIAL_PARAMS, opts, passed);
  const seed = o.seed as number;
  const { covered } = placeRectangles(image.width, image.height, o.fraction as number, o.maxRectSize as number, seed);
  const { channels } = image;
  const mask = new Uint8Array(image.data.length);
  for (let p = 0, i = 0; p < covered.length; p++) {
    for (let c = 0; c < channels; c++, i++) mask[i] = covered[p] ? (image.mask ? image.mask[i] : 0) : 1;
  }
  const innerOptions: Record<string, unknown> = { seed };
  for (const name of passed) if (opts[name] !== undefined) innerOptions[name] = opts[name];
  const noisy = inner.add({ ...image, mask }, innerOptions);
  return withSamples(image, noisy.data);
}

export const PARTIAL_NOISE: NoiseModelInfo = {
  id: 'partial',
  summary: 'any other noise model applied only inside random rectangles covering a given fraction of the image',
  params: PARTIAL_PARAMS,
  add: (image, options) => addPartialNoise(image, options as AddPartialNoiseOptions),
};
