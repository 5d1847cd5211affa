/**
 * Automatic denoising: the noise level is estimated (Donoho–Johnstone, estimateSigma),
 * every candidate method is calibrated on the image itself with the self-supervised
 * J-invariant loss of Noise2Self (Batson & Royer, ICML 2019), and the method and
 * setting with the lowest loss denoise the whole image. Because that loss equals the
 * true error plus the noise variance in expectation, comparing it across methods is
 * comparing their true errors, with no clean image and no known sigma.
 *
 * The work is held to a time budget (default 15 s per megapixel, at least 1 s): the
 * candidates are calibrated on a centred crop (calibrationRegion), first each at the
 * middle of its calibration grid (a probe that also times it; after the first, only
 * while the budget holds, so the order of the candidates is their priority), then the
 * most promising ones by coordinate descent over their grid, while the time left after
 * the predicted cost of the final full-size run allows. The first probe and the final
 * run always happen, so a method slower than the budget overruns it.
 */
import { checkImage, type Image } from '../core/image.js';
import { HushError, invalidParameter } from '../core/errors.js';
import { cropImage } from '../core/tiling.js';
import { checkObject, optionalNumber } from '../core/validate.js';
import { DENOISER_REGISTRY, DENOISERS, estimateImageSigma, getDenoiser, withSigma } from './index.js';
import { calibrateDenoiser, DEFAULT_CALIBRATION_INTERPOLATION, type CalibrationEntry, type ParameterSetting } from './calibrate.js';
import { resolveInvariantOptions, type Interpolation } from './invariant.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';

/** The methods tried by default, in this order, where registered (the others are skipped silently). */
export const DEFAULT_AUTO_CANDIDATES = ['bm3d', 'nl-means', 'wavelet', 'tv-chambolle', 'bilateral', 'median', 'gaussian'] as const;
export const AUTO_SECONDS_PER_MEGAPIXEL = 15;
export const MIN_AUTO_BUDGET = 1;
/** methods whose one-mask loss is within this fraction of the leader's are scored again on more masks */
export const AUTO_TIE = 0.03;
/** at most this many of them */
export const AUTO_FINALISTS = 3;
/** on this many spread masks (the first of which is the one-mask loss's) */
export const AUTO_FINAL_MASKS = 4;
/** a grid axis with more values is thinned to this many, evenly spaced */
export const AUTO_MAX_AXIS_VALUES = 7;

export interface DenoiseAutoOptions {
  /** seconds for the whole run, calibration and final denoising (default 15 per megapixel, at least 1) */
  budget?: number;
  /** methods to choose from: ids or DenoiserInfo objects (default DEFAULT_AUTO_CANDIDATES that are registered) */
  candidates?: readonly (string | DenoiserInfo)[];
  /** the noise standard deviation when known (default: estimated) */
  sigma?: number;
  /** J-invariant mask stride (default 4) */
  stride?: number;
  /** how masked pixels are filled (default 'renoised', as calibrateDenoiser) */
  interpolation?: Interpolation;
  /** seed of the 'renoised' fill (default 0) */
  seed?: number;
  /** masks the methods within AUTO_TIE of the leader are scored again on (default AUTO_FINAL_MASKS; 1: no re-scoring) */
  finalMasks?: number;
  /** calibrate on a centred square of at most this side (default: calibrationRegion's choice) */
  cropSide?: number;
  context?: DenoiseContext;
}

export interface AutoCandidateResult {
  method: string;
  /** the best options found for this method */
  params: Record<string, unknown>;
  /** its self-supervised loss (NaN when skipped) */
  loss: number;
  /** the settings tried, in the order tried */
  settings: CalibrationEntry[];
  /** how many settings its grid offered (after thinning) */
  gridSize: number;
  seconds: number;
  /** why it was not tried, when it was not */
  skipped?: string;
  /** its loss on AUTO_FINAL_MASKS masks, when it was within AUTO_TIE of the leader and re-scored */
  finalLoss?: number;
}

export interface DenoiseAutoResult {
  image: Image;
  chosen: { method: string; params: Record<string, unknown> };
  sigma: number;
  sigmaSource: 'estimated' | 'given';
  /** one row per candidate, in the order given */
  table: AutoCandidateResult[];
  /** one line: what was chosen and why */
  reason: string;
  /** the region the candidates were calibrated on */
  region: { x: number; y: number; width: number; height: number };
  budget: number;
  /** wall-clock seconds, calibration and final run */
  seconds: number;
  calibrationSeconds: number;
}

