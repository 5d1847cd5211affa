/**
 * Bilateral filter (Tomasi & Manduchi, "Bilateral filtering for gray and color
 * images", ICCV 1998): each pixel becomes the average of its window, weighted by a
 * Gaussian of the spatial distance (`sigmaSpatial`) times a Gaussian of the colour
 * distance (`sigmaColor`). It follows scikit-image 0.19's `denoise_bilateral`: the
 * colour weight is read from a table of `bins` entries over [0, max), indexed by the
 * Euclidean colour distance divided by the number of colour channels; `winSize`
 * defaults to max(5, 2 ceil(3 sigmaSpatial) + 1); `sigmaColor` defaults to the
 * standard deviation of the image; borders as numpy.pad modes, 'constant' (the
 * default there) padding with 0, or with the image minimum when that is negative.
 *
 * Two deliberate differences, both bugs in scikit-image 0.19 (and later): it builds
 * its spatial table on a grid of winSize + 1 points per side and reads it with a
 * stride of winSize, so the spatial weights it applies are not a Gaussian (for
 * winSize 5 the centre pixel gets weight 0.007 instead of 1); and for an image with
 * negative values its colour table spans [0, max) of the unshifted image while it is
 * indexed over [0, max - min). hush uses the true Gaussians by default;
 * `weights: 'skimage-0.19'` reproduces both scikit-image tables, for parity.
 */
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { applyToColour, colourStats, filledColour, mirrorIndex, missingSamples, nearestIndex, runLocalDenoiser, symmetricIndex } from './filters.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';

const FN = 'denoiseBilateral';

export const BILATERAL_MODES = ['constant', 'edge', 'symmetric', 'reflect'] as const;
export type BilateralMode = (typeof BILATERAL_MODES)[number];

export const BILATERAL_WEIGHTS = ['gaussian', 'skimage-0.19'] as const;
export type BilateralWeights = (typeof BILATERAL_WEIGHTS)[number];

export interface DenoiseBilateralOptions {
  /** standard deviation of the colour (radiometric) Gaussian, on the image's value scale (default: the image's standard deviation) */
  sigmaColor?: number;
  /** standard deviation of the spatial Gaussian, in pixels (default 1) */
  sigmaSpatial?: number;
  /** odd window side (default max(5, 2 ceil(3 sigmaSpatial) + 1)) */
  winSize?: number;
  /** entries in the colour-weight table (default 10000) */
  bins?: number;
  /** border rule, as numpy.pad (default 'constant', as scikit-image) */
  mode?: BilateralMode;
  /** 'gaussian' (default) or scikit-image 0.19's weight tables with their bugs, for parity */
  weights?: BilateralWeights;
}

export const BILATERAL_PARAMS: readonly ParamSpec[] = [
  {
    name: 'sigmaColor',
    type: 'number',
    above: 0,
    description: "standard deviation of the colour Gaussian on the image's value scale (default: the standard deviation of the image)",
  },
  { name: 'sigmaSpatial', type: 'number', above: 0, max: 50, default: 1, description: 'standard deviation of the spatial Gaussian in pixels' },
  { name: 'winSize', type: 'number', odd: true, min: 1, max: 301, description: 'window side in pixels (default max(5, 2 ceil(3 sigmaSpatial) + 1))' },
  { name: 'bins', type: 'number', integer: true, min: 1, max: 10_000_000, default: 10000, description: 'entries of the colour-weight lookup table' },
  {
    name: 'mode',
    type: 'enum',
    choices: BILATERAL_MODES,
    default: 'constant',
    description: "border rule as numpy.pad: 'constant' pads with 0 (with the minimum when the image has negative values), 'edge', 'symmetric', 'reflect'",
  },
  {
    name: 'weights',
    type: 'enum',
    choices: BILATERAL_WEIGHTS,
    default: 'gaussian',
    description: "'gaussian', or 'skimage-0.19' for scikit-image 0.19's tables (spatial table read with the wrong stride, colour table off for negative images), to match its outputs",
  },
];

interface BilateralParams {
  sigmaColor?: number;
  sigmaSpatial: number;
  winSize?: number;
  bins: number;
  mode: BilateralMode;
  weights: BilateralWeights;
}

/** What a tile needs that depends on the whole image: resolved window, colour sigma and value range. */
export interface BilateralTileOptions {
  sigmaColor: number;
  sigmaSpatial: number;
  winSize: number;
  bins: number;
  mode: BilateralMode;
  weights: BilateralWeights;
  min: number;
  max: number;
}

