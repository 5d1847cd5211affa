/**
 * Noise estimation by Donoho & Johnstone's robust median estimator ("Ideal spatial
 * adaptation by wavelet shrinkage", Biometrika 81(3), 1994, section 4.2): sigma =
 * median(|d|) / Phi^-1(0.75) over the finest diagonal detail coefficients d of a
 * one-level Daubechies-2 wavelet transform. It reproduces scikit-image's
 * `restoration.estimate_sigma` (pywt.dwtn with 'db2', mode 'symmetric'; coefficients
 * that are exactly 0 are left out, as there), one value per colour channel. The DWT
 * is written out here so this file stands alone.
 */
import { checkImage, colourChannels, type Image } from '../core/image.js';

/** Daubechies-2 decomposition high-pass filter, as pywt.Wavelet('db2').dec_hi. */
export const DB2_DEC_HI: readonly number[] = [
  -0.48296291314453416, 0.8365163037378079, -0.2241438680420134, -0.12940952255126037,
];

/** Phi^-1(0.75), scipy.stats.norm.ppf(0.75): median |N(0,1)| */
const MAD_TO_SIGMA = 0.6744897501960817;

/** pywt's 'symmetric' extension (half-sample symmetric, period 2n): the input index behind extended index k */
function reflect(k: number, n: number): number {
  const period = 2 * n;
  let m = k % period;
  if (m < 0) m += period;
  return m < n ? m : period - 1 - m;
}

/** Output length of one pywt dwt level with a filter of length 4. */
export function dwtLength(n: number): number {
  return Math.floor((n + 3) / 2);
}

/**
 * One level of pywt's downsampling convolution in 'symmetric' mode (step 2), output o
 * = sum_j f[j] x[2o+1-j] over the extended input, with pywt's order of summation kept
 * term for term (pywt/_extensions/c/convolution.c.src), so near-cancelling sums round
 * the same way and the "exactly zero" coefficients scikit-image drops are the same ones.
 */
function downsampleSymmetric(x: Float64Array, n: number, f: readonly number[], out: Float64Array): void {
  const nf = f.length;
  let i = 1;
  let o = 0;
  // left boundary overhang
  for (; i < nf && i < n; i += 2, o++) {
    let sum = 0;
    let j = 0;
    for (; j <= i; j++) sum += f[j] * x[i - j];
    while (j < nf) {
      for (let k = 0; k < n && j < nf; j++, k++) sum += f[j] * x[k];
      for (let k = 0; k < n && j < nf; k++, j++) sum += f[j] * x[n - 1 - k];
    }
    out[o] = sum;
  }
  // centre, input at least as long as the filter
  for (; i < n; i += 2, o++) {
    let sum = 0;
    for (let j = 0; j < nf; j++) sum += x[i - j] * f[j];
    out[o] = sum;
  }
  // centre, filter longer than the input
  for (; i < nf; i += 2, o++) {
    let sum = 0;
    let j = 0;
    while (i - j >= n) {
      for (let k = 0; k < n && i - j >= n; j++, k++) sum += f[i - n - j] * x[n - 1 - k];
      for (let k = 0; k < n && i - j >= n; j++, k++) sum += f[i - n - j] * x[k];
    }
    for (; j <= i; j++) sum += f[j] * x[i - j];
    while (j < nf) {
      for (let k = 0; k < n && j < nf; j++, k++) sum += f[j] * x[k];
      for (let k = 0; k < n && j < nf; k++, j++) sum += f[j] * x[n - 1 - k];
    }
    out[o] = sum;
  }
  // right boundary overhang
  for (; i < n + nf - 1; i += 2, o++) {
    let sum = 0;
    let j = 0;
    while (i - j >= n) {
      for (let k = 0; k < n && i - j >= n; j++, k++) sum += f[i - n - j] * x[n - 1 - k];
      for (let k = 0; k < n && i - j >= n; j++, k++) sum += f[i - n - j] * x[k];
    }
    for (; j < nf; j++) sum += f[j] * x[i - j];
    out[o] = sum;
  }
}

/** For each output of a length-n line, 1 if any of its 4 extended inputs is flagged. */
function downsampleFlags(bad: Uint8Array, n: number, out: Uint8Array): void {
  for (let o = 0; o < out.length; o++) {
    let flag = 0;
    for (let j = 0; j < 4; j++) flag |= bad[reflect(2 * o + 1 - j, n)];
    out[o] = flag;
  }
}

