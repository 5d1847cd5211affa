/**
 * BM3D, block-matching and 3-D filtering (Dabov, Foi, Katkovnik & Egiazarian, "Image
 * denoising by sparse 3D transform-domain collaborative filtering", IEEE TIP 16(8),
 * 2007), and its colour form CBM3D (Dabov et al., "Color image denoising via sparse
 * 3D collaborative filtering with grouping constraint in luminance-chrominance
 * space", ICIP 2007): similar 8x8 blocks are stacked into groups, each group's 3-D
 * spectrum (2-D bior1.5 or DCT, 1-D Haar) is hard-thresholded, the overlapping
 * estimates are aggregated into a basic estimate, and a second pass groups on the
 * basic estimate and applies empirical Wiener shrinkage. Colour images are
 * transformed to an opponent (or YCbCr) space, grouped on luminance only, and each
 * channel is filtered with its own sigma. Constants follow the authors' "normal
 * profile" and Lebrun's analysis ("An Analysis and Implementation of the BM3D Image
 * Denoising Method", IPOL 2012); see docs/bm3d.md for the choices and the measured
 * PSNR against the published figures.
 */
import { checkImage, colourChannels, withData, type Image } from '../core/image.js';
import { invalidParameter } from '../core/errors.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { defaultThreads, runJobs, type PoolJob } from '../core/pool.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';
import {
  BLOCK_TRANSFORMS,
  COLOUR_MATRICES,
  COLOUR_SPACES,
  colourRowNorms,
  invertMatrix,
  type BlockTransform,
  type ColourSpace,
} from './bm3d-transforms.js';
import { hardThresholdStage, wienerStage, type StageParams } from './bm3d-stages.js';
import { filledColour, missingSamples } from './filters.js';

export const BM3D_STAGES = ['both', 'hard'] as const;
export type Bm3dStage = (typeof BM3D_STAGES)[number];

export interface DenoiseBm3dOptions {
  /** noise standard deviation on the image's value scale (25/255 for sigma 25 on a [0,1] image) */
  sigma: number;
  /** 'both' (default): hard thresholding then Wiener filtering; 'hard': the basic estimate only */
  stage?: Bm3dStage;
  /** 2-D block transform of stage 1 (default 'bior1.5'); stage 2 always uses the DCT */
  transform?: BlockTransform;
  /** side of the square search window, odd (default 39) */
  searchWindow?: number;
  /** distance between reference blocks (default 3) */
  step?: number;
  /** largest group in stage 1, a power of 2 (default 16) */
  groupSizeHard?: number;
  /** largest group in stage 2, a power of 2 (default 32) */
  groupSizeWiener?: number;
  /** hard threshold in units of sigma (default 2.7, or 2.8 above sigma 40/255 of dataRange) */
  lambda3d?: number;
  /** stage-1 matching threshold, mean squared difference per pixel on the 0..255 scale (default 3000; 5000 above sigma 40) */
  tauMatchHard?: number;
  /** stage-2 matching threshold on the 0..255 scale (default 400; 3500 above sigma 40) */
  tauMatchWiener?: number;
  /** colour images: luminance-chrominance space (default 'opp') */
  colourSpace?: ColourSpace;
  /** range of possible values, which the 0..255 thresholds refer to (default 1) */
  dataRange?: number;
}

export const BM3D_BLOCK = 8;
export const BM3D_MAX_GROUP = 64;
/** sigma (0..255 scale) above which the high-noise constants apply */
export const BM3D_HIGH_NOISE = 40;

