/**
 * Non-local means (Buades, Coll & Morel, "A non-local algorithm for image
 * denoising", CVPR 2005): each pixel becomes an average of the pixels within
 * `patchDistance`, weighted by exp(-d^2 / h^2) where d^2 is the mean squared
 * difference between the patches of `patchSize` around them. With the noise level
 * `sigma` given, the expected noise contribution 2 sigma^2 is taken off d^2 first
 * (Buades et al., IPOL 2011). It reproduces scikit-image 0.19's `denoise_nl_means`:
 *
 * - 'fast' (skimage fast_mode=True): the shift-outer algorithm of Darbon et al.
 *   ("Fast nonlocal filtering applied to electron cryomicroscopy", ISBI 2008; Froment,
 *   IPOL 2014): for each shift, one pass of running box sums of the squared
 *   differences gives every patch distance at once, each pair is visited once and
 *   credited to both pixels. All pixels of the patch weigh the same; as in skimage the
 *   summed window is (patchSize - 1)^2 pixels, offsets -r+1..r around the centre, and
 *   the normalisation uses patchSize^2. The image is padded by numpy 'reflect', so
 *   pixels near the border compare patches with mirrored neighbours.
 * - 'exact' (skimage fast_mode=False): the pixel-outer algorithm with Gaussian patch
 *   weights (standard deviation (patchSize - 1) / 4); the search window is clipped at
 *   the image border and patches read a 'reflect'-padded image.
 *
 * Weights use skimage's exponential (Schraudolph's bit trick, about 3% below exp),
 * distances over 5 give weight 0, and `h` is on the image's own value scale (0.1 on
 * a [0,1] image, as skimage's default). In 'fast' mode the squared differences are
 * summed in exact integer arithmetic (scaled by a power of two), so a tile sees the
 * same distances as the whole image and tiled results equal untiled ones exactly.
 */
