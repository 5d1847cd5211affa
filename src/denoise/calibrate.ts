/**
 * Self-supervised calibration of a denoiser's parameters (Batson & Royer,
 * "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019; scikit-image's
 * `calibrate_denoiser`): for every setting of a parameter grid, the J-invariant
 * version f of the denoiser is scored by the self-supervised loss L = mean (f(x) - x)^2,
 * and the lowest loss wins. For a J-invariant f and noise that is zero-mean and
 * independent across pixels, E L = E mean (f(x) - y)^2 + sigma^2 (y the clean image),
 * so L ranks settings as the true error does, with no clean image.
 *
 * The same identity gives the shrinkage of the Noise2Self notebook: the blend
 * g = lambda f(x) + (1 - lambda) x has true error lambda^2 e + (1 - lambda)^2 sigma^2
 * (e = L - sigma^2, the cross term vanishing because f(x)_j is independent of the
 * noise at j), minimal at lambda = sigma^2 / (e + sigma^2) = sigma^2 / L: noise
 * variance over the self-supervised loss, where the blend's error is lambda e. It holds
 * for the J-invariant output f only, not for the plain denoiser (whose output is
 * correlated with the noise it was given).
 *
 * Loss: 'approximate' (as scikit-image) uses one mask, offset stride^2 div 2, so a
 * setting costs one denoiser call; 'full' uses all stride^2 masks. 'adaptive' (default)
 * starts as 'approximate', then (1) adds one setting per continuous grid axis at the
 * vertex of the parabola through the best setting's loss and its two neighbours' (in
 * log-parameter), and (2) scores the finalists, the best and the settings whose loss is
 * within ADAPTIVE_Z standard errors of it (paired per-sample differences on the same
 * pixels), on more well-spread masks one at a time until no setting is within noise of
 * the best or maxMasks is reached. The one-mask loss differs between close settings by
 * about 1% on a 256x256 image, its own noise level; the extra masks are spent only
 * where that noise decides the choice. A one-setting grid costs one call, as before.
 * Masked pixels
 * are filled by the 'renoised' mean by default (see invariant.ts and
 * DEFAULT_CALIBRATION_INTERPOLATION); interpolation 'four-neighbour' gives scikit-image's
 * numbers exactly.
 */
import { checkImage, colourChannels, hasAlpha, sameShape, type Image } from '../core/image.js';
import { HushError, invalidParameter } from '../core/errors.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkBoolean, checkObject, checkOneOf, optionalNumber } from '../core/validate.js';
import { estimateImageSigma, getDenoiser } from './index.js';
import type { DenoiseContext, DenoiserInfo, ParameterGrid } from './types.js';
import { invariantOnMasks, maskPhase, maskPixels, resolveInvariantOptions, type Interpolation } from './invariant.js';

export const CALIBRATION_LOSSES = ['adaptive', 'approximate', 'full'] as const;
export type CalibrationLoss = (typeof CALIBRATION_LOSSES)[number];

/** The default loss: one mask for the grid, then more masks only where settings are within noise of the best. */
export const DEFAULT_CALIBRATION_LOSS: CalibrationLoss = 'adaptive';

/**
 * 'adaptive': a setting stays a finalist while its loss exceeds the best's by less than
 * this many standard errors of the paired per-sample difference (one-sided, about 2% of
 * true differences of that size are dropped by chance).
 */
export const ADAPTIVE_Z = 2;
/** 'adaptive': at most this many settings (the lowest losses on the first mask) are finalists. */
export const ADAPTIVE_FINALISTS = 4;
/** 'adaptive': the most masks a finalist is scored on (default of options.maxMasks). */
export const ADAPTIVE_MAX_MASKS = 4;

/**
 * Calibration fills masked pixels with the 'renoised' mean by default, not scikit-image's
 * plain four-neighbour mean: on Set12 sigma 25 the plain mean let weak settings win
 * (wavelet thresholds at half sigma, 3.6 dB below the best setting; NL-means h at 0.4
 * sigma, up to 0.7 dB), the renoised fill does not (bench/quality/denoise/calibration.bench.ts,
 * docs/calibration.md).
 */
export const DEFAULT_CALIBRATION_INTERPOLATION: Interpolation = 'renoised';