export const BM3D_PARAMS: readonly ParamSpec[] = [
  {
    name: 'sigma',
    type: 'number',
    above: 0,
    description: "noise standard deviation on the image's value scale (25/255 for sigma 25 on a [0,1] image)",
  },
  {
    name: 'stage',
    type: 'enum',
    choices: BM3D_STAGES,
    default: 'both',
    description: "'both': hard-thresholding stage then Wiener stage (full BM3D); 'hard': the basic estimate of stage 1 only",
  },
  {
    name: 'transform',
    type: 'enum',
    choices: BLOCK_TRANSFORMS,
    default: 'bior1.5',
    description: "2-D block transform of the hard-thresholding stage ('bior1.5' as in the paper, or 'dct'); the Wiener stage uses the DCT",
  },
  {
    name: 'searchWindow',
    type: 'number',
    odd: true,
    min: 3,
    max: 75,
    default: 39,
    description: 'side of the square window searched for similar blocks around each reference block (paper: 39)',
  },
  {
    name: 'step',
    type: 'number',
    integer: true,
    min: 1,
    max: 8,
    default: 3,
    description: 'distance in pixels between reference blocks (paper: 3); larger is faster and slightly worse',
  },
  {
    name: 'groupSizeHard',
    type: 'number',
    integer: true,
    min: 1,
    max: BM3D_MAX_GROUP,
    default: 16,
    description: 'largest number of blocks in a group in the hard-thresholding stage, a power of 2 (paper: 16)',
  },
  {
    name: 'groupSizeWiener',
    type: 'number',
    integer: true,
    min: 1,
    max: BM3D_MAX_GROUP,
    default: 32,
    description: 'largest number of blocks in a group in the Wiener stage, a power of 2 (paper: 32)',
  },
  {
    name: 'lambda3d',
    type: 'number',
    above: 0,
    description: 'hard threshold of the 3-D spectrum in units of sigma (default 2.7; 2.8 when sigma is above 40/255 of dataRange)',
  },
  {
    name: 'tauMatchHard',
    type: 'number',
    above: 0,
    description:
      'stage-1 grouping threshold: largest mean squared difference per pixel, on the 0..255 scale (default 3000; 5000 when sigma is above 40/255)',
  },
  {
    name: 'tauMatchWiener',
    type: 'number',
    above: 0,
    description: 'stage-2 grouping threshold on the basic estimate, 0..255 scale (default 400; 3500 when sigma is above 40/255)',
  },
  {
    name: 'colourSpace',
    type: 'enum',
    choices: COLOUR_SPACES,
    default: 'opp',
    description: "colour images: the luminance-chrominance space CBM3D works in ('opp' opponent, as the authors' default, or 'ycbcr'); grouping uses its luminance",
  },
  {
    name: 'dataRange',
    type: 'number',
    above: 0,
    default: 1,
    description: 'range of possible values (1 for [0,1] images); the matching thresholds are defined on a 0..255 scale of this range',
  },
];

/** Everything a stage needs, as plain data (it travels to worker threads). */
interface Bm3dConfig {
  stage: Bm3dStage;
  block: number;
  step: number;
  radius: number;
  transform: BlockTransform;
  groupHard: number;
  groupWiener: number;
  lambda: number;
  tauHard: number;
  tauWiener: number;
  /** noise standard deviation of each working plane, 0..255 scale */
  sigmas: number[];
}

function isPow2(n: number): boolean {
  return n >= 1 && (n & (n - 1)) === 0;
}

interface ResolvedBm3d {
  sigma: number;
  stage: Bm3dStage;
  transform: BlockTransform;
  searchWindow: number;
  step: number;
  groupSizeHard: number;
  groupSizeWiener: number;
  lambda3d?: number;
  tauMatchHard?: number;
  tauMatchWiener?: number;
  colourSpace: ColourSpace;
  dataRange: number;
}

function resolveBm3dOptions(fn: string, options: unknown): ResolvedBm3d {
  const o = resolveParams(fn, BM3D_PARAMS, checkObject(fn, 'options', options)) as unknown as ResolvedBm3d;
  if (o.sigma === undefined) throw invalidParameter(fn, 'options.sigma', 'a finite number above 0', undefined);
  for (const name of ['groupSizeHard', 'groupSizeWiener'] as const) {
    if (!isPow2(o[name])) throw invalidParameter(fn, `options.${name}`, `a power of 2 from 1 to ${BM3D_MAX_GROUP}`, o[name]);
  }
  return o;
}

