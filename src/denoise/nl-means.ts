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
 * same distances as the whole image and tiled results equal untiled ones exactly; its
 * inner loop runs as a WebAssembly SIMD kernel (below) where available, with the same
 * results as the JavaScript one.
 */
import { checkImage, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { applyToColour, filledColour, mirrorIndex, missingSamples, runLocalDenoiser } from './filters.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';
import { f64Bytes, section, sleb, str, uleb, vec } from '../core/wasm-asm.js';

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
export function nlMeansFastJs(src: Float32Array, width: number, height: number, nc: number, p: NlMeansTileOptions): Float32Array {
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

// ---------------------------------------------------------------------------
// The same shift kernel in WebAssembly SIMD, two reference pixels per instruction.
// Written here as a stack program through a small encoder (no toolchain, no binary
// blob): per pixel it performs the same floating-point operations in the same order
// as shiftGrey / shiftColour, so its results are bit for bit those of the
// JavaScript kernels (tested), about four times faster. Where WebAssembly SIMD is
// missing, the JavaScript kernels run.

// the encodings (LEB128, constants, names, sections, vectors) are core/wasm-asm.ts's

type ValType = 'i32' | 'f64' | 'v128';
const VT: Record<ValType, number> = { i32: 0x7f, f64: 0x7c, v128: 0x7b };

/** A function body written as a stack program, with named locals. */
class Body {
  code: number[] = [];
  private names = new Map<string, number>();
  private localTypes: ValType[] = [];
  constructor(readonly params: [string, ValType][]) {
    params.forEach(([n], i) => this.names.set(n, i));
  }
  local(name: string, type: ValType): void {
    this.names.set(name, this.params.length + this.localTypes.length);
    this.localTypes.push(type);
  }
  private idx(name: string): number {
    const i = this.names.get(name);
    if (i === undefined) throw new Error(`no local ${name}`);
    return i;
  }
  get(...names: string[]): this { for (const n of names) this.code.push(0x20, ...uleb(this.idx(n))); return this; }
  set(name: string): this { this.code.push(0x21, ...uleb(this.idx(name))); return this; }
  tee(name: string): this { this.code.push(0x22, ...uleb(this.idx(name))); return this; }
  i32(v: number): this { this.code.push(0x41, ...sleb(v)); return this; }
  f64(v: number): this { this.code.push(0x44, ...f64Bytes(v)); return this; }
  op(...bytes: number[]): this { this.code.push(...bytes); return this; }
  simd(op: number, ...imm: number[]): this { this.code.push(0xfd, ...uleb(op), ...imm); return this; }
  encode(): number[] {
    const groups: number[][] = this.localTypes.map((t) => [1, VT[t]]);
    const body = [...vec(groups), ...this.code, 0x0b];
    return [...uleb(body.length), ...body];
  }
}

/** core opcodes used (memory arguments: 8-byte alignment hint, offset 0) */
const OP = {
  block: [0x02, 0x40], loop: [0x03, 0x40], if: [0x04, 0x40], end: [0x0b],
  br: (d: number) => [0x0c, ...uleb(d)], brIf: (d: number) => [0x0d, ...uleb(d)],
  i32Eqz: [0x45], i32Eq: [0x46], i32LtS: [0x48], i32GtS: [0x4a], i32GeS: [0x4e],
  i32Add: [0x6a], i32Sub: [0x6b], i32Mul: [0x6c], i32Shl: [0x74],
  f64Le: [0x65], f64Lt: [0x63],
  f64Add: [0xa0], f64Sub: [0xa1], f64Mul: [0xa2], f64Neg: [0x9a],
  f64Load: [0x2b, 0x03, 0x00], f64Store: [0x39, 0x03, 0x00],
  i32TruncSatF64S: [0xfc, 0x02], i64ExtendI32S: [0xac], i64Const32: [0x42, 32], i64Shl: [0x86], f64ReinterpretI64: [0xbf],
  select: [0x1b],
};
/** SIMD opcodes used, after the 0xfd prefix (v128.load is 0, v128.store 11) */
const S = {
  i32x4Splat: 17, f64x2Splat: 20, f64x2Extract: 33, f64x2Replace: 34,
  f64x2Le: 75, and: 78, i32x4Add: 174, i64x2ExtendLowI32x4S: 199, i64x2Shl: 203,
  f64x2Neg: 237, f64x2Add: 240, f64x2Sub: 241, f64x2Mul: 242, f64x2Pmax: 247, i32x4TruncSatF64x2SZero: 252,
};

/** while (!exit) body — `exit` pushes an i32 that is nonzero to leave */
function loop(b: Body, exit: () => void, body: () => void): void {
  b.op(...OP.block, ...OP.loop);
  exit();
  b.op(...OP.brIf(1));
  body();
  b.op(...OP.br(0), ...OP.end, ...OP.end);
}
function ifThen(b: Body, cond: () => void, then: () => void): void {
  cond();
  b.op(...OP.if);
  then();
  b.op(...OP.end);
}
const addI = (b: Body, ...names: string[]): void => {
  b.get(names[0]);
  for (const n of names.slice(1)) b.get(n).op(...OP.i32Add);
};
const vload = (b: Body, addr: () => void): void => { addr(); b.simd(0, 3, 0); };
const vstore = (b: Body, addr: () => void, value: () => void): void => { addr(); value(); b.simd(11, 3, 0); };
const fload = (b: Body, addr: () => void): void => { addr(); b.op(...OP.f64Load); };
const fstore = (b: Body, addr: () => void, value: () => void): void => { addr(); value(); b.op(...OP.f64Store); };

/**
 * The shift kernel for `nc` planar channels. Same arithmetic, pixel by pixel, as the
 * JavaScript shiftGrey / shiftColour, two reference pixels per step.
 */
function buildShift(nc: 1 | 3): Body {
  const b = new Body([
    ['xB', 'i32'], ['wB', 'i32'], ['aB', 'i32'], ['csB', 'i32'], ['ringB', 'i32'], ['planeB', 'i32'],
    ['wp', 'i32'], ['o', 'i32'], ['win', 'i32'], ['ay0', 'i32'], ['ay1', 'i32'], ['ax0', 'i32'], ['ax1', 'i32'], ['pairOff', 'i32'],
    ['scale', 'f64'], ['invScale', 'f64'], ['K', 'f64'], ['inv', 'f64'],
  ]);
  for (const n of ['ex0', 'aw', 'ew', 'ewB', 'offB', 'winB', 'k', 'j', 'jB', 'baseB', 'rbB', 'slot', 'ay', 'last', 'rowB', 'pa', 'pb', 'x1', 'x2', 'a1', 'a2']) b.local(n, 'i32');
  for (const n of ['D0', 'D1', 'cj', 'q', 'w', 'dist']) b.local(n, 'f64');
  for (const n of ['Dv', 'Dcur', 'cjv', 'cj1v', 'qv', 'wv', 'distv', 'keep', 'scaleV', 'invScaleV', 'KV', 'invV', 'expAV', 'fiveV', 'zeroV', 'two52V', 'bcV']) b.local(n, 'v128');
  const X = ['xB', 'x1', 'x2'];
  const A = ['aB', 'a1', 'a2'];
  // setup
  b.get('ax0').get('o').op(...OP.i32Sub).i32(1).op(...OP.i32Add).set('ex0');
  b.get('ax1').get('ax0').op(...OP.i32Sub).set('aw');
  b.get('aw').get('win').op(...OP.i32Add).i32(1).op(...OP.i32Sub).set('ew');
  b.get('ew').i32(3).op(...OP.i32Shl).set('ewB');
  b.get('pairOff').i32(3).op(...OP.i32Shl).set('offB');
  b.get('win').i32(3).op(...OP.i32Shl).set('winB');
  b.get('xB').get('planeB').op(...OP.i32Add).set('x1');
  b.get('x1').get('planeB').op(...OP.i32Add).set('x2');
  b.get('aB').get('planeB').op(...OP.i32Add).set('a1');
  b.get('a1').get('planeB').op(...OP.i32Add).set('a2');
  const splat = (src: () => void, dst: string): void => { src(); b.simd(S.f64x2Splat).set(dst); };
  splat(() => b.get('scale'), 'scaleV');
  splat(() => b.get('invScale'), 'invScaleV');
  splat(() => b.get('K'), 'KV');
  splat(() => b.get('inv'), 'invV');
  splat(() => b.f64(EXP_A), 'expAV');
  splat(() => b.f64(5), 'fiveV');
  splat(() => b.f64(0), 'zeroV');
  splat(() => b.f64(TWO52), 'two52V');
  b.i32(EXP_BC).simd(S.i32x4Splat).set('bcV');

  // squared colour difference at byte offset `p` (local) against p + offB, vector or scalar
  const diffSq = (p: string, vector: boolean): void => {
    for (let c = 0; c < nc; c++) {
      const ld = vector ? (addr: () => void) => vload(b, addr) : (addr: () => void) => fload(b, addr);
      ld(() => addI(b, X[c], p));
      ld(() => addI(b, X[c], p, 'offB'));
      if (vector) b.simd(S.f64x2Sub).tee('qv').get('qv').simd(S.f64x2Mul);
      else b.op(...OP.f64Sub).tee('q').get('q').op(...OP.f64Mul);
      if (c > 0) {
        if (vector) b.simd(S.f64x2Add);
        else b.op(...OP.f64Add);
      }
    }
    // scaled and rounded to an integer: e * scale + 2^52 - 2^52
    if (vector) b.get('scaleV').simd(S.f64x2Mul).get('two52V').simd(S.f64x2Add).get('two52V').simd(S.f64x2Sub);
    else b.get('scale').op(...OP.f64Mul).f64(TWO52).op(...OP.f64Add).f64(TWO52).op(...OP.f64Sub);
  };

  // zero the column sums (and 4 spare entries read past the end by the last vector step)
  b.i32(0).set('j');
  loop(b, () => b.get('j').get('ew').i32(4).op(...OP.i32Add).op(...OP.i32GeS), () => {
    fstore(b, () => b.get('csB').get('j').i32(3).op(...OP.i32Shl).op(...OP.i32Add), () => b.f64(0));
    b.get('j').i32(1).op(...OP.i32Add).set('j');
  });

  // the window rows of the first reference row
  b.i32(0).set('k');
  loop(b, () => b.get('k').get('win').op(...OP.i32GeS), () => {
    b.get('ay0').get('o').op(...OP.i32Sub).i32(1).op(...OP.i32Add).get('k').op(...OP.i32Add).get('wp').op(...OP.i32Mul).get('ex0').op(...OP.i32Add).i32(3).op(...OP.i32Shl).set('baseB');
    b.get('ringB').get('k').get('ewB').op(...OP.i32Mul).op(...OP.i32Add).set('rbB');
    b.i32(0).set('j');
    loop(b, () => b.get('j').i32(2).op(...OP.i32Add).get('ew').op(...OP.i32GtS), () => {
      b.get('j').i32(3).op(...OP.i32Shl).set('jB');
      b.get('baseB').get('jB').op(...OP.i32Add).set('pa');
      diffSq('pa', true);
      b.set('qv');
      vstore(b, () => addI(b, 'rbB', 'jB'), () => b.get('qv'));
      vstore(b, () => addI(b, 'csB', 'jB'), () => { vload(b, () => addI(b, 'csB', 'jB')); b.get('qv').simd(S.f64x2Add); });
      b.get('j').i32(2).op(...OP.i32Add).set('j');
    });
    ifThen(b, () => b.get('j').get('ew').op(...OP.i32LtS), () => {
      b.get('j').i32(3).op(...OP.i32Shl).set('jB');
      b.get('baseB').get('jB').op(...OP.i32Add).set('pa');
      diffSq('pa', false);
      b.set('q');
      fstore(b, () => addI(b, 'rbB', 'jB'), () => b.get('q'));
      fstore(b, () => addI(b, 'csB', 'jB'), () => { fload(b, () => addI(b, 'csB', 'jB')); b.get('q').op(...OP.f64Add); });
    });
    b.get('k').i32(1).op(...OP.i32Add).set('k');
  });

  // reference rows
  b.i32(0).set('slot');
  b.get('ay0').set('ay');
  loop(b, () => b.get('ay').get('ay1').op(...OP.i32GeS), () => {
    b.get('ay').i32(1).op(...OP.i32Add).get('ay1').op(...OP.i32Eq).set('last');
    b.get('ay').get('o').op(...OP.i32Add).i32(1).op(...OP.i32Add).get('wp').op(...OP.i32Mul).get('ex0').op(...OP.i32Add).i32(3).op(...OP.i32Shl).set('baseB');
    b.get('ringB').get('slot').get('ewB').op(...OP.i32Mul).op(...OP.i32Add).set('rbB');
    b.get('ay').get('wp').op(...OP.i32Mul).get('ax0').op(...OP.i32Add).i32(3).op(...OP.i32Shl).set('rowB');
    // D(0) and D(1): window sums of the column sums
    b.f64(0).set('D0');
    b.i32(0).set('j');
    loop(b, () => b.get('j').get('win').op(...OP.i32GeS), () => {
      b.get('D0');
      fload(b, () => b.get('csB').get('j').i32(3).op(...OP.i32Shl).op(...OP.i32Add));
      b.op(...OP.f64Add).set('D0');
      b.get('j').i32(1).op(...OP.i32Add).set('j');
    });
    b.get('D0');
    fload(b, () => b.get('csB'));
    b.op(...OP.f64Sub);
    fload(b, () => addI(b, 'csB', 'winB'));
    b.op(...OP.f64Add).set('D1');
    b.get('D0').simd(S.f64x2Splat).get('D1').simd(S.f64x2Replace, 1).set('Dv');

    const accumulate = (vector: boolean): void => {
      b.get('rowB').get('jB').op(...OP.i32Add).set('pa');
      b.get('pa').get('offB').op(...OP.i32Add).set('pb');
      const wt = vector ? 'wv' : 'w';
      const ld = vector ? (addr: () => void) => vload(b, addr) : (addr: () => void) => fload(b, addr);
      const st = vector ? (addr: () => void, v: () => void) => vstore(b, addr, v) : (addr: () => void, v: () => void) => fstore(b, addr, v);
      const add = (): void => { if (vector) b.simd(S.f64x2Add); else b.op(...OP.f64Add); };
      const mul = (): void => { if (vector) b.simd(S.f64x2Mul); else b.op(...OP.f64Mul); };
      // the second pixel of the pair first, as the scalar code credits it (pairOff can be 1)
      st(() => addI(b, 'wB', 'pb'), () => { ld(() => addI(b, 'wB', 'pb')); b.get(wt); add(); });
      for (let c = 0; c < nc; c++) st(() => addI(b, A[c], 'pb'), () => { ld(() => addI(b, A[c], 'pb')); b.get(wt); ld(() => addI(b, X[c], 'pa')); mul(); add(); });
      st(() => addI(b, 'wB', 'pa'), () => { ld(() => addI(b, 'wB', 'pa')); b.get(wt); add(); });
      for (let c = 0; c < nc; c++) st(() => addI(b, A[c], 'pa'), () => { ld(() => addI(b, A[c], 'pa')); b.get(wt); ld(() => addI(b, X[c], 'pb')); mul(); add(); });
    };

    b.i32(0).set('j');
    loop(b, () => b.get('j').i32(2).op(...OP.i32Add).get('aw').op(...OP.i32GtS), () => {
      b.get('j').i32(3).op(...OP.i32Shl).set('jB');
      vload(b, () => addI(b, 'csB', 'jB'));
      b.set('cjv');
      vload(b, () => { addI(b, 'csB', 'jB'); b.i32(8).op(...OP.i32Add); });
      b.set('cj1v');
      b.get('Dv').set('Dcur');
      b.get('Dv');
      vload(b, () => addI(b, 'csB', 'jB', 'winB'));
      b.simd(S.f64x2Add);
      vload(b, () => { addI(b, 'csB', 'jB', 'winB'); b.i32(8).op(...OP.i32Add); });
      b.simd(S.f64x2Add).get('cjv').simd(S.f64x2Sub).get('cj1v').simd(S.f64x2Sub).set('Dv');
      ifThen(b, () => b.get('last').op(...OP.i32Eqz), () => {
        b.get('baseB').get('jB').op(...OP.i32Add).set('pa');
        diffSq('pa', true);
        b.set('qv');
        vstore(b, () => addI(b, 'csB', 'jB'), () => { b.get('cjv').get('qv'); vload(b, () => addI(b, 'rbB', 'jB')); b.simd(S.f64x2Sub).simd(S.f64x2Add); });
        vstore(b, () => addI(b, 'rbB', 'jB'), () => b.get('qv'));
      });
      // weights: skimage's fast exp of -max(dist, 0), zero past the cut-off
      b.get('Dcur').get('invScaleV').simd(S.f64x2Mul).get('KV').simd(S.f64x2Sub).get('invV').simd(S.f64x2Mul).set('distv');
      b.get('distv').get('fiveV').simd(S.f64x2Le).set('keep');
      b.get('distv').get('zeroV').simd(S.f64x2Pmax).set('distv');
      b.get('expAV').get('distv').simd(S.f64x2Neg).simd(S.f64x2Mul).simd(S.i32x4TruncSatF64x2SZero).get('bcV').simd(S.i32x4Add);
      b.simd(S.i64x2ExtendLowI32x4S).i32(32).simd(S.i64x2Shl).get('keep').simd(S.and).set('wv');
      accumulate(true);
      b.get('j').i32(2).op(...OP.i32Add).set('j');
    });
    // an odd last reference pixel
    ifThen(b, () => b.get('j').get('aw').op(...OP.i32LtS), () => {
      b.get('j').i32(3).op(...OP.i32Shl).set('jB');
      b.get('Dv').simd(S.f64x2Extract, 0).set('D0');
      fload(b, () => addI(b, 'csB', 'jB'));
      b.set('cj');
      ifThen(b, () => b.get('last').op(...OP.i32Eqz), () => {
        b.get('baseB').get('jB').op(...OP.i32Add).set('pa');
        diffSq('pa', false);
        b.set('q');
        fstore(b, () => addI(b, 'csB', 'jB'), () => { b.get('cj').get('q'); fload(b, () => addI(b, 'rbB', 'jB')); b.op(...OP.f64Sub).op(...OP.f64Add); });
        fstore(b, () => addI(b, 'rbB', 'jB'), () => b.get('q'));
      });
      b.get('D0').get('invScale').op(...OP.f64Mul).get('K').op(...OP.f64Sub).get('inv').op(...OP.f64Mul).set('dist');
      ifThen(b, () => b.get('dist').f64(5).op(...OP.f64Le), () => {
        b.f64(0).get('dist').get('dist').f64(0).op(...OP.f64Lt).op(...OP.select).set('dist');
        b.f64(EXP_A).get('dist').op(...OP.f64Neg).op(...OP.f64Mul).op(...OP.i32TruncSatF64S).i32(EXP_BC).op(...OP.i32Add);
        b.op(...OP.i64ExtendI32S, ...OP.i64Const32, ...OP.i64Shl, ...OP.f64ReinterpretI64).set('w');
        accumulate(false);
      });
      b.get('j').i32(1).op(...OP.i32Add).set('j');
    });
    // slide the remaining columns
    ifThen(b, () => b.get('last').op(...OP.i32Eqz), () => {
      b.get('aw').set('j');
      loop(b, () => b.get('j').get('ew').op(...OP.i32GeS), () => {
        b.get('j').i32(3).op(...OP.i32Shl).set('jB');
        b.get('baseB').get('jB').op(...OP.i32Add).set('pa');
        diffSq('pa', false);
        b.set('q');
        fstore(b, () => addI(b, 'csB', 'jB'), () => { fload(b, () => addI(b, 'csB', 'jB')); b.get('q'); fload(b, () => addI(b, 'rbB', 'jB')); b.op(...OP.f64Sub).op(...OP.f64Add); });
        fstore(b, () => addI(b, 'rbB', 'jB'), () => b.get('q'));
        b.get('j').i32(1).op(...OP.i32Add).set('j');
      });
    });
    b.get('slot').i32(1).op(...OP.i32Add).tee('slot').get('win').op(...OP.i32Eq);
    b.op(...OP.if).i32(0).set('slot').op(...OP.end);
    b.get('ay').i32(1).op(...OP.i32Add).set('ay');
  });
  return b;
}

/** The module: an imported memory and the kernels `grey` (1 channel) and `rgb` (3). */
function buildModule(): Uint8Array {
  const kernels = [buildShift(1), buildShift(3)];
  const params = kernels[0].params.map(([, t]) => VT[t]);
  const type = [0x60, ...uleb(params.length), ...params, 0];
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([type])),
    ...section(2, vec([[...str('env'), ...str('memory'), 0x02, 0x00, 0x01]])),
    ...section(3, vec([[0], [0]])),
    ...section(7, vec([[...str('grey'), 0x00, 0], [...str('rgb'), 0x00, 1]])),
    ...section(10, vec(kernels.map((k) => k.encode()))),
  ];
  return new Uint8Array(bytes);
}