import { checkImage, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { applyToColour, colourStats, filledColour, mirrorIndex, missingSamples, runLocalDenoiser } from './filters.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';

const FN = 'denoiseNlMeans';

export const NL_MEANS_MODES = ['fast', 'exact'] as const;
export type NlMeansMode = (typeof NL_MEANS_MODES)[number];

export interface DenoiseNlMeansOptions {
  /** cut-off on the image's value scale: larger is smoother (default 0.1, skimage's) */
  h?: number;
  /** odd patch side in pixels (default 7) */
  patchSize?: number;
  /** search radius in pixels: neighbours within +-patchDistance (default 11) */
  patchDistance?: number;
  /** noise standard deviation; when above 0, 2 sigma^2 is taken off patch distances (default 0) */
  sigma?: number;
  /** 'fast' (default, uniform patch weights, integral sums) or 'exact' (Gaussian patch weights) */
  mode?: NlMeansMode;
}

export const NL_MEANS_PARAMS: readonly ParamSpec[] = [
  { name: 'h', type: 'number', above: 0, default: 0.1, description: "cut-off distance on the image's value scale; higher is smoother (about 0.8 sigma with sigma given in 'fast' mode, 0.6 sigma in 'exact')" },
  { name: 'patchSize', type: 'number', odd: true, min: 3, max: 21, default: 7, description: 'side of the square patches compared, in pixels' },
  { name: 'patchDistance', type: 'number', integer: true, min: 1, max: 50, default: 11, description: 'search radius in pixels: patches centred within +-patchDistance are compared' },
  { name: 'sigma', type: 'number', min: 0, default: 0, description: 'noise standard deviation; when given, 2 sigma^2 is taken off the patch distances (scikit-image)' },
  { name: 'mode', type: 'enum', choices: NL_MEANS_MODES, default: 'fast', description: "'fast': uniform patch weights, cost independent of patchSize (skimage fast_mode=True); 'exact': Gaussian patch weights" },
];

interface NlMeansParams {
  h: number;
  patchSize: number;
  patchDistance: number;
  sigma: number;
  mode: NlMeansMode;
}

/** Tile options: the parameters plus the fixed-point scale of the whole image. */
export interface NlMeansTileOptions extends NlMeansParams {
  scale: number;
}

function params(options: unknown): NlMeansParams {
  return resolveParams(FN, NL_MEANS_PARAMS, checkObject(FN, 'options', options)) as unknown as NlMeansParams;
}

/** Pixels of context a tile needs: the search radius plus the patch radius. */
export function nlMeansReach(patchSize: number, patchDistance: number): number {
  return patchDistance + (patchSize >> 1);
}

// ---------------------------------------------------------------------------
// scikit-image's _fast_exp (skimage/_shared/fast_exp.h): Schraudolph 1999, the high
// word of a double set to trunc(2^20/ln2 * y) + 1072632447, the low word 0.

// 2^20 / ln 2 (skimage writes 1512775.3951951856938, the same double)
const EXP_A = 1512775.3951951857;
const EXP_BC = 1072632447;
/** POW2[e] = 2^(e - 1023): the value of a double's exponent field e */
const POW2 = Float64Array.from({ length: 2047 }, (_, e) => 2 ** (e - 1023));
const MANTISSA_UNIT = 2 ** -20;

/**
 * skimage's fast exp for -708 < y <= 0 (the only range it is used on here). The
 * double is built arithmetically from its high word (exponent, 20 mantissa bits),
 * bit for bit the same as skimage's union, without a store-to-load round trip.
 */
export function fastExp(y: number): number {
  const n = ((EXP_A * y) | 0) + EXP_BC;
  return POW2[n >> 20] * (1 + (n & 0xfffff) * MANTISSA_UNIT);
}

// ---------------------------------------------------------------------------

const DISTANCE_CUTOFF = 5;
const TWO52 = 4503599627370496;

/**
 * Power of two by which squared differences are scaled before rounding to integers,
 * chosen so that a window sum of (patchSize - 1)^2 of them stays below 2^52 and
 * adds exactly. It depends on the whole image's range, so tiles use the whole
 * image's scale.
 */
export function fixedPointScale(range: number, patchSize: number, nc: number): number {
  const win = patchSize - 1;
  const maxSum = win * win * nc * range * range;
  if (!(maxSum > 0) || !Number.isFinite(maxSum)) return 1;
  let k = Math.floor(Math.log2(TWO52 / maxSum));
  k = Math.max(-1000, Math.min(1000, k));
  while (k > -1000 && maxSum * 2 ** k > TWO52) k--;
  return 2 ** k;
}

/** numpy.pad(mode='reflect') of interleaved samples by `pad` on every side, as float64. */
function padReflect(src: Float32Array, width: number, height: number, nc: number, pad: number): Float64Array {
  const wp = width + 2 * pad;
  const hp = height + 2 * pad;
  const out = new Float64Array(wp * hp * nc);
  const xmap = new Int32Array(wp);
  for (let x = 0; x < wp; x++) xmap[x] = mirrorIndex(x - pad, width);
  for (let y = 0; y < hp; y++) {
    const sy = mirrorIndex(y - pad, height) * width;
    for (let x = 0; x < wp; x++) {
      const s = (sy + xmap[x]) * nc;
      const d = (y * wp + x) * nc;
      for (let c = 0; c < nc; c++) out[d + c] = src[s + c];
    }
  }
  return out;
}

/** State of one shift pass, shared by the grey and colour kernels. */
interface ShiftPass {
  x: Float64Array;
  wsum: Float64Array;
  acc: Float64Array;
  colSum: Float64Array;
  ring: Float64Array;
  wp: number;
  o: number;
  win: number;
  scale: number;
  invScale: number;
  K: number;
  inv: number;
  dReject: number;
}

/**
 * One shift t = (tr, tc) of the fast algorithm on a grey image: window sums of the
 * squared differences between the image and the image shifted by t, slid down one
 * row at a time (a column-sum buffer plus a ring of the last patchSize - 1 rows) and
 * along each row, then the weight of each pair credited to both of its pixels.
 * Squared differences are scaled by a power of two and rounded to integers, so the
 * sums are exact and do not depend on where the slide started.
 */
function shiftGrey(st: ShiftPass, ay0: number, ay1: number, ax0: number, ax1: number, pairOff: number): void {
  const { x, wsum, acc, colSum, ring, wp, o, win, scale, invScale, K, inv, dReject } = st;
  const ex0 = ax0 - o + 1;
  const aw = ax1 - ax0;
  const ew = aw + win - 1;
  colSum.fill(0, 0, ew);
  for (let k = 0; k < win; k++) {
    const base = (ay0 - o + 1 + k) * wp + ex0;
    const rb = k * ew;
    for (let j = 0; j < ew; j++) {
      const t = x[base + j] - x[base + j + pairOff];
      const q = t * t * scale + TWO52 - TWO52;
      ring[rb + j] = q;
      colSum[j] += q;
    }
  }
  let slot = 0;
  for (let ay = ay0; ay < ay1; ay++) {
    const last = ay + 1 === ay1;
    // the row entering the window for the next reference row, and the ring slot of the one leaving it
    const base = (ay + o + 1) * wp + ex0;
    const rb = slot * ew;
    const rowBase = ay * wp + ax0;
    let D = 0;
    for (let j = 0; j < win - 1; j++) D += colSum[j];
    for (let j = 0; j < aw; j++) {
      const cj = colSum[j];
      D += colSum[j + win - 1];
      const Dj = D;
      D -= cj;
      // column j is done with for this row: slide it down now, while it is in a register
      if (!last) {
        const t = x[base + j] - x[base + j + pairOff];
        const q = t * t * scale + TWO52 - TWO52;
        colSum[j] = cj + (q - ring[rb + j]);
        ring[rb + j] = q;
      }
      if (Dj > dReject) continue;
      let dist = (Dj * invScale - K) * inv;
      if (dist > DISTANCE_CUTOFF) continue;
      if (dist < 0) dist = 0;
      const n = ((EXP_A * -dist) | 0) + EXP_BC;
      const w = POW2[n >> 20] * (1 + (n & 0xfffff) * MANTISSA_UNIT);
      const a = rowBase + j;
      const b = a + pairOff;
      wsum[a] += w;
      wsum[b] += w;
      acc[a] += w * x[b];
      acc[b] += w * x[a];
    }
    if (last) break;
    for (let j = aw; j < ew; j++) {
      const t = x[base + j] - x[base + j + pairOff];
      const q = t * t * scale + TWO52 - TWO52;
      colSum[j] += q - ring[rb + j];
      ring[rb + j] = q;
    }
    slot = slot + 1 === win ? 0 : slot + 1;
  }
}

/** squared colour distance between interleaved pixels i and i + off, scaled and rounded */
function colourQ(x: Float64Array, i: number, off: number, nc: number, scale: number): number {
  let e = 0;
  for (let c = 0; c < nc; c++) {
    const t = x[i + c] - x[i + c + off];
    e += t * t;
  }
  return e * scale + TWO52 - TWO52;
}

/** shiftGrey for interleaved colour (nc channels; the distance sums the channels, as skimage). */
function shiftColour(st: ShiftPass, nc: number, ay0: number, ay1: number, ax0: number, ax1: number, pairOff: number): void {
  const { x, wsum, acc, colSum, ring, wp, o, win, scale, invScale, K, inv, dReject } = st;
  const ex0 = ax0 - o + 1;
  const aw = ax1 - ax0;
  const ew = aw + win - 1;
  const off = pairOff * nc;
  colSum.fill(0, 0, ew);
  for (let k = 0; k < win; k++) {
    const base = ((ay0 - o + 1 + k) * wp + ex0) * nc;
    const rb = k * ew;
    for (let j = 0; j < ew; j++) {
      const q = colourQ(x, base + j * nc, off, nc, scale);
      ring[rb + j] = q;
      colSum[j] += q;
    }
  }
  let slot = 0;
  for (let ay = ay0; ay < ay1; ay++) {
    const last = ay + 1 === ay1;
    const base = ((ay + o + 1) * wp + ex0) * nc;
    const rb = slot * ew;
    const rowBase = ay * wp + ax0;
    let D = 0;
    for (let j = 0; j < win - 1; j++) D += colSum[j];
    for (let j = 0; j < aw; j++) {
      const cj = colSum[j];
      D += colSum[j + win - 1];
      const Dj = D;
      D -= cj;
      if (!last) {
        const q = colourQ(x, base + j * nc, off, nc, scale);
        colSum[j] = cj + (q - ring[rb + j]);
        ring[rb + j] = q;
      }
      if (Dj > dReject) continue;
      let dist = (Dj * invScale - K) * inv;
      if (dist > DISTANCE_CUTOFF) continue;
      if (dist < 0) dist = 0;
      const n = ((EXP_A * -dist) | 0) + EXP_BC;
      const w = POW2[n >> 20] * (1 + (n & 0xfffff) * MANTISSA_UNIT);
      const a = rowBase + j;
      const b = a + pairOff;
      wsum[a] += w;
      wsum[b] += w;
      for (let c = 0; c < nc; c++) {
        acc[a * nc + c] += w * x[b * nc + c];
        acc[b * nc + c] += w * x[a * nc + c];
      }
    }
    if (last) break;
    for (let j = aw; j < ew; j++) {
      const q = colourQ(x, base + j * nc, off, nc, scale);
      colSum[j] += q - ring[rb + j];
      ring[rb + j] = q;
    }
    slot = slot + 1 === win ? 0 : slot + 1;
  }
}

/**
 * skimage _fast_nl_means_denoising_2d. Shifts t = (tr, tc) with tr > 0, or tr = 0 and
 * tc > 0 (half of them; each pair of pixels a, a + t is credited to both). Within a
 * shift every pixel receives its share as the second pixel of a pair before its
 * share as the first, whatever the tile, and window sums are exact integers, so
 * results do not depend on tiling.
 */
function nlMeansFast(src: Float32Array, width: number, height: number, nc: number, p: NlMeansTileOptions): Float32Array {
  const s = p.patchSize;
  const d = p.patchDistance;
  const o = s >> 1;
  const win = s - 1;
  const pad = d + o;
  const wp = width + 2 * pad;
  const hp = height + 2 * pad;
  const x = padReflect(src, width, height, nc, pad);
  const wsum = new Float64Array(wp * hp);
  const acc = new Float64Array(wp * hp * nc);
  // skimage: distance = max(sum over the window of (e - 2 nc var), 0) / (nc h^2 s^2)
  const K = win * win * nc * 2 * p.sigma * p.sigma;
  const inv = 1 / (nc * p.h * p.h * s * s);
  const w0 = fastExp(-0);
  for (let y = pad; y < pad + height; y++) {
    for (let xx = pad; xx < pad + width; xx++) {
      const q = y * wp + xx;
      wsum[q] = w0;
      for (let c = 0; c < nc; c++) acc[q * nc + c] = w0 * x[q * nc + c];
    }
  }
  const maxEw = width + d + win;
  const st: ShiftPass = {
    x,
    wsum,
    acc,
    colSum: new Float64Array(maxEw),
    ring: new Float64Array(win * maxEw),
    wp,
    o,
    win,
    scale: p.scale,
    invScale: 1 / p.scale,
    K,
    inv,
    // a cheap first test in fixed-point units, a little loose so that it never
    // rejects a pair the exact test keeps
    dReject: (DISTANCE_CUTOFF / inv + K) * p.scale * (1 + 1e-9) + 1,
  };
  for (let tr = 0; tr <= d; tr++) {
    for (let tc = -d; tc <= d; tc++) {
      if (tr === 0 && tc <= 0) continue;
      // reference pixels a: the image and the image shifted back by t
      const ay0 = pad - tr;
      const ay1 = pad + height;
      const ax0 = pad - Math.max(tc, 0);
      const ax1 = pad + width + Math.max(-tc, 0);
      if (nc === 1) shiftGrey(st, ay0, ay1, ax0, ax1, tr * wp + tc);
      else shiftColour(st, nc, ay0, ay1, ax0, ax1, tr * wp + tc);
    }
  }
  const out = new Float32Array(width * height * nc);
  for (let y = 0; y < height; y++) {
    for (let xx = 0; xx < width; xx++) {
      const q = (y + pad) * wp + xx + pad;
      for (let c = 0; c < nc; c++) out[(y * width + xx) * nc + c] = acc[q * nc + c] / wsum[q];
    }
  }
  return out;
}

/** skimage _nl_means_denoising_2d: Gaussian-weighted patch distances, pixel by pixel. */
function nlMeansExact(src: Float32Array, width: number, height: number, nc: number, p: NlMeansParams): Float32Array {
  const s = p.patchSize;
  const d = p.patchDistance;
  const o = s >> 1;
  const wp = width + 2 * o;
  const x = padReflect(src, width, height, nc, o);
  // patch weights exp(-(i^2 + j^2) / (2 A^2)), A = (s - 1) / 4, scaled by 1 / (nc sum h^2)
  const A = (s - 1) / 4;
  const w = new Float64Array(s * s);
  let wsumK = 0;
  for (let i = 0; i < s; i++) {
    for (let j = 0; j < s; j++) {
      w[i * s + j] = Math.exp(-((i - o) ** 2 + (j - o) ** 2) / (2 * A * A));
      wsumK += w[i * s + j];
    }
  }
  const norm = 1 / (nc * wsumK * p.h * p.h);
  for (let k = 0; k < w.length; k++) w[k] *= norm;
  const var2 = 2 * p.sigma * p.sigma;
  const rowStride = wp * nc;
  const out = new Float32Array(width * height * nc);
  const vals = new Float64Array(nc);
  for (let row = 0; row < height; row++) {
    const i0 = Math.max(0, row - d);
    const i1 = Math.min(height, row + d + 1);
    for (let col = 0; col < width; col++) {
      const j0 = Math.max(0, col - d);
      const j1 = Math.min(width, col + d + 1);
      vals.fill(0);
      let weightSum = 0;
      const cbase = (row * wp + col) * nc;
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) {
          const nbase = (i * wp + j) * nc;
          let distance = 0;
          let weight: number;
          let pi = 0;
          for (; pi < s; pi++) {
            if (distance > DISTANCE_CUTOFF) break;
            const r1 = cbase + pi * rowStride;
            const r2 = nbase + pi * rowStride;
            const wr = pi * s;
            for (let pj = 0; pj < s; pj++) {
              const wk = w[wr + pj];
              for (let c = 0; c < nc; c++) {
                const t = x[r1 + pj * nc + c] - x[r2 + pj * nc + c];
                distance += wk * (t * t - var2);
              }
            }
          }
          if (pi < s) weight = 0;
          else if (distance > 700) weight = 0; // skimage's bit trick overflows past ~709
          else weight = fastExp(-Math.max(0, distance));
          weightSum += weight;
          const centre = ((i + o) * wp + j + o) * nc;
          for (let c = 0; c < nc; c++) vals[c] += weight * x[centre + c];
        }
      }
      for (let c = 0; c < nc; c++) out[(row * width + col) * nc + c] = vals[c] / weightSum;
    }
  }
  return out;
}

