/**
 * Wavelet shrinkage denoising: BayesShrink (Chang, Yu & Vetterli, "Adaptive wavelet
 * thresholding for image denoising and compression", IEEE TIP 9(9), 2000), one
 * threshold sigma^2 / sqrt(max(var(subband) - sigma^2, eps)) per detail subband, or
 * VisuShrink (Donoho & Johnstone, "Ideal spatial adaptation by wavelet shrinkage",
 * Biometrika 81(3), 1994), one universal threshold sigma * sqrt(2 ln n); soft or hard.
 * It reproduces scikit-image 0.19 `denoise_wavelet(image, sigma, wavelet, mode,
 * wavelet_levels, convert2ycbcr, method, rescale_sigma, channel_axis=-1)` on float
 * images: levels default to three fewer than pywt's maximum (at least 1); sigma, when
 * not given, is the robust median estimate from the finest diagonal subband of the
 * same transform (exact zeros left out); colour channels are denoised separately, in
 * RGB or in YCbCr (each channel rescaled to [0, 1] first, as there); the output is not
 * clipped (scikit-image clips only integer inputs). Where WebAssembly SIMD runs, each
 * plane is transformed, thresholded and reconstructed in float32 vectors
 * (wavelet-simd.ts), as pywt and scikit-image compute on float32 input; elsewhere (and
 * for planes too small for 4-wide vectors) in float64 by wavelet-transform.ts, whose
 * coefficients equal pywt's float64 ones bit for bit.
 */
import { medianInPlace } from '../core/select.js';
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { invalidParameter } from '../core/errors.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { defaultThreads } from '../core/pool.js';
import { colourPlanes, withWorkerGroup } from './tv-chambolle.js';
import { heapTransform, waveletSimdAvailable, type HeapTransform } from './wavelet-simd.js';
import {
  cropPlane,
  dwt2MaxLevel,
  MAX_WAVELET_LEVEL,
  waveletFilters,
  WAVELETS,
  wavedec2Unchecked,
  waverec2Unchecked,
  type Plane,
  type Wavelet,
} from './wavelet-transform.js';
import type { DenoiseContext, DenoiserInfo, ParameterGrid } from './types.js';

export const WAVELET_METHODS = ['BayesShrink', 'VisuShrink'] as const;
export type WaveletMethod = (typeof WAVELET_METHODS)[number];

export const THRESHOLD_MODES = ['soft', 'hard'] as const;
export type ThresholdMode = (typeof THRESHOLD_MODES)[number];

/** scikit-image's `convert2ycbcr`: denoise in RGB (False, the default) or in YCbCr (True). */
export const WAVELET_COLOUR_SPACES = ['rgb', 'ycbcr'] as const;
export type WaveletColourSpace = (typeof WAVELET_COLOUR_SPACES)[number];

export interface DenoiseWaveletOptions {
  /** noise standard deviation on the image's value scale; estimated per channel when absent */
  sigma?: number;
  /** default 'db1' */
  wavelet?: Wavelet;
  /** 'soft' (default) or 'hard' thresholding */
  mode?: ThresholdMode;
  /** 'BayesShrink' (default) or 'VisuShrink' */
  method?: WaveletMethod;
  /** decomposition levels (default: pywt's maximum for the image minus 3, at least 1) */
  waveletLevels?: number;
  /** 'rgb' (default) or 'ycbcr' (colour images only) */
  colourSpace?: WaveletColourSpace;
  /** with colourSpace 'ycbcr': true (default) converts a given sigma from RGB to each YCbCr channel; false uses it as is */
  rescaleSigma?: boolean;
}

