/**
 * The 2-D discrete wavelet transform (Mallat's fast algorithm, "A theory for
 * multiresolution signal decomposition", IEEE PAMI 11(7), 1989) with Daubechies'
 * orthogonal filters ("Ten Lectures on Wavelets", 1992): haar, db1..db8, sym2..sym8.
 * It reproduces PyWavelets 1.1.1 (`dwt2`/`idwt2`, `wavedec2`/`waverec2`, `wavedecn`
 * /`waverecn` on 2-D data) in its 'symmetric' and 'periodization' signal extension
 * modes: the same coefficient layout and sizes, and the same order of summation
 * inside every convolution (pywt/_extensions/c/convolution.c.src), so coefficients
 * agree with pywt's bit for bit and "exactly zero" means the same thing in both,
 * which scikit-image's noise estimate relies on.
 *
 * Each axis is filtered with a precomputed plan: for every output sample, the list
 * of (filter tap, input index) pairs in pywt's order. Along axis 0 a plan row is
 * applied to whole image rows at once, which keeps memory access sequential.
 */
import { invalidParameter } from '../core/errors.js';
import { checkNumber, checkOneOf } from '../core/validate.js';

export const WAVELETS = [
  'haar',
  'db1',
  'db2',
  'db3',
  'db4',
  'db5',
  'db6',
  'db7',
  'db8',
  'sym2',
  'sym3',
  'sym4',
  'sym5',
  'sym6',
  'sym7',
  'sym8',
] as const;
export type Wavelet = (typeof WAVELETS)[number];

/** PyWavelets' names: 'symmetric' is half-sample symmetric extension (`d c b a | a b c d | d c b a`), 'periodization' the periodic transform with ceil(n/2) outputs. */
export const WAVELET_MODES = ['symmetric', 'periodization'] as const;
export type WaveletMode = (typeof WAVELET_MODES)[number];

/** Reconstruction low-pass filters, pywt.Wavelet(name).rec_lo (PyWavelets 1.1.1); the other three follow by reversal and sign. */
const REC_LO: Record<Exclude<Wavelet, 'haar'>, readonly number[]> = {
  db1: [0.7071067811865476, 0.7071067811865476],
  db2: [0.48296291314453416, 0.8365163037378079, 0.2241438680420134, -0.12940952255126037],
  db3: [0.33267055295008263, 0.8068915093110925, 0.45987750211849154, -0.13501102001025458, -0.08544127388202666, 0.03522629188570953],
  db4: [
    0.2303778133088965, 0.7148465705529157, 0.6308807679298589, -0.027983769416859854, -0.18703481171909309, 0.030841381835560764,
    0.0328830116668852, -0.010597401785069032,
  ],
  db5: [
    0.16010239797419293, 0.6038292697971896, 0.7243085284377729, 0.13842814590132074, -0.24229488706638203, -0.032244869584638375,
    0.07757149384004572, -0.006241490212798274, -0.012580751999081999, 0.0033357252854737712,
  ],
  db6: [
    0.11154074335010947, 0.49462389039845306, 0.7511339080210954, 0.31525035170919763, -0.22626469396543983, -0.12976686756726194,
    0.09750160558732304, 0.027522865530305727, -0.03158203931748603, 0.0005538422011614961, 0.004777257510945511,
    -0.0010773010853084796,
  ],
  db7: [
    0.07785205408500918, 0.3965393194819173, 0.7291320908462351, 0.4697822874051931, -0.14390600392856498, -0.22403618499387498,
    0.07130921926683026, 0.08061260915108308, -0.03802993693501441, -0.01657454163066688, 0.01255099855609984,
    0.0004295779729213665, -0.0018016407040474908, 0.00035371379997452024,
  ],
  db8: [
    0.05441584224310401, 0.31287159091429995, 0.6756307362972898, 0.5853546836542067, -0.015829105256349306, -0.2840155429615469,
    0.0004724845739132828, 0.12874742662047847, -0.017369301001807547, -0.044088253930794755, 0.013981027917398282,
    0.008746094047405777, -0.004870352993451574, -0.00039174037337694705, 0.0006754494064505693, -0.00011747678412476953,
  ],
  sym2: [0.48296291314469025, 0.836516303737469, 0.22414386804185735, -0.12940952255092145],
  sym3: [0.3326705529509569, 0.8068915093133388, 0.4598775021193313, -0.13501102001039084, -0.08544127388224149, 0.035226291882100656],
  sym4: [
    0.0322231006040427, -0.012603967262037833, -0.09921954357684722, 0.29785779560527736, 0.8037387518059161, 0.49761866763201545,
    -0.02963552764599851, -0.07576571478927333,
  ],
  sym5: [
    0.019538882735286728, -0.021101834024758855, -0.17532808990845047, 0.01660210576452232, 0.6339789634582119, 0.7234076904024206,
    0.1993975339773936, -0.039134249302383094, 0.029519490925774643, 0.027333068345077982,
  ],
  sym6: [
    -0.007800708325034148, 0.0017677118642428036, 0.04472490177066578, -0.021060292512300564, -0.07263752278646252,
    0.3379294217276218, 0.787641141030194, 0.4910559419267466, -0.048311742585633, -0.11799011114819057, 0.0034907120842174702,
    0.015404109327027373,
  ],
  sym7: [
    0.010268176708511255, 0.004010244871533663, -0.10780823770381774, -0.14004724044296152, 0.2886296317515146, 0.767764317003164,
    0.5361019170917628, 0.017441255086855827, -0.049552834937127255, 0.0678926935013727, 0.03051551316596357,
    -0.01263630340325193, -0.0010473848886829163, 0.002681814568257878,
  ],
  sym8: [
    0.0018899503327594609, -0.0003029205147213668, -0.01495225833704823, 0.003808752013890615, 0.049137179673607506,
    -0.027219029917056003, -0.05194583810770904, 0.3644418948353314, 0.7771857517005235, 0.4813596512583722,
    -0.061273359067658524, -0.1432942383508097, 0.007607487324917605, 0.03169508781149298, -0.0005421323317911481,
    -0.0033824159510061256,
  ],
};

