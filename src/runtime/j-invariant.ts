/**
 * J-invariant inference (Noise2Self, SPEC section 5): a network trained to predict
 * masked pixels from their surroundings is run once per phase of a stride x stride
 * grid mask, on the image with that phase's pixels replaced, and each output pixel is
 * taken from the pass in which it was masked. The result at a pixel never depends on
 * that pixel's own noisy value, which is what the network was trained for.
 *
 * A Noise2Self network run in a single pass sees every pixel unmasked, a situation it
 * got no loss for in training; a residual DnCNN then stays close to the identity
 * (BSD68 sigma 25: 20.6 dB single pass for the table's n2self run, see docs/results.md).
 * The price is stride^2 passes (16 for the default stride 4).
 */
import { invalidParameter } from '../core/errors.js';
import { createImage, withData, type Image } from '../core/image.js';
import { createRng } from '../core/rng.js';
import { checkNumber, checkOneOf } from '../core/validate.js';
import type { HushModelMetadata } from '../models/hush-model.js';
import { applyMask, gridMask } from '../training/masking.js';

export const J_INVARIANT_REPLACEMENTS = ['interpolate', 'zero'] as const;
export type JInvariantReplacement = (typeof J_INVARIANT_REPLACEMENTS)[number];

export interface JInvariantOptions {
  /** grid stride w: w^2 passes (default 4) */
  stride?: number;
  /** what masked pixels become: the Noise2Self neighbour mean (default) or 0 */
  replacement?: JInvariantReplacement;
  /** called after each pass with the fraction done */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/**
 * The inference a model's metadata asks for: J-invariant for Noise2Self models trained
 * with `inference: 'j-invariant'` (their default), with the stride and replacement of
 * their training; undefined (single pass) otherwise.
 */
export function jInvariantFromMetadata(metadata: HushModelMetadata | undefined): { stride: number; replacement: JInvariantReplacement } | undefined {
  const t = metadata?.training;
  if (!t || t.method !== 'n2self') return undefined;
  const o = (t.methodOptions ?? {}) as Record<string, unknown>;
  if (o.inference !== 'j-invariant') return undefined;
  const stride = typeof o.stride === 'number' ? o.stride : 4;
  const replacement = o.replacement === 'zero' ? 'zero' : 'interpolate';
  return { stride, replacement };
}

/**
 * Runs `denoise` stride^2 times on masked copies of `image` and keeps each output
 * pixel from the pass that masked it. Alpha channels (2 and 4 channels) are carried
 * through from the input untouched; missing samples (image.mask) are left to
 * `denoise`, which sees them in every pass.
 */
export async function jInvariantDenoise(image: Image, denoise: (masked: Image) => Promise<Image>, options: JInvariantOptions = {}): Promise<Image> {
  const fn = 'jInvariantDenoise';
  const stride = checkNumber(fn, 'options.stride', options.stride ?? 4, { integer: true, min: 1, max: 16 });
  const replacement = checkOneOf(fn, 'options.replacement', options.replacement ?? 'interpolate', J_INVARIANT_REPLACEMENTS);
  const { width: w, height: h, channels: c } = image;
  const colour = c === 2 || c === 4 ? c - 1 : c;
  const shape = { n: 1, h, w, c };
  const out = new Float32Array(image.data);
  const rng = createRng(0); // unused by 'interpolate' and 'zero'
  const passes = stride * stride;
  let done = 0;
  for (let i = 0; i < stride; i++)
    for (let j = 0; j < stride; j++) {
      options.signal?.throwIfAborted();
      if (i >= h || j >= w) {
        done++;
        continue;
      }
      const mask = gridMask(shape, stride, i, j);
      const masked = applyMask(image.data, mask, shape, replacement, rng);
      // alpha is not an input to mask
      if (colour < c) for (let p = 0; p < w * h; p++) masked[p * c + colour] = image.data[p * c + colour];
      const input: Image = { ...createImage(w, h, c, masked), ...(image.mask ? { mask: image.mask } : {}), ...(image.source ? { source: image.source } : {}) };
      const res = await denoise(input);
      if (res.width !== w || res.height !== h || res.channels !== c) {
        throw invalidParameter(fn, 'denoise', `a function returning a ${w}x${h}x${c} image`, `${res.width}x${res.height}x${res.channels}`);
      }
      for (let y = i; y < h; y += stride)
        for (let x = j; x < w; x += stride) {
          const o = (y * w + x) * c;
          for (let k = 0; k < colour; k++) out[o + k] = res.data[o + k];
        }
      done++;
      options.onProgress?.(done / passes);
    }
  return withData(image, out);
}