export const WAVELET_PARAMS: readonly ParamSpec[] = [
  {
    name: 'sigma',
    type: 'number',
    min: 0,
    description: 'Noise standard deviation on the image value scale. Estimated per channel from the finest diagonal wavelet subband when not given.',
  },
  { name: 'wavelet', type: 'enum', choices: WAVELETS, default: 'db1', description: "Wavelet: 'haar'/'db1' to 'db8' (Daubechies) or 'sym2' to 'sym8' (symlets)." },
  { name: 'mode', type: 'enum', choices: THRESHOLD_MODES, default: 'soft', description: "Thresholding: 'soft' shrinks coefficients towards 0, 'hard' keeps or zeroes them." },
  {
    name: 'method',
    type: 'enum',
    choices: WAVELET_METHODS,
    default: 'BayesShrink',
    description: "'BayesShrink': one adaptive threshold per subband; 'VisuShrink': one universal threshold sigma*sqrt(2 ln n), smoother.",
  },
  {
    name: 'waveletLevels',
    type: 'number',
    integer: true,
    min: 1,
    max: MAX_WAVELET_LEVEL,
    description: 'Decomposition levels. Default: the most the image allows (pywt.dwtn_max_level) minus 3, at least 1.',
  },
  {
    name: 'colourSpace',
    type: 'enum',
    choices: WAVELET_COLOUR_SPACES,
    default: 'rgb',
    description: "Colour images: denoise the 'rgb' channels, or convert to 'ycbcr' first (scikit-image convert2ycbcr=True), often better.",
  },
  {
    name: 'rescaleSigma',
    type: 'boolean',
    default: true,
    description: "With colourSpace 'ycbcr': convert a given RGB sigma to each YCbCr channel (true) or use it unchanged (false).",
  },
];

interface WaveletParams {
  sigma?: number;
  wavelet: Wavelet;
  mode: ThresholdMode;
  method: WaveletMethod;
  waveletLevels?: number;
  colourSpace: WaveletColourSpace;
  rescaleSigma: boolean;
}

function resolveWavelet(fn: string, image: Image, options: unknown): WaveletParams {
  const p = resolveParams(fn, WAVELET_PARAMS, checkObject(fn, 'options', options)) as unknown as WaveletParams;
  if (p.colourSpace === 'ycbcr' && colourChannels(image) !== 3) {
    throw invalidParameter(fn, 'options.colourSpace', "'rgb' for a grey image (YCbCr needs 3 colour channels)", 'ycbcr');
  }
  return p;
}

/** Phi^-1(0.75), scipy.stats.norm.ppf(0.75): the median of |N(0, 1)|. */
const MAD_TO_SIGMA = 0.6744897501960817;
/** numpy.finfo(float64).eps, the floor scikit-image puts under var(subband) - sigma^2. */
const FLOAT64_EPS = 2.220446049250313e-16;

/**
 * scikit-image's _sigma_est_dwt: median(|d|) / Phi^-1(0.75) over the non-zero
 * coefficients d of a subband (numpy.median: mean of the middle two for an even
 * count). 0 when every coefficient is 0 (scikit-image gives NaN there).
 */
export function sigmaFromDetail(detail: Float64Array): number {
  const abs = new Float64Array(detail.length);
  let n = 0;
  for (let i = 0; i < detail.length; i++) if (detail[i] !== 0) abs[n++] = Math.abs(detail[i]);
  if (n === 0) return 0;
  return medianInPlace(abs, n) / MAD_TO_SIGMA;
}

/** scikit-image's _bayes_thresh: sigma^2 / sqrt(max(mean(d^2) - sigma^2, eps)). */
export function bayesThreshold(detail: Float64Array, sigma: number): number {
  const variance = sigma * sigma;
  let ss = 0;
  for (let i = 0; i < detail.length; i++) ss += detail[i] * detail[i];
  const dvar = ss / detail.length;
  return variance / Math.sqrt(Math.max(dvar - variance, FLOAT64_EPS));
}

/** scikit-image's _universal_thresh: sigma * sqrt(2 ln n) for an image of n samples. */
export function visuThreshold(samples: number, sigma: number): number {
  return sigma * Math.sqrt(2 * Math.log(samples));
}

/**
 * pywt.threshold in place: soft d * max(1 - t/|d|, 0), hard d where |d| >= t else 0.
 * With t = 0 a zero coefficient stays 0 (pywt's soft rule gives 0/0 = NaN there).
 */
