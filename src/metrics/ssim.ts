/**
 * Structural similarity (SSIM) of Wang, Bovik, Sheikh & Simoncelli, "Image quality
 * assessment: from error visibility to structural similarity", IEEE TIP 13(4), 2004,
 * computed exactly as scikit-image 0.19's `structural_similarity` does, in two
 * configurations: 'wang' (Gaussian window sigma 1.5 truncated at 3.5 sigma, 11 taps,
 * population covariance) and 'skimage' (7x7 uniform window, sample covariance).
 * Local means are "same"-size filters with half-sample symmetric padding; the SSIM map
 * is averaged after cropping (winSize-1)/2 pixels from every border.
 *
 * The filters are separable and run row by row over a ring of 2r+2 rows, in float64,
 * so memory stays at a few rows whatever the image size (the box filter as running
 * sums). With s = a+b and d = a-b, the five local moments SSIM needs follow from four
 * filtered quantities F(s), F(d), F(s^2), F(d^2), a fifth less filtering:
 *   2 ux uy = (F(s)^2 - F(d)^2)/2,  ux^2 + uy^2 = (F(s)^2 + F(d)^2)/2,
 *   2 F(ab) = (F(s^2) - F(d^2))/2,  F(a^2) + F(b^2) = (F(s^2) + F(d^2))/2.
 */