/** The most settings one calibration may try (a typo such as 'h=0:1e-6:1' should fail fast, not run for days). */
export const MAX_GRID_SETTINGS = 1000;

export type ParameterSetting = Record<string, number | string>;

export interface CalibrateDenoiserOptions {
  /** grid spacing of the J-invariant masks (default 4) */
  stride?: number;
  /** how masked pixels are filled (default 'renoised'; 'four-neighbour' is scikit-image's) */
  interpolation?: Interpolation;
  /** 'renoised': seed of the fresh noise (default 0) */
  seed?: number;
  /**
   * 'adaptive' (default): every setting on one mask, a refined setting per continuous axis,
   * then the settings within noise of the best on more masks (up to maxMasks);
   * 'approximate': one mask, as scikit-image; 'full': all stride^2 masks (stride^2 times slower)
   */
  loss?: CalibrationLoss;
  /** 'adaptive': the most masks a finalist is scored on (default 4, from 1 to stride^2); 'full': the first this many masks of the spread order, every setting (default stride^2: all) */
  maxMasks?: number;
  /** 'adaptive': the most finalists (settings scored on more than one mask; default 4) */
  finalists?: number;
  /** 'adaptive': add the parabola-vertex setting along each continuous grid axis (default true) */
  refine?: boolean;
  /** noise standard deviation for the default grid, the shrinkage and methods that use sigma (default: estimated) */
  sigma?: number;
  /** options held fixed across the grid, e.g. { mode: 'fast' } */
  fixed?: Record<string, unknown>;
  /** a clean image: adds the true error of every setting to the table (one more denoiser call each) */
  reference?: Image;
  /** threads and progress for the denoiser calls */
  context?: DenoiseContext;
}

export interface CalibrationEntry {
  /** the grid setting (only the parameters the grid varies) */
  params: ParameterSetting;
  /** self-supervised loss: mean squared difference between the J-invariant output and the noisy input, on the pixels of the masks it was scored on */
  loss: number;
  /** how many masks the loss is over (rows with the same count are scored on the same masks) */
  masks?: number;
  /** true for a setting added by refinement (between grid values), not in the grid */
  refined?: boolean;
  /** with a reference: mean squared error of the J-invariant output against it, on the same pixels */
  invariantMse?: number;
  /** with a reference: MSE of the plain denoiser's output (whole image) against it */
  mse?: number;
  /** with a reference: PSNR of the plain denoiser's output (data range 1) */
  psnr?: number;
  /** seconds spent on this setting */
  seconds: number;
}

export interface CalibrateDenoiserResult {
  method: string;
  /** the options to denoise with: fixed options, the best setting, and sigma where the method uses it */
  best: Record<string, unknown>;
  /** index of the best setting in table */
  bestIndex: number;
  /** one row per setting, in grid order (the last grid parameter varies fastest) */
  table: CalibrationEntry[];
  /** noise standard deviation used (given or estimated) */
  sigma: number;
  /** the shrinkage weight of the best setting, the same as shrinkage.lambda */
  lambda: number;
  /**
   * lambda f(x) + (1 - lambda) x for the J-invariant output f of the best setting, with lambda =
   * sigma^2 / loss clamped to [0, 1]; loss is its predicted self-supervised-equivalent loss
   * lambda (L - sigma^2) + sigma^2 (on the table's scale: subtract sigma^2 for the expected MSE).
   */
  shrinkage: { lambda: number; loss: number };
  loss: CalibrationLoss;
  stride: number;
  interpolation: Interpolation;
  /** denoiser calls spent on the loss (reference runs not counted) */
  calls: number;
}

/** Cartesian product of a grid in insertion order, the last key varying fastest (itertools.product). */
export function gridSettings(grid: ParameterGrid): ParameterSetting[] {
  let settings: ParameterSetting[] = [{}];
  for (const [key, values] of Object.entries(grid)) {
    const next: ParameterSetting[] = [];
    for (const s of settings) for (const v of values) next.push({ ...s, [key]: v });
    settings = next;
  }
  return settings;
}