function shrink(d: Float64Array, t: number, mode: ThresholdMode): void {
  if (mode === 'soft') {
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      const f = 1 - t / Math.abs(v);
      d[i] = f > 0 ? v * f : v * 0;
    }
  } else {
    for (let i = 0; i < d.length; i++) if (Math.abs(d[i]) < t) d[i] = 0;
  }
}

/** Options of the plane core (validated, plain data, so it can cross to a worker). */
export interface WaveletPlaneOptions {
  wavelet: Wavelet;
  mode: ThresholdMode;
  method: WaveletMethod;
  /** undefined: estimate */
  sigma?: number;
  levels?: number;
}

/** scikit-image's _wavelet_threshold on one plane: decompose, estimate sigma if needed, shrink the details, reconstruct, crop. */
export function waveletThresholdPlane(plane: Plane, o: WaveletPlaneOptions): Float64Array {
  const { width, height } = plane;
  const bank = waveletFilters(o.wavelet);
  const levels = o.levels ?? Math.max(dwt2MaxLevel(width, height, o.wavelet) - 3, 1);
  const coeffs = wavedec2Unchecked(plane, bank, 'symmetric', levels);
  const finest = coeffs.details[coeffs.details.length - 1];
  const sigma = o.sigma ?? sigmaFromDetail(finest.diagonal.data);
  const visu = visuThreshold(width * height, sigma);
  for (const level of coeffs.details) {
    for (const band of [level.horizontal, level.vertical, level.diagonal]) {
      shrink(band.data, o.method === 'BayesShrink' ? bayesThreshold(band.data, sigma) : visu, o.mode);
    }
  }
  return cropPlane(waverec2Unchecked(coeffs, bank, 'symmetric'), width, height).data;
}

/**
 * numpy.median(abs(d)) over the non-zero float32 samples of a subband, by selection on
 * the float32 bit patterns (a histogram of the top 16 bits of |d|, then a sort of the
 * one or two bins that hold the middle); 0 when every sample is 0.
 */
export function medianAbsNonZero32(band: Float32Array): number {
  const bits = new Uint32Array(band.buffer, band.byteOffset, band.length);
  const hist = new Int32Array(1 << 15);
  let m = 0;
  for (let i = 0; i < bits.length; i++) {
    const a = bits[i] & 0x7fffffff;
    if (a !== 0) {
      hist[a >>> 16]++;
      m++;
    }
  }
  if (m === 0) return 0;
  const hiRank = m >> 1;
  const loRank = m % 2 ? hiRank : hiRank - 1;
  // the bins holding ranks loRank and hiRank, and how many samples lie below the first
  let below = 0;
  let bin = 0;
  while (below + hist[bin] <= loRank) below += hist[bin++];
  let last = bin;
  let upTo = below + hist[bin];
  while (upTo <= hiRank) upTo += hist[++last];
  const picked = new Uint32Array(upTo - below);
  let p = 0;
  for (let i = 0; i < bits.length; i++) {
    const a = bits[i] & 0x7fffffff;
    const b = a >>> 16;
    if (a !== 0 && b >= bin && b <= last) picked[p++] = a;
  }
  picked.sort();
  const asFloat = new Float32Array(picked.buffer);
  return (asFloat[loRank - below] + asFloat[hiRank - below]) / 2;
}

/** The float32 SIMD path of waveletThresholdPlane: the same steps on the heap; undefined where it cannot run (no SIMD, tiny planes). */
function waveletThresholdSimd(width: number, height: number, o: WaveletPlaneOptions, read: (into: Float32Array) => void): Float32Array | undefined {
  const bank = waveletFilters(o.wavelet);
  const levels = o.levels ?? Math.max(dwt2MaxLevel(width, height, o.wavelet) - 3, 1);
  const t = heapTransform(bank, width, height, levels);
  if (!t) return undefined;
  read(t.input);
  return shrinkInput(t, width, height, o);
}

