/**
 * Tiled inference: a denoising network applied to an image of any size in tiles of
 * bounded size, by the overlap-tile strategy of U-Net (Ronneberger, Fischer & Brox
 * 2015, "U-Net: Convolutional Networks for Biomedical Image Segmentation", MICCAI):
 * every tile is a core plus `tileOverlap` samples of context on each side, read from
 * the neighbouring pixels inside the image and mirrored (symmetric, as runModel pads)
 * past its edges. Outputs are blended, not cropped: each tile's output is weighted by
 * a separable tapered-cosine (Tukey) window, flat over the core, with a sin^2 ramp of
 * 2*ceil(tileOverlap/2) samples centred on each border with a neighbouring core (the
 * image's own edges are not tapered). Two neighbours' ramps add up to exactly 1, and
 * the outermost floor(tileOverlap/2) samples of a tile are context only (weight 0): a
 * network whose receptive-field radius is at most floor(tileOverlap/2) gives the
 * result of one big tile to rounding, and a wider one gets a smooth blend rather than
 * a seam. The grid is a product of a row plan and a column plan, so the window and its
 * normalising sum are 1-D arrays per axis and the output buffer is the accumulator:
 * the working memory is one batch of tiles, not a weight image.
 *
 * The runner is abstract (NCHW in, NCHW out), so onnxruntime sessions and tfjs models
 * drive the same code; tfjs lives in tfjs-tile-runner.ts, not here.
 */
import { describeValue, HushError, invalidParameter } from '../core/errors.js';
import { checkImage, colourChannels, withData, type Image } from '../core/image.js';
import { checkNumber, checkObject, checkOneOf, optionalNumber } from '../core/validate.js';
import { checkNormalization, type InputNormalization } from '../models/normalization.js';
import { CHANNEL_MODES, channelMismatch, type ChannelMode } from '../models/channels.js';

export const DEFAULT_TILE_SIZE = 512;
export const DEFAULT_TILE_OVERLAP = 32;
/** A no-data sample is filled with the mean of the valid samples of its channel within this radius (a 5x5 window). */
export const FILL_RADIUS = 2;

/** What a runner may need besides the pixels. */
export interface TileRunExtra {
  /** the exposure-time ratio, for models conditioned on it */
  exposureRatio?: number;
}

/** Runs a network on a batch of tiles; implemented over tfjs (tfjsTileRunner) or onnxruntime. */
export interface TileRunner {
  /** colour channels the network takes: 1 (grey) or 3 (RGB) */
  readonly channels: number;
  /** tile height and width are always multiples of this */
  readonly multiple: number;
  /** true if the network also takes the exposure-time ratio (inferTiled then requires options.exposureRatio) */
  readonly conditioned?: boolean;
  /** the normalisation the network was trained with, used unless options.normalization is given */
  readonly normalization?: InputNormalization;
  /**
   * `batch` holds n tiles of c channels, h x w, NCHW; resolves to the output in the same
   * layout and shape. The buffer is reused for the next call once this one resolves,
   * so a runner may return it, written in place, but must not keep it.
   */
  run(batch: Float32Array, n: number, c: number, h: number, w: number, extra?: TileRunExtra): Promise<Float32Array>;
}

export interface InferTiledProgress {
  /** tiles whose output has been blended in */
  done: number;
  total: number;
}

export interface InferTiledOptions {
  /** the largest tile side, context included, rounded up to the runner's multiple (default 512) */
  tileSize?: number;
  /** context on each side of a tile's core, in samples (default 32); floor(tileOverlap/2) of it is never blended */
  tileOverlap?: number;
  /** tiles per runner call (default 1); in per-channel mode each tile is one network input per colour channel */
  batchSize?: number;
  /** how values are mapped before the network (default: the runner's, else none); 'standardize' uses the whole image's mean and deviation */
  normalization?: InputNormalization;
  /** 'per-channel': a grey network denoises each colour channel of an RGB image; 'strict' (default): channels must match */
  channelMode?: ChannelMode;
  /** the exposure-time ratio, for conditioned networks (passed to the runner as extra.exposureRatio) */
  exposureRatio?: number;
  /** called after each runner call: the fraction done, and the tile counts */
  onProgress?: (fraction: number, tiles: InferTiledProgress) => void;
  /** aborts between runner calls (rejects with the signal's reason) */
  signal?: AbortSignal;
}