/** Checks a grid against a denoiser's params: known names, non-empty value lists, every setting valid. An empty grid is one setting, the defaults. */
export function checkGrid(fn: string, info: DenoiserInfo, grid: unknown, fixed: Record<string, unknown> = {}): ParameterGrid {
  const g = checkObject(fn, 'parameterGrid', grid);
  const names = info.params.map((p) => p.name);
  const keys = Object.keys(g);
  let count = 1;
  for (const k of keys) {
    if (!names.includes(k)) checkOneOf(fn, 'parameterGrid keys', k, names);
    const values = g[k];
    if (!Array.isArray(values) || values.length === 0) throw invalidParameter(fn, `parameterGrid.${k}`, 'a non-empty array of values', values);
    count *= values.length;
  }
  if (count > MAX_GRID_SETTINGS) throw invalidParameter(fn, 'parameterGrid', `at most ${MAX_GRID_SETTINGS} settings`, `${count} settings`);
  for (const k of keys) {
    const spec = info.params.find((p) => p.name === k) as ParamSpec;
    for (const v of g[k] as unknown[]) resolveParams(fn, [spec], { [k]: v });
  }
  const out = g as ParameterGrid;
  for (const s of gridSettings(out)) resolveParams(info.id, info.params, { ...fixed, ...s });
  return out;
}


/**
 * Indices of the samples a loss is taken over: colour samples (alpha excluded) of the given
 * pixels that carry data (not masked, finite).
 */
function lossSamples(image: Image, pixels: Uint32Array | undefined): number[] {
  const { channels, data, mask } = image;
  const nc = colourChannels(image);
  const out: number[] = [];
  const n = pixels ? pixels.length : image.width * image.height;
  for (let k = 0; k < n; k++) {
    const p = pixels ? pixels[k] : k;
    for (let c = 0; c < nc; c++) {
      const i = p * channels + c;
      if ((mask && mask[i]) || !Number.isFinite(data[i])) continue;
      out.push(i);
    }
  }
  return out;
}

function meanSquaredOver(a: Float32Array, b: Float32Array, samples: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const i of samples) {
    const d = a[i] - b[i];
    if (!Number.isFinite(d)) continue;
    s += d * d;
    n++;
  }
  return n === 0 ? Number.NaN : s / n;
}

/** PSNR from an MSE, data range 1. */
function psnrFromMse(mse: number): number {
  return mse === 0 ? Infinity : 10 * Math.log10(1 / mse);
}

/**
 * Calibrates `denoiser` on `image` without a clean image: the self-supervised loss of its
 * J-invariant version for every setting of `parameterGrid` (default: the denoiser's
 * calibrationGrid(sigma), sigma estimated from the image unless given).
 */