/** Decomposes the transform's input, estimates sigma if needed, shrinks the details, reconstructs (a view on the heap). */
function shrinkInput(t: HeapTransform, width: number, height: number, o: WaveletPlaneOptions): Float32Array {
  t.decompose();
  const sigma = o.sigma ?? medianAbsNonZero32(t.details[0][2].data) / MAD_TO_SIGMA;
  const variance = sigma * sigma;
  const visu = visuThreshold(width * height, sigma);
  for (const level of t.details) {
    for (const band of level) {
      const th = o.method === 'BayesShrink' ? variance / Math.sqrt(Math.max(t.sumSq(band) / band.data.length - variance, FLOAT64_EPS)) : visu;
      t.shrink(band, th, o.mode === 'soft');
    }
  }
  return t.reconstruct();
}

/**
 * One plane's denoising, on the SIMD path where it runs (float32, the result a view of
 * this thread's WebAssembly memory, valid until its next use) or the float64 JavaScript
 * path (a new array). `read` fills the plane it is given.
 */
function thresholdPlane(width: number, height: number, o: WaveletPlaneOptions, read: (into: Float32Array | Float64Array) => void): Float32Array | Float64Array {
  const r = waveletThresholdSimd(width, height, o, read);
  if (r) return r;
  const data = new Float64Array(width * height);
  read(data);
  return waveletThresholdPlane({ data, width, height }, o);
}

/** Worker side: one plane, sent as options.data; returns the denoised plane as .data (a copy). */
export function waveletPlaneTask(_image: Image, options: { data: Float32Array | Float64Array; width: number; height: number; options: WaveletPlaneOptions }): { data: Float32Array | Float64Array } {
  const r = thresholdPlane(options.width, options.height, options.options, (into) => into.set(options.data));
  return { data: r instanceof Float64Array ? r : r.slice() };
}

/** skimage.color.colorconv.ycbcr_from_rgb (values for RGB on [0, 1], Y on 16..235). */
const YCBCR_FROM_RGB = [
  [65.481, 128.553, 24.966],
  [-37.797, -74.203, 112.0],
  [112.0, -93.786, -18.214],
] as const;
/** skimage.color.colorconv.rgb_from_ycbcr = numpy.linalg.inv(ycbcr_from_rgb), as numpy computes it. */
const RGB_FROM_YCBCR = [
  [0.004566210045662101, 1.1808799897946412e-9, 0.006258928969943936],
  [0.004566210045662101, -0.0015363236860449021, -0.003188110949655707],
  [0.004566210045662101, 0.007910716233554741, 1.1977497040190077e-8],
] as const;

/** scikit-image's _rescale_sigma_rgb2ycbcr for one sigma on all three RGB channels. */
function sigmaRgbToYcbcr(sigma: number): number[] {
  const v = sigma * sigma;
  return YCBCR_FROM_RGB.map((row) => Math.sqrt(row[0] * row[0] * v + row[1] * row[1] * v + row[2] * row[2] * v));
}

let keptPlanes: Float32Array[] | undefined;

/**
 * Three float32 planes of n samples: with `reuse`, the ones kept from the last call in
 * this thread (fresh memory is slow on small VMs; only synchronous calls may reuse them),
 * up to 2^24 samples each.
 */