export interface FilterBank {
  readonly name: Wavelet;
  /** number of taps, pywt's dec_len = rec_len */
  readonly length: number;
  readonly decLo: Float64Array;
  readonly decHi: Float64Array;
  readonly recLo: Float64Array;
  readonly recHi: Float64Array;
}

const banks = new Map<Wavelet, FilterBank>();

/** The four filters of a wavelet, exactly pywt.Wavelet(name).{dec_lo, dec_hi, rec_lo, rec_hi}. */
export function waveletFilters(name: Wavelet): FilterBank {
  const w = checkOneOf('waveletFilters', 'name', name, WAVELETS);
  let bank = banks.get(w);
  if (!bank) {
    const h = REC_LO[w === 'haar' ? 'db1' : w];
    const L = h.length;
    // pywt/_extensions/c/wavelets.c: rec_lo = h, dec_lo = reversed h, rec_hi[i] = (-1)^i h[L-1-i], dec_hi[i] = (-1)^(L-1-i) h[i]
    bank = {
      name: w,
      length: L,
      recLo: Float64Array.from(h),
      decLo: Float64Array.from(h, (_, i) => h[L - 1 - i]),
      recHi: Float64Array.from(h, (_, i) => (i % 2 ? -1 : 1) * h[L - 1 - i]),
      decHi: Float64Array.from(h, (_, i) => ((L - 1 - i) % 2 ? -1 : 1) * h[i]),
    };
    banks.set(w, bank);
  }
  return bank;
}

/** A 2-D float64 array, row-major (height rows of width samples). */
export interface Plane {
  data: Float64Array;
  width: number;
  height: number;
}

/** Coefficients of one level, named like pywt.dwt2: horizontal = 'da' (detail along axis 0), vertical = 'ad', diagonal = 'dd'. */
export interface DetailBands {
  horizontal: Plane;
  vertical: Plane;
  diagonal: Plane;
}

export interface Dwt2Result extends DetailBands {
  approximation: Plane;
}

/** Like pywt.wavedec2's [cAn, (cHn, cVn, cDn), ..., (cH1, cV1, cD1)]: details[0] is the coarsest level, the last the finest. */
export interface Wavedec2Result {
  approximation: Plane;
  details: DetailBands[];
}

export interface WaveletTransformOptions {
  /** default 'db1' */
  wavelet?: Wavelet;
  /** default 'symmetric', as in pywt */
  mode?: WaveletMode;
}

export interface Wavedec2Options extends WaveletTransformOptions {
  /** decomposition levels (default: dwtMaxLevel over both axes, as pywt); more than that is allowed, as in pywt */
  level?: number;
}

/** Most levels pywt allows explicitly; deeper than the image supports only pads (pywt warns there). */
export const MAX_WAVELET_LEVEL = 30;

/** Coefficients per axis after one level, pywt.dwt_coeff_len. */
export function dwtLength(n: number, filterLength: number, mode: WaveletMode): number {
  return mode === 'periodization' ? Math.ceil(n / 2) : Math.floor((n + filterLength - 1) / 2);
}

/** Samples per axis after one inverse level, pywt's idwt_buffer_length (one more than the original for odd sizes). */
export function idwtLength(n: number, filterLength: number, mode: WaveletMode): number {
  return mode === 'periodization' ? 2 * n : 2 * n - filterLength + 2;
}

/** pywt.dwt_max_level: floor(log2(n / (filterLength - 1))), 0 when n < filterLength - 1. */
export function dwtMaxLevel(n: number, filterLength: number): number {
  if (filterLength < 2 || n < filterLength - 1) return 0;
  let q = Math.floor(n / (filterLength - 1));
  let level = 0;
  while (q > 1) {
    q = Math.floor(q / 2);
    level++;
  }
  return level;
}

/** pywt.dwtn_max_level for a width x height plane. */
export function dwt2MaxLevel(width: number, height: number, wavelet: Wavelet): number {
  const L = waveletFilters(wavelet).length;
  return Math.min(dwtMaxLevel(width, L), dwtMaxLevel(height, L));
}