import { HushError } from '../core/errors.js';
import { colourChannels, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { checkImagePair } from './mse.js';
import { requireDataRange } from './psnr.js';

export const SSIM_CONFIGS = ['wang', 'skimage'] as const;
export type SsimConfig = (typeof SSIM_CONFIGS)[number];

export interface SsimOptions {
  /** max - min of the values the images can hold: 1 for [0,1] images, 255 for 0..255 */
  dataRange: number;
  /** 'wang' (default): Gaussian sigma 1.5, 11 taps, population covariance; 'skimage': 7x7 uniform window, sample covariance */
  config?: SsimConfig;
  /**
   * Odd side of the window, as scikit-image's `win_size`: the box size for 'skimage'
   * (default 7); for 'wang' only the border crop and the size check (default 11; the
   * Gaussian stays 11 taps, as in scikit-image).
   */
  winSize?: number;
}

export const SSIM_PARAMS: readonly ParamSpec[] = [
  { name: 'dataRange', type: 'number', above: 0, description: 'range of possible values (1 for [0,1] images, 255 for 0..255)' },
  { name: 'config', type: 'enum', choices: SSIM_CONFIGS, default: 'wang', description: "window and covariance: 'wang' or 'skimage'" },
  { name: 'winSize', type: 'number', odd: true, min: 3, description: 'odd window side (scikit-image win_size)' },
];

const K1 = 0.01;
const K2 = 0.03;
const GAUSSIAN_SIGMA = 1.5;
const GAUSSIAN_TRUNCATE = 3.5;
const DEFAULT_BOX = 7;
const RESUM_EVERY = 32;

interface SsimPlan {
  /** 'gaussian11': the 11-tap Gaussian of config 'wang'; 'box': a (2r+1)-tap uniform filter */
  kind: 'gaussian11' | 'box';
  /** filter radius: taps = 2 * radius + 1 */
  radius: number;
  /** normalised filter taps, symmetric */
  taps: Float64Array;
  /** border removed before the mean: (winSize - 1) / 2 */
  crop: number;
  /** covariance normalisation: NP/(NP-1) for sample covariance, else 1 */
  cov: number;
  c1: number;
  c2: number;
}

/** scipy.ndimage's Gaussian kernel: radius int(truncate * sigma + 0.5), exp(-x^2 / (2 sigma^2)) normalised. */
function gaussianTaps(sigma: number, truncate: number): Float64Array {
  const radius = Math.floor(truncate * sigma + 0.5);
  const taps = new Float64Array(2 * radius + 1);
  let sum = 0;
  for (let k = -radius; k <= radius; k++) {
    taps[k + radius] = Math.exp((-0.5 / (sigma * sigma)) * k * k);
    sum += taps[k + radius];
  }
  for (let i = 0; i < taps.length; i++) taps[i] /= sum;
  return taps;
}

function makePlan(config: SsimConfig, winSize: number | undefined, dataRange: number): SsimPlan & { winSize: number } {
  const c1 = (K1 * dataRange) ** 2;
  const c2 = (K2 * dataRange) ** 2;
  if (config === 'wang') {
    const taps = gaussianTaps(GAUSSIAN_SIGMA, GAUSSIAN_TRUNCATE);
    const radius = (taps.length - 1) / 2;
    const win = winSize ?? taps.length;
    return { kind: 'gaussian11', radius, taps, crop: (win - 1) / 2, cov: 1, c1, c2, winSize: win };
  }
  const win = winSize ?? DEFAULT_BOX;
  const np = win * win;
  return { kind: 'box', radius: (win - 1) / 2, taps: new Float64Array(win).fill(1 / win), crop: (win - 1) / 2, cov: np / (np - 1), c1, c2, winSize: win };
}

/** Half-sample symmetric extension (scipy 'reflect', numpy 'symmetric'), repeated for offsets beyond one period. */
function reflect(i: number, n: number): number {
  const period = 2 * n;
  let m = i % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/**
 * Sum of the SSIM map over the cropped interior of one channel, and how many
 * positions it covers (fewer than the interior where windows touch masked samples).
 *
 * Rows of (s, d, s^2, d^2), interleaved per pixel, enter a ring of 2r+2 rows; each
 * output row is filtered vertically into a padded row buffer, then horizontally,
 * fused with the SSIM formula so the horizontal result is never stored.
 */
function channelSsim(ref: Image, tst: Image, channel: number, plan: SsimPlan): { sum: number; count: number } {
  const { width: w, height: h, channels } = ref;
  const { radius: r, crop } = plan;
  const n = 2 * r + 1;
  const a = ref.data;
  const b = tst.data;
  const ma = ref.mask;
  const mb = tst.mask;
  const excluded = maskFootprint(ref, tst, channel, r);
  const stride = 4 * w;
  // One slot more than the window, so the row leaving a running box sum is still there.
  const slots = n + 1;
  const ring = new Float64Array(slots * stride);
  const loadRow = (y: number): void => {
    let o = (y % slots) * stride;
    let i = y * w * channels + channel;
    for (let x = 0; x < w; x++, i += channels, o += 4) {
      let av = a[i];
      let bv = b[i];
      // Masked samples are zeroed so a NaN behind a mask cannot reach unmasked windows.
      if ((ma && ma[i]) || (mb && mb[i])) av = bv = 0;
      const s = av + bv;
      const d = av - bv;
      ring[o] = s;
      ring[o + 1] = d;
      ring[o + 2] = s * s;
      ring[o + 3] = d * d;
    }
  };

  const v = new Float64Array(4 * (w + 2 * r));
  const rows = new Int32Array(n);
  // Where each left/right padding cell of v copies from (symmetric extension of the row).
  const padFrom: number[] = [];
  for (let j = 0; j < r; j++) padFrom.push(j, r + reflect(j - r, w), w + r + j, r + reflect(w + j, w));

  let loaded = 0;
  let sum = 0;
  let count = 0;
  for (let y = crop; y < h - crop; y++) {
    const last = Math.min(h - 1, y + r);
    while (loaded <= last) loadRow(loaded++);
    if (plan.kind === 'gaussian11') {
      for (let k = 0; k < n; k++) rows[k] = (reflect(y - r + k, h) % slots) * stride;
      verticalGaussian11(ring, rows, plan.taps, v, 4 * r, stride);
    } else if ((y - crop) % RESUM_EVERY === 0) {
      for (let k = 0; k < n; k++) rows[k] = (reflect(y - r + k, h) % slots) * stride;
      verticalBoxSum(ring, rows, v, 4 * r, stride);
    } else {
      // Running column sums: the window of row y is that of row y-1 with one row in, one out.
      const add = (reflect(y + r, h) % slots) * stride;
      const drop = (reflect(y - r - 1, h) % slots) * stride;
      for (let i = 0, j = 4 * r; i < stride; i++, j++) v[j] += ring[add + i] - ring[drop + i];
    }
    for (let j = 0; j < padFrom.length; j += 2) {
      const to = 4 * padFrom[j];
      const from = 4 * padFrom[j + 1];
      v[to] = v[from];
      v[to + 1] = v[from + 1];
      v[to + 2] = v[from + 2];
      v[to + 3] = v[from + 3];
    }
    const exRow = excluded ? excluded.subarray(y * w, (y + 1) * w) : undefined;
    const row =
      plan.kind === 'gaussian11' ? horizontalGaussian11(v, plan, w, exRow) : horizontalBox(v, plan, w, exRow);
    sum += row.sum;
    count += row.count;
  }
  return { sum, count };
}

/** v[at + i] = sum_k taps[k] * ring[rows[k] + i], 11 taps, paired as scipy's correlate1d pairs symmetric kernels. */
function verticalGaussian11(ring: Float64Array, rows: Int32Array, taps: Float64Array, v: Float64Array, at: number, len: number): void {
  const [o0, o1, o2, o3, o4, o5, o6, o7, o8, o9, o10] = rows;
  const t0 = taps[5];
  const t1 = taps[6];
  const t2 = taps[7];
  const t3 = taps[8];
  const t4 = taps[9];
  const t5 = taps[10];
  for (let i = 0; i < len; i++) {
    v[at + i] =
      t0 * ring[o5 + i] +
      t1 * (ring[o4 + i] + ring[o6 + i]) +
      t2 * (ring[o3 + i] + ring[o7 + i]) +
      t3 * (ring[o2 + i] + ring[o8 + i]) +
      t4 * (ring[o1 + i] + ring[o9 + i]) +
      t5 * (ring[o0 + i] + ring[o10 + i]);
  }
}

/** v[at + i] = sum_k ring[rows[k] + i] (not yet divided by n) */
function verticalBoxSum(ring: Float64Array, rows: Int32Array, v: Float64Array, at: number, len: number): void {
  const n = rows.length;
  for (let i = 0; i < len; i++) {
    let t = 0;
    for (let k = 0; k < n; k++) t += ring[rows[k] + i];
    v[at + i] = t;
  }
}

interface RowResult {
  sum: number;
  count: number;
}

/**
 * SSIM from the four filtered quantities (ms, md, ess, edd) of the header comment,
 * everything doubled so no halving is needed:
 *   S = (P - Q + 2C1) (cov (ess - edd - (P - Q)) + 2C2) / ((P + Q + 2C1) (cov (ess + edd - (P + Q)) + 2C2)),
 * with P = ms^2, Q = md^2.
 */
function horizontalGaussian11(v: Float64Array, plan: SsimPlan, w: number, excluded: Uint8Array | undefined): RowResult {
  const { taps, crop, cov } = plan;
  const c1 = 2 * plan.c1;
  const c2 = 2 * plan.c2;
  const t0 = taps[5];
  const t1 = taps[6];
  const t2 = taps[7];
  const t3 = taps[8];
  const t4 = taps[9];
  const t5 = taps[10];
  let sum = 0;
  let count = 0;
  for (let x = crop; x < w - crop; x++) {
    if (excluded !== undefined && excluded[x] !== 0) continue;
    const c = 4 * (x + 5);
    const ms =
      t0 * v[c] + t1 * (v[c - 4] + v[c + 4]) + t2 * (v[c - 8] + v[c + 8]) + t3 * (v[c - 12] + v[c + 12]) + t4 * (v[c - 16] + v[c + 16]) + t5 * (v[c - 20] + v[c + 20]);
    const md =
      t0 * v[c + 1] + t1 * (v[c - 3] + v[c + 5]) + t2 * (v[c - 7] + v[c + 9]) + t3 * (v[c - 11] + v[c + 13]) + t4 * (v[c - 15] + v[c + 17]) + t5 * (v[c - 19] + v[c + 21]);
    const ess =
      t0 * v[c + 2] + t1 * (v[c - 2] + v[c + 6]) + t2 * (v[c - 6] + v[c + 10]) + t3 * (v[c - 10] + v[c + 14]) + t4 * (v[c - 14] + v[c + 18]) + t5 * (v[c - 18] + v[c + 22]);
    const edd =
      t0 * v[c + 3] + t1 * (v[c - 1] + v[c + 7]) + t2 * (v[c - 5] + v[c + 11]) + t3 * (v[c - 9] + v[c + 15]) + t4 * (v[c - 13] + v[c + 19]) + t5 * (v[c - 17] + v[c + 23]);
    const p = ms * ms;
    const q = md * md;
    sum += ((p - q + c1) * (cov * (ess - edd - (p - q)) + c2)) / ((p + q + c1) * (cov * (ess + edd - (p + q)) + c2));
    count++;
  }
  return { sum, count };
}

/**
 * The box filter as a running sum along the row, re-summed directly every
 * RESUM_EVERY positions so rounding cannot drift over a 6000-pixel row (the
 * vertical running sums are re-summed every RESUM_EVERY rows for the same reason).
 */
function horizontalBox(v: Float64Array, plan: SsimPlan, w: number, excluded: Uint8Array | undefined): RowResult {
  const { radius: r, crop, cov } = plan;
  const n = 2 * r + 1;
  // v holds vertical sums, not means: one division by n^2 covers both passes
  const inv = 1 / (n * n);
  const c1 = 2 * plan.c1;
  const c2 = 2 * plan.c2;
  let sum = 0;
  let count = 0;
  let ss = 0;
  let sd = 0;
  let sss = 0;
  let sdd = 0;
  for (let x = crop, fresh = 0; x < w - crop; x++, fresh--) {
    // window of output x in padded coordinates: [x, x + n)
    if (fresh <= 0) {
      ss = sd = sss = sdd = 0;
      for (let k = 4 * x, end = 4 * (x + n); k < end; k += 4) {
        ss += v[k];
        sd += v[k + 1];
        sss += v[k + 2];
        sdd += v[k + 3];
      }
      fresh = RESUM_EVERY;
    } else {
      const add = 4 * (x + n - 1);
      const drop = 4 * (x - 1);
      ss += v[add] - v[drop];
      sd += v[add + 1] - v[drop + 1];
      sss += v[add + 2] - v[drop + 2];
      sdd += v[add + 3] - v[drop + 3];
    }
    if (excluded !== undefined && excluded[x] !== 0) continue;
    const ms = ss * inv;
    const md = sd * inv;
    const p = ms * ms;
    const q = md * md;
    const ess = sss * inv;
    const edd = sdd * inv;
    sum += ((p - q + c1) * (cov * (ess - edd - (p - q)) + c2)) / ((p + q + c1) * (cov * (ess + edd - (p + q)) + c2));
    count++;
  }
  return { sum, count };
}

/** 1 where the (2r+1)^2 footprint of a position, reflected like the filter, holds a sample masked in either image. */
function maskFootprint(ref: Image, tst: Image, channel: number, r: number): Uint8Array | undefined {
  const { width: w, height: h, channels } = ref;
  const ma = ref.mask;
  const mb = tst.mask;
  if (!ma && !mb) return undefined;
  const rowHit = new Uint8Array(w * h);
  let any = false;
  const row = new Uint8Array(w);
  for (let y = 0; y < h; y++) {
    for (let x = 0, i = y * w * channels + channel; x < w; x++, i += channels) {
      row[x] = (ma && ma[i]) || (mb && mb[i]) ? 1 : 0;
      if (row[x]) any = true;
    }
    for (let x = 0; x < w; x++) {
      let hit = 0;
      for (let k = -r; k <= r && !hit; k++) hit = row[reflect(x + k, w)];
      rowHit[y * w + x] = hit;
    }
  }
  if (!any) return undefined;
  const out = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let hit = 0;
      for (let k = -r; k <= r && !hit; k++) hit = rowHit[reflect(y + k, h) * w + x];
      out[y * w + x] = hit;
    }
  }
  return out;
}