/** Evenly spaced values, first and last kept, when there are more than `max`. */
export function thinValues<T>(values: readonly T[], max: number): T[] {
  if (values.length <= max) return values.slice();
  const out: T[] = [];
  for (let k = 0; k < max; k++) out.push(values[Math.round((k * (values.length - 1)) / (max - 1))]);
  return out;
}

/**
 * The centred region the candidates are calibrated on: a quarter of the image, but at
 * least 128x128 and at most 256x256 or a sixteenth of the image, whichever is larger
 * (so small images calibrate on a crop cheaper than the final run, and large ones on
 * enough pixels), with the image's aspect ratio where it fits. `side` overrides the
 * computed size (a square of at most side x side).
 */
export function calibrationRegion(width: number, height: number, side?: number): DenoiseAutoResult['region'] {
  const full = width * height;
  let w: number;
  let h: number;
  if (side !== undefined) {
    w = Math.min(width, side);
    h = Math.min(height, side);
  } else {
    const target = Math.min(full, Math.max(128 * 128, Math.min(full / 4, Math.max(256 * 256, full / 16))));
    const scale = Math.sqrt(target / full);
    w = Math.min(width, Math.max(Math.round(width * scale), Math.ceil(target / height)));
    h = Math.min(height, Math.round(target / w));
  }
  return { x: Math.floor((width - w) / 2), y: Math.floor((height - h) / 2), width: w, height: h };
}

/**
 * A candidate's search: its grid as axes of values, searched by coordinate descent from
 * the middle of every axis (the untried neighbours of the best point, one step along each
 * axis, until the best has none left: a local minimum of the loss on the grid).
 */
interface Plan {
  info: DenoiserInfo;
  axes: [string, (number | string)[]][];
  tried: Map<string, { point: number[]; entry: CalibrationEntry; best: Record<string, unknown> }>;
  best: number[];
  secondsPerCall: number;
  seconds: number;
  skipped?: string;
}

function settingAt(plan: Plan, point: readonly number[]): ParameterSetting {
  const s: ParameterSetting = {};
  plan.axes.forEach(([k, values], d) => (s[k] = values[point[d]]));
  return s;
}

function untriedNeighbours(plan: Plan): number[][] {
  const out: number[][] = [];
  plan.axes.forEach(([, values], d) => {
    for (const step of [-1, 1]) {
      const p = plan.best.slice();
      p[d] += step;
      if (p[d] >= 0 && p[d] < values.length && !plan.tried.has(p.join(','))) out.push(p);
    }
  });
  return out;
}

function gridOf(setting: ParameterSetting): Record<string, (number | string)[]> {
  const g: Record<string, (number | string)[]> = {};
  for (const [k, v] of Object.entries(setting)) g[k] = [v];
  return g;
}

/**
 * Chooses a denoiser and its parameters for `image` by self-supervised calibration and
 * returns the denoised image with the choice and the evidence.
 */