/**
 * The terms of one axis of a one-level transform: for output o, pairs (filter tap,
 * input index) in the order pywt sums them. Outputs in [centreStart, centreEnd)
 * take the plain form taps 0..F-1 on inputs i-0..i-(F-1), i = centreOffset + 2o,
 * and are computed without a table.
 */
export interface AxisPlan {
  n: number;
  outputs: number;
  centreStart: number;
  centreEnd: number;
  centreOffset: number;
  /** flattened [tap, index, tap, index, ...] for outputs outside the centre (undefined inside) */
  terms: (Int32Array | undefined)[];
}

const plans = new Map<string, AxisPlan>();

function collect(): { push: (j: number, k: number) => void; done: () => Int32Array } {
  const t: number[] = [];
  return { push: (j, k) => t.push(j, k), done: () => Int32Array.from(t) };
}

/** pywt's downsampling_convolution with step 2, mode 'symmetric', recorded instead of summed. */
function planSymmetric(N: number, F: number): AxisPlan {
  const outputs = dwtLength(N, F, 'symmetric');
  const terms: (Int32Array | undefined)[] = new Array(outputs).fill(undefined);
  let i = 1;
  let o = 0;
  // left boundary overhang
  for (; i < F && i < N; i += 2, o++) {
    const c = collect();
    let j = 0;
    for (; j <= i; j++) c.push(j, i - j);
    while (j < F) {
      for (let k = 0; k < N && j < F; j++, k++) c.push(j, k);
      for (let k = 0; k < N && j < F; k++, j++) c.push(j, N - 1 - k);
    }
    terms[o] = c.done();
  }
  const centreStart = o;
  for (; i < N; i += 2, o++);
  const centreEnd = o;
  // centre, filter wider than the input
  for (; i < F; i += 2, o++) {
    const c = collect();
    let j = 0;
    while (i - j >= N) {
      for (let k = 0; k < N && i - j >= N; j++, k++) c.push(i - N - j, N - 1 - k);
      for (let k = 0; k < N && i - j >= N; j++, k++) c.push(i - N - j, k);
    }
    for (; j <= i; j++) c.push(j, i - j);
    while (j < F) {
      for (let k = 0; k < N && j < F; j++, k++) c.push(j, k);
      for (let k = 0; k < N && j < F; k++, j++) c.push(j, N - 1 - k);
    }
    terms[o] = c.done();
  }
  // right boundary overhang
  for (; i < N + F - 1; i += 2, o++) {
    const c = collect();
    let j = 0;
    while (i - j >= N) {
      for (let k = 0; k < N && i - j >= N; j++, k++) c.push(i - N - j, N - 1 - k);
      for (let k = 0; k < N && i - j >= N; j++, k++) c.push(i - N - j, k);
    }
    for (; j < F; j++) c.push(j, i - j);
    terms[o] = c.done();
  }
  if (o !== outputs) throw new Error(`wavelet-transform: symmetric plan made ${o} outputs, expected ${outputs}`);
  return { n: N, outputs, centreStart, centreEnd, centreOffset: 1, terms };
}

/** pywt's downsampling_convolution_periodization with step 2, recorded instead of summed. */
function planPeriodization(N: number, F: number): AxisPlan {
  const outputs = dwtLength(N, F, 'periodization');
  const terms: (Int32Array | undefined)[] = new Array(outputs).fill(undefined);
  const padding = (2 - (N % 2)) % 2;
  let i = F / 2;
  let o = 0;
  for (; i < F && i < N; i += 2, o++) {
    const c = collect();
    let j = 0;
    for (; j <= i; j++) c.push(j, i - j);
    while (j < F) {
      for (let k = 0; k < padding && j < F; k++, j++) c.push(j, N - 1);
      for (let k = 0; k < N && j < F; k++, j++) c.push(j, N - 1 - k);
    }
    terms[o] = c.done();
  }
  const centreStart = o;
  for (; i < N; i += 2, o++);
  const centreEnd = o;
  for (; i < F && i < N + F / 2; i += 2, o++) {
    const c = collect();
    let j = 0;
    while (i - j >= N) {
      for (let k = 0; k < padding && i - j >= N; k++, j++) c.push(i - N - j, N - 1);
      for (let k = 0; k < N && i - j >= N; k++, j++) c.push(i - N - j, k);
    }
    for (; j <= i; j++) c.push(j, i - j);
    while (j < F) {
      for (let k = 0; k < padding && j < F; k++, j++) c.push(j, N - 1);
      for (let k = 0; k < N && j < F; k++, j++) c.push(j, N - 1 - k);
    }
    terms[o] = c.done();
  }
  for (; i < N + F / 2; i += 2, o++) {
    const c = collect();
    let j = 0;
    while (i - j >= N) {
      for (let k = 0; k < padding && i - j >= N; k++, j++) c.push(i - N - j, N - 1);
      for (let k = 0; k < N && i - j >= N; k++, j++) c.push(i - N - j, k);
    }
    for (; j < F; j++) c.push(j, i - j);
    terms[o] = c.done();
  }
  if (o !== outputs) throw new Error(`wavelet-transform: periodization plan made ${o} outputs, expected ${outputs}`);
  return { n: N, outputs, centreStart, centreEnd, centreOffset: F / 2, terms };
}