/** The part of the WebAssembly API used here (the project's type libraries do not declare it). */
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer; grow(pages: number): number };
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;
let simdModule: object | null | undefined;

/** The compiled kernels, or null where WebAssembly (with SIMD) is not available. */
function kernelModule(): object | null {
  if (simdModule === undefined) {
    try {
      simdModule = wasm ? new wasm.Module(buildModule()) : null;
    } catch {
      simdModule = null;
    }
  }
  return simdModule;
}

type ShiftKernel = (...args: number[]) => void;

interface Arena {
  memory: { buffer: ArrayBuffer; grow(pages: number): number };
  instance: { exports: Record<string, unknown> };
  pages: number;
}

/** Memories up to this size are kept between calls (per thread), sparing the page faults of fresh ones. */
const KEEP_BYTES = 256 * 2 ** 20;
let kept: Arena | undefined;

/** An instance of the kernels with at least `bytes` of memory: the kept one, grown if needed, or a new one. */
function kernelArena(module: object, bytes: number): Arena | undefined {
  const pages = Math.ceil(bytes / 65536);
  try {
    if (kept && kept.pages >= pages) return kept;
    if (kept && bytes <= KEEP_BYTES) {
      kept.memory.grow(pages - kept.pages);
      kept.pages = pages;
      return kept;
    }
    const memory = new (wasm as WasmApi).Memory({ initial: pages });
    const arena = { memory, instance: new (wasm as WasmApi).Instance(module, { env: { memory } }), pages };
    if (bytes <= KEEP_BYTES) kept = arena;
    return arena;
  } catch {
    return undefined;
  }
}