function params(options: unknown): BilateralParams {
  return resolveParams(FN, BILATERAL_PARAMS, checkObject(FN, 'options', options)) as unknown as BilateralParams;
}

/** scikit-image's default window: max(5, 2 ceil(3 sigmaSpatial) + 1). */
export function defaultWinSize(sigmaSpatial: number): number {
  return Math.max(5, 2 * Math.ceil(3 * sigmaSpatial) + 1);
}

function tileOptions(p: BilateralParams, colour: Float32Array): BilateralTileOptions {
  const stats = colourStats(colour);
  // sigmaSpatial <= 50 keeps the default within winSize's own limit of 301
  const winSize = p.winSize ?? defaultWinSize(p.sigmaSpatial);
  return {
    sigmaColor: p.sigmaColor ?? stats.std,
    sigmaSpatial: p.sigmaSpatial,
    winSize,
    bins: p.bins,
    mode: p.mode,
    weights: p.weights,
    min: stats.min,
    max: stats.max,
  };
}

/** Spatial weights for window offsets (kr, kc), row-major, winSize^2 entries (scikit-image 0.19's table, or the Gaussian). */
export function bilateralSpatialWeights(winSize: number, sigma: number, kind: BilateralWeights): Float64Array {
  const ext = (winSize - 1) >> 1;
  const t = new Float64Array(winSize * winSize);
  const a = -0.5 / (sigma * sigma);
  if (kind === 'gaussian') {
    for (let kr = 0; kr < winSize; kr++) for (let kc = 0; kc < winSize; kc++) t[kr * winSize + kc] = Math.exp(a * ((kr - ext) ** 2 + (kc - ext) ** 2));
    return t;
  }
  // skimage 0.19: grid = arange(-winSize // 2, winSize // 2 + 1) (winSize + 1 points for odd winSize),
  // table = exp(-0.5 hypot(rr, cc)^2 / sigma^2).ravel(), read at kr * winSize + kc
  const g0 = Math.floor(-winSize / 2);
  const side = winSize + 1;
  for (let k = 0; k < winSize * winSize; k++) {
    const rr = g0 + Math.floor(k / side);
    const cc = g0 + (k % side);
    t[k] = Math.exp(a * Math.hypot(rr, cc) ** 2);
  }
  return t;
}

function borderIndex(mode: BilateralMode): (k: number, n: number) => number {
  return mode === 'edge' ? nearestIndex : mode === 'symmetric' ? symmetricIndex : mirrorIndex;
}