export async function calibrateDenoiser(
  image: Image,
  denoiser: DenoiserInfo | string,
  parameterGrid?: ParameterGrid,
  options: CalibrateDenoiserOptions = {},
): Promise<CalibrateDenoiserResult> {
  const fn = 'calibrateDenoiser';
  checkImage(fn, image);
  const info = typeof denoiser === 'string' ? getDenoiser(denoiser, fn, 'denoiser') : checkDenoiserInfo(fn, denoiser);
  const o = checkObject(fn, 'options', options);
  const { stride, interpolation, seed } = resolveInvariantOptions(fn, { stride: o.stride, interpolation: o.interpolation, seed: o.seed }, DEFAULT_CALIBRATION_INTERPOLATION);
  const loss = o.loss === undefined ? DEFAULT_CALIBRATION_LOSS : checkOneOf(fn, 'options.loss', o.loss, CALIBRATION_LOSSES);
  const fixed = checkObject(fn, 'options.fixed', o.fixed);
  const reference = o.reference === undefined ? undefined : checkImage(fn, o.reference, 'options.reference');
  if (reference && !sameShape(reference, image)) {
    throw invalidParameter(fn, 'options.reference', `an image of ${image.width}x${image.height}x${image.channels}`, `${reference.width}x${reference.height}x${reference.channels}`);
  }
  const context = (o.context ?? {}) as DenoiseContext;
  const sigma = o.sigma === undefined ? estimateImageSigma(image) : optionalNumber(fn, 'options.sigma', o.sigma, 0, { min: 0 });
  const grid = checkGrid(fn, info, parameterGrid ?? info.calibrationGrid(sigma), fixed);
  const settings = gridSettings(grid);
  // sigma goes to the denoiser when it has the option and uses it (or the caller gave it), unless fixed or gridded
  const baseOptions: Record<string, unknown> = { ...fixed };
  if (info.params.some((p) => p.name === 'sigma') && fixed.sigma === undefined && (info.usesSigma || o.sigma !== undefined)) baseOptions.sigma = sigma;

  const { width, height } = image;
  const order = maskOrder(stride);
  const adaptive = loss === 'adaptive';
  const maxMasks = adaptive
    ? optionalNumber(fn, 'options.maxMasks', o.maxMasks, ADAPTIVE_MAX_MASKS, { integer: true, min: 1, max: stride * stride })
    : loss === 'full'
      ? optionalNumber(fn, 'options.maxMasks', o.maxMasks, stride * stride, { integer: true, min: 1, max: stride * stride })
      : 1;
  const maxFinalists = adaptive ? optionalNumber(fn, 'options.finalists', o.finalists, ADAPTIVE_FINALISTS, { integer: true, min: 1, max: MAX_GRID_SETTINGS }) : 1;
  const refine = adaptive && (o.refine === undefined ? true : checkBoolean(fn, 'options.refine', o.refine));
  if (loss !== 'full' && maskPixels(width, height, stride, order[0]).length === 0) {
    throw invalidParameter(fn, 'options.stride', `a stride under the image size (${width}x${height}) for the ${loss} loss`, stride);
  }
  // loss samples of each mask, in the order masks are used
  const maskSamples = new Map<number, number[]>();
  const samplesOf = (offset: number): number[] => {
    let s = maskSamples.get(offset);
    if (!s) maskSamples.set(offset, (s = lossSamples(image, maskPixels(width, height, stride, offset))));
    return s;
  };
  const firstMasks = loss === 'full' ? order.slice(0, maxMasks) : [order[0]];
  if (firstMasks.every((m) => samplesOf(m).length === 0)) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: the image has no valid samples on the loss pixels (all masked or not finite)`);

  const rows: Row[] = [];
  const refineAxes = refine ? continuousAxes(info, grid) : [];
  const expectedCalls = settings.length * firstMasks.length + (adaptive ? refineAxes.length + maxFinalists * (maxMasks - 1) : 0) + (reference ? settings.length + refineAxes.length : 0);
  let calls = 0;
  const progress = (f: number): void => context.onProgress?.(Math.min(1, (calls + f) / expectedCalls));
  const run = (setting: ParameterSetting, im: Image): Promise<Image> => info.denoise(im, { ...baseOptions, ...setting }, { threads: context.threads, onProgress: progress });

  /** scores `row` on mask `offset`: adds to its loss sums, and keeps per-sample residuals when asked */
  const score = async (row: Row, offset: number, keep: boolean): Promise<void> => {
    const t0 = performance.now();
    const out = image.data.slice();
    await invariantOnMasks(image, async (im) => {
      const r = await run(row.params, im);
      calls++;
      return r;
    }, stride, [offset], interpolation, out, undefined, seed, sigma);
    const samples = samplesOf(offset);
    const residuals = keep ? new Float32Array(samples.length) : undefined;
    for (let k = 0; k < samples.length; k++) {
      const i = samples[k];
      const d = out[i] - image.data[i];
      if (residuals) residuals[k] = d * d;
      if (!Number.isFinite(d)) continue;
      row.sum += d * d;
      row.count++;
      if (reference) {
        const e = out[i] - reference.data[i];
        if (Number.isFinite(e)) {
          row.invSum += e * e;
          row.invCount++;
        }
      }
    }
    row.masks.push(offset);
    if (residuals) row.residuals.push(residuals);
    row.seconds += (performance.now() - t0) / 1000;
    context.onProgress?.(Math.min(1, calls / expectedCalls));
  };
  const lossOf = (r: Row): number => (r.count === 0 ? Number.NaN : r.sum / r.count);
  const better = (a: Row, b: Row): boolean => Number.isFinite(lossOf(a)) && (!Number.isFinite(lossOf(b)) || lossOf(a) < lossOf(b));
  const bestOf = (list: readonly Row[]): Row | undefined => list.reduce<Row | undefined>((b, r) => (b === undefined || better(r, b) ? r : b), undefined);
  /** adaptive: only the ADAPTIVE_FINALISTS lowest losses keep their residuals (memory stays bounded on large images) */
  const kept: Row[] = [];
  const keepTop = (row: Row): void => {
    if (!adaptive) return;
    kept.push(row);
    kept.sort((a, b) => (better(a, b) ? -1 : better(b, a) ? 1 : 0));
    for (const r of kept.splice(maxFinalists)) r.residuals = [];
  };

  // stage 1: every grid setting on the first mask (all masks for the full loss)
  for (const setting of settings) {
    const row: Row = newRow(setting);
    rows.push(row);
    for (const m of firstMasks) await score(row, m, adaptive);
    keepTop(row);
  }

  // stage 2 (adaptive): one more setting per continuous axis, at the vertex of the parabola
  // through the best setting's loss and its two neighbours' (in log-parameter)
  for (const axis of refineAxes) {
    const best = bestOf(rows);
    if (!best) break;
    const value = parabolicVertex(rows, best, axis, lossOf);
    if (value === undefined) continue;
    const setting = { ...best.params, [axis]: value };
    resolveParams(info.id, info.params, { ...baseOptions, ...setting });
    const row = newRow(setting, true);
    rows.push(row);
    await score(row, order[0], true);
    keepTop(row);
  }

  // stage 3 (adaptive): finalists (the best and the settings whose loss is within ADAPTIVE_Z
  // standard errors of it, on paired per-sample differences) are scored on more masks,
  // one mask at a time, until none is left within noise of the best or maxMasks is reached
  let finalists = adaptive ? contenders(kept, bestOf(kept)) : [];
  for (let k = 1; k < maxMasks && finalists.length > 1; k++) {
    for (const row of finalists) await score(row, order[k], true);
    finalists = contenders(finalists, bestOf(finalists));
  }
  const bestRow = adaptive && finalists.length > 0 ? bestOf(finalists) : bestOf(rows);
  if (!bestRow) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: every setting gave a non-finite loss (the denoiser returned NaN on the loss pixels)`);

  const allSamples = reference ? lossSamples(image, undefined) : [];
  const table: CalibrationEntry[] = [];
  for (const row of rows) {
    const entry: CalibrationEntry = { params: row.params, loss: lossOf(row), masks: row.masks.length, seconds: row.seconds };
    if (row.refined) entry.refined = true;
    if (reference) {
      const t0 = performance.now();
      entry.invariantMse = row.invCount === 0 ? Number.NaN : row.invSum / row.invCount;
      const plain = await run(row.params, image);
      calls++;
      entry.mse = meanSquaredOver(plain.data, reference.data, allSamples);
      entry.psnr = psnrFromMse(entry.mse);
      entry.seconds += (performance.now() - t0) / 1000;
      context.onProgress?.(Math.min(1, calls / expectedCalls));
    }
    table.push(entry);
  }
  context.onProgress?.(1);
  const bestIndex = rows.indexOf(bestRow);
  const bestLoss = table[bestIndex].loss;
  const lambda = shrinkageWeight(sigma, bestLoss);
  return {
    method: info.id,
    best: { ...baseOptions, ...rows[bestIndex].params },
    bestIndex,
    table,
    sigma,
    lambda,
    shrinkage: { lambda, loss: lambda * Math.max(0, bestLoss - sigma * sigma) + sigma * sigma },
    loss,
    stride,
    interpolation,
    calls: table.reduce((s, e) => s + (e.masks ?? 0), 0),
  };
}

