/**
 * The fixed linear transforms of BM3D (Dabov, Foi, Katkovnik & Egiazarian, "Image
 * denoising by sparse 3D transform-domain collaborative filtering", IEEE TIP 16(8),
 * 2007), built the way the authors' MATLAB code builds them: 8-point 2-D block
 * transforms as matrices (orthonormal DCT-II; biorthogonal 1.5 wavelet, full
 * decomposition with periodic extension, each basis row scaled to unit norm so white
 * noise keeps variance sigma^2 in every coefficient), the separable Kaiser window
 * used in aggregation, the orthonormal 1-D Haar transform along the group, and the
 * colour transforms of CBM3D (opponent and YCbCr, with the row norms that scale sigma).
 */

export const BLOCK_TRANSFORMS = ['bior1.5', 'dct'] as const;
export type BlockTransform = (typeof BLOCK_TRANSFORMS)[number];

/** A block transform as matrices: coefficient v = sum_i forward[v*n + i] * x[i]; x = inverse * coefficients. */
export interface TransformPair {
  n: number;
  forward: Float64Array;
  inverse: Float64Array;
}

/** Orthonormal DCT-II matrix (MATLAB `dct(eye(n))`). */
export function dctMatrix(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const w = k === 0 ? Math.sqrt(1 / n) : Math.sqrt(2 / n);
    for (let i = 0; i < n; i++) m[k * n + i] = w * Math.cos((Math.PI * (2 * i + 1) * k) / (2 * n));
  }
  return m;
}

/** Decomposition filters of the biorthogonal 1.5 wavelet (pywt `Wavelet('bior1.5')`, MATLAB `wfilters('bior1.5')`). */
const BIOR15_DEC_LO = [3, -3, -22, 22, 128, 128, 22, -22, -3, 3].map((v) => (v * Math.SQRT2) / 256);
const BIOR15_DEC_HI = [0, 0, 0, 0, -Math.SQRT1_2, Math.SQRT1_2, 0, 0, 0, 0];

/** One level of a periodised DWT (pywt mode 'periodization', even n): out[o] = sum_j f[j] x[(F/2 + 2o - j) mod n]. */
function dwtPeriodic(x: Float64Array, f: readonly number[]): Float64Array {
  const n = x.length;
  const out = new Float64Array(n / 2);
  const half = f.length / 2;
  for (let o = 0; o < n / 2; o++) {
    let s = 0;
    for (let j = 0; j < f.length; j++) s += f[j] * x[(((half + 2 * o - j) % n) + n) % n];
    out[o] = s;
  }
  return out;
}

/** Full wavedec of x (length a power of 2): [cA_L, cD_L, cD_(L-1), ..., cD_1]. */
function wavedecPeriodic(x: Float64Array): Float64Array {
  const details: Float64Array[] = [];
  let a = x;
  while (a.length > 1) {
    details.unshift(dwtPeriodic(a, BIOR15_DEC_HI));
    a = dwtPeriodic(a, BIOR15_DEC_LO);
  }
  const out = new Float64Array(x.length);
  out.set(a, 0);
  let k = a.length;
  for (const d of details) {
    out.set(d, k);
    k += d.length;
  }
  return out;
}

/** Inverse of an n x n matrix by Gauss-Jordan elimination with partial pivoting. */
export function invertMatrix(m: Float64Array, n: number): Float64Array {
  const a = Float64Array.from(m);
  const inv = new Float64Array(n * n);
  for (let i = 0; i < n; i++) inv[i * n + i] = 1;
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(a[r * n + c]) > Math.abs(a[p * n + c])) p = r;
    if (p !== c) {
      for (let k = 0; k < n; k++) {
        let t = a[c * n + k];
        a[c * n + k] = a[p * n + k];
        a[p * n + k] = t;
        t = inv[c * n + k];
        inv[c * n + k] = inv[p * n + k];
        inv[p * n + k] = t;
      }
    }
    const d = a[c * n + c];
    for (let k = 0; k < n; k++) {
      a[c * n + k] /= d;
      inv[c * n + k] /= d;
    }
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = a[r * n + c];
      if (f === 0) continue;
      for (let k = 0; k < n; k++) {
        a[r * n + k] -= f * a[c * n + k];
        inv[r * n + k] -= f * inv[c * n + k];
      }
    }
  }
  return inv;
}

/**
 * The bior1.5 block transform of BM3D's `getTransfMatrix(n, 'bior1.5', 0)`: column i is
 * the full periodic wavelet decomposition of the unit vector e_i, then each row is
 * scaled to unit Euclidean norm; the inverse is the matrix inverse.
 */