function planes3(n: number, reuse: boolean): Float32Array[] {
  if (!reuse || n > 1 << 24) return [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  if (!keptPlanes || keptPlanes[0].length < n) keptPlanes = [new Float32Array(n), new Float32Array(n), new Float32Array(n)];
  return keptPlanes.map((plane) => plane.subarray(0, n));
}

/** One plane to denoise: where its samples come from and where the result goes. */
interface PlaneJob {
  options: WaveletPlaneOptions;
  read(into: Float32Array | Float64Array): void;
  write(result: ArrayLike<number>): void;
}

/**
 * The shared body of denoiseWavelet and its parallel twin: the plane jobs of an image
 * and the step that assembles the output once every job has written its result.
 */
function waveletJobs(image: Image, p: WaveletParams, reuse: boolean): { jobs: PlaneJob[]; finish: () => Image } {
  const { width, height } = image;
  const n = width * height;
  const nc = colourChannels(image);
  const cp = colourPlanes(image);
  const base: WaveletPlaneOptions = { wavelet: p.wavelet, mode: p.mode, method: p.method, sigma: p.sigma, levels: p.waveletLevels };
  if (p.colourSpace === 'rgb') {
    const jobs = Array.from({ length: nc }, (_, c): PlaneJob => ({ options: base, read: (into) => cp.read(c, into), write: (d) => cp.write(c, d) }));
    return { jobs, finish: () => cp.result() };
  }
  // YCbCr: skimage.color.rgb2ycbcr, each channel rescaled to [0, 1] and denoised as a grey image, back with ycbcr2rgb.
  // The three planes are converted in place (float64 arithmetic, float32 storage, as scikit-image's float32 path stores them).
  const ycc = planes3(n, reuse);
  const [Y, Cb, Cr] = ycc;
  const { data: src, stride } = cp.source;
  // the matrix entries in locals (these loops are the YCbCr path's main cost); the offsets are skimage's (16, 128, 128)
  const [[a00, a01, a02], [a10, a11, a12], [a20, a21, a22]] = YCBCR_FROM_RGB;
  let lo0 = Infinity;
  let lo1 = Infinity;
  let lo2 = Infinity;
  let hi0 = -Infinity;
  let hi1 = -Infinity;
  let hi2 = -Infinity;
  for (let q = 0, i = 0; q < n; q++, i += stride) {
    const r = src[i];
    const g = src[i + 1];
    const b = src[i + 2];
    // the matrix product, then the offset
    const y = r * a00 + g * a01 + b * a02 + 16;
    const cb = r * a10 + g * a11 + b * a12 + 128;
    const cr = r * a20 + g * a21 + b * a22 + 128;
    Y[q] = y;
    Cb[q] = cb;
    Cr[q] = cr;
    if (y < lo0) lo0 = y;
    if (y > hi0) hi0 = y;
    if (cb < lo1) lo1 = cb;
    if (cb > hi1) hi1 = cb;
    if (cr < lo2) lo2 = cr;
    if (cr > hi2) hi2 = cr;
  }
  const lo = [lo0, lo1, lo2];
  const hi = [hi0, hi1, hi2];
  const sigmas = p.sigma === undefined ? [undefined, undefined, undefined] : p.rescaleSigma ? sigmaRgbToYcbcr(p.sigma) : [p.sigma, p.sigma, p.sigma];
  const jobs: PlaneJob[] = [];
  // per channel, denoised = d * scale + min; a constant channel is left as it is
  const back: [number, number][] = [
    [1, 0],
    [1, 0],
    [1, 0],
  ];
  for (let c = 0; c < 3; c++) {
    const ch = ycc[c];
    // the stored (float32) values' range
    const min = Math.fround(lo[c]);
    const max = Math.fround(hi[c]);
    const scale = max - min;
    // scikit-image leaves a constant channel as it is
    if (scale === 0) continue;
    const s = sigmas[c];
    jobs.push({
      options: { ...base, sigma: s === undefined ? undefined : s / scale },
      read: (into) => {
        for (let q = 0; q < n; q++) into[q] = (ch[q] - min) / scale;
      },
      // the denoised [0, 1] plane as it is; `finish` scales it back
      write: (d) => ch.set(d),
    });
    back[c] = [scale, min];
  }
  const finish = (): Image => {
    const [[b00, b01, b02], [b10, b11, b12], [b20, b21, b22]] = RGB_FROM_YCBCR;
    const [[s0, o0], [s1, o1], [s2, o2]] = back;
    for (let q = 0; q < n; q++) {
      const y = Y[q] * s0 + o0 - 16;
      const cb = Cb[q] * s1 + o1 - 128;
      const cr = Cr[q] * s2 + o2 - 128;
      Y[q] = y * b00 + cb * b01 + cr * b02;
      Cb[q] = y * b10 + cb * b11 + cr * b12;
      Cr[q] = y * b20 + cb * b21 + cr * b22;
    }
    cp.writeAll(ycc);
    return cp.result();
  };
  return { jobs, finish };
}

/** One colour channel to denoise on the SIMD path: its options; `prepare` puts its (rescaled) samples in the transform's input; `done` takes the result. */
interface ColourChannel {
  c: number;
  options: WaveletPlaneOptions;
  prepare(): void;
  done(result: Float32Array): void;
}

/**
 * Colour images on the SIMD heap, all three channels in WebAssembly memory (read in
 * one pass, written in one pass), each denoised by the same transform, here or on a
 * worker. In YCbCr the colour matrices and the rescaling to [0, 1] and back run as
 * float32 vectors too (as scikit-image computes on float32 input). Undefined where the
 * SIMD path does not run (grey images, no SIMD, tiny planes): then waveletJobs' path does.
 */
function colourSimd(image: Image, p: WaveletParams, ownMemory: boolean): { t: HeapTransform; channels: ColourChannel[]; finish: () => Image } | undefined {
  if (colourChannels(image) !== 3) return undefined;
  const ycbcr = p.colourSpace === 'ycbcr';
  const { width, height } = image;
  const n = width * height;
  const bank = waveletFilters(p.wavelet);
  const levels = p.waveletLevels ?? Math.max(dwt2MaxLevel(width, height, p.wavelet) - 3, 1);
  const t = heapTransform(bank, width, height, levels, 3, ownMemory);
  if (!t) return undefined;
  const cp = colourPlanes(image);
  const [P0, P1, P2] = t.extra.map((b) => b.data);
  const { data: src, stride } = cp.source;
  for (let q = 0, i = 0; q < n; q++, i += stride) {
    P0[q] = src[i];
    P1[q] = src[i + 1];
    P2[q] = src[i + 2];
  }
  const base: WaveletPlaneOptions = { wavelet: p.wavelet, mode: p.mode, method: p.method, levels: p.waveletLevels };
  if (!ycbcr) {
    const channels = t.extra.map(
      (plane, c): ColourChannel => ({
        c,
        options: { ...base, sigma: p.sigma },
        prepare: () => t.input.set(plane.data),
        done: (result) => plane.data.set(result),
      }),
    );
    const finish = (): Image => {
      cp.writeAll([P0, P1, P2]);
      return cp.result();
    };
    return { t, channels, finish };
  }
  t.mix3([1, 1, 1, 0, 0, 0, ...YCBCR_FROM_RGB.flat(), 16, 128, 128]);
  const sigmas = p.sigma === undefined ? [undefined, undefined, undefined] : p.rescaleSigma ? sigmaRgbToYcbcr(p.sigma) : [p.sigma, p.sigma, p.sigma];
  // back: x = denoised * scale + (min - offset), then the inverse matrix
  const back = [1, 1, 1, -16, -128, -128];
  const channels: ColourChannel[] = [];
  t.extra.forEach((plane, c) => {
    const [min, max] = t.range(plane);
    const scale = max - min;
    // scikit-image leaves a constant channel as it is
    if (scale === 0) return;
    const s = sigmas[c];
    back[c] = scale;
    back[3 + c] = min - [16, 128, 128][c];
    channels.push({
      c,
      options: { ...base, sigma: s === undefined ? undefined : s / scale },
      prepare: () => t.rescaleToInput(plane, min, scale),
      done: (result) => plane.data.set(result),
    });
  });
  const finish = (): Image => {
    t.mix3([...back, ...RGB_FROM_YCBCR.flat(), 0, 0, 0]);
    cp.writeAll([P0, P1, P2]);
    return cp.result();
  };
  return { t, channels, finish };
}

/**
 * Wavelet shrinkage denoising, scikit-image's `denoise_wavelet` with
 * `channel_axis=-1` for colour: alpha untouched, missing samples (mask, NaN) filled
 * from their neighbours first and restored after, no clipping.
 */
export function denoiseWavelet(image: Image, options: DenoiseWaveletOptions = {}): Image {
  const fn = 'denoiseWavelet';
  checkImage(fn, image);
  const p = resolveWavelet(fn, image, options);
  const col = colourSimd(image, p, false);
  if (col) {
    for (const ch of col.channels) {
      ch.prepare();
      ch.done(shrinkInput(col.t, image.width, image.height, ch.options));
    }
    return col.finish();
  }
  const { jobs, finish } = waveletJobs(image, p, true);
  for (const job of jobs) job.write(thresholdPlane(image.width, image.height, job.options, job.read));
  return finish();
}

/**
 * Colour planes smaller than this (pixels) are denoised in the calling thread: starting a
 * worker and copying a plane to it cost about as much as denoising a few megapixels
 * (measured on 2 loaded cores).
 */
export const WAVELET_WORKER_MIN_PIXELS = 1 << 22;

/**
 * denoiseWavelet with the colour planes spread over `context.threads` (the calling
 * thread takes a share); the same result, bit for bit. The registry entry's `denoise`;
 * `minPixels` (default WAVELET_WORKER_MIN_PIXELS) is there for tests.
 */
export async function denoiseWaveletParallel(
  image: Image,
  options: DenoiseWaveletOptions,
  context: DenoiseContext & { minPixels?: number } = {},
): Promise<Image> {
  const fn = 'denoiseWavelet';
  checkImage(fn, image);
  const p = resolveWavelet(fn, image, options);
  const threads = Math.max(1, Math.floor(context.threads ?? defaultThreads()));
  const planes = colourChannels(image);
  if (threads === 1 || planes === 1 || image.width * image.height < (context.minPixels ?? WAVELET_WORKER_MIN_PIXELS)) {
    const r = denoiseWavelet(image, p);
    context.onProgress?.(1);
    return r;
  }
  // colour: one plane per worker, the calling thread takes a share too
  const workers = Math.min(threads, planes) - 1;
  const { width, height } = image;
  return withWorkerGroup(workers, async (group) => {
    const col = colourSimd(image, p, true);
    if (col) {
      // the same float32 steps as denoiseWavelet: the rescaled channel goes to a worker as it is
      let done = 0;
      await Promise.all(
        col.channels.map(async (ch, k) => {
          const w = k % (workers + 1);
          ch.prepare();
          if (w === workers) {
            await Promise.resolve();
            ch.prepare();
            ch.done(shrinkInput(col.t, width, height, ch.options));
          } else {
            const data = col.t.input.slice();
            ch.done((await group.call(w, import.meta.url, 'waveletPlaneTask', { data, width, height, options: ch.options })) as Float32Array);
          }
          context.onProgress?.(++done / col.channels.length);
        }),
      );
      return col.finish();
    }
    const { jobs, finish } = waveletJobs(image, p, false);
    let finished = 0;
    await Promise.all(
      jobs.map(async (job, k) => {
        const w = k % (workers + 1);
        if (w === workers) {
          // the calling thread's share runs after the posts, so the workers start first
          await Promise.resolve();
          job.write(thresholdPlane(width, height, job.options, job.read));
        } else {
          // the same precision as the path the worker will take, so the result is the same bit for bit
          const data = waveletSimdAvailable() ? new Float32Array(width * height) : new Float64Array(width * height);
          job.read(data);
          job.write((await group.call(w, import.meta.url, 'waveletPlaneTask', { data, width, height, options: job.options })) as Float32Array | Float64Array);
        }
        context.onProgress?.(++finished / jobs.length);
      }),
    );
    return finish();
  });
}

/** Sigma multipliers around the estimate, both thresholding modes (scikit-image's calibration example searches sigma too). */
function waveletGrid(sigma: number): ParameterGrid {
  const s = Number.isFinite(sigma) && sigma > 0 ? sigma : 1e-3;
  return { sigma: [0.5, 0.75, 1, 1.25, 1.5, 2].map((m) => Number((m * s).toPrecision(6))), mode: [...THRESHOLD_MODES] };
}

export const WAVELET_DENOISER: DenoiserInfo = {
  id: 'wavelet',
  summary: "Wavelet shrinkage (BayesShrink or VisuShrink, soft or hard), scikit-image's denoise_wavelet.",
  params: WAVELET_PARAMS,
  usesSigma: true,
  calibrationGrid: waveletGrid,
  denoise: (image, options, context) => denoiseWaveletParallel(image, options, context),
};