/** nlMeansFastJs on the SIMD kernels (planar channels in one WebAssembly memory); undefined if they cannot run. */
export function nlMeansFastSimd(src: Float32Array, width: number, height: number, nc: 1 | 3, p: NlMeansTileOptions): Float32Array | undefined {
  const module = kernelModule();
  if (!module) return undefined;
  const s = p.patchSize;
  const d = p.patchDistance;
  const o = s >> 1;
  const win = s - 1;
  const pad = d + o;
  const wp = width + 2 * pad;
  const hp = height + 2 * pad;
  const plane = wp * hp;
  const maxEw = width + d + win + 4;
  // f64 index layout: nc planes of x, weights, nc planes of sums, column sums, ring
  const wI = nc * plane;
  const aI = wI + plane;
  const csI = aI + nc * plane;
  const ringI = csI + maxEw;
  const bytes = (ringI + win * maxEw) * 8;
  const arena = kernelArena(module, bytes);
  if (!arena) return undefined; // too large for one memory: the JavaScript kernels take it
  const kernel = (nc === 1 ? arena.instance.exports.grey : arena.instance.exports.rgb) as ShiftKernel;
  // Only what is read is initialised: x, and weights and sums at the image's pixels.
  // Elsewhere the kernels add into whatever a previous call left, which is never read.
  const m = new Float64Array(arena.memory.buffer, 0, bytes / 8);
  const xmap = new Int32Array(wp);
  for (let x = 0; x < wp; x++) xmap[x] = mirrorIndex(x - pad, width);
  for (let y = 0; y < hp; y++) {
    const sy = mirrorIndex(y - pad, height) * width;
    for (let x = 0; x < wp; x++) {
      const q = y * wp + x;
      const sp = (sy + xmap[x]) * nc;
      for (let c = 0; c < nc; c++) m[c * plane + q] = src[sp + c];
    }
  }
  const K = win * win * nc * 2 * p.sigma * p.sigma;
  const inv = 1 / (nc * p.h * p.h * s * s);
  const w0 = fastExp(-0);
  for (let y = pad; y < pad + height; y++) {
    for (let x = pad; x < pad + width; x++) {
      const q = y * wp + x;
      m[wI + q] = w0;
      for (let c = 0; c < nc; c++) m[aI + c * plane + q] = w0 * m[c * plane + q];
    }
  }
  for (let tr = 0; tr <= d; tr++) {
    for (let tc = -d; tc <= d; tc++) {
      if (tr === 0 && tc <= 0) continue;
      kernel(0, wI * 8, aI * 8, csI * 8, ringI * 8, plane * 8, wp, o, win, pad - tr, pad + height, pad - Math.max(tc, 0), pad + width + Math.max(-tc, 0), tr * wp + tc, p.scale, 1 / p.scale, K, inv);
    }
  }
  const out = new Float32Array(width * height * nc);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const q = (y + pad) * wp + x + pad;
      for (let c = 0; c < nc; c++) out[(y * width + x) * nc + c] = m[aI + c * plane + q] / m[wI + q];
    }
  }
  return out;
}