/** One setting's running loss during calibration. */
interface Row {
  params: ParameterSetting;
  refined: boolean;
  sum: number;
  count: number;
  invSum: number;
  invCount: number;
  /** mask offsets scored, in order */
  masks: number[];
  /** per-sample squared residuals, one array per mask (adaptive finalists only) */
  residuals: Float32Array[];
  seconds: number;
}

function newRow(params: ParameterSetting, refined = false): Row {
  return { params, refined, sum: 0, count: 0, invSum: 0, invCount: 0, masks: [], residuals: [], seconds: 0 };
}

/**
 * The order masks are used in: scikit-image's one (offset stride^2 div 2) first, then each
 * next mask the one farthest (toroidal distance between grid phases) from those already
 * taken, ties to the lower offset: for stride 4, phases (2,0), (0,2), (0,0), (2,2), then
 * the odd ones. Spread masks sample the image evenly, so a few of them approach the full loss.
 */
export function maskOrder(stride: number): number[] {
  const n = stride * stride;
  const order = [Math.floor(n / 2)];
  const taken = new Set(order);
  const dist = (a: number, b: number): number => {
    const pa = maskPhase(a, stride);
    const pb = maskPhase(b, stride);
    const dr = Math.min(Math.abs(pa.row - pb.row), stride - Math.abs(pa.row - pb.row));
    const dc = Math.min(Math.abs(pa.column - pb.column), stride - Math.abs(pa.column - pb.column));
    return dr * dr + dc * dc;
  };
  while (order.length < n) {
    let pick = -1;
    let far = -1;
    for (let k = 0; k < n; k++) {
      if (taken.has(k)) continue;
      const d = Math.min(...order.map((m) => dist(k, m)));
      if (d > far) {
        far = d;
        pick = k;
      }
    }
    order.push(pick);
    taken.add(pick);
  }
  return order;
}