/** The bilateral filter on interleaved colour samples with the whole-image quantities in `o`. */
export function bilateralColour(src: Float32Array, width: number, height: number, nc: number, o: BilateralTileOptions): Float32Array {
  const out = new Float32Array(src.length);
  if (o.min === o.max) {
    out.set(src);
    return out;
  }
  // skimage shifts a negative image to start at 0 (in float32, so we do too: the
  // rounding moves colour-table bins), pads 'constant' with 0 there, shifts back
  const shift = o.min < 0 ? o.min : 0;
  const colour = shift === 0 ? src : src.map((v) => v - shift);
  const maxValue = Math.fround(o.max - shift); // a float32 subtraction in skimage
  const bins = o.bins;
  const lut = new Float64Array(bins);
  const ca = -0.5 / (o.sigmaColor * o.sigmaColor);
  // skimage 0.19 spans its table over the unshifted maximum but indexes it over the shifted one
  const step = (o.weights === 'skimage-0.19' ? o.max : maxValue) / bins;
  for (let k = 0; k < bins; k++) lut[k] = Math.exp(ca * (k * step) ** 2);
  // skimage computes the colour distance and its table index in float32 (for float32
  // images), with bins / channels an integer division; doing the same picks the same
  // table entry at bin boundaries
  const distScale = Math.fround(Math.trunc(bins / nc) / maxValue);
  const win = o.winSize;
  const ext = (win - 1) >> 1;
  const spatial = bilateralSpatialWeights(win, o.sigmaSpatial, o.weights);
  const constant = o.mode === 'constant';
  const map = borderIndex(o.mode);
  const cval = 0;
  const centre = new Float64Array(nc);
  const total = new Float64Array(nc);
  const values = new Float64Array(nc);
  const lastBin = bins - 1;
  for (let r = 0; r < height; r++) {
    for (let c = 0; c < width; c++) {
      const p = (r * width + c) * nc;
      const inside = r >= ext && r < height - ext && c >= ext && c < width - ext;
      if (inside && nc === 1) {
        // grey, away from the border: the float32 distance sqrt(t^2) is |t| exactly
        const centre0 = colour[p];
        let total0 = 0;
        let totalWeight = 0;
        let k = 0;
        for (let kr = 0; kr < win; kr++) {
          const row = (r + kr - ext) * width + c - ext;
          for (let kc = 0; kc < win; kc++, k++) {
            const v = colour[row + kc];
            const dist = Math.abs(Math.fround(centre0 - v));
            const bin = Math.min(Math.trunc(Math.fround(dist * distScale)), lastBin);
            const weight = spatial[k] * lut[bin];
            total0 += v * weight;
            totalWeight += weight;
          }
        }
        out[p] = Math.fround(total0 / totalWeight) + shift;
        continue;
      }
      for (let d = 0; d < nc; d++) {
        centre[d] = colour[p + d];
        total[d] = 0;
      }
      let totalWeight = 0;
      for (let kr = 0; kr < win; kr++) {
        const rr = r + kr - ext;
        for (let kc = 0; kc < win; kc++) {
          const cc = c + kc - ext;
          let dist = 0;
          if (inside) {
            const q = (rr * width + cc) * nc;
            for (let d = 0; d < nc; d++) {
              const v = colour[q + d];
              values[d] = v;
              const t = Math.fround(centre[d] - v);
              dist = Math.fround(dist + Math.fround(t * t));
            }
          } else if (constant && (rr < 0 || rr >= height || cc < 0 || cc >= width)) {
            for (let d = 0; d < nc; d++) {
              values[d] = cval;
              const t = Math.fround(centre[d] - cval);
              dist = Math.fround(dist + Math.fround(t * t));
            }
          } else {
            const q = (map(rr, height) * width + map(cc, width)) * nc;
            for (let d = 0; d < nc; d++) {
              const v = colour[q + d];
              values[d] = v;
              const t = Math.fround(centre[d] - v);
              dist = Math.fround(dist + Math.fround(t * t));
            }
          }
          dist = Math.fround(Math.sqrt(dist));
          const bin = Math.min(Math.trunc(Math.fround(dist * distScale)), lastBin);
          const weight = spatial[kr * win + kc] * lut[bin];
          for (let d = 0; d < nc; d++) total[d] += values[d] * weight;
          totalWeight += weight;
        }
      }
      for (let d = 0; d < nc; d++) out[p + d] = Math.fround(total[d] / totalWeight) + shift;
    }
  }
  return out;
}

/** Tile function for the worker pool: the filter with whole-image quantities already resolved. */
export function bilateralTile(image: Image, options: BilateralTileOptions): Image {
  return applyToColour(image, (colour, width, height, nc) => bilateralColour(colour, width, height, nc, options));
}

/** Bilateral filter of the colour channels (joint colour distance); alpha and missing samples carried through. */
export function denoiseBilateral(image: Image, options: DenoiseBilateralOptions = {}): Image {
  const im = checkImage(FN, image);
  const p = params(options);
  return applyToColour(im, (colour, width, height, nc) => bilateralColour(colour, width, height, nc, tileOptions(p, colour)));
}

export const BILATERAL_DENOISER: DenoiserInfo = {
  id: 'bilateral',
  summary: 'bilateral filter: Gaussian in space times Gaussian in colour (skimage.restoration.denoise_bilateral)',
  params: BILATERAL_PARAMS,
  usesSigma: false,
  calibrationGrid: (sigma: number) => ({
    sigmaColor: [0.5, 1, 1.5, 2, 3, 4].map((k) => k * (sigma > 0 ? sigma : 0.01)),
    sigmaSpatial: [1, 2, 3],
  }),
  async denoise(image: Image, options: Record<string, unknown>, context?: DenoiseContext): Promise<Image> {
    const im = checkImage(FN, image);
    const p = params(options);
    const o = tileOptions(p, filledColour(im, missingSamples(im)));
    const work = im.width * im.height * o.winSize * o.winSize * (colourChannels(im) + 1);
    return runLocalDenoiser(im, { moduleUrl: import.meta.url, exportName: 'bilateralTile', options: o }, (o.winSize - 1) >> 1, context, work);
  },
};
