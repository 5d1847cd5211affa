/**
 * Noise estimation by Donoho & Johnstone's robust median estimator ("Ideal spatial
 * adaptation by wavelet shrinkage", Biometrika 81(3), 1994, section 4.2): sigma =
 * median(|d|) / Phi^-1(0.75) over the finest diagonal detail coefficients d of a
 * one-level Daubechies-2 wavelet transform. It reproduces scikit-image's
 * `restoration.estimate_sigma` (pywt.dwtn with 'db2', mode 'symmetric'; coefficients
 * that are exactly 0 are left out, as there), one value per colour channel. The DWT
 * is written out here so this file stands alone.
 */
import { medianInPlace } from '../core/select.js';
import { checkImage, colourChannels, type Image } from '../core/image.js';

/** Daubechies-2 decomposition high-pass filter, as pywt.Wavelet('db2').dec_hi. */
export const DB2_DEC_HI: readonly number[] = [
  -0.48296291314453416, 0.8365163037378079, -0.2241438680420134, -0.12940952255126037,
];

/** Phi^-1(0.75), scipy.stats.norm.ppf(0.75): median |N(0,1)| */
const MAD_TO_SIGMA = 0.6744897501960817;

/** Output length of one pywt dwt level with a filter of length 4. */
export function dwtLength(n: number): number {
  return Math.floor((n + 3) / 2);
}

/**
 * The terms of one level of pywt's downsampling convolution in 'symmetric' mode (step 2):
 * output o = sum over the extended input of f[q] x[2o+1-q], listed as (filter index,
 * input index) pairs in pywt's order of summation, term for term
 * (pywt/_extensions/c/convolution.c.src, downsampling_convolution). Summing in this order
 * makes near-cancelling sums round the same way, so the "exactly zero" coefficients
 * scikit-image drops are the same ones. Every output has exactly `nf` terms.
 */
function symmetricPlan(n: number, nf: number): { filter: Int32Array; input: Int32Array } {
  const count = Math.floor((n + nf - 1) / 2);
  const filter = new Int32Array(count * nf);
  const input = new Int32Array(count * nf);
  let t = 0;
  const term = (q: number, k: number): void => {
    filter[t] = q;
    input[t] = k;
    t++;
  };
  let i = 1;
  // left boundary overhang
  for (; i < nf && i < n; i += 2) {
    let j = 0;
    for (; j <= i; j++) term(j, i - j);
    while (j < nf) {
      for (let k = 0; k < n && j < nf; j++, k++) term(j, k);
      for (let k = 0; k < n && j < nf; k++, j++) term(j, n - 1 - k);
    }
  }
  // centre, input at least as long as the filter
  for (; i < n; i += 2) for (let j = 0; j < nf; j++) term(j, i - j);
  // centre, filter longer than the input
  for (; i < nf; i += 2) {
    let j = 0;
    while (i - j >= n) {
      for (let k = 0; k < n && i - j >= n; j++, k++) term(i - n - j, n - 1 - k);
      for (let k = 0; k < n && i - j >= n; j++, k++) term(i - n - j, k);
    }
    for (; j <= i; j++) term(j, i - j);
    while (j < nf) {
      for (let k = 0; k < n && j < nf; j++, k++) term(j, k);
      for (let k = 0; k < n && j < nf; k++, j++) term(j, n - 1 - k);
    }
  }
  // right boundary overhang
  for (; i < n + nf - 1; i += 2) {
    let j = 0;
    while (i - j >= n) {
      for (let k = 0; k < n && i - j >= n; j++, k++) term(i - n - j, n - 1 - k);
      for (let k = 0; k < n && i - j >= n; j++, k++) term(i - n - j, k);
    }
    for (; j < nf; j++) term(j, i - j);
  }
  return { filter, input };
}

/**
 * The finest diagonal ('dd') coefficients of a one-level 2-D db2 DWT of a
 * height x width plane, computed like pywt.dwtn (axis 0, then axis 1), row-major. The
 * plane is read from `src` at offset + (y * width + x) * stride, so one channel of an
 * interleaved image needs no copy. `bad` (one flag per pixel) marks samples that count
 * as 0 in the sums; the result flags every coefficient whose support holds one.
 */
