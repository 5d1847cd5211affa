/**
 * Poisson-Gaussian CCD noise, in electrons, as the astronomy paper of SPEC section 1
 * uses it to simulate an exposure r times shorter than a real one (the standard CCD
 * noise budget: shot noise, dark current, read-out noise; Janesick, "Scientific
 * Charge-Coupled Devices", SPIE 2001). For an image in e-/s with exposure time t:
 * S = Pois(img * t / r), D = N(0, sqrt(dk * t / (3600 r))), R = N(0, ron), and the
 * noisy image in e-/s is (S + D + R) / (t / r). Defaults dk = 7 e-/hour/pixel and
 * ron = 3 e- are the HST WFC3/UVIS values the paper uses.
 */
import { checkImage, type Image } from '../core/image.js';
import { invalidParameter } from '../core/errors.js';
import { createRng } from '../core/rng.js';
import type { NoiseModelInfo } from './index.js';
import { resolveNoiseParams, SEED_PARAM, untouchedSamples, withSamples, type NoiseParamSpec } from './conventions.js';

export const DEFAULT_DARK_CURRENT = 7;
export const DEFAULT_READ_NOISE = 3;

export interface AddPoissonGaussianNoiseOptions {
  /** exposure time t in seconds; defaults to the image's FITS EXPTIME card */
  exposureTime?: number;
  /** exposure-time ratio r >= 1: simulate an exposure r times shorter (default 1) */
  ratio?: number;
  /** dark current dk in e-/hour/pixel (default 7) */
  darkCurrent?: number;
  /** read-out noise ron in e- (default 3) */
  readNoise?: number;
  seed?: number;
}

export const POISSON_GAUSSIAN_PARAMS: readonly NoiseParamSpec[] = [
  {
    name: 'exposureTime',
    type: 'number',
    above: 0,
    description:
      "exposure time t of the source image in seconds; when left out, taken from the image's FITS EXPTIME card (the image must be in e-/s)",
  },
  {
    name: 'ratio',
    type: 'number',
    min: 1,
    default: 1,
    description: 'exposure-time ratio r >= 1: the noisy image simulates an exposure of t / r seconds',
  },
  {
    name: 'darkCurrent',
    type: 'number',
    min: 0,
    default: DEFAULT_DARK_CURRENT,
    description: 'dark current dk in e-/hour/pixel (HST WFC3/UVIS: 7); adds N(0, sqrt(dk * t / (3600 r))) electrons',
  },
  {
    name: 'readNoise',
    type: 'number',
    min: 0,
    default: DEFAULT_READ_NOISE,
    description: 'read-out noise ron in electrons (HST WFC3/UVIS: 3); adds N(0, ron) electrons',
  },
  SEED_PARAM,
];

/**
 * EXPTIME from the FITS header cards: a number, the text of a value that is not one
 * (for the error message), or undefined when there is no such card.
 */
export function fitsExposureTime(image: Image): unknown {
  for (const card of image.fits?.cards ?? []) {
    if (card.slice(0, 8).trimEnd() !== 'EXPTIME' || card.slice(8, 10) !== '= ') continue;
    const rest = card.slice(10).trim();
    // a quoted string ('300.0' is read as a number, as astropy's lenient parsing does), else up to the comment
    const quoted = /^'((?:[^']|'')*)'/.exec(rest);
    const text = quoted ? quoted[1].replace(/''/g, "'").trim() : rest.split('/')[0].trim();
    const v = Number(text.replace(/[dD]/, 'E'));
    return text === '' || Number.isNaN(v) ? text : v;
  }
  return undefined;
}

export function addPoissonGaussianNoise(image: Image, options: AddPoissonGaussianNoiseOptions = {}): Image {
  const fn = 'addPoissonGaussianNoise';
  checkImage(fn, image);
  const o = resolveNoiseParams(fn, POISSON_GAUSSIAN_PARAMS, options);
  let t = o.exposureTime as number | undefined;
  if (t === undefined) {
    const fromHeader = fitsExposureTime(image);
    if (fromHeader === undefined) {
      throw invalidParameter(
        fn,
        'options.exposureTime',
        'a finite number above 0',
        undefined,
        'The image has no FITS EXPTIME card to take it from.',
      );
    }
    if (typeof fromHeader !== 'number' || !Number.isFinite(fromHeader) || fromHeader <= 0) {
      throw invalidParameter(fn, 'the FITS EXPTIME card', 'a finite number above 0', fromHeader, 'Pass options.exposureTime.');
    }
    t = fromHeader;
  }
  const r = o.ratio as number;
  const dk = o.darkCurrent as number;
  const ron = o.readNoise as number;
  const tr = t / r;
  // D and R are independent zero-mean normals, so one draw with the summed variance has the same law
  const sdDarkRead = Math.sqrt((dk * t) / (3600 * r) + ron * ron);
  const rng = createRng(o.seed as number);
  const src = image.data;
  const out = new Float32Array(src.length);
  const keep = untouchedSamples(image);
  for (let i = 0; i < src.length; i++) {
    const x = src[i];
    // exactly 0 means "no data" in these images and stays 0; negative values are clipped to 0
    // for the shot noise only, so sky-subtracted background keeps its dark and read noise
    if ((keep && keep[i]) || x === 0 || !Number.isFinite(x)) out[i] = x;
    else out[i] = (rng.poisson(x > 0 ? x * tr : 0) + sdDarkRead * rng.normal()) / tr;
  }
  return withSamples(image, out);
}

export const POISSON_GAUSSIAN_NOISE: NoiseModelInfo = {
  id: 'poisson-gaussian',
  summary:
    'CCD noise in electrons for an image in e-/s: shot noise Pois(x t / r) + dark current + read-out noise, divided by t / r (simulates an exposure r times shorter)',
  params: POISSON_GAUSSIAN_PARAMS,
  add: (image, options) => addPoissonGaussianNoise(image, options as unknown as AddPoissonGaussianNoiseOptions),
};