/** The fast algorithm: SIMD kernels where available, else the JavaScript ones (same results). */
function nlMeansFast(src: Float32Array, width: number, height: number, nc: 1 | 3, p: NlMeansTileOptions): Float32Array {
  return nlMeansFastSimd(src, width, height, nc, p) ?? nlMeansFastJs(src, width, height, nc, p);
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
          if (nc === 1) {
            for (; pi < s; pi++) {
              if (distance > DISTANCE_CUTOFF) break;
              const r1 = cbase + pi * rowStride;
              const r2 = nbase + pi * rowStride;
              const wr = pi * s;
              for (let pj = 0; pj < s; pj++) {
                const t = x[r1 + pj] - x[r2 + pj];
                distance += w[wr + pj] * (t * t - var2);
              }
            }
          } else {
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

function nlMeansColour(colour: Float32Array, width: number, height: number, nc: 1 | 3, p: NlMeansTileOptions): Float32Array {
  return p.mode === 'fast' ? nlMeansFast(colour, width, height, nc, p) : nlMeansExact(colour, width, height, nc, p);
}

function scaleFor(colour: Float32Array, p: NlMeansParams, nc: number): number {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < colour.length; i++) {
    const v = colour[i];
    if (v < min) min = v;
    if (v > max) max = v;
  }
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
    // pairs visited (fast: each once for two pixels) or patch pixels compared (exact)
    const side = 2 * p.patchDistance + 1;
    const work = im.width * im.height * side * side * nc * (p.mode === 'fast' ? 0.5 : (p.patchSize * p.patchSize) / 4);
    return runLocalDenoiser(im, task, nlMeansReach(p.patchSize, p.patchDistance), context, work);
  },
};
