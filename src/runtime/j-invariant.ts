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
import { createRng, type Rng } from '../core/rng.js';
import { checkNumber, checkOneOf } from '../core/validate.js';
import type { HushModelMetadata } from '../models/hush-model.js';
import { applyMask, gridMask } from '../training/masking.js';

export const J_INVARIANT_REPLACEMENTS = ['interpolate', 'zero', 'neighbour'] as const;
export type JInvariantReplacement = (typeof J_INVARIANT_REPLACEMENTS)[number];

export interface JInvariantOptions {
  /** grid stride w: w^2 passes (default 4) */
  stride?: number;
  /** what masked pixels become: the Noise2Self neighbour mean (default), 0, or a random pixel of the 5x5 neighbourhood (Noise2Void's blind spots; seeded, so the result is repeatable) */
  replacement?: JInvariantReplacement;
  /** called after each pass with the fraction done */
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
}

/**
 * The inference a model's metadata asks for: J-invariant for Noise2Self models unless
 * trained with `inference: 'single'`, with the stride and replacement of their
 * training; undefined (single pass) for every other model.
 */
export function jInvariantFromMetadata(metadata: HushModelMetadata | undefined): { stride: number; replacement: JInvariantReplacement } | undefined {
  const t = metadata?.training;
  if (!t || t.method !== 'n2self') return undefined;
  const o = (t.methodOptions ?? {}) as Record<string, unknown>;
  // 'j-invariant' is the method's default, so models that do not say are taken as J-invariant too
  if (o.inference === 'single') return undefined;
  const stride = typeof o.stride === 'number' ? o.stride : 4;
  const replacement = o.replacement === 'zero' ? 'zero' : 'interpolate';
  return { stride, replacement };
}

/**
 * Runs `denoise` stride^2 times on masked copies of `image` and keeps each output
 * pixel from the pass that masked it. Alpha channels (2 and 4 channels) are carried
 * through from the input untouched. Missing samples (image.mask, NaN) stay missing in
 * every pass (`denoise` sees them as such), are left out of the neighbour means, and
 * come back as they were.
 */
export async function jInvariantDenoise(image: Image, denoise: (masked: Image) => Promise<Image>, options: JInvariantOptions = {}): Promise<Image> {
  const fn = 'jInvariantDenoise';
  const stride = checkNumber(fn, 'options.stride', options.stride ?? 4, { integer: true, min: 1, max: 16 });
  const replacement = checkOneOf(fn, 'options.replacement', options.replacement ?? 'interpolate', J_INVARIANT_REPLACEMENTS);
  // a 'neighbour' copy comes from up to 2 pixels away: at strides 1-2 another masked pixel could copy this one's value
  if (replacement === 'neighbour' && stride < 3) throw invalidParameter(fn, 'options.stride', "at least 3 with replacement 'neighbour' (it copies from the 5x5 window)", stride);
  const { width: w, height: h, channels: c } = image;
  const colour = c === 2 || c === 4 ? c - 1 : c;
  const shape = { n: 1, h, w, c };
  const out = new Float32Array(image.data);
  // samples without data (image.mask, NaN, infinite): never used to fill a masked pixel, and given back as they were
  let missing: Uint8Array | undefined;
  for (let s = 0; s < image.data.length; s++) {
    if (image.mask?.[s] || !Number.isFinite(image.data[s])) (missing ??= new Uint8Array(image.data.length))[s] = 1;
  }
  const rng = createRng(0); // for 'neighbour'; unused by 'interpolate' and 'zero'
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
      const masked = missing ? replaceSkippingMissing(image.data, mask, missing, w, h, c, replacement, rng) : applyMask(image.data, mask, shape, replacement, rng);
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
          for (let k = 0; k < colour; k++) if (!missing?.[o + k]) out[o + k] = res.data[o + k];
        }
      done++;
      options.onProgress?.(done / passes);
    }
  return withData(image, out);
}

const KERNEL = [0.5, 1, 0.5, 1, 0, 1, 0.5, 1, 0.5];

/** The masked pixels replaced from valid neighbours only (the kernel renormalised); the channel's valid mean where none is valid. */
function replaceSkippingMissing(data: Float32Array, mask: Float32Array, missing: Uint8Array, w: number, h: number, c: number, how: JInvariantReplacement, rng: Rng): Float32Array {
  const out = data.slice();
  const means: number[] = [];
  for (let k = 0; k < c; k++) {
    let s = 0;
    let n = 0;
    for (let p = k; p < data.length; p += c) {
      if (!missing[p]) {
        s += data[p];
        n++;
      }
    }
    means.push(n > 0 ? s / n : 0);
  }
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) {
      const o = (y * w + x) * c;
      if (mask[o] === 0) continue;
      for (let k = 0; k < c; k++) {
        if (missing[o + k]) continue;
        if (how === 'zero') {
          out[o + k] = 0;
          continue;
        }
        if (how === 'neighbour') {
          const valid: number[] = [];
          for (let dy = -2; dy <= 2; dy++)
            for (let dx = -2; dx <= 2; dx++) {
              const yy = y + dy;
              const xx = x + dx;
              if ((dy === 0 && dx === 0) || yy < 0 || yy >= h || xx < 0 || xx >= w || missing[(yy * w + xx) * c + k]) continue;
              valid.push(data[(yy * w + xx) * c + k]);
            }
          out[o + k] = valid.length > 0 ? valid[rng.int(valid.length)] : means[k];
          continue;
        }
        let v = 0;
        let wsum = 0;
        for (let dy = -1; dy <= 1; dy++)
          for (let dx = -1; dx <= 1; dx++) {
            const yy = y + dy;
            const xx = x + dx;
            const kw = KERNEL[(dy + 1) * 3 + dx + 1];
            if (kw === 0 || yy < 0 || yy >= h || xx < 0 || xx >= w) continue;
            const q = (yy * w + xx) * c + k;
            if (missing[q]) continue;
            v += kw * data[q];
            wsum += kw;
          }
        out[o + k] = wsum > 0 ? v / wsum : means[k];
      }
    }
  return out;
}