function configFor(o: ResolvedBm3d, nc: number): { cfg: Bm3dConfig; scale: number } {
  const scale = 255 / o.dataRange;
  const s255 = o.sigma * scale;
  const high = s255 > BM3D_HIGH_NOISE;
  const norms = nc === 3 ? colourRowNorms(o.colourSpace) : [1];
  return {
    scale,
    cfg: {
      stage: o.stage,
      block: BM3D_BLOCK,
      step: o.step,
      radius: (o.searchWindow - 1) / 2,
      transform: o.transform,
      groupHard: o.groupSizeHard,
      groupWiener: o.groupSizeWiener,
      lambda: o.lambda3d ?? (high ? 2.8 : 2.7),
      tauHard: o.tauMatchHard ?? (high ? 5000 : 3000),
      tauWiener: o.tauMatchWiener ?? (high ? 3500 : 400),
      sigmas: norms.map((k) => k * s255),
    },
  };
}

function stageParams(cfg: Bm3dConfig, which: 'hard' | 'wiener', originY: number): StageParams {
  return {
    step: cfg.step,
    radius: cfg.radius,
    maxGroup: which === 'hard' ? cfg.groupHard : cfg.groupWiener,
    tau: which === 'hard' ? cfg.tauHard : cfg.tauWiener,
    transform: which === 'hard' ? cfg.transform : 'dct',
    kaiserBeta: 2,
    originX: 0,
    originY,
  };
}

/** Pixels of context a stage needs on each side so that tiles equal the whole image: search reach twice, plus a block. */
function stageReach(cfg: Bm3dConfig): number {
  return 2 * cfg.radius + cfg.block;
}

interface Prepared {
  /** working planes: colour-transformed, scaled to 0..255 of dataRange, padded to at least one block */
  planes: Float32Array[];
  width: number;
  height: number;
  cfg: Bm3dConfig;
  scale: number;
  colourSpace: ColourSpace;
  missing: Uint8Array | undefined;
}

/** Symmetric padding of a plane on the right and bottom to at least w x h. */
function padPlane(plane: Float32Array, w0: number, h0: number, w: number, h: number): Float32Array {
  if (w === w0 && h === h0) return plane;
  const out = new Float32Array(w * h);
  const sym = (k: number, n: number): number => {
    const period = 2 * n;
    const m = k % period;
    return m < n ? m : period - 1 - m;
  };
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) out[y * w + x] = plane[sym(y, h0) * w0 + sym(x, w0)];
  return out;
}

function prepare(image: Image, o: ResolvedBm3d): Prepared {
  const nc = colourChannels(image);
  const missing = missingSamples(image);
  const colour = filledColour(image, missing);
  const n0 = image.width * image.height;
  const rgb = Array.from({ length: nc }, (_, c) => {
    const plane = new Float32Array(n0);
    for (let p = 0; p < n0; p++) plane[p] = colour[p * nc + c];
    return plane;
  });
  const { cfg, scale } = configFor(o, nc);
  const n = image.width * image.height;
  let planes: Float32Array[];
  if (nc === 3) {
    const m = COLOUR_MATRICES[o.colourSpace];
    planes = [0, 1, 2].map(() => new Float32Array(n));
    for (let p = 0; p < n; p++) {
      const r = rgb[0][p] * scale;
      const g = rgb[1][p] * scale;
      const b = rgb[2][p] * scale;
      for (let c = 0; c < 3; c++) planes[c][p] = m[c * 3] * r + m[c * 3 + 1] * g + m[c * 3 + 2] * b;
    }
  } else {
    planes = rgb.map((pl) => pl.map((v) => v * scale));
  }
  const width = Math.max(image.width, cfg.block);
  const height = Math.max(image.height, cfg.block);
  planes = planes.map((pl) => padPlane(pl, image.width, image.height, width, height));
  return { planes, width, height, cfg, scale, colourSpace: o.colourSpace, missing };
}

function finish(image: Image, prep: Prepared, planes: Float32Array[]): Image {
  const { width: W0, height: H0, channels } = image;
  const nc = planes.length;
  const out = image.data.slice();
  const inv = nc === 3 ? invertMatrix(Float64Array.from(COLOUR_MATRICES[prep.colourSpace]), 3) : undefined;
  const k = 1 / prep.scale;
  const missing = prep.missing;
  for (let y = 0; y < H0; y++) {
    for (let x = 0; x < W0; x++) {
      const q = y * prep.width + x;
      const i = (y * W0 + x) * channels;
      if (inv) {
        const a = planes[0][q];
        const b = planes[1][q];
        const c = planes[2][q];
        for (let ch = 0; ch < 3; ch++) {
          if (missing && missing[i + ch]) continue;
          out[i + ch] = (inv[ch * 3] * a + inv[ch * 3 + 1] * b + inv[ch * 3 + 2] * c) * k;
        }
      } else if (!(missing && missing[i])) {
        out[i] = planes[0][q] * k;
      }
    }
  }
  return withData(image, out);
}