export function diagonalDetail(
  src: Float32Array,
  width: number,
  height: number,
  stride = 1,
  offset = 0,
  bad?: Uint8Array,
): { coeffs: Float64Array; bad: Uint8Array | undefined; width: number; height: number } {
  const f = DB2_DEC_HI;
  const lw = dwtLength(width);
  const lh = dwtLength(height);
  const rows = symmetricPlan(height, 4);
  const cols = symmetricPlan(width, 4);
  const coeffs = new Float64Array(lh * lw);
  const outBad = bad ? new Uint8Array(lh * lw) : undefined;
  // one output row of the axis-0 pass at a time, then straight through the axis-1 pass
  const tmp = new Float64Array(width);
  const tmpBad = bad ? new Uint8Array(width) : undefined;
  const rowStep = width * stride;
  for (let o = 0; o < lh; o++) {
    const t = o * 4;
    const f0 = f[rows.filter[t]];
    const f1 = f[rows.filter[t + 1]];
    const f2 = f[rows.filter[t + 2]];
    const f3 = f[rows.filter[t + 3]];
    let i0 = offset + rows.input[t] * rowStep;
    let i1 = offset + rows.input[t + 1] * rowStep;
    let i2 = offset + rows.input[t + 2] * rowStep;
    let i3 = offset + rows.input[t + 3] * rowStep;
    for (let x = 0; x < width; x++, i0 += stride, i1 += stride, i2 += stride, i3 += stride) {
      tmp[x] = f0 * src[i0] + f1 * src[i1] + f2 * src[i2] + f3 * src[i3];
    }
    if (bad && tmpBad) {
      const b0 = rows.input[t] * width;
      const b1 = rows.input[t + 1] * width;
      const b2 = rows.input[t + 2] * width;
      const b3 = rows.input[t + 3] * width;
      for (let x = 0; x < width; x++) tmpBad[x] = bad[b0 + x] | bad[b1 + x] | bad[b2 + x] | bad[b3 + x];
    }
    const out = o * lw;
    for (let ox = 0, u = 0; ox < lw; ox++, u += 4) {
      coeffs[out + ox] =
        f[cols.filter[u]] * tmp[cols.input[u]] +
        f[cols.filter[u + 1]] * tmp[cols.input[u + 1]] +
        f[cols.filter[u + 2]] * tmp[cols.input[u + 2]] +
        f[cols.filter[u + 3]] * tmp[cols.input[u + 3]];
      if (tmpBad && outBad) {
        outBad[out + ox] = tmpBad[cols.input[u]] | tmpBad[cols.input[u + 1]] | tmpBad[cols.input[u + 2]] | tmpBad[cols.input[u + 3]];
      }
    }
  }
  return { coeffs, bad: outBad, width: lw, height: lh };
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
    let bad: Uint8Array | undefined;
    for (let p = 0, i = c; p < pixels; p++, i += channels) {
      if ((mask && mask[i]) || !Number.isFinite(data[i])) {
        bad ??= new Uint8Array(pixels);
        bad[p] = 1;
      }
    }
    let dd: ReturnType<typeof diagonalDetail>;
    if (bad) {
      // a copy of the channel with the left-out samples set to 0, so they add nothing
      const plane = new Float32Array(pixels);
      for (let p = 0, i = c; p < pixels; p++, i += channels) if (!bad[p]) plane[p] = data[i];
      dd = diagonalDetail(plane, width, height, 1, 0, bad);
    } else {
      dd = diagonalDetail(data, width, height, channels, c);
    }
    const abs = dd.coeffs;
    let n = 0;
    for (let i = 0; i < abs.length; i++) {
      const v = Math.abs(abs[i]);
      if (v !== 0 && !(dd.bad && dd.bad[i])) abs[n++] = v;
    }
    sigmas.push(n === 0 ? 0 : medianInPlace(abs, n) / MAD_TO_SIGMA);
  }
  return sigmas;
}
