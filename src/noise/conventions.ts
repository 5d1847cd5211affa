/**
 * What every noise model shares: the `seed` parameter, parameter resolution with
 * required parameters, and which samples a model may touch (colour samples only;
 * alpha and masked samples are carried through untouched).
 */
import type { Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkNumber, checkObject, checkOneOf } from '../core/validate.js';

/** A ParamSpec that may be marked required (a required parameter has no default). */
export type NoiseParamSpec = ParamSpec & { required?: boolean };

/** The seed every noise model uses when none is given, so that noise is reproducible by default. */
export const DEFAULT_NOISE_SEED = 0;

export const SEED_PARAM: NoiseParamSpec = {
  name: 'seed',
  type: 'number',
  integer: true,
  min: 0,
  max: 4294967295,
  default: DEFAULT_NOISE_SEED,
  description: 'seed of the random generator: the same seed gives the same noise',
};

/**
 * resolveParams plus the required check: a required parameter that is missing is reported
 * with the same text as an invalid one (`... but received undefined.`).
 */
export function resolveNoiseParams(
  fn: string,
  specs: readonly NoiseParamSpec[],
  options: unknown,
  allowExtra: readonly string[] = [],
): Record<string, unknown> {
  const opts = checkObject(fn, 'options', options);
  const out = resolveParams(fn, specs, opts, allowExtra);
  for (const s of specs) {
    if (!s.required || out[s.name] !== undefined) continue;
    const p = `options.${s.name}`;
    if (s.type === 'number') checkNumber(fn, p, undefined, s);
    else if (s.type === 'enum') checkOneOf(fn, p, undefined, s.choices);
  }
  return out;
}

/**
 * 1 where a model must leave the sample alone (alpha channel, masked sample), or
 * undefined when every sample may be noised, so hot loops can skip the lookup.
 */
export function untouchedSamples(image: Image): Uint8Array | undefined {
  const { channels, mask } = image;
  const alpha = channels === 2 || channels === 4;
  if (!alpha && !mask) return undefined;
  const keep = mask ? mask.slice() : new Uint8Array(image.data.length);
  if (alpha) for (let i = channels - 1; i < keep.length; i += channels) keep[i] = 1;
  return keep;
}

/** The image with new samples; every other field (mask, source, fits) is carried over. */
export function withSamples(image: Image, data: Float32Array): Image {
  return { ...image, data };
}

export const NOISE_UNITS = ['pixel', 'sample'] as const;
export type NoiseUnit = (typeof NOISE_UNITS)[number];

export const UNIT_PARAM: NoiseParamSpec = {
  name: 'per',
  type: 'enum',
  choices: NOISE_UNITS,
  default: 'pixel',
  description:
    "'pixel': each pixel is picked (or not) as a whole, every colour channel alike; " +
    "'sample': each colour sample independently (scikit-image's random_noise)",
};
