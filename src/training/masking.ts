/**
 * The masks of self-supervised training (SPEC section 5), on NHWC patch batches:
 * - grid masks (Noise2Self): the pixels (y, x) with y mod w = i and x mod w = j, one
 *   of the w^2 phases per batch, or random masks of a given density;
 * - blind spots (Noise2Void, Noise2Same): one random pixel per box x box cell
 *   (box 14 gives about 0.5 % of the pixels), stratified so they spread evenly.
 * and the replacements of the masked pixels:
 * - 'interpolate': the weighted mean of the 8 neighbours with the Noise2Self kernel
 *   [[0.5 1 0.5] [1 0 1] [0.5 1 0.5]] / 6 (the centre is excluded);
 * - 'zero';
 * - 'neighbour': a random pixel of the 5x5 neighbourhood other than the centre (N2V);
 * - 'gaussian': mean + std * N(0, 0.2^2) with the patch's mean and std, i.e.
 *   N(0, 0.2^2) on standardised data (Noise2Same);
 * - 'donut': the mean of the 8 neighbours (Noise2Same's alternative).
 * All masks are 1 on masked pixels and have the batch's NHWC shape (all channels of
 * a masked pixel are masked together).
 */
import type { Rng } from '../core/rng.js';

export const MASK_REPLACEMENTS = ['interpolate', 'zero', 'neighbour', 'gaussian', 'donut'] as const;
export type MaskReplacement = (typeof MASK_REPLACEMENTS)[number];

export interface BatchShape {
  n: number;
  h: number;
  w: number;
  c: number;
}

/** Grid mask of stride `stride` and phase (i, j) (0 <= i, j < stride). */
export function gridMask(shape: BatchShape, stride: number, i: number, j: number): Float32Array {
  const { n, h, w, c } = shape;
  const mask = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++)
    for (let y = i; y < h; y += stride)
      for (let x = j; x < w; x += stride) {
        const o = ((b * h + y) * w + x) * c;
        for (let k = 0; k < c; k++) mask[o + k] = 1;
      }
  return mask;
}

/** Random mask: every pixel masked with probability `density`. */
export function randomMask(shape: BatchShape, density: number, rng: Rng): Float32Array {
  const { n, h, w, c } = shape;
  const mask = new Float32Array(n * h * w * c);
  for (let p = 0; p < n * h * w; p++) {
    if (rng.next() < density) for (let k = 0; k < c; k++) mask[p * c + k] = 1;
  }
  return mask;
}

/** One random pixel per box x box cell (cells cut by the patch border still get one). */
export function blindSpotMask(shape: BatchShape, box: number, rng: Rng): Float32Array {
  const { n, h, w, c } = shape;
  const mask = new Float32Array(n * h * w * c);
  for (let b = 0; b < n; b++)
    for (let y0 = 0; y0 < h; y0 += box)
      for (let x0 = 0; x0 < w; x0 += box) {
        const y = y0 + rng.int(Math.min(box, h - y0));
        const x = x0 + rng.int(Math.min(box, w - x0));
        const o = ((b * h + y) * w + x) * c;
        for (let k = 0; k < c; k++) mask[o + k] = 1;
      }
  return mask;
}

const INTERPOLATE_KERNEL = [0.5, 1, 0.5, 1, 0, 1, 0.5, 1, 0.5].map((v) => v / 6);
const DONUT_KERNEL = [1, 1, 1, 1, 0, 1, 1, 1, 1].map((v) => v / 8);

/** `x` with its masked pixels replaced as `how` says (a new array; x is not changed). */
export function applyMask(x: Float32Array, mask: Float32Array, shape: BatchShape, how: MaskReplacement, rng: Rng): Float32Array {
  const { n, h, w, c } = shape;
  const out = x.slice();
  // reflect at the patch border (excluding the edge sample), clamped for patches of 1-2 pixels
  const reflect = (v: number, n: number) => Math.min(Math.max(v < 0 ? -v : v >= n ? 2 * n - 2 - v : v, 0), n - 1);
  const at = (b: number, y: number, xx: number, k: number) => x[((b * h + reflect(y, h)) * w + reflect(xx, w)) * c + k];
  for (let b = 0; b < n; b++) {
    let mean = 0;
    let sd = 1;
    if (how === 'gaussian') {
      let s = 0;
      let s2 = 0;
      const base = b * h * w * c;
      const count = h * w * c;
      for (let i = 0; i < count; i++) {
        s += x[base + i];
        s2 += x[base + i] * x[base + i];
      }
      mean = s / count;
      sd = Math.sqrt(Math.max(s2 / count - mean * mean, 0));
    }
    for (let y = 0; y < h; y++)
      for (let xx = 0; xx < w; xx++) {
        const o = ((b * h + y) * w + xx) * c;
        if (mask[o] === 0) continue;
        if (how === 'neighbour' && h * w > 1) {
          // a random pixel of the 5x5 window other than the centre, also after reflection at the border
          let sy = y;
          let sx = xx;
          while (sy === y && sx === xx) {
            sy = reflect(y + rng.int(5) - 2, h);
            sx = reflect(xx + rng.int(5) - 2, w);
          }
          for (let k = 0; k < c; k++) out[o + k] = x[((b * h + sy) * w + sx) * c + k];
          continue;
        }
        for (let k = 0; k < c; k++) {
          if (how === 'zero') out[o + k] = 0;
          else if (how === 'gaussian') out[o + k] = mean + sd * 0.2 * rng.normal();
          else {
            const kernel = how === 'interpolate' ? INTERPOLATE_KERNEL : DONUT_KERNEL;
            let v = 0;
            for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) v += kernel[(dy + 1) * 3 + dx + 1] * at(b, y + dy, xx + dx, k);
            out[o + k] = v;
          }
        }
      }
  }
  return out;
}