/** One row or column of tiles. */
export interface TileSpan {
  /** the tile's first sample along the axis (negative, or with the tile running past the end: mirrored samples) */
  start: number;
  /** the core [coreStart, coreEnd): the cores of an axis partition it */
  coreStart: number;
  coreEnd: number;
  /** blending weight of each of the tile's samples, 0 outside [from, to); the weights of all tiles add up to 1 at every sample of the axis */
  weights: Float64Array;
  /** the image samples this tile contributes to (weight > 0), from <= coreStart, to >= coreEnd */
  from: number;
  to: number;
}

export interface TileAxis {
  /** the tile side along this axis, the same for every tile: a multiple of the runner's, at most tileSize rounded up to it */
  size: number;
  spans: TileSpan[];
}

export interface TileGrid {
  rows: TileAxis;
  columns: TileAxis;
  /** rows.spans.length x columns.spans.length */
  count: number;
}

export interface PlanTileGridOptions {
  tileSize?: number;
  tileOverlap?: number;
  /** tile sides are multiples of this (the runner's; default 1) */
  multiple?: number;
}

interface Tiling {
  tileSize: number;
  tileOverlap: number;
  multiple: number;
}

function checkTiling(fn: string, tileSize: unknown, tileOverlap: unknown, multiple: number): Tiling {
  const overlap = optionalNumber(fn, 'options.tileOverlap', tileOverlap, DEFAULT_TILE_OVERLAP, { integer: true, min: 0 });
  const size = optionalNumber(fn, 'options.tileSize', tileSize, DEFAULT_TILE_SIZE, { integer: true, min: 1 });
  // A tile must keep at least one sample of core between its two contexts.
  if (size <= 2 * overlap) throw invalidParameter(fn, 'options.tileSize', `an integer above ${2 * overlap} (twice options.tileOverlap)`, size);
  return { tileSize: Math.ceil(size / multiple) * multiple, tileOverlap: overlap, multiple };
}

/** sin^2 ramp over r samples starting at t = 0: 0 before, 1 after; ramp(t) + ramp(r - 1 - t) = 1. */
function ramp(t: number, r: number): number {
  if (t < 0) return 0;
  if (t >= r) return 1;
  const s = Math.sin((Math.PI / 2) * ((t + 0.5) / r));
  return s * s;
}

function planAxis(length: number, t: Tiling): TileAxis {
  const { tileSize, tileOverlap: overlap, multiple } = t;
  const n = Math.ceil(length / (tileSize - 2 * overlap));
  // Cores as even as integers allow; every tile gets the largest core's size, so one
  // batch shape serves all (one compiled graph), and smaller cores get extra context.
  const size = Math.ceil((Math.ceil(length / n) + 2 * overlap) / multiple) * multiple;
  const half = overlap - Math.floor(overlap / 2);
  const r = 2 * half;
  const spans: TileSpan[] = [];
  for (let k = 0; k < n; k++) {
    const coreStart = Math.floor((k * length) / n);
    const coreEnd = Math.floor(((k + 1) * length) / n);
    const extra = size - (coreEnd - coreStart) - 2 * overlap;
    const start = coreStart - overlap - Math.floor(extra / 2);
    const weights = new Float64Array(size);
    for (let i = 0; i < size; i++) {
      const p = start + i;
      if (p < 0 || p >= length) continue;
      // Tapered towards a neighbour only: the image's own edges are not tapered.
      const left = k > 0 ? ramp(p - (coreStart - half), r) : 1;
      const right = k < n - 1 ? ramp(coreEnd + half - 1 - p, r) : 1;
      weights[i] = left * right;
    }
    const from = k > 0 ? Math.max(0, coreStart - half) : 0;
    const to = k < n - 1 ? Math.min(length, coreEnd + half) : length;
    spans.push({ start, coreStart, coreEnd, weights, from, to });
  }
  // Normalise by the sum over tiles: 1 already (to rounding) where two ramps meet, but
  // not where a core is shorter than the ramp (tiny tiles).
  const sum = new Float64Array(length);
  for (const s of spans) for (let p = s.from; p < s.to; p++) sum[p] += s.weights[p - s.start];
  for (const s of spans) for (let p = s.from; p < s.to; p++) s.weights[p - s.start] /= sum[p];
  return { size, spans };
}

/**
 * The tile grid inferTiled uses for a width x height image: per axis, tiles of one
 * size (at most tileSize rounded up to the multiple), cores partitioning the axis,
 * and the normalised blending weights. Pure: no image needed.
 */