/**
 * Mean SSIM of `test` against `reference`, in float64. Colour images: the mean of the
 * per-channel values over the colour channels (alpha ignored). Map positions whose
 * filter window touches a sample masked in either image are left out of the mean.
 * Unmasked NaN samples make the result NaN, as in scikit-image.
 */
export function ssim(reference: Image, test: Image, options: SsimOptions): number {
  const [ref, tst] = checkImagePair('ssim', reference, test);
  const params = resolveParams('ssim', SSIM_PARAMS, checkObject('ssim', 'options', options));
  const dataRange = requireDataRange('ssim', params);
  const config = params.config as SsimConfig;
  const plan = makePlan(config, params.winSize as number | undefined, dataRange);
  checkExtent(ref, plan.winSize, config, params.winSize !== undefined);

  let total = 0;
  const colours = colourChannels(ref);
  for (let c = 0; c < colours; c++) {
    const { sum, count } = channelSsim(ref, tst, c, plan);
    if (count === 0) {
      throw new HushError(
        'ERR_INVALID_PARAMETER',
        `ssim: every window of channel ${c} touches a masked sample; there is nothing to compare.`,
        { param: 'reference' },
      );
    }
    total += sum / count;
  }
  return total / colours;
}

function checkExtent(image: Image, winSize: number, config: SsimConfig, explicit: boolean): void {
  const side = Math.min(image.width, image.height);
  if (side >= winSize) return;
  const size = `${image.width}x${image.height} (width x height)`;
  const fix =
    side >= 3
      ? `Pass options.winSize, an odd integer from 3 to ${side % 2 === 1 ? side : side - 1} (scikit-image raises here too).`
      : 'SSIM needs images of at least 3x3 pixels.';
  const what = explicit ? `options.winSize ${winSize}` : `the default ${winSize}x${winSize} window of config '${config}'`;
  throw new HushError('ERR_INVALID_PARAMETER', `ssim: ${what} exceeds the image extent ${size}. ${fix}`, {
    param: 'options.winSize',
    expected: `an odd integer of at most ${side}`,
    received: winSize,
  });
}
