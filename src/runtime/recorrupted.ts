/**
 * Inference for networks trained by Recorrupted-to-Recorrupted (training/methods/r2r.ts):
 * they saw inputs y + alpha z (z of the noise's sigma), so they are run on such
 * recorruptions of the image and the outputs averaged, each pass in another of the 8
 * symmetries of the square (a self-ensemble). On Set12 01 at a 60 s single-image fit,
 * the symmetries were worth 0.76 dB over 16 plain recorrupted passes (docs/training.md).
 */
import { colourChannels, createImage, type Image } from '../core/image.js';
import { checkNumber } from '../core/validate.js';
import { createRng, deriveSeed } from '../core/rng.js';
import type { HushModelMetadata } from '../models/hush-model.js';

/**
 * One of the 8 symmetries of the square applied to an image (bit 0 flips x, bit 1 flips
 * y, bit 2 transposes), or undone with `inverse` (then `image` is a transformed one).
 * The mask, when present, moves with the samples; other fields are not kept.
 */
export function dihedralImage(image: Image, t: number, inverse = false): Image {
  const { width, height, channels: c } = image;
  const transpose = (t & 4) !== 0;
  // the untransformed size, and the transformed one
  const w = inverse && transpose ? height : width;
  const h = inverse && transpose ? width : height;
  const ow = transpose ? h : w;
  const out = new Float32Array(image.data.length);
  const mask = image.mask ? new Uint8Array(image.mask.length) : undefined;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const fx = t & 1 ? w - 1 - x : x;
      const fy = t & 2 ? h - 1 - y : y;
      const a = (y * w + x) * c;
      const b = ((transpose ? fx : fy) * ow + (transpose ? fy : fx)) * c;
      const [to, from] = inverse ? [a, b] : [b, a];
      for (let k = 0; k < c; k++) {
        out[to + k] = image.data[from + k];
        if (mask) mask[to + k] = image.mask![from + k];
      }
    }
  }
  return inverse ? createImage(w, h, c, out, { mask }) : createImage(ow, transpose ? w : h, c, out, { mask });
}

export interface RecorruptedOptions {
  /** the noise's sigma on the image's scale */
  sigma: number;
  /** recorruption strength of the training (default 0.5) */
  alpha?: number;
  /** passes averaged (default 16: each symmetry twice) */
  passes?: number;
  seed?: number;
  signal?: AbortSignal;
  /** fraction done after each pass */
  onProgress?: (fraction: number) => void;
}

/** The recorrupted inference a model's metadata asks for (models trained by r2r), or undefined. */
export function recorruptionFromMetadata(metadata: HushModelMetadata | undefined): { alpha: number; sigma?: number } | undefined {
  const t = metadata?.training;
  if (!t || t.method !== 'r2r') return undefined;
  const o = (t.methodOptions ?? {}) as Record<string, unknown>;
  const sigma = (t as { sigma?: unknown }).sigma;
  return { alpha: typeof o.alpha === 'number' ? o.alpha : 0.5, sigma: typeof sigma === 'number' ? sigma : undefined };
}

/**
 * Averages `denoise` over `passes` recorruptions y + alpha sigma z of `image`, pass k in
 * symmetry k mod 8 (undone on its output). Noise goes on the colour channels of samples
 * that have data; alpha channels and missing samples come back from the first pass.
 */
export async function recorruptedDenoise(image: Image, denoise: (recorrupted: Image) => Promise<Image>, options: RecorruptedOptions): Promise<Image> {
  const fn = 'recorruptedDenoise';
  const sigma = checkNumber(fn, 'options.sigma', options.sigma, { min: 0 });
  const alpha = checkNumber(fn, 'options.alpha', options.alpha ?? 0.5, { above: 0 });
  const passes = checkNumber(fn, 'options.passes', options.passes ?? 16, { integer: true, min: 1, max: 1024 });
  const rng = createRng(deriveSeed(options.seed ?? 1, 0x5252));
  const { channels } = image;
  const nc = colourChannels(image);
  const acc = new Float64Array(image.data.length);
  let first: Image | undefined;
  const z = new Float32Array(image.data.length);
  for (let k = 0; k < passes; k++) {
    options.signal?.throwIfAborted();
    rng.fillNormal(z, 0, alpha * sigma);
    const y = createImage(image.width, image.height, channels, Float32Array.from(image.data), { mask: image.mask });
    for (let i = 0; i < y.data.length; i++) if (i % channels < nc && !image.mask?.[i]) y.data[i] += z[i];
    const r = dihedralImage(await denoise(dihedralImage(y, k % 8)), k % 8, true);
    if (k === 0) first = r;
    for (let i = 0; i < acc.length; i++) acc[i] += r.data[i];
    options.onProgress?.((k + 1) / passes);
  }
  const out = createImage(image.width, image.height, channels, Float32Array.from(first!.data), { mask: image.mask, source: image.source });
  for (let i = 0; i < acc.length; i++) if (i % channels < nc && !image.mask?.[i]) out.data[i] = acc[i] / passes;
  return out;
}
