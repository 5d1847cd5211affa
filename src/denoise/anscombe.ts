/**
 * Variance stabilisation for Poisson and Poisson-Gaussian noise, so any Gaussian
 * denoiser handles photon-limited images: the Anscombe transform 2 sqrt(z + 3/8)
 * (Anscombe, Biometrika 1948) and its generalisation to Poisson-Gaussian noise,
 * 2 sqrt(z + 3/8 + s^2) for counts z with Gaussian noise of s counts (Murtagh, Starck &
 * Bijaoui 1995), inverted with Makitalo & Foi's closed-form approximation of the exact
 * unbiased inverse ("A closed-form approximation of the exact unbiased inverse of the
 * Anscombe variance-stabilizing transformation", IEEE TIP 20(9), 2011; "Optimal
 * inversion of the generalized Anscombe transformation for Poisson-Gaussian noise",
 * IEEE TIP 22(1), 2013), which removes the bias of the algebraic inverse at low counts.
 *
 * Images are on hush's usual scale with `peak` photons at value 1 (the convention of
 * addPoissonNoise: y = Pois(x * peak) / peak), and `sigma` is the Gaussian part's
 * standard deviation on the same scale.
 */
import { checkImage, colourChannels, withData, type Image } from '../core/image.js';
import { invalidParameter } from '../core/errors.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';

export const ANSCOMBE_INVERSES = ['unbiased', 'algebraic'] as const;
export type AnscombeInverse = (typeof ANSCOMBE_INVERSES)[number];

export interface AnscombeOptions {
  /** expected photon count where the image is 1 (default 1: the values are counts) */
  peak?: number;
  /** standard deviation of additive Gaussian noise on the image's scale (default 0: pure Poisson) */
  sigma?: number;
}

export interface AnscombeInverseOptions extends AnscombeOptions {
  /** 'unbiased' (default): Makitalo & Foi's closed form; 'algebraic': (D/2)^2 - 3/8 - s^2, biased at low counts */
  inverse?: AnscombeInverse;
}

export const ANSCOMBE_PARAMS: readonly ParamSpec[] = [
  { name: 'peak', type: 'number', above: 0, default: 1, description: 'expected photon count where the image is 1 (1: the values are counts)' },
  {
    name: 'sigma',
    type: 'number',
    min: 0,
    default: 0,
    description: 'standard deviation of the additive Gaussian part on the image scale (0: pure Poisson); > 0 gives the generalised Anscombe transform',
  },
];

const INVERSE_PARAM: ParamSpec = {
  name: 'inverse',
  type: 'enum',
  choices: ANSCOMBE_INVERSES,
  default: 'unbiased',
  description: "'unbiased': Makitalo & Foi's closed-form approximation of the exact unbiased inverse; 'algebraic': the plain inverse (biased at low counts)",
};

const SQRT_3_2 = Math.sqrt(1.5);

/** Generalised Anscombe transform of a count z with Gaussian noise of s counts: 2 sqrt(max(0, z + 3/8 + s^2)). */
export function anscombe(z: number, s = 0): number {
  const v = z + 0.375 + s * s;
  return v > 0 ? 2 * Math.sqrt(v) : 0;
}

/** 2 sqrt(3/8): the transform of 0 counts, the smallest value E[f(z)] takes. */
const D_ZERO = 2 * Math.sqrt(0.375);

/**
 * Makitalo & Foi's closed-form approximation of the exact unbiased inverse, in counts:
 * D^2/4 + sqrt(3/2)/(4D) - 11/(8D^2) + 5 sqrt(3/2)/(8D^3) - 1/8 - s^2, clipped at 0. The
 * polynomial is 0 at D = 2 sqrt(3/8) and increasing above; below that point (values no
 * expectation of the transform can take) it is taken as 0 rather than following the
 * D^-3 term back up.
 */
export function anscombeInverseUnbiased(d: number, s = 0): number {
  if (!(d > D_ZERO)) return 0;
  const i1 = 1 / d;
  const i2 = i1 * i1;
  const v = 0.25 * d * d + 0.25 * SQRT_3_2 * i1 - 1.375 * i2 + 0.625 * SQRT_3_2 * i2 * i1 - 0.125 - s * s;
  return v > 0 ? v : 0;
}

/** The algebraic inverse (D/2)^2 - 3/8 - s^2 (not clipped: it is the exact inverse of the transform where that is positive). */
export function anscombeInverseAlgebraic(d: number, s = 0): number {
  return 0.25 * d * d - 0.375 - s * s;
}