/** The plan of one axis of a one-level analysis (cached per size, filter length and mode); wavelet.ts's SIMD path uses it too. */
export function analysisPlan(n: number, F: number, mode: WaveletMode): AxisPlan {
  const key = `a${mode}:${n}:${F}`;
  let p = plans.get(key);
  if (!p) {
    p = mode === 'periodization' ? planPeriodization(n, F) : planSymmetric(n, F);
    if (plans.size > 256) plans.clear();
    plans.set(key, p);
  }
  return p;
}

/**
 * pywt's upsampling_convolution_valid_sf_periodization for N coefficients, recorded:
 * per output, pairs (tap, coefficient index). In that mode idwt adds every term of the
 * approximation and then every term of the detail into the same output sample.
 */
function synthesisPlanPeriodization(N: number, F: number): Int32Array[] {
  const key = `sp:${N}:${F}`;
  const cached = synthesisPlans.get(key);
  if (cached) return cached;
  const lists: number[][] = Array.from({ length: 2 * N }, () => []);
  const half = F / 2;
  const start = Math.floor(F / 4);
  let i = start;
  const end = N + start - (half % 2 ? 0 : 1);
  let o = 0;
  // taps are recorded as their even index 2j; the odd output uses 2j+1
  const push = (out: number, j2: number, k: number): void => {
    lists[out].push(j2, k);
  };
  if (half % 2 === 0) {
    let j = 0;
    while (j <= start - 1) {
      for (let k = 0; k < N && j <= start - 1; k++, j++) {
        push(2 * N - 1, 2 * (start - 1 - j), k);
        push(0, 2 * (start - 1 - j) + 1, k);
      }
    }
    for (; j <= N + start - 1 && j < half; j++) {
      push(2 * N - 1, 2 * j, N + start - 1 - j);
      push(0, 2 * j + 1, N + start - 1 - j);
    }
    while (j < half) {
      for (let k = 0; k < N && j < half; k++, j++) {
        push(2 * N - 1, 2 * j, N - 1 - k);
        push(0, 2 * j + 1, N - 1 - k);
      }
    }
    o += 1;
  }
  for (; i < half && i < N; i++, o += 2) {
    let j = 0;
    for (; j <= i; j++) {
      push(o, 2 * j, i - j);
      push(o + 1, 2 * j + 1, i - j);
    }
    while (j < half) {
      for (let k = 0; k < N && j < half; k++, j++) {
        push(o, 2 * j, N - 1 - k);
        push(o + 1, 2 * j + 1, N - 1 - k);
      }
    }
  }
  for (; i < N; i++, o += 2) {
    for (let j = 0; j < half; j++) {
      push(o, 2 * j, i - j);
      push(o + 1, 2 * j + 1, i - j);
    }
  }
  for (; i < half && i < end; i++, o += 2) {
    let j = 0;
    while (i - j >= N) {
      for (let k = 0; k < N && i - j >= N; k++, j++) {
        push(o, 2 * (i - N - j), k);
        push(o + 1, 2 * (i - N - j) + 1, k);
      }
    }
    for (; j <= i && j < half; j++) {
      push(o, 2 * j, i - j);
      push(o + 1, 2 * j + 1, i - j);
    }
    while (j < half) {
      for (let k = 0; k < N && j < half; k++, j++) {
        push(o, 2 * j, N - 1 - k);
        push(o + 1, 2 * j + 1, N - 1 - k);
      }
    }
  }
  for (; i < end; i++, o += 2) {
    let j = 0;
    while (i - j >= N) {
      for (let k = 0; k < N && i - j >= N; k++, j++) {
        push(o, 2 * (i - N - j), k);
        push(o + 1, 2 * (i - N - j) + 1, k);
      }
    }
    for (; j <= i && j < half; j++) {
      push(o, 2 * j, i - j);
      push(o + 1, 2 * j + 1, i - j);
    }
  }
  const result = lists.map((l) => Int32Array.from(l));
  if (synthesisPlans.size > 256) synthesisPlans.clear();
  synthesisPlans.set(key, result);
  return result;
}

const synthesisPlans = new Map<string, Int32Array[]>();

/*
 * The kernels below keep, for every output sample, pywt's order of summation; they are
 * unrolled across neighbouring outputs (never across the terms of one sum), which makes
 * them about twice as fast in V8 without changing a bit of the result.
 */