export function bior15Matrix(n: number): Float64Array {
  const m = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const e = new Float64Array(n);
    e[i] = 1;
    const col = wavedecPeriodic(e);
    for (let r = 0; r < n; r++) m[r * n + i] = col[r];
  }
  for (let r = 0; r < n; r++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += m[r * n + i] ** 2;
    const k = 1 / Math.sqrt(s);
    for (let i = 0; i < n; i++) m[r * n + i] *= k;
  }
  return m;
}

export function blockTransform(kind: BlockTransform, n: number): TransformPair {
  const forward = kind === 'dct' ? dctMatrix(n) : bior15Matrix(n);
  const inverse = kind === 'dct' ? transpose(forward, n) : invertMatrix(forward, n);
  // entries that are zero up to rounding are set to exactly zero so the transform loops can skip them
  for (const m of [forward, inverse]) for (let i = 0; i < m.length; i++) if (Math.abs(m[i]) < 1e-12) m[i] = 0;
  return { n, forward, inverse };
}

function transpose(m: Float64Array, n: number): Float64Array {
  const t = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) t[j * n + i] = m[i * n + j];
  return t;
}

/** Modified Bessel function of the first kind, order 0 (power series; converges fast for the small beta used here). */
export function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 50; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < 1e-17 * sum) break;
  }
  return sum;
}

/** MATLAB `kaiser(n, beta)`. */
export function kaiserWindow(n: number, beta: number): Float64Array {
  const w = new Float64Array(n);
  const d = besselI0(beta);
  for (let i = 0; i < n; i++) {
    const r = n === 1 ? 0 : (2 * i) / (n - 1) - 1;
    w[i] = besselI0(beta * Math.sqrt(Math.max(0, 1 - r * r))) / d;
  }
  return w;
}

/**
 * In-place orthonormal 1-D Haar transform (full dyadic decomposition) along the group
 * axis of a patch-major group: `g[p * stride + k]` for patches p < count (a power of
 * 2) and coefficients k < stride. Approximations stay at p = 0, 2h, 4h, ... and
 * details at the odd multiples of h, so the transform is its own inverse when the
 * levels are run in the opposite order (haarGroupInverse).
 */
export function haarGroupForward(g: Float32Array, count: number, stride: number): void {
  for (let h = 1; h < count; h *= 2) {
    for (let p = 0; p < count; p += 2 * h) {
      const a = p * stride;
      const b = (p + h) * stride;
      for (let k = 0; k < stride; k++) {
        const x = g[a + k];
        const y = g[b + k];
        g[a + k] = (x + y) * Math.SQRT1_2;
        g[b + k] = (x - y) * Math.SQRT1_2;
      }
    }
  }
}

export function haarGroupInverse(g: Float32Array, count: number, stride: number): void {
  for (let h = count >> 1; h >= 1; h >>= 1) {
    for (let p = 0; p < count; p += 2 * h) {
      const a = p * stride;
      const b = (p + h) * stride;
      for (let k = 0; k < stride; k++) {
        const x = g[a + k];
        const y = g[b + k];
        g[a + k] = (x + y) * Math.SQRT1_2;
        g[b + k] = (x - y) * Math.SQRT1_2;
      }
    }
  }
}

// ---------------------------------------------------------------------------
// Fast 8-point transforms, x = src[so + k*ss] -> dst[do + k*ds] (k < 8), in place
// allowed. They equal the matrices above (tested) at a fraction of the operations.

const C1 = Math.cos(Math.PI / 8);
const C3 = Math.cos((3 * Math.PI) / 8);
const CQ = Math.SQRT1_2; // cos(pi/4)
const DC0 = Math.sqrt(1 / 8);
/** odd DCT-8 basis: ODD[k][n] = 0.5 cos(pi (2n+1) k / 16) for k = 1, 3, 5, 7 and n < 4 */
const O11 = 0.5 * Math.cos(Math.PI / 16);
const O13 = 0.5 * Math.cos((3 * Math.PI) / 16);
const O15 = 0.5 * Math.cos((5 * Math.PI) / 16);
const O17 = 0.5 * Math.cos((7 * Math.PI) / 16);