/**
 * The finest diagonal ('dd') coefficients of a one-level 2-D db2 DWT of a
 * height x width plane, row-major, computed like pywt.dwtn (axis 0, then axis 1), with
 * a flag for each coefficient whose support holds a sample flagged in `bad` (those
 * samples count as 0 in the sums).
 */
export function diagonalDetail(
  plane: Float64Array,
  width: number,
  height: number,
  bad?: Uint8Array,
): { coeffs: Float64Array; bad: Uint8Array | undefined; width: number; height: number } {
  const lw = dwtLength(width);
  const lh = dwtLength(height);
  const line = new Float64Array(Math.max(width, height));
  const lineOut = new Float64Array(Math.max(lw, lh));
  const flags = bad ? new Uint8Array(Math.max(width, height)) : undefined;
  const flagsOut = new Uint8Array(Math.max(lw, lh));
  // along axis 0 (down each column)
  const tmp = new Float64Array(lh * width);
  const tmpBad = bad ? new Uint8Array(lh * width) : undefined;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) line[y] = plane[y * width + x];
    downsampleSymmetric(line, height, DB2_DEC_HI, lineOut);
    for (let o = 0; o < lh; o++) tmp[o * width + x] = lineOut[o];
    if (bad && flags && tmpBad) {
      for (let y = 0; y < height; y++) flags[y] = bad[y * width + x];
      downsampleFlags(flags, height, flagsOut.subarray(0, lh));
      for (let o = 0; o < lh; o++) tmpBad[o * width + x] = flagsOut[o];
    }
  }
  // along axis 1 (along each row)
  const coeffs = new Float64Array(lh * lw);
  const outBad = tmpBad ? new Uint8Array(lh * lw) : undefined;
  for (let o = 0; o < lh; o++) {
    downsampleSymmetric(tmp.subarray(o * width, (o + 1) * width), width, DB2_DEC_HI, coeffs.subarray(o * lw, (o + 1) * lw));
    if (tmpBad && outBad) downsampleFlags(tmpBad.subarray(o * width, (o + 1) * width), width, outBad.subarray(o * lw, (o + 1) * lw));
  }
  return { coeffs, bad: outBad, width: lw, height: lh };
}

/** k-th smallest (0-based) of a[0..n), reordering a in place (Hoare's selection). */
function select(a: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (hi > lo) {
    const mid = (lo + hi) >> 1;
    // median of three as the pivot
    const x = a[lo];
    const y = a[mid];
    const z = a[hi];
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i] < pivot) i++;
      while (a[j] > pivot) j--;
      if (i <= j) {
        const t = a[i];
        a[i] = a[j];
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return a[k];
  }
  return a[k];
}

/** numpy.median of a[0..n): the mean of the two middle values when n is even. */
function median(a: Float64Array, n: number): number {
  const k = n >> 1;
  const upper = select(a, n, k);
  if (n % 2 === 1) return upper;
  // after selection a[0..k) are all <= a[k]; the lower middle is their maximum
  let lower = -Infinity;
  for (let i = 0; i < k; i++) if (a[i] > lower) lower = a[i];
  return (lower + upper) / 2;
}

/**
 * Noise standard deviation per colour channel (alpha excluded), on the image's value
 * scale. Masked and non-finite samples are left out: every coefficient they touch is
 * dropped. A channel without a single non-zero coefficient (all zeros) gives 0, where
 * scikit-image gives NaN; a constant channel gives a tiny value from rounding residue,
 * as in scikit-image.
 */
export function estimateSigma(image: Image): number[] {
  checkImage('estimateSigma', image);
  const { width, height, channels, data, mask } = image;
  const pixels = width * height;
  const sigmas: number[] = [];
  for (let c = 0; c < colourChannels(image); c++) {
    const plane = new Float64Array(pixels);
    let bad: Uint8Array | undefined;
    for (let p = 0, i = c; p < pixels; p++, i += channels) {
      const v = data[i];
      if ((mask && mask[i]) || !Number.isFinite(v)) {
        bad ??= new Uint8Array(pixels);
        bad[p] = 1;
      } else plane[p] = v;
    }
    const dd = diagonalDetail(plane, width, height, bad);
    const abs = dd.coeffs;
    let n = 0;
    for (let i = 0; i < abs.length; i++) {
      const v = Math.abs(abs[i]);
      if (v !== 0 && !(dd.bad && dd.bad[i])) abs[n++] = v;
    }
    sigmas.push(n === 0 ? 0 : median(abs, n) / MAD_TO_SIGMA);
  }
  return sigmas;
}