export async function denoiseAuto(image: Image, options: DenoiseAutoOptions = {}): Promise<DenoiseAutoResult> {
  const fn = 'denoiseAuto';
  checkImage(fn, image);
  const o = checkObject(fn, 'options', options);
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const megapixels = (image.width * image.height) / 1e6;
  const budget = optionalNumber(fn, 'options.budget', o.budget, Math.max(MIN_AUTO_BUDGET, AUTO_SECONDS_PER_MEGAPIXEL * megapixels), { above: 0 });
  const { stride, interpolation, seed } = resolveInvariantOptions(fn, { stride: o.stride, interpolation: o.interpolation, seed: o.seed }, DEFAULT_CALIBRATION_INTERPOLATION);
  const cropSide = o.cropSide === undefined ? undefined : optionalNumber(fn, 'options.cropSide', o.cropSide, 0, { integer: true, min: 2 * stride });
  const context = (o.context ?? {}) as DenoiseContext;
  const finalMasks = optionalNumber(fn, 'options.finalMasks', o.finalMasks, AUTO_FINAL_MASKS, { integer: true, min: 1, max: stride * stride });
  const sigmaSource = o.sigma === undefined ? 'estimated' : 'given';
  const sigma = o.sigma === undefined ? estimateImageSigma(image) : optionalNumber(fn, 'options.sigma', o.sigma, 0, { min: 0 });

  let infos: DenoiserInfo[];
  if (o.candidates === undefined) {
    infos = DEFAULT_AUTO_CANDIDATES.filter((id) => (DENOISERS as readonly string[]).includes(id)).map((id) => (DENOISER_REGISTRY as Record<string, DenoiserInfo>)[id]);
    if (infos.length === 0) infos = DENOISERS.map((id) => (DENOISER_REGISTRY as Record<string, DenoiserInfo>)[id]);
    if (infos.length === 0) throw new HushError('ERR_UNSUPPORTED', `${fn}: no denoiser is registered, so there is nothing to choose from`);
  } else {
    if (!Array.isArray(o.candidates) || o.candidates.length === 0) throw invalidParameter(fn, 'options.candidates', 'a non-empty array of denoiser ids', o.candidates);
    infos = (o.candidates as unknown[]).map((c) => (typeof c === 'string' ? getDenoiser(c, fn, 'options.candidates') : checkInfo(fn, c)));
    const ids = infos.map((i) => i.id);
    const dup = ids.find((id, k) => ids.indexOf(id) !== k);
    if (dup !== undefined) throw invalidParameter(fn, 'options.candidates', 'each method once', dup);
  }

  const region = calibrationRegion(image.width, image.height, cropSide);
  const crop = region.width === image.width && region.height === image.height ? image : cropImage(image, region.x, region.y, region.x + region.width, region.y + region.height);
  const cropPixels = region.width * region.height;
  const fullPixels = image.width * image.height;

  const plans: Plan[] = infos.map((info) => {
    // the noise level of a method that takes it (BM3D, wavelet) is the one measured (or
    // given), not searched: the self-supervised loss prefers a stronger setting than the
    // plain denoiser's best, and tuning BM3D's sigma by it cost up to 1.6 dB on Set12
    // sigma 15 (1.5 times the estimate chosen) once the search had the time to run
    const axes = Object.entries(info.calibrationGrid(sigma)).map(([k, v]) => [k, k === 'sigma' && info.usesSigma ? [sigma] : thinValues(v, AUTO_MAX_AXIS_VALUES)] as [string, (number | string)[]]);
    return { info, axes, tried: new Map(), best: axes.map(([, v]) => Math.floor((v.length - 1) / 2)), secondsPerCall: NaN, seconds: 0 };
  });
  const progressCalibration = (): void => context.onProgress?.(Math.min(0.9, (0.9 * elapsed()) / budget));
  const lossOf = (p: Plan): number => p.tried.get(p.best.join(','))?.entry.loss ?? Infinity;
  /** seconds the final run of `plan`'s method is predicted to take on the whole image */
  const finalCost = (p: Plan): number => (p.secondsPerCall * fullPixels) / cropPixels;

  const evaluate = async (plan: Plan, point: number[]): Promise<void> => {
    const t = performance.now();
    const r = await calibrateDenoiser(crop, plan.info, gridOf(settingAt(plan, point)), { sigma, stride, interpolation, seed, context: { threads: context.threads } });
    const seconds = (performance.now() - t) / 1000;
    plan.tried.set(point.join(','), { point, entry: r.table[0], best: r.best });
    plan.seconds += seconds;
    plan.secondsPerCall = Number.isFinite(plan.secondsPerCall) ? Math.min(plan.secondsPerCall, seconds) : seconds;
    if (r.table[0].loss < lossOf(plan) || plan.tried.size === 1) plan.best = point;
    progressCalibration();
  };

  // phase 1: every candidate at the middle of its grid; after the first, only while the
  // cheapest probe so far and the final run still fit in the budget
  for (const plan of plans) {
    const done = plans.filter((p) => p.tried.size > 0);
    if (done.length > 0) {
      const cheapest = Math.min(...done.map((p) => p.secondsPerCall));
      if (elapsed() + cheapest + Math.min(...done.map(finalCost)) > budget) {
        plan.skipped = 'time budget spent';
        continue;
      }
    }
    await evaluate(plan, plan.best);
  }
  // phase 2: coordinate descent, most promising candidate first, while the budget holds
  // (keeping back the predicted final run of the leader or of this candidate, whichever is dearer)
  const ranked = plans.filter((p) => p.tried.size > 0).sort((a, b) => lossOf(a) - lossOf(b));
  for (const plan of ranked) {
    let out = false;
    while (!out) {
      const next = untriedNeighbours(plan);
      if (next.length === 0) break;
      const from = plan.best.join(',');
      for (const point of next) {
        const leader = ranked.reduce((a, b) => (lossOf(b) < lossOf(a) ? b : a));
        if (elapsed() + plan.secondsPerCall + Math.max(finalCost(leader), finalCost(plan)) > budget) {
          out = true;
          break;
        }
        await evaluate(plan, point);
      }
      if (plan.best.join(',') === from) break;
    }
  }
  // phase 3: one mask of a small crop ranks methods only roughly (Set12 01 at sigma 50:
  // NL-means 0.7 % below BM3D on one mask, 1.2 dB worse in truth); the methods within
  // AUTO_TIE of the leader are scored again on AUTO_FINAL_MASKS spread masks when the
  // budget allows, and the lowest mean loss wins
  const finalLoss = new Map<Plan, number>();
  const leaderLoss = Math.min(...ranked.map(lossOf));
  const close = ranked.filter((p) => lossOf(p) <= leaderLoss * (1 + AUTO_TIE)).slice(0, AUTO_FINALISTS);
  if (close.length > 1 && finalMasks > 1) {
    const cost = close.reduce((n, p) => n + p.secondsPerCall * finalMasks, 0);
    if (elapsed() + cost + Math.max(...close.map(finalCost)) <= budget) {
      for (const p of close) {
        const t = performance.now();
        const setting = settingAt(p, p.best);
        const r = await calibrateDenoiser(crop, p.info, gridOf(setting), { sigma, stride, interpolation, seed, loss: 'full', maxMasks: finalMasks, context: { threads: context.threads } });
        p.seconds += (performance.now() - t) / 1000;
        finalLoss.set(p, r.table[0].loss);
        progressCalibration();
      }
    }
  }
  const calibrationSeconds = elapsed();
  // with the re-scored losses the lowest wins; without them (no time, or no close
  // rival), the first candidate in priority order within AUTO_TIE of the lowest one-mask
  // loss does, as one mask cannot tell such methods apart
  const winner =
    finalLoss.size > 0
      ? [...finalLoss.keys()].reduce((a, b) => (finalLoss.get(b)! < finalLoss.get(a)! ? b : a))
      : plans.find((p) => p.tried.size > 0 && lossOf(p) <= leaderLoss * (1 + AUTO_TIE))!;
  const bestParams = winner.tried.get(winner.best.join(','))?.best ?? {};
  const params = withSigma(winner.info, image, bestParams);
  const start = Math.min(0.9, (0.9 * calibrationSeconds) / budget);
  const out = await winner.info.denoise(image, params, {
    threads: context.threads,
    onProgress: (f) => context.onProgress?.(start + (1 - start) * f),
  });
  context.onProgress?.(1);

  const table: AutoCandidateResult[] = plans.map((p) => ({
    method: p.info.id,
    params: p.tried.get(p.best.join(','))?.best ?? {},
    loss: p.tried.size ? lossOf(p) : Number.NaN,
    settings: [...p.tried.values()].map((t) => t.entry),
    gridSize: p.axes.reduce((n, [, v]) => n * v.length, 1),
    seconds: p.seconds,
    ...(finalLoss.has(p) ? { finalLoss: finalLoss.get(p) } : {}),
    ...(p.skipped ? { skipped: p.skipped } : {}),
  }));
  const tried = plans.filter((p) => p.tried.size > 0).length;
  const notes: string[] = [];
  if (crop !== image) notes.push(`calibrated on a ${region.width}x${region.height} crop`);
  const skipped = plans.filter((p) => p.skipped).map((p) => p.info.id);
  if (skipped.length) notes.push(`not tried for time: ${skipped.join(', ')}`);
  if (finalLoss.size > 0) notes.push(`${[...finalLoss.keys()].map((p) => p.info.id).join(', ')} re-scored on ${finalMasks} masks`);
  const reason = `lowest self-supervised loss ${formatLoss(finalLoss.get(winner) ?? lossOf(winner))} of ${tried} candidate${tried === 1 ? '' : 's'}${notes.length ? ` (${notes.join('; ')})` : ''}`;
  return {
    image: out,
    chosen: { method: winner.info.id, params },
    sigma,
    sigmaSource,
    table,
    reason,
    region,
    budget,
    seconds: elapsed(),
    calibrationSeconds,
  };
}

function formatLoss(v: number): string {
  return Number(v.toPrecision(3)).toString();
}

function checkInfo(fn: string, d: unknown): DenoiserInfo {
  const info = d as Partial<DenoiserInfo> | null;
  if (info === null || typeof info !== 'object' || typeof info.denoise !== 'function' || typeof info.calibrationGrid !== 'function' || typeof info.id !== 'string') {
    throw invalidParameter(fn, 'options.candidates', 'denoiser ids or DenoiserInfo objects', d);
  }
  return info as DenoiserInfo;
}