/** One analysis level along axis 1 (each row): src is rows x n, lo/hi are rows x plan.outputs. */
function analyseRows(src: Float64Array, rows: number, plan: AxisPlan, fLo: Float64Array, fHi: Float64Array, lo: Float64Array, hi: Float64Array): void {
  const { n, outputs, centreStart, centreEnd, centreOffset, terms } = plan;
  const F = fLo.length;
  for (let r = 0; r < rows; r++) {
    const s = r * n;
    const d = r * outputs;
    for (let o = 0; o < centreStart; o++) rowTerms(src, s, terms[o] as Int32Array, fLo, fHi, lo, hi, d + o);
    let o = centreStart;
    let i = s + centreOffset + 2 * centreStart;
    for (; o + 1 < centreEnd; o += 2, i += 4) {
      let a0 = 0;
      let b0 = 0;
      let a1 = 0;
      let b1 = 0;
      for (let j = 0; j < F; j++) {
        const v0 = src[i - j];
        const v1 = src[i + 2 - j];
        const c = fLo[j];
        const h = fHi[j];
        a0 += v0 * c;
        b0 += v0 * h;
        a1 += v1 * c;
        b1 += v1 * h;
      }
      lo[d + o] = a0;
      hi[d + o] = b0;
      lo[d + o + 1] = a1;
      hi[d + o + 1] = b1;
    }
    for (; o < centreEnd; o++, i += 2) {
      let a = 0;
      let b = 0;
      for (let j = 0; j < F; j++) {
        const v = src[i - j];
        a += v * fLo[j];
        b += v * fHi[j];
      }
      lo[d + o] = a;
      hi[d + o] = b;
    }
    for (let o = centreEnd; o < outputs; o++) rowTerms(src, s, terms[o] as Int32Array, fLo, fHi, lo, hi, d + o);
  }
}

function rowTerms(src: Float64Array, s: number, t: Int32Array, fLo: Float64Array, fHi: Float64Array, lo: Float64Array, hi: Float64Array, at: number): void {
  let a = 0;
  let b = 0;
  for (let q = 0; q < t.length; q += 2) {
    const v = src[s + t[q + 1]];
    a += fLo[t[q]] * v;
    b += fHi[t[q]] * v;
  }
  lo[at] = a;
  hi[at] = b;
}

/** One analysis level along axis 0 (down the columns): src is n x width, lo/hi are plan.outputs x width. */
function analyseColumns(src: Float64Array, width: number, plan: AxisPlan, fLo: Float64Array, fHi: Float64Array, lo: Float64Array, hi: Float64Array): void {
  const { outputs, centreStart, centreEnd, centreOffset, terms } = plan;
  const F = fLo.length;
  // every output sums exactly F terms (one per tap), in both modes
  const offs = new Int32Array(F);
  const cl = new Float64Array(F);
  const ch = new Float64Array(F);
  for (let o = 0; o < outputs; o++) {
    const t = o >= centreStart && o < centreEnd ? undefined : (terms[o] as Int32Array);
    for (let q = 0; q < F; q++) {
      const tap = t ? t[2 * q] : q;
      offs[q] = (t ? t[2 * q + 1] : centreOffset + 2 * o - q) * width;
      cl[q] = fLo[tap];
      ch[q] = fHi[tap];
    }
    const d = o * width;
    let x = 0;
    for (; x + 3 < width; x += 4) {
      let a0 = 0;
      let a1 = 0;
      let a2 = 0;
      let a3 = 0;
      let b0 = 0;
      let b1 = 0;
      let b2 = 0;
      let b3 = 0;
      for (let q = 0; q < F; q++) {
        const k = offs[q] + x;
        const v0 = src[k];
        const v1 = src[k + 1];
        const v2 = src[k + 2];
        const v3 = src[k + 3];
        const c = cl[q];
        const h = ch[q];
        a0 += c * v0;
        a1 += c * v1;
        a2 += c * v2;
        a3 += c * v3;
        b0 += h * v0;
        b1 += h * v1;
        b2 += h * v2;
        b3 += h * v3;
      }
      lo[d + x] = a0;
      lo[d + x + 1] = a1;
      lo[d + x + 2] = a2;
      lo[d + x + 3] = a3;
      hi[d + x] = b0;
      hi[d + x + 1] = b1;
      hi[d + x + 2] = b2;
      hi[d + x + 3] = b3;
    }
    for (; x < width; x++) {
      let a = 0;
      let b = 0;
      for (let q = 0; q < F; q++) {
        const v = src[offs[q] + x];
        a += cl[q] * v;
        b += ch[q] * v;
      }
      lo[d + x] = a;
      hi[d + x] = b;
    }
  }
}

/** The even and odd taps of the reconstruction filters, apart: pywt's idwt splits them the same way. */
function splitTaps(bank: FilterBank): { le: Float64Array; lo: Float64Array; he: Float64Array; ho: Float64Array } {
  const half = bank.length / 2;
  const f = (src: Float64Array, odd: number): Float64Array => Float64Array.from({ length: half }, (_, j) => src[2 * j + odd]);
  return { le: f(bank.recLo, 0), lo: f(bank.recLo, 1), he: f(bank.recHi, 0), ho: f(bank.recHi, 1) };
}

/**
 * One synthesis level along axis 1: rows x n coefficients (lo, hi) into rows x idwtLength.
 * 'symmetric' sums the approximation's and the detail's terms apart and adds the two
 * sums; 'periodization' accumulates both into the output, as pywt does.
 */