function runHard(planes: Float32Array[], width: number, height: number, cfg: Bm3dConfig, originY: number): Float32Array[] {
  return hardThresholdStage(planes, width, height, cfg.sigmas, cfg.lambda, stageParams(cfg, 'hard', originY));
}

function runWiener(noisy: Float32Array[], basic: Float32Array[], width: number, height: number, cfg: Bm3dConfig, originY: number): Float32Array[] {
  return wienerStage(noisy, basic, width, height, cfg.sigmas, stageParams(cfg, 'wiener', originY));
}

/**
 * Denoises `image` with BM3D (grey) or CBM3D (colour) in the calling thread. Alpha is
 * carried through; missing samples (masked, NaN) are filled from their neighbours for
 * the computation and restored in the output. Images smaller than a block (8x8) are
 * mirror-padded to a block and cropped back.
 */
export function denoiseBm3d(image: Image, options: DenoiseBm3dOptions): Image {
  const fn = 'denoiseBm3d';
  checkImage(fn, image);
  const o = resolveBm3dOptions(fn, options);
  const prep = prepare(image, o);
  const { planes, width, height, cfg } = prep;
  const basic = runHard(planes, width, height, cfg, 0);
  const result = cfg.stage === 'hard' ? basic : runWiener(planes, basic, width, height, cfg, 0);
  return finish(image, prep, result);
}

const TILE_MODULE = import.meta.url;

/** Options of the worker-side band kernel. */
export interface Bm3dBandOptions {
  pass: 'hard' | 'wiener';
  cfg: Bm3dConfig;
  width: number;
  /** rows of the band, context included */
  rows: number;
  /** absolute row of the band's first row, so its reference grid lines up with the whole image's */
  originY: number;
  /** planes per set */
  nc: number;
  /** rows [core0, core1) of the band are returned */
  core0: number;
  core1: number;
}

/**
 * Worker entry: one stage on one band. `image.data` holds the band's planes one after
 * another (nc planes of width x rows; for the Wiener pass the nc noisy planes, then the
 * nc basic planes); the result holds the core rows of the nc filtered planes, one plane
 * after another.
 */
export function bm3dBand(image: Image, o: Bm3dBandOptions): Image {
  const { width: w, rows, nc } = o;
  const len = w * rows;
  const plane = (k: number): Float32Array => image.data.subarray(k * len, (k + 1) * len);
  const noisy = Array.from({ length: nc }, (_, c) => plane(c));
  const result =
    o.pass === 'hard'
      ? runHard(noisy, w, rows, o.cfg, o.originY)
      : runWiener(
          noisy,
          Array.from({ length: nc }, (_, c) => plane(nc + c)),
          w,
          rows,
          o.cfg,
          o.originY,
        );
  const coreLen = w * (o.core1 - o.core0);
  const out = new Float32Array(nc * coreLen);
  for (let c = 0; c < nc; c++) out.set(result[c].subarray(o.core0 * w, o.core1 * w), c * coreLen);
  return { data: out, width: w, height: (o.core1 - o.core0) * nc, channels: 1 };
}

/**
 * One stage over full-width bands on pooled worker threads, one band per thread, each
 * with `stageReach` rows of context: the planes' rows are copied straight into each
 * band's buffer (no interleaving) and the core rows copied back.
 */