export function planTileGrid(width: number, height: number, options: PlanTileGridOptions = {}): TileGrid {
  const fn = 'planTileGrid';
  checkNumber(fn, 'width', width, { integer: true, min: 1 });
  checkNumber(fn, 'height', height, { integer: true, min: 1 });
  const o = checkObject(fn, 'options', options) as PlanTileGridOptions;
  const multiple = optionalNumber(fn, 'options.multiple', o.multiple, 1, { integer: true, min: 1 });
  const tiling = checkTiling(fn, o.tileSize, o.tileOverlap, multiple);
  return gridFor(width, height, tiling);
}

function gridFor(width: number, height: number, tiling: Tiling): TileGrid {
  const rows = planAxis(height, tiling);
  const columns = planAxis(width, tiling);
  return { rows, columns, count: rows.spans.length * columns.spans.length };
}

/** Symmetric reflection (edge sample repeated, periodic for any distance): what tf.mirrorPad 'symmetric' gives, applied repeatedly. */
function reflect(i: number, n: number): number {
  const m = ((i % (2 * n)) + 2 * n) % (2 * n);
  return m < n ? m : 2 * n - 1 - m;
}

function reflectedIndices(span: TileSpan, size: number, length: number): Int32Array {
  const out = new Int32Array(size);
  for (let i = 0; i < size; i++) out[i] = reflect(span.start + i, length);
  return out;
}

/** A sample of a colour channel without data: NaN, infinite, or masked. */
function isMissing(data: Float32Array, mask: Uint8Array | undefined, i: number): boolean {
  return !Number.isFinite(data[i]) || (mask !== undefined && mask[i] !== 0);
}

/** Median of the valid samples of one channel, from two 4096-bin histograms (to 1/4096^2 of the range): a fallback fill value, in bounded memory. */
function channelMedian(image: Image, ch: number): number {
  const { data, mask, channels } = image;
  let min = Infinity;
  let max = -Infinity;
  let count = 0;
  for (let i = ch; i < data.length; i += channels) {
    if (isMissing(data, mask, i)) continue;
    const v = data[i];
    if (v < min) min = v;
    if (v > max) max = v;
    count++;
  }
  if (count === 0) return 0;
  if (min === max) return min;
  const bins = 4096;
  let lo = min;
  let width = (max - min) / bins;
  let rank = Math.floor((count - 1) / 2);
  for (let level = 0; level < 2; level++) {
    const hist = new Float64Array(bins);
    for (let i = ch; i < data.length; i += channels) {
      if (isMissing(data, mask, i)) continue;
      const b = Math.floor((data[i] - lo) / width);
      if (b >= 0 && b < bins) hist[b]++;
      else if (b === bins && level === 0) hist[bins - 1]++; // the maximum itself
    }
    let b = 0;
    while (b < bins - 1 && rank >= hist[b]) rank -= hist[b++];
    lo += b * width;
    width /= bins;
  }
  return Math.min(max, Math.max(min, lo + (bins * width) / 2));
}

/** Per-plane affine maps: the network sees (v - shift) * scale and its output y becomes y / scale + shift. */
interface PlaneMaps {
  shift: Float64Array;
  scale: Float64Array;
}

interface ImageStats {
  maps: PlaneMaps;
  /** count of colour samples without data */
  missing: number;
}

/** One pass for the no-data count (and, for 'standardize', the mean; a second for the deviation) over the whole image. */
function imageStats(image: Image, colour: number, normalization: InputNormalization, perChannel: boolean): ImageStats {
  const { data, mask, channels } = image;
  const shift = new Float64Array(colour);
  const scale = new Float64Array(colour).fill(1);
  const sum = new Float64Array(colour);
  const count = new Float64Array(colour);
  let missing = 0;
  for (let p = 0; p < colour; p++) {
    let s = 0;
    let c = 0;
    for (let i = p; i < data.length; i += channels) {
      if (isMissing(data, mask, i)) missing++;
      else {
        s += data[i];
        c++;
      }
    }
    sum[p] = s;
    count[p] = c;
  }
  if (normalization.kind === 'affine') {
    shift.fill(normalization.offset);
    scale.fill(normalization.scale);
  } else if (normalization.kind === 'standardize') {
    // As normalize() in normalization.ts: one mean and deviation per network input (all
    // colour channels together in strict mode, each channel in per-channel mode), but
    // over the valid samples of the whole image rather than per tile.
    const groups = perChannel ? Array.from({ length: colour }, (_, p) => [p]) : [Array.from({ length: colour }, (_, p) => p)];
    for (const g of groups) {
      const n = g.reduce((a, p) => a + count[p], 0);
      const mean = n > 0 ? g.reduce((a, p) => a + sum[p], 0) / n : 0;
      let sq = 0;
      for (const p of g) {
        for (let i = p; i < data.length; i += channels) if (!isMissing(data, mask, i)) sq += (data[i] - mean) ** 2;
      }
      const std = (n > 0 ? Math.sqrt(sq / n) : 0) || 1;
      for (const p of g) {
        shift[p] = mean;
        scale[p] = 1 / std;
      }
    }
  }
  return { maps: { shift, scale }, missing };
}