function synthesiseRows(lo: Float64Array, hi: Float64Array, rows: number, n: number, bank: FilterBank, mode: WaveletMode, out: Float64Array): void {
  const F = bank.length;
  const half = F / 2;
  const outN = idwtLength(n, F, mode);
  if (mode === 'symmetric') {
    const { le, lo: lodd, he, ho } = splitTaps(bank);
    for (let r = 0; r < rows; r++) {
      const s = r * n;
      let o = r * outN;
      let i = s + half - 1;
      for (; i + 1 < s + n; i += 2, o += 4) {
        let ae0 = 0;
        let ao0 = 0;
        let de0 = 0;
        let do0 = 0;
        let ae1 = 0;
        let ao1 = 0;
        let de1 = 0;
        let do1 = 0;
        for (let j = 0; j < half; j++) {
          const a0 = lo[i - j];
          const d0 = hi[i - j];
          const a1 = lo[i + 1 - j];
          const d1 = hi[i + 1 - j];
          const ce = le[j];
          const co = lodd[j];
          const he_ = he[j];
          const ho_ = ho[j];
          ae0 += ce * a0;
          ao0 += co * a0;
          de0 += he_ * d0;
          do0 += ho_ * d0;
          ae1 += ce * a1;
          ao1 += co * a1;
          de1 += he_ * d1;
          do1 += ho_ * d1;
        }
        out[o] = ae0 + de0;
        out[o + 1] = ao0 + do0;
        out[o + 2] = ae1 + de1;
        out[o + 3] = ao1 + do1;
      }
      for (; i < s + n; i++, o += 2) {
        let ae = 0;
        let ao = 0;
        let de = 0;
        let dd = 0;
        for (let j = 0; j < half; j++) {
          const a = lo[i - j];
          const d = hi[i - j];
          ae += le[j] * a;
          ao += lodd[j] * a;
          de += he[j] * d;
          dd += ho[j] * d;
        }
        out[o] = ae + de;
        out[o + 1] = ao + dd;
      }
    }
    return;
  }
  const { recLo, recHi } = bank;
  const plan = synthesisPlanPeriodization(n, F);
  for (let r = 0; r < rows; r++) {
    const s = r * n;
    const d = r * outN;
    for (let o = 0; o < outN; o++) {
      const t = plan[o];
      let sum = 0;
      for (let q = 0; q < t.length; q += 2) sum += recLo[t[q]] * lo[s + t[q + 1]];
      for (let q = 0; q < t.length; q += 2) sum += recHi[t[q]] * hi[s + t[q + 1]];
      out[d + o] = sum;
    }
  }
}

/** One synthesis level along axis 0: n x width coefficients into idwtLength x width. */
function synthesiseColumns(lo: Float64Array, hi: Float64Array, n: number, width: number, bank: FilterBank, mode: WaveletMode, out: Float64Array): void {
  const F = bank.length;
  const half = F / 2;
  if (mode === 'symmetric') {
    const { le, lo: lodd, he, ho } = splitTaps(bank);
    for (let i = half - 1, o = 0; i < n; i++, o += 2) {
      const e = o * width;
      const f = e + width;
      const base = i * width;
      let x = 0;
      for (; x + 1 < width; x += 2) {
        let ae0 = 0;
        let ao0 = 0;
        let de0 = 0;
        let do0 = 0;
        let ae1 = 0;
        let ao1 = 0;
        let de1 = 0;
        let do1 = 0;
        for (let j = 0, k = base + x; j < half; j++, k -= width) {
          const a0 = lo[k];
          const a1 = lo[k + 1];
          const d0 = hi[k];
          const d1 = hi[k + 1];
          const ce = le[j];
          const co = lodd[j];
          const he_ = he[j];
          const ho_ = ho[j];
          ae0 += ce * a0;
          ao0 += co * a0;
          de0 += he_ * d0;
          do0 += ho_ * d0;
          ae1 += ce * a1;
          ao1 += co * a1;
          de1 += he_ * d1;
          do1 += ho_ * d1;
        }
        out[e + x] = ae0 + de0;
        out[f + x] = ao0 + do0;
        out[e + x + 1] = ae1 + de1;
        out[f + x + 1] = ao1 + do1;
      }
      for (; x < width; x++) {
        let ae = 0;
        let ao = 0;
        let de = 0;
        let dd = 0;
        for (let j = 0, k = base + x; j < half; j++, k -= width) {
          const a = lo[k];
          const d = hi[k];
          ae += le[j] * a;
          ao += lodd[j] * a;
          de += he[j] * d;
          dd += ho[j] * d;
        }
        out[e + x] = ae + de;
        out[f + x] = ao + dd;
      }
    }
    return;
  }
  const { recLo, recHi } = bank;
  const plan = synthesisPlanPeriodization(n, F);
  for (let o = 0; o < plan.length; o++) {
    const t = plan[o];
    const d = o * width;
    for (let q = 0; q < t.length; q += 2) {
      const c = recLo[t[q]];
      const s = t[q + 1] * width;
      for (let x = 0; x < width; x++) out[d + x] += c * lo[s + x];
    }
    for (let q = 0; q < t.length; q += 2) {
      const c = recHi[t[q]];
      const s = t[q + 1] * width;
      for (let x = 0; x < width; x++) out[d + x] += c * hi[s + x];
    }
  }
}

