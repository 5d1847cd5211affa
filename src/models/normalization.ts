/**
 * How pixel values are mapped before a network sees them and back after. Saving
 * this with the model and applying it in one place (runModel, training) is what
 * prevents the colour shifts and contrast stretching users report when training and
 * inference normalise differently (ImageDenoisingGAN's issues).
 */
import { invalidParameter } from '../core/errors.js';
import { checkNumber, checkObject, checkOneOf } from '../core/validate.js';

export const NORMALIZATION_KINDS = ['none', 'affine', 'standardize'] as const;
export type NormalizationKind = (typeof NORMALIZATION_KINDS)[number];

/**
 * - none: values as they are;
 * - affine: (x - offset) * scale, e.g. offset 0.5, scale 2 for [-1, 1];
 * - standardize: per image, (x - mean) / std (Noise2Same's inputs), undone after.
 */
export type InputNormalization = { kind: 'none' } | { kind: 'affine'; offset: number; scale: number } | { kind: 'standardize' };

export function checkNormalization(fn: string, param: string, value: unknown): InputNormalization {
  const o = checkObject(fn, param, value);
  const kind = checkOneOf(fn, `${param}.kind`, o.kind, NORMALIZATION_KINDS);
  if (kind === 'affine') {
    const scale = checkNumber(fn, `${param}.scale`, o.scale);
    if (scale === 0) throw invalidParameter(fn, `${param}.scale`, 'a finite number other than 0', scale);
    return { kind, offset: checkNumber(fn, `${param}.offset`, o.offset), scale };
  }
  return { kind };
}

/** Normalises `data` in place (per batch item of `itemSize` values) and returns the inverse, also in place. */
export function normalize(data: Float32Array, itemSize: number, n: InputNormalization): (out: Float32Array) => void {
  if (n.kind === 'none') return () => {};
  if (n.kind === 'affine') {
    for (let i = 0; i < data.length; i++) data[i] = (data[i] - n.offset) * n.scale;
    return (out) => {
      for (let i = 0; i < out.length; i++) out[i] = out[i] / n.scale + n.offset;
    };
  }
  const items = data.length / itemSize;
  const stats: { mean: number; std: number }[] = [];
  for (let b = 0; b < items; b++) {
    let sum = 0;
    let sq = 0;
    for (let i = b * itemSize; i < (b + 1) * itemSize; i++) sum += data[i];
    const mean = sum / itemSize;
    for (let i = b * itemSize; i < (b + 1) * itemSize; i++) sq += (data[i] - mean) ** 2;
    const std = Math.sqrt(sq / itemSize) || 1;
    stats.push({ mean, std });
    for (let i = b * itemSize; i < (b + 1) * itemSize; i++) data[i] = (data[i] - mean) / std;
  }
  return (out) => {
    const outItem = out.length / items;
    for (let b = 0; b < items; b++) {
      const { mean, std } = stats[b];
      for (let i = b * outItem; i < (b + 1) * outItem; i++) out[i] = out[i] * std + mean;
    }
  };
}