/**
 * The value a network sees at a sample without data: the mean of the valid samples of
 * its channel in the (2 FILL_RADIUS + 1)^2 window around it, clipped to the image (so
 * every tile, and the mirrored context, sees the same value), else the channel's median.
 * Local, so a dead pixel does not darken or brighten its neighbours' output.
 */
function fillerFor(image: Image): (y: number, x: number, ch: number) => number {
  const { data, mask, width, height, channels } = image;
  const medians = new Map<number, number>();
  return (y, x, ch) => {
    let s = 0;
    let c = 0;
    const y1 = Math.min(height - 1, y + FILL_RADIUS);
    const x0 = Math.max(0, x - FILL_RADIUS);
    const x1 = Math.min(width - 1, x + FILL_RADIUS);
    for (let yy = Math.max(0, y - FILL_RADIUS); yy <= y1; yy++) {
      for (let xx = x0; xx <= x1; xx++) {
        const i = (yy * width + xx) * channels + ch;
        if (!isMissing(data, mask, i)) {
          s += data[i];
          c++;
        }
      }
    }
    if (c > 0) return s / c;
    let m = medians.get(ch);
    if (m === undefined) medians.set(ch, (m = channelMedian(image, ch)));
    return m;
  };
}

/** out += weight x denormalised output, over the samples of one plane of one tile that carry weight. */
function blendPlane(out: Float32Array, width: number, channels: number, p: number, result: Float32Array, plane: number, tw: number, rs: TileSpan, cs: TileSpan, shift: number, inverse: number): void {
  const x0 = cs.from - cs.start;
  const x1 = cs.to - cs.start;
  const wx = cs.weights;
  for (let y = rs.from - rs.start; y < rs.to - rs.start; y++) {
    const wy = rs.weights[y];
    const src = plane + y * tw;
    let j = ((rs.start + y) * width + cs.start + x0) * channels + p;
    for (let x = x0; x < x1; x++, j += channels) out[j] += wy * wx[x] * (result[src + x] * inverse + shift);
  }
}

function checkRunner(fn: string, runner: unknown): TileRunner {
  const r = runner as Partial<TileRunner> | null;
  if (r === null || typeof r !== 'object' || typeof r.run !== 'function') {
    throw invalidParameter(fn, 'runner', 'a TileRunner (an object with channels, multiple and run)', runner);
  }
  if (r.channels !== 1 && r.channels !== 3) throw invalidParameter(fn, 'runner.channels', 'one of 1, 3', r.channels);
  checkNumber(fn, 'runner.multiple', r.multiple, { integer: true, min: 1 });
  return r as TileRunner;
}

/**
 * Denoises `image` with a network behind `runner`, tile by tile (see the file comment).
 * Returns a new Image with the same metadata; alpha is copied, and samples without
 * data (NaN, infinite or masked) are filled for the network and restored afterwards
 * to their original value, so NaN stays NaN and the mask still holds.
 */
