/**
 * Display stretches that map physical values (FITS, float TIFF, NPY) onto [0,1]
 * for 8/16-bit outputs: linear min-max, asinh (Lupton et al. 2004) and IRAF's
 * zscale (as in astropy.visualization.ZScaleInterval).
 */
import { withData, type Image } from '../core/image.js';

export const STRETCHES = ['none', 'linear', 'asinh', 'zscale'] as const;
export type Stretch = (typeof STRETCHES)[number];

export interface StretchOptions {
  /** asinh softening: larger values compress bright parts more (default 10) */
  asinhBeta?: number;
}

function finiteSamples(image: Image): Float32Array {
  const { data, mask } = image;
  const out = new Float32Array(data.length);
  let n = 0;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (Number.isFinite(v) && !(mask && mask[i])) out[n++] = v;
  }
  return out.subarray(0, n);
}

/** IRAF zscale limits: a line fitted to sorted samples, with rejection, contrast 0.25. */
export function zscaleLimits(image: Image, nSamples = 1000, contrast = 0.25): { lo: number; hi: number } {
  const all = finiteSamples(image);
  if (all.length === 0) return { lo: 0, hi: 1 };
  const stride = Math.max(1, Math.floor(all.length / nSamples));
  const s: number[] = [];
  for (let i = 0; i < all.length && s.length < nSamples; i += stride) s.push(all[i]);
  s.sort((a, b) => a - b);
  const npix = s.length;
  const lo0 = s[0];
  const hi0 = s[npix - 1];
  const center = Math.floor((npix - 1) / 2);
  const median = npix % 2 ? s[center] : 0.5 * (s[center] + s[center + 1]);
  const minpix = Math.max(5, Math.floor(npix * 0.5));
  const krej = 2.5;
  const maxIterations = 5;
  const good = new Uint8Array(npix).fill(1);
  let ngood = npix;
  let slope = 0;
  let intercept = median;
  for (let it = 0; it < maxIterations && ngood >= minpix; it++) {
    let sx = 0, sy = 0, sxx = 0, sxy = 0, n = 0;
    for (let i = 0; i < npix; i++) {
      if (!good[i]) continue;
      sx += i; sy += s[i]; sxx += i * i; sxy += i * s[i]; n++;
    }
    const den = n * sxx - sx * sx;
    if (den === 0) break;
    slope = (n * sxy - sx * sy) / den;
    intercept = (sy - slope * sx) / n;
    let ss = 0;
    for (let i = 0; i < npix; i++) if (good[i]) ss += (s[i] - (intercept + slope * i)) ** 2;
    const sigma = Math.sqrt(ss / n);
    const thr = krej * sigma;
    let changed = 0;
    ngood = 0;
    for (let i = 0; i < npix; i++) {
      const ok = Math.abs(s[i] - (intercept + slope * i)) <= thr;
      if (ok !== !!good[i]) changed++;
      good[i] = ok ? 1 : 0;
      ngood += good[i];
    }
    if (changed === 0) break;
  }
  if (ngood < minpix) return { lo: lo0, hi: hi0 };
  const sl = slope / contrast;
  return { lo: Math.max(lo0, median - (center - 1) * sl), hi: Math.min(hi0, median + (npix - center) * sl) };
}

export function stretchLimits(image: Image, stretch: Exclude<Stretch, 'none'>): { lo: number; hi: number } {
  if (stretch === 'zscale') return zscaleLimits(image);
  let lo = Infinity;
  let hi = -Infinity;
  const { data, mask } = image;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v) || (mask && mask[i])) continue;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return lo <= hi ? { lo, hi } : { lo: 0, hi: 1 };
}

/** Maps colour channels onto [0,1]; alpha (channel 2 of 2, 4 of 4) is left as it is. */
export function applyStretch(image: Image, stretch: Stretch, options: StretchOptions = {}): Image {
  if (stretch === 'none') return image;
  const { lo, hi } = stretchLimits(image, stretch);
  const span = hi > lo ? hi - lo : 1;
  const beta = options.asinhBeta ?? 10;
  const norm = Math.asinh(beta);
  const { data, channels, mask } = image;
  const out = new Float32Array(data.length);
  const alpha = channels === 2 || channels === 4 ? channels - 1 : -1;
  for (let i = 0; i < data.length; i++) {
    if (i % channels === alpha) {
      out[i] = data[i];
      continue;
    }
    const v = data[i];
    if (!Number.isFinite(v) || (mask && mask[i])) {
      out[i] = 0;
      continue;
    }
    let t = (v - lo) / span;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    out[i] = stretch === 'asinh' ? Math.asinh(beta * t) / norm : t;
  }
  // The stretched values are new: drop the float64 originals and any FITS integer scaling,
  // so a FITS written from them is float and not clamped into the source's BITPIX.
  const fits = image.fits ? { ...image.fits, bitpix: -32 as const, bscale: 1, bzero: 0, blank: undefined } : undefined;
  return { ...withData(image, out), exact: undefined, fits, source: image.source ? { ...image.source, scale: 'unit' } : undefined };
}