function resolveTransform(fn: string, options: WaveletTransformOptions | undefined): { bank: FilterBank; mode: WaveletMode } {
  const o = options ?? {};
  const wavelet = checkOneOf(fn, 'options.wavelet', o.wavelet ?? 'db1', WAVELETS);
  const mode = checkOneOf(fn, 'options.mode', o.mode ?? 'symmetric', WAVELET_MODES);
  return { bank: waveletFilters(wavelet), mode };
}

function checkPlane(fn: string, plane: unknown, param: string): Plane {
  const p = plane as Partial<Plane> | null;
  if (p === null || typeof p !== 'object') throw invalidParameter(fn, param, 'a plane { data: Float64Array, width, height }', plane);
  if (!Number.isInteger(p.width) || (p.width as number) < 1) throw invalidParameter(fn, `${param}.width`, 'a positive integer', p.width);
  if (!Number.isInteger(p.height) || (p.height as number) < 1) throw invalidParameter(fn, `${param}.height`, 'a positive integer', p.height);
  const n = (p.width as number) * (p.height as number);
  if (!(p.data instanceof Float64Array) || p.data.length !== n) throw invalidParameter(fn, `${param}.data`, `a Float64Array of length ${n} (width x height)`, p.data);
  return p as Plane;
}

function dwt2Unchecked(plane: Plane, bank: FilterBank, mode: WaveletMode): Dwt2Result {
  const { width: W, height: H, data } = plane;
  const F = bank.length;
  const rowsPlan = analysisPlan(H, F, mode);
  const h2 = rowsPlan.outputs;
  // axis 0 first, then axis 1, as pywt.dwtn
  const a = new Float64Array(h2 * W);
  const d = new Float64Array(h2 * W);
  analyseColumns(data, W, rowsPlan, bank.decLo, bank.decHi, a, d);
  const colsPlan = analysisPlan(W, F, mode);
  const w2 = colsPlan.outputs;
  const aa = new Float64Array(h2 * w2);
  const ad = new Float64Array(h2 * w2);
  const da = new Float64Array(h2 * w2);
  const dd = new Float64Array(h2 * w2);
  analyseRows(a, h2, colsPlan, bank.decLo, bank.decHi, aa, ad);
  analyseRows(d, h2, colsPlan, bank.decLo, bank.decHi, da, dd);
  const p = (x: Float64Array): Plane => ({ data: x, width: w2, height: h2 });
  return { approximation: p(aa), horizontal: p(da), vertical: p(ad), diagonal: p(dd) };
}

function idwt2Unchecked(c: Dwt2Result, bank: FilterBank, mode: WaveletMode): Plane {
  const { width: w, height: h } = c.approximation;
  const F = bank.length;
  const W = idwtLength(w, F, mode);
  const H = idwtLength(h, F, mode);
  // axis 1 first, then axis 0: pywt.idwtn walks the axes in reverse
  const a = new Float64Array(h * W);
  const d = new Float64Array(h * W);
  synthesiseRows(c.approximation.data, c.vertical.data, h, w, bank, mode, a);
  synthesiseRows(c.horizontal.data, c.diagonal.data, h, w, bank, mode, d);
  const out = new Float64Array(H * W);
  synthesiseColumns(a, d, h, W, bank, mode, out);
  return { data: out, width: W, height: H };
}

/** pywt.dwt2(data, wavelet, mode): one level; each band has dwtLength samples per axis. */
export function dwt2(plane: Plane, options?: WaveletTransformOptions): Dwt2Result {
  const p = checkPlane('dwt2', plane, 'plane');
  const { bank, mode } = resolveTransform('dwt2', options);
  return dwt2Unchecked(p, bank, mode);
}

/** pywt.idwt2: one inverse level; the result has idwtLength samples per axis (one more than the original along odd axes in 'symmetric' mode). */
export function idwt2(coeffs: Dwt2Result, options?: WaveletTransformOptions): Plane {
  const { bank, mode } = resolveTransform('idwt2', options);
  const c = coeffs as Partial<Dwt2Result> | null;
  if (c === null || typeof c !== 'object') throw invalidParameter('idwt2', 'coeffs', 'an object { approximation, horizontal, vertical, diagonal }', coeffs);
  const a = checkPlane('idwt2', c.approximation, 'coeffs.approximation');
  for (const k of ['horizontal', 'vertical', 'diagonal'] as const) {
    const b = checkPlane('idwt2', c[k], `coeffs.${k}`);
    if (b.width !== a.width || b.height !== a.height) {
      throw invalidParameter('idwt2', `coeffs.${k}`, `a ${a.width}x${a.height} plane like coeffs.approximation`, `${b.width}x${b.height}`);
    }
  }
  if (mode === 'symmetric' && (a.width < bank.length / 2 || a.height < bank.length / 2)) {
    throw invalidParameter('idwt2', 'coeffs.approximation', `at least ${bank.length / 2} coefficients per axis for ${bank.name} in mode 'symmetric'`, `${a.width}x${a.height}`);
  }
  return idwt2Unchecked(c as Dwt2Result, bank, mode);
}