/**
 * Paired comparison of `row` with `best` on the masks both were scored on: the mean
 * per-sample difference of squared residuals and its standard error.
 */
export function pairedDifference(row: { residuals: readonly Float32Array[] }, best: { residuals: readonly Float32Array[] }): { mean: number; standardError: number; samples: number } {
  let n = 0;
  let sum = 0;
  let sq = 0;
  const masks = Math.min(row.residuals.length, best.residuals.length);
  for (let m = 0; m < masks; m++) {
    const a = row.residuals[m];
    const b = best.residuals[m];
    for (let k = 0; k < a.length; k++) {
      const d = a[k] - b[k];
      if (!Number.isFinite(d)) continue;
      n++;
      sum += d;
      sq += d * d;
    }
  }
  if (n < 2) return { mean: n === 0 ? Number.NaN : sum, standardError: Infinity, samples: n };
  const mean = sum / n;
  const variance = Math.max(0, (sq - n * mean * mean) / (n - 1));
  return { mean, standardError: Math.sqrt(variance / n), samples: n };
}

/** `best` and the rows whose loss is not above best's by ADAPTIVE_Z standard errors (paired), best first. */
function contenders(rows: readonly Row[], best: Row | undefined): Row[] {
  if (!best) return [];
  const out = [best];
  for (const r of rows) {
    if (r === best || r.residuals.length === 0) continue;
    const { mean, standardError } = pairedDifference(r, best);
    if (mean < ADAPTIVE_Z * standardError) out.push(r);
  }
  return out;
}

/** The x of the extremum of the parabola through three points (undefined when they are collinear or not finite). */
export function parabolaVertex(x: readonly [number, number, number], y: readonly [number, number, number]): number | undefined {
  const [x0, x1, x2] = x;
  const [y0, y1, y2] = y;
  const a = (x1 - x0) * (y1 - y2);
  const b = (x1 - x2) * (y1 - y0);
  const den = a - b;
  if (!(Math.abs(den) > 0)) return undefined;
  const vertex = x1 - (0.5 * ((x1 - x0) * a - (x1 - x2) * b)) / den;
  return Number.isFinite(vertex) ? vertex : undefined;
}

/**
 * Grid axes refinement may interpolate along: three or more numbers of a non-integer
 * number parameter whose output changes smoothly with it (not `stepwise`, as TV's weight
 * under its stopping rule: a parabola through such a curve lands in its jumps).
 */
function continuousAxes(info: DenoiserInfo, grid: ParameterGrid): string[] {
  return Object.entries(grid)
    .filter(([k, values]) => {
      const spec = info.params.find((p) => p.name === k);
      return spec?.type === 'number' && !spec.integer && !spec.odd && !spec.stepwise && new Set(values).size >= 3 && values.every((v) => typeof v === 'number' && Number.isFinite(v));
    })
    .map(([k]) => k);
}

/**
 * The minimum of the parabola through the best row's loss and those of its two neighbours
 * along `axis` (the other parameters as the best's), in log(value) when all values are
 * positive: undefined when the best is at an end of the axis, the curve is flat, or the
 * vertex is within a tenth of a step of the best (nothing to gain). The vertex lies within
 * half a step of the best, as the best's loss is the lowest of the three.
 */