export async function inferTiled(image: Image, runner: TileRunner, options: InferTiledOptions = {}): Promise<Image> {
  const fn = 'inferTiled';
  checkImage(fn, image);
  checkRunner(fn, runner);
  const opts = checkObject(fn, 'options', options) as InferTiledOptions;
  const tiling = checkTiling(fn, opts.tileSize, opts.tileOverlap, runner.multiple);
  const batchSize = optionalNumber(fn, 'options.batchSize', opts.batchSize, 1, { integer: true, min: 1 });
  const normalization =
    opts.normalization !== undefined
      ? checkNormalization(fn, 'options.normalization', opts.normalization)
      : runner.normalization !== undefined
        ? checkNormalization(fn, 'runner.normalization', runner.normalization)
        : { kind: 'none' as const };
  const channelMode = checkOneOf(fn, 'options.channelMode', opts.channelMode ?? 'strict', CHANNEL_MODES);
  let extra: TileRunExtra | undefined;
  if (opts.exposureRatio !== undefined) extra = { exposureRatio: checkNumber(fn, 'options.exposureRatio', opts.exposureRatio, { above: 0 }) };
  else if (runner.conditioned === true) {
    throw invalidParameter(fn, 'options.exposureRatio', 'a positive number (the model is conditioned on the exposure-time ratio)', undefined);
  }
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw invalidParameter(fn, 'options.onProgress', 'a function', opts.onProgress);
  if (opts.signal !== undefined && !(opts.signal instanceof AbortSignal)) throw invalidParameter(fn, 'options.signal', 'an AbortSignal', opts.signal);
  const colour = colourChannels(image);
  const perChannel = runner.channels !== colour;
  if (perChannel && !(runner.channels === 1 && colour === 3 && channelMode === 'per-channel')) {
    throw channelMismatch(
      fn,
      runner.channels,
      colour,
      runner.channels === 1 ? "convert the image to grey, use a model trained for RGB, or pass channelMode: 'per-channel'" : 'convert the image to RGB or use a model trained for grey images',
    );
  }
  opts.signal?.throwIfAborted();

  const { width, height, channels, data, mask } = image;
  const grid = gridFor(width, height, tiling);
  const { maps, missing } = imageStats(image, colour, normalization, perChannel);
  const fill = fillerFor(image);
  const th = grid.rows.size;
  const tw = grid.columns.size;
  const tilePlane = th * tw;
  const tileValues = colour * tilePlane;
  const rowIndex = grid.rows.spans.map((s) => reflectedIndices(s, th, height));
  const colIndex = grid.columns.spans.map((s) => reflectedIndices(s, tw, width));

  // The output buffer is the accumulator: colour samples start at 0, alpha is copied.
  const out = new Float32Array(data.length);
  if (channels !== colour) for (let i = colour; i < data.length; i += channels) out[i] = data[i];

  const total = grid.count;
  const perCall = Math.min(batchSize, total);
  const batch = new Float32Array(perCall * tileValues);
  const nCols = grid.columns.spans.length;

  const extract = (tile: number, offset: number): void => {
    const ri = Math.floor(tile / nCols);
    const ci = tile % nCols;
    const ys = rowIndex[ri];
    const xs = colIndex[ci];
    let o = offset;
    for (let p = 0; p < colour; p++) {
      const shift = maps.shift[p];
      const scale = maps.scale[p];
      for (let y = 0; y < th; y++) {
        const sy = ys[y];
        const row = sy * width;
        if (missing === 0) {
          for (let x = 0; x < tw; x++) batch[o++] = (data[(row + xs[x]) * channels + p] - shift) * scale;
          continue;
        }
        for (let x = 0; x < tw; x++) {
          const i = (row + xs[x]) * channels + p;
          batch[o++] = ((isMissing(data, mask, i) ? fill(sy, xs[x], p) : data[i]) - shift) * scale;
        }
      }
    }
  };

  const accumulate = (result: Float32Array, tile: number, offset: number): void => {
    const rs = grid.rows.spans[Math.floor(tile / nCols)];
    const cs = grid.columns.spans[tile % nCols];
    for (let p = 0; p < colour; p++) blendPlane(out, width, channels, p, result, offset + p * tilePlane, tw, rs, cs, maps.shift[p], 1 / maps.scale[p]);
  };

  let done = 0;
  while (done < total) {
    opts.signal?.throwIfAborted();
    const k = Math.min(perCall, total - done);
    for (let t = 0; t < k; t++) extract(done + t, t * tileValues);
    const n = perChannel ? k * colour : k;
    const c = perChannel ? 1 : colour;
    const expected = k * tileValues;
    const result = await runner.run(batch.subarray(0, expected), n, c, th, tw, extra);
    if (!(result instanceof Float32Array) || result.length !== expected) {
      const got = result instanceof Float32Array ? `a Float32Array of length ${result.length}` : describeValue(result);
      throw new HushError('ERR_INVALID_PARAMETER', `${fn}: runner.run returned ${got} for a ${n}x${c}x${th}x${tw} batch (NCHW); expected a Float32Array of length ${expected}`, {
        param: 'runner',
        expected: `a Float32Array of length ${expected}`,
        received: result,
      });
    }
    for (let t = 0; t < k; t++) accumulate(result, done + t, t * tileValues);
    done += k;
    opts.onProgress?.(done / total, { done, total });
  }
  opts.signal?.throwIfAborted();

  if (missing > 0) {
    for (let p = 0; p < colour; p++) for (let i = p; i < data.length; i += channels) if (isMissing(data, mask, i)) out[i] = data[i];
  }
  return withData(image, out);
}