async function runBands(
  pass: 'hard' | 'wiener',
  sets: Float32Array[][],
  width: number,
  height: number,
  cfg: Bm3dConfig,
  threads: number,
  onFraction: (f: number) => void,
): Promise<Float32Array[]> {
  const overlap = stageReach(cfg);
  const nc = sets[0].length;
  const nb = Math.max(1, Math.min(threads, Math.floor(height / (2 * overlap + 16))));
  const bands = Array.from({ length: nb }, (_, k) => {
    const y0 = Math.floor((k * height) / nb);
    const y1 = Math.floor(((k + 1) * height) / nb);
    return { y0, y1, cy0: Math.max(0, y0 - overlap), cy1: Math.min(height, y1 + overlap) };
  });
  const jobs: PoolJob[] = bands.map(({ y0, y1, cy0, cy1 }) => {
    const len = width * (cy1 - cy0);
    const data = new Float32Array(sets.length * nc * len);
    let k = 0;
    for (const set of sets) for (const pl of set) data.set(pl.subarray(cy0 * width, cy1 * width), len * k++);
    const options: Bm3dBandOptions = { pass, cfg, width, rows: cy1 - cy0, originY: cy0, nc, core0: y0 - cy0, core1: y1 - cy0 };
    return { task: { moduleUrl: TILE_MODULE, exportName: 'bm3dBand', options }, image: { data, width, height: (cy1 - cy0) * sets.length * nc, channels: 1 } };
  });
  let done = 0;
  const results = await runJobs(jobs, threads, () => onFraction(++done / nb));
  const out = Array.from({ length: nc }, () => new Float32Array(width * height));
  bands.forEach(({ y0, y1 }, k) => {
    const coreLen = width * (y1 - y0);
    for (let c = 0; c < nc; c++) out[c].set(results[k].subarray(c * coreLen, (c + 1) * coreLen), y0 * width);
  });
  return out;
}

/**
 * Grey pixels (colour counts 1.7 each) below which denoiseBm3dParallel runs in the calling
 * thread unless `threads` is given: about a second of work on one core, less than
 * starting workers for each of the two stages costs on a busy machine.
 */
export const BM3D_MIN_PIXELS_FOR_THREADS = 250_000;

/**
 * denoiseBm3d on worker threads: each stage runs over full-width bands with
 * 2 * (searchWindow - 1) / 2 + 8 rows of context, and the result equals
 * denoiseBm3d's exactly (tested). With one thread, or without `threads` for an image
 * under BM3D_MIN_PIXELS_FOR_THREADS, it runs in the calling thread.
 */
export async function denoiseBm3dParallel(image: Image, options: DenoiseBm3dOptions, context: DenoiseContext = {}): Promise<Image> {
  const fn = 'denoiseBm3d';
  checkImage(fn, image);
  const o = resolveBm3dOptions(fn, options);
  const prep = prepare(image, o);
  const { planes, width, height, cfg } = prep;
  const share = cfg.stage === 'hard' ? 1 : 0.4;
  // without an explicit thread count, small jobs stay in the calling thread: fresh workers
  // cost more than they save below about a second of work (same rule as filters.ts)
  const work = width * height * (planes.length === 3 ? 1.7 : 1);
  const threads = Math.max(1, Math.floor(context.threads ?? (work < BM3D_MIN_PIXELS_FOR_THREADS ? 1 : defaultThreads())));
  if (threads === 1) {
    const basic = runHard(planes, width, height, cfg, 0);
    context.onProgress?.(share);
    const result = cfg.stage === 'hard' ? basic : runWiener(planes, basic, width, height, cfg, 0);
    context.onProgress?.(1);
    return finish(image, prep, result);
  }
  const basic = await runBands('hard', [planes], width, height, cfg, threads, (f) => context.onProgress?.(f * share));
  if (cfg.stage === 'hard') return finish(image, prep, basic);
  const final = await runBands('wiener', [planes, basic], width, height, cfg, threads, (f) => context.onProgress?.(share + f * (1 - share)));
  return finish(image, prep, final);
}

export const BM3D_DENOISER: DenoiserInfo = {
  id: 'bm3d',
  summary: 'BM3D / CBM3D: block matching and 3-D collaborative filtering (hard thresholding, then Wiener)',
  params: BM3D_PARAMS,
  usesSigma: true,
  calibrationGrid: (sigma: number) => ({ sigma: [0.6, 0.8, 0.9, 1, 1.1, 1.25, 1.5].map((k) => k * sigma) }),
  denoise: (image, options, context) => denoiseBm3dParallel(image, options as unknown as DenoiseBm3dOptions, context),
};