function parabolicVertex(rows: readonly Row[], best: Row, axis: string, lossOf: (r: Row) => number): number | undefined {
  const others = (r: Row): boolean => Object.keys(best.params).every((k) => k === axis || r.params[k] === best.params[k]);
  const line = rows.filter((r) => !r.refined && others(r)).sort((a, b) => (a.params[axis] as number) - (b.params[axis] as number));
  const i = line.indexOf(best);
  if (i <= 0 || i >= line.length - 1) return undefined;
  const log = line.every((r) => (r.params[axis] as number) > 0);
  const u = (r: Row): number => (log ? Math.log(r.params[axis] as number) : (r.params[axis] as number));
  const [x0, x1, x2] = [u(line[i - 1]), u(best), u(line[i + 1])];
  const vertex = parabolaVertex([x0, x1, x2], [lossOf(line[i - 1]), lossOf(best), lossOf(line[i + 1])]);
  if (vertex === undefined || vertex <= x0 || vertex >= x2) return undefined;
  const step = vertex < x1 ? x1 - x0 : x2 - x1;
  if (Math.abs(vertex - x1) < 0.1 * step) return undefined;
  const value = Number((log ? Math.exp(vertex) : vertex).toPrecision(6));
  return line.some((r) => r.params[axis] === value) ? undefined : value;
}

/** lambda = sigma^2 / L clamped to [0, 1] (L below sigma^2 only through estimation noise). */
export function shrinkageWeight(sigma: number, loss: number): number {
  if (!(loss > 0)) return 1;
  return Math.min(1, Math.max(0, (sigma * sigma) / loss));
}

/**
 * lambda * denoised + (1 - lambda) * noisy on colour samples (alpha and no-data samples
 * from `denoised`). Meant for a J-invariant `denoised` (see the file comment).
 */
export function shrink(denoised: Image, noisy: Image, lambda: number): Image {
  const fn = 'shrink';
  checkImage(fn, denoised, 'denoised');
  checkImage(fn, noisy, 'noisy');
  if (!sameShape(denoised, noisy)) throw invalidParameter(fn, 'noisy', `an image of ${denoised.width}x${denoised.height}x${denoised.channels}`, `${noisy.width}x${noisy.height}x${noisy.channels}`);
  const l = optionalNumber(fn, 'lambda', lambda, 1, { min: 0, max: 1 });
  const out = denoised.data.slice();
  const { channels } = denoised;
  const alpha = hasAlpha(denoised) ? channels - 1 : -1;
  for (let i = 0; i < out.length; i++) {
    if (i % channels === alpha) continue;
    const v = l * denoised.data[i] + (1 - l) * noisy.data[i];
    if (Number.isFinite(v)) out[i] = v;
  }
  return { ...denoised, data: out };
}

function checkDenoiserInfo(fn: string, d: unknown): DenoiserInfo {
  const info = d as Partial<DenoiserInfo> | null;
  if (info === null || typeof info !== 'object' || typeof info.denoise !== 'function' || !Array.isArray(info.params) || typeof info.calibrationGrid !== 'function') {
    throw invalidParameter(fn, 'denoiser', 'a registered denoiser id or a DenoiserInfo', d);
  }
  return info as DenoiserInfo;
}

/** Parses the CLI grid text `h=0.02,0.04;patchSize=5,7` (numbers where they parse, text otherwise). */
export function parseGrid(text: string, fn = 'parseGrid', param = 'grid'): ParameterGrid {
  const grid: Record<string, (number | string)[]> = {};
  const parts = text.split(';').map((s) => s.trim()).filter((s) => s !== '');
  if (parts.length === 0) throw invalidParameter(fn, param, "'name=v1,v2;name2=v3,...'", text);
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq < 0 ? '' : part.slice(0, eq).trim();
    const values = eq < 0 ? [] : part.slice(eq + 1).split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (name === '' || values.length === 0) throw invalidParameter(fn, param, "'name=v1,v2;name2=v3,...'", part);
    if (grid[name]) throw invalidParameter(fn, param, 'each parameter once', name);
    grid[name] = values.map((v) => (v !== '' && Number.isFinite(Number(v)) ? Number(v) : v));
  }
  return grid;
}