function resolve(fn: string, options: unknown, extra: readonly ParamSpec[] = []): { peak: number; sigma: number; inverse?: AnscombeInverse } {
  return resolveParams(fn, [...ANSCOMBE_PARAMS, ...extra], checkObject(fn, 'options', options)) as { peak: number; sigma: number; inverse?: AnscombeInverse };
}

/** Applies `f` to every colour sample that is present (alpha, masked and non-finite samples are kept). */
function mapColour(image: Image, f: (v: number) => number): Image {
  const { data, channels, mask } = image;
  const nc = colourChannels(image);
  const out = data.slice();
  for (let i = 0; i < data.length; i++) {
    if (i % channels >= nc || (mask && mask[i]) || !Number.isFinite(data[i])) continue;
    out[i] = f(data[i]);
  }
  return withData(image, out);
}

/**
 * Forward (generalised) Anscombe transform of an image: each colour sample x becomes
 * 2 sqrt(max(0, x peak + 3/8 + (sigma peak)^2)), whose noise is close to N(0, 1).
 */
export function anscombeForward(image: Image, options: AnscombeOptions = {}): Image {
  const fn = 'anscombeForward';
  checkImage(fn, image);
  const { peak, sigma } = resolve(fn, options);
  const s = sigma * peak;
  return mapColour(image, (x) => anscombe(x * peak, s));
}

/** Inverse of anscombeForward, back to the image scale (the unbiased closed form by default). */
export function anscombeInverse(image: Image, options: AnscombeInverseOptions = {}): Image {
  const fn = 'anscombeInverse';
  checkImage(fn, image);
  const { peak, sigma, inverse } = resolve(fn, options, [INVERSE_PARAM]);
  const s = sigma * peak;
  const inv = inverse === 'algebraic' ? anscombeInverseAlgebraic : anscombeInverseUnbiased;
  return mapColour(image, (d) => inv(d, s) / peak);
}

/** A Gaussian denoiser: the image and its noise standard deviation on the image's scale. */
export type GaussianDenoiser = (image: Image, sigma: number) => Promise<Image> | Image;

export interface DenoiseWithAnscombeOptions {
  /** expected photon count where the image is 1 */
  peak: number;
  /** Gaussian part of Poisson-Gaussian noise, on the image scale (default 0) */
  sigma?: number;
}

/**
 * Denoises Poisson (or Poisson-Gaussian) noise with a Gaussian denoiser: forward
 * transform, scaled so that the transform of value 1 is 1 (so denoisers with 0..1
 * thresholds see a [0,1] image, and the noise sigma is 1 / that transform), denoise,
 * scale back, unbiased inverse.
 *   denoiseWithAnscombe(img, (im, s) => denoiseBm3d(im, { sigma: s }), { peak: 10 })
 */
export async function denoiseWithAnscombe(image: Image, denoiser: GaussianDenoiser, options: DenoiseWithAnscombeOptions): Promise<Image> {
  const fn = 'denoiseWithAnscombe';
  checkImage(fn, image);
  if (typeof denoiser !== 'function') throw invalidParameter(fn, 'denoiser', 'a function (image, sigma) => Image', denoiser);
  const opts = checkObject(fn, 'options', options);
  if (opts.peak === undefined) throw invalidParameter(fn, 'options.peak', 'a finite number above 0', undefined);
  const { peak, sigma } = resolve(fn, opts);
  const s = sigma * peak;
  const top = anscombe(peak, s);
  const forward = mapColour(image, (x) => anscombe(x * peak, s) / top);
  const den = await denoiser(forward, 1 / top);
  checkImage(fn, den, 'the denoiser result');
  if (den.width !== image.width || den.height !== image.height || den.channels !== image.channels) {
    throw invalidParameter(fn, 'the denoiser result', `an image of ${image.width}x${image.height}x${image.channels}`, den);
  }
  // take the denoised transform only where the input had a sample to transform
  const { data, channels, mask } = image;
  const nc = colourChannels(image);
  const out = data.slice();
  for (let i = 0; i < data.length; i++) {
    if (i % channels >= nc || (mask && mask[i]) || !Number.isFinite(data[i])) continue;
    out[i] = anscombeInverseUnbiased(den.data[i] * top, s) / peak;
  }
  return withData(image, out);
}