function nlMeansColour(colour: Float32Array, width: number, height: number, nc: number, p: NlMeansTileOptions): Float32Array {
  return p.mode === 'fast' ? nlMeansFast(colour, width, height, nc, p) : nlMeansExact(colour, width, height, nc, p);
}

function scaleFor(colour: Float32Array, p: NlMeansParams, nc: number): number {
  const { min, max } = colourStats(colour);
  return fixedPointScale(max - min, p.patchSize, nc);
}

/** Tile function for the worker pool: parameters resolved, fixed-point scale from the whole image. */
export function nlMeansTile(image: Image, options: NlMeansTileOptions): Image {
  return applyToColour(image, (colour, width, height, nc) => nlMeansColour(colour, width, height, nc, options));
}

/** Non-local means of the colour channels (joint colour patch distance); alpha and missing samples carried through. */
export function denoiseNlMeans(image: Image, options: DenoiseNlMeansOptions = {}): Image {
  const im = checkImage(FN, image);
  const p = params(options);
  return applyToColour(im, (colour, width, height, nc) => nlMeansColour(colour, width, height, nc, { ...p, scale: scaleFor(colour, p, nc) }));
}

export const NL_MEANS_DENOISER: DenoiserInfo = {
  id: 'nl-means',
  summary: 'non-local means (skimage.restoration.denoise_nl_means), fast integral mode or exact Gaussian-weighted mode',
  params: NL_MEANS_PARAMS,
  usesSigma: false,
  // sigma 0 (a clean image) would make every h 0, which is not a valid h
  calibrationGrid: (sigma: number) => ({
    h: [0.4, 0.6, 0.8, 1, 1.2].map((k) => k * (sigma > 0 ? sigma : 0.01)),
    sigma: [Math.max(0, sigma)],
    patchSize: [5, 7],
    patchDistance: [6],
  }),
  async denoise(image: Image, options: Record<string, unknown>, context?: DenoiseContext): Promise<Image> {
    const im = checkImage(FN, image);
    const p = params(options);
    const colour = filledColour(im, missingSamples(im));
    const nc = im.channels <= 2 ? 1 : 3;
    const task = { moduleUrl: import.meta.url, exportName: 'nlMeansTile', options: { ...p, scale: scaleFor(colour, p, nc) } };
    return runLocalDenoiser(im, task, nlMeansReach(p.patchSize, p.patchDistance), context);
  },
};