function resolveLevel(fn: string, level: unknown, width: number, height: number, bank: FilterBank): number {
  if (level === undefined) return Math.min(dwtMaxLevel(width, bank.length), dwtMaxLevel(height, bank.length));
  return checkNumber(fn, 'options.level', level, { integer: true, min: 0, max: MAX_WAVELET_LEVEL });
}

/** pywt.wavedec2 (equally pywt.wavedecn on 2-D data): `level` levels, each applied to the previous approximation. */
export function wavedec2(plane: Plane, options?: Wavedec2Options): Wavedec2Result {
  const p = checkPlane('wavedec2', plane, 'plane');
  const { bank, mode } = resolveTransform('wavedec2', options);
  const level = resolveLevel('wavedec2', options?.level, p.width, p.height, bank);
  return wavedec2Unchecked(p, bank, mode, level);
}

/** wavedec2 for callers that have already validated their inputs (no copies, no checks). */
export function wavedec2Unchecked(plane: Plane, bank: FilterBank, mode: WaveletMode, level: number): Wavedec2Result {
  const details: DetailBands[] = [];
  let a = plane;
  for (let l = 0; l < level; l++) {
    const c = dwt2Unchecked(a, bank, mode);
    details.push({ horizontal: c.horizontal, vertical: c.vertical, diagonal: c.diagonal });
    a = c.approximation;
  }
  details.reverse();
  return { approximation: level === 0 ? { data: plane.data.slice(), width: plane.width, height: plane.height } : a, details };
}

/**
 * pywt.waverec2 (= waverecn): inverts level by level, dropping the last row or column of
 * an approximation that is one longer than the next level's details (odd sizes). The
 * result can be one longer than the original along an odd axis; crop it to the
 * original size, as scikit-image does.
 */
export function waverec2(coeffs: Wavedec2Result, options?: WaveletTransformOptions): Plane {
  const { bank, mode } = resolveTransform('waverec2', options);
  const c = coeffs as Partial<Wavedec2Result> | null;
  if (c === null || typeof c !== 'object' || !Array.isArray(c.details)) {
    throw invalidParameter('waverec2', 'coeffs', 'an object { approximation, details: [...] } as wavedec2 returns', coeffs);
  }
  let a = checkPlane('waverec2', c.approximation, 'coeffs.approximation');
  c.details.forEach((d, l) => {
    const h = checkPlane('waverec2', d?.horizontal, `coeffs.details[${l}].horizontal`);
    for (const k of ['vertical', 'diagonal'] as const) {
      const b = checkPlane('waverec2', d[k], `coeffs.details[${l}].${k}`);
      if (b.width !== h.width || b.height !== h.height) {
        throw invalidParameter('waverec2', `coeffs.details[${l}].${k}`, `a ${h.width}x${h.height} plane like coeffs.details[${l}].horizontal`, `${b.width}x${b.height}`);
      }
    }
    const dw = a.width - h.width;
    const dh = a.height - h.height;
    if (dw < 0 || dw > (l === 0 ? 0 : 1) || dh < 0 || dh > (l === 0 ? 0 : 1)) {
      throw invalidParameter('waverec2', `coeffs.details[${l}]`, `bands the size of the approximation at that level (${a.width}x${a.height}${l === 0 ? '' : ' or one less per axis'})`, `${h.width}x${h.height}`);
    }
    if (mode === 'symmetric' && (h.width < bank.length / 2 || h.height < bank.length / 2)) {
      throw invalidParameter('waverec2', `coeffs.details[${l}].horizontal`, `at least ${bank.length / 2} coefficients per axis for ${bank.name} in mode 'symmetric'`, `${h.width}x${h.height}`);
    }
    a = { width: idwtLength(h.width, bank.length, mode), height: idwtLength(h.height, bank.length, mode), data: new Float64Array(0) };
  });
  return waverec2Unchecked(c as Wavedec2Result, bank, mode);
}

/** Crops a plane to its first `width` columns and `height` rows (no copy when the size already matches). */
export function cropPlane(p: Plane, width: number, height: number): Plane {
  if (p.width === width && p.height === height) return p;
  const out = new Float64Array(width * height);
  for (let y = 0; y < height; y++) out.set(p.data.subarray(y * p.width, y * p.width + width), y * width);
  return { data: out, width, height };
}

/** waverec2 without validation. */
export function waverec2Unchecked(coeffs: Wavedec2Result, bank: FilterBank, mode: WaveletMode): Plane {
  let a = coeffs.approximation;
  coeffs.details.forEach((d, l) => {
    if (l > 0) a = cropPlane(a, d.horizontal.width, d.horizontal.height);
    a = idwt2Unchecked({ approximation: a, ...d }, bank, mode);
  });
  return coeffs.details.length === 0 ? { data: a.data.slice(), width: a.width, height: a.height } : a;
}