/** Orthonormal DCT-II of 8 samples (the rows of dctMatrix(8)). */
export function dct8Forward(src: Float32Array, so: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const x0 = src[so];
  const x1 = src[so + ss];
  const x2 = src[so + 2 * ss];
  const x3 = src[so + 3 * ss];
  const x4 = src[so + 4 * ss];
  const x5 = src[so + 5 * ss];
  const x6 = src[so + 6 * ss];
  const x7 = src[so + 7 * ss];
  const s0 = x0 + x7;
  const s1 = x1 + x6;
  const s2 = x2 + x5;
  const s3 = x3 + x4;
  const d0 = x0 - x7;
  const d1 = x1 - x6;
  const d2 = x2 - x5;
  const d3 = x3 - x4;
  const e0 = s0 + s3;
  const e1 = s1 + s2;
  const f0 = s0 - s3;
  const f1 = s1 - s2;
  dst[d] = DC0 * (e0 + e1);
  dst[d + 4 * ds] = 0.5 * CQ * (e0 - e1);
  dst[d + 2 * ds] = 0.5 * (C1 * f0 + C3 * f1);
  dst[d + 6 * ds] = 0.5 * (C3 * f0 - C1 * f1);
  // cos(pi (2n+1) k / 16) for odd k, n = 0..3, written with the four distinct magnitudes
  dst[d + ds] = O11 * d0 + O13 * d1 + O15 * d2 + O17 * d3;
  dst[d + 3 * ds] = O13 * d0 - O17 * d1 - O11 * d2 - O15 * d3;
  dst[d + 5 * ds] = O15 * d0 - O11 * d1 + O17 * d2 + O13 * d3;
  dst[d + 7 * ds] = O17 * d0 - O15 * d1 + O13 * d2 - O11 * d3;
}

/** Inverse of dct8Forward (orthonormal DCT-III). */
export function dct8Inverse(src: Float32Array, so: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const X0 = src[so];
  const X1 = src[so + ss];
  const X2 = src[so + 2 * ss];
  const X3 = src[so + 3 * ss];
  const X4 = src[so + 4 * ss];
  const X5 = src[so + 5 * ss];
  const X6 = src[so + 6 * ss];
  const X7 = src[so + 7 * ss];
  const a = DC0 * X0;
  const b = 0.5 * CQ * X4;
  const ee0 = a + b;
  const ee1 = a - b;
  const oo0 = 0.5 * (C1 * X2 + C3 * X6);
  const oo1 = 0.5 * (C3 * X2 - C1 * X6);
  const E0 = ee0 + oo0;
  const E3 = ee0 - oo0;
  const E1 = ee1 + oo1;
  const E2 = ee1 - oo1;
  const O0 = O11 * X1 + O13 * X3 + O15 * X5 + O17 * X7;
  const O1 = O13 * X1 - O17 * X3 - O11 * X5 - O15 * X7;
  const O2 = O15 * X1 - O11 * X3 + O17 * X5 + O13 * X7;
  const O3 = O17 * X1 - O15 * X3 + O13 * X5 - O11 * X7;
  dst[d] = E0 + O0;
  dst[d + 7 * ds] = E0 - O0;
  dst[d + ds] = E1 + O1;
  dst[d + 6 * ds] = E1 - O1;
  dst[d + 2 * ds] = E2 + O2;
  dst[d + 5 * ds] = E2 - O2;
  dst[d + 3 * ds] = E3 + O3;
  dst[d + 4 * ds] = E3 - O3;
}

/**
 * bior1.5 on 8 samples as lifting steps: Haar on pairs, then the approximation update
 * cA1[o] = s[o] + (22/128) (d[o+1] - d[o-1]) (indices mod 4; the 3/128 taps cancel
 * under periodisation, and so does every update at the coarser levels), then plain
 * Haar for levels 2 and 3, then the unit-norm row scaling of bior15Matrix.
 */
const LIFT = 22 / 128;
const R2 = Math.SQRT1_2;
/** unit-norm scale of rows 1 (cD3) and 2, 3 (cD2) of the raw bior1.5 transform */
const BIOR_ROW1 = rawRowScale(1);
const BIOR_ROW2 = rawRowScale(2);

function rawRowScale(row: number): number {
  // row norms of the unnormalised transform computed by the same lifting, on unit vectors
  let s = 0;
  for (let i = 0; i < 8; i++) {
    const e = new Float64Array(8);
    e[i] = 1;
    s += bior8Raw(e)[row] ** 2;
  }
  return 1 / Math.sqrt(s);
}

function bior8Raw(x: Float64Array): Float64Array {
  const s = [0, 1, 2, 3].map((k) => (x[2 * k] + x[2 * k + 1]) * R2);
  const dd = [0, 1, 2, 3].map((k) => (x[2 * k] - x[2 * k + 1]) * R2);
  const a = [0, 1, 2, 3].map((o) => s[o] + LIFT * (dd[(o + 1) % 4] - dd[(o + 3) % 4]));
  const a2 = [(a[0] + a[1]) * R2, (a[2] + a[3]) * R2];
  const d2 = [(a[0] - a[1]) * R2, (a[2] - a[3]) * R2];
  return Float64Array.from([(a2[0] + a2[1]) * R2, (a2[0] - a2[1]) * R2, d2[0], d2[1], dd[0], dd[1], dd[2], dd[3]]);
}

/** Normalised bior1.5 of 8 samples (the rows of bior15Matrix(8)). */
export function bior8Forward(src: Float32Array, so: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const x0 = src[so];
  const x1 = src[so + ss];
  const x2 = src[so + 2 * ss];
  const x3 = src[so + 3 * ss];
  const x4 = src[so + 4 * ss];
  const x5 = src[so + 5 * ss];
  const x6 = src[so + 6 * ss];
  const x7 = src[so + 7 * ss];
  const d0 = (x0 - x1) * R2;
  const d1 = (x2 - x3) * R2;
  const d2 = (x4 - x5) * R2;
  const d3 = (x6 - x7) * R2;
  const a0 = (x0 + x1) * R2 + LIFT * (d1 - d3);
  const a1 = (x2 + x3) * R2 + LIFT * (d2 - d0);
  const a2 = (x4 + x5) * R2 + LIFT * (d3 - d1);
  const a3 = (x6 + x7) * R2 + LIFT * (d0 - d2);
  const b0 = (a0 + a1) * R2;
  const b1 = (a2 + a3) * R2;
  dst[d] = (b0 + b1) * R2;
  dst[d + ds] = (b0 - b1) * R2 * BIOR_ROW1;
  dst[d + 2 * ds] = (a0 - a1) * R2 * BIOR_ROW2;
  dst[d + 3 * ds] = (a2 - a3) * R2 * BIOR_ROW2;
  dst[d + 4 * ds] = d0;
  dst[d + 5 * ds] = d1;
  dst[d + 6 * ds] = d2;
  dst[d + 7 * ds] = d3;
}

/** Inverse of bior8Forward. */
export function bior8Inverse(src: Float32Array, so: number, ss: number, dst: Float32Array, d: number, ds: number): void {
  const c0 = src[so];
  const c1 = src[so + ss] / BIOR_ROW1;
  const e0 = src[so + 2 * ss] / BIOR_ROW2;
  const e1 = src[so + 3 * ss] / BIOR_ROW2;
  const d0 = src[so + 4 * ss];
  const d1 = src[so + 5 * ss];
  const d2 = src[so + 6 * ss];
  const d3 = src[so + 7 * ss];
  const b0 = (c0 + c1) * R2;
  const b1 = (c0 - c1) * R2;
  const a0 = (b0 + e0) * R2;
  const a1 = (b0 - e0) * R2;
  const a2 = (b1 + e1) * R2;
  const a3 = (b1 - e1) * R2;
  const s0 = a0 - LIFT * (d1 - d3);
  const s1 = a1 - LIFT * (d2 - d0);
  const s2 = a2 - LIFT * (d3 - d1);
  const s3 = a3 - LIFT * (d0 - d2);
  dst[d] = (s0 + d0) * R2;
  dst[d + ds] = (s0 - d0) * R2;
  dst[d + 2 * ds] = (s1 + d1) * R2;
  dst[d + 3 * ds] = (s1 - d1) * R2;
  dst[d + 4 * ds] = (s2 + d2) * R2;
  dst[d + 5 * ds] = (s2 - d2) * R2;
  dst[d + 6 * ds] = (s3 + d3) * R2;
  dst[d + 7 * ds] = (s3 - d3) * R2;
}

export type Transform8 = typeof dct8Forward;

/** The fast forward and inverse 8-point transforms of a block transform. */
export function fastTransform8(kind: BlockTransform): { forward: Transform8; inverse: Transform8 } {
  return kind === 'dct' ? { forward: dct8Forward, inverse: dct8Inverse } : { forward: bior8Forward, inverse: bior8Inverse };
}

export const COLOUR_SPACES = ['opp', 'ycbcr'] as const;
export type ColourSpace = (typeof COLOUR_SPACES)[number];

/**
 * RGB -> luminance-chrominance matrices of CBM3D (the authors' MATLAB code): 'opp' the
 * opponent transform [1/3 1/3 1/3; 1/2 0 -1/2; 1/4 -1/2 1/4]; 'ycbcr' BT.601 without
 * offsets. Row 0 is the luminance the grouping is done on.
 */
export const COLOUR_MATRICES: Record<ColourSpace, readonly number[]> = {
  opp: [1 / 3, 1 / 3, 1 / 3, 0.5, 0, -0.5, 0.25, -0.5, 0.25],
  ycbcr: [0.299, 0.587, 0.114, -0.168736, -0.331264, 0.5, 0.5, -0.418688, -0.081312],
};

/** Noise standard deviation of each transformed channel for unit white noise in each of R, G, B: the row norms. */
export function colourRowNorms(space: ColourSpace): number[] {
  const m = COLOUR_MATRICES[space];
  return [0, 1, 2].map((r) => Math.hypot(m[r * 3], m[r * 3 + 1], m[r * 3 + 2]));
}
