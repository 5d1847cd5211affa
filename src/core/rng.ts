/**
 * Seeded random numbers. Uniform bits from xoshiro128** (Blackman & Vigna, "Scrambled
 * linear pseudorandom number generators", 2018) on 32-bit integer arithmetic, seeded
 * through splitmix32. Normal deviates from a 256-layer ziggurat (Marsaglia & Tsang,
 * "The Ziggurat Method for Generating Random Variables", J. Stat. Softw. 5(8), 2000)
 * laid out as in Doornik (2005) and numpy: the layer index, the sign and the magnitude
 * come from disjoint bits of one 32-bit draw, so they are independent of each other.
 * Poisson deviates are exact: inversion by sequential search below a mean of 10, and
 * Hörmann's PTRS transformed rejection ("The transformed rejection method for
 * generating Poisson random variables", Insurance: Math. & Econ. 12, 1993) above.
 * Every random thing in hush takes a seed and goes through here.
 */

export interface Rng {
  /** uniform in [0, 1), 32 bits of resolution */
  next(): number;
  /** uniform 32-bit unsigned integer */
  nextUint32(): number;
  /** uniform in [0, 1), 53 bits of resolution (two 32-bit draws) */
  nextDouble(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
  /** standard normal deviate */
  normal(): number;
  /** fill `out` with N(mean, sd^2); the fast path for noise images */
  fillNormal(out: Float32Array, mean?: number, sd?: number): Float32Array;
  /**
   * out[i] = base[i] + sd * z[i] with z standard normal, in one pass (out may be base):
   * additive noise without a second buffer. Draws the same z as fillNormal.
   */
  addNormal(out: Float32Array, base: Float32Array, sd?: number): Float32Array;
  /** Poisson deviate with mean `lambda` (>= 0); NaN for a negative or NaN mean */
  poisson(lambda: number): number;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
}

/**
 * A seed for an independent stream derived from `seed`, so one user-facing seed can
 * drive several generators (say, rectangle placement and the noise inside them)
 * without the two sharing a sequence.
 */
export function deriveSeed(seed: number, stream: number): number {
  const sm = splitmix32((Math.floor(seed) ^ Math.floor(seed / 2 ** 32)) ^ Math.imul(stream + 1, 0x632be5ab));
  sm();
  return sm();
}

// ---------------------------------------------------------------- ziggurat tables

const ZIG_LAYERS = 256;
/** right edge of the base layer */
const ZIG_R = 3.6541528853610088;
/** area of every layer (under f(x) = exp(-x^2/2), peak 1) */
const ZIG_V = 0.00492867323399;
/** the magnitude has 23 bits: bits 9..31 of a draw (bits 0..7 pick the layer, bit 8 the sign) */
const ZIG_SCALE = 2 ** 23;

const gauss = (x: number): number => Math.exp(-0.5 * x * x);

/** accept threshold per layer: magnitude m is under the curve when m < KI[i] */
const KI = new Int32Array(ZIG_LAYERS);
/** layer width / 2^23 */
const WI = new Float64Array(ZIG_LAYERS);
/** f at each layer's right edge; FI[256] = f(0) = 1 */
const FI = new Float64Array(ZIG_LAYERS + 1);
{
  // x[0] is the width of the virtual rectangle that has the base strip's area (strip + tail);
  // x[i] decreases to x[256] = 0 at the top.
  const x = new Float64Array(ZIG_LAYERS + 1);
  x[0] = ZIG_V / gauss(ZIG_R);
  x[1] = ZIG_R;
  for (let i = 1; i < ZIG_LAYERS - 1; i++) x[i + 1] = Math.sqrt(-2 * Math.log(ZIG_V / x[i] + gauss(x[i])));
  x[ZIG_LAYERS] = 0;
  for (let i = 0; i < ZIG_LAYERS; i++) {
    KI[i] = Math.floor((x[i + 1] / x[i]) * ZIG_SCALE);
    WI[i] = x[i] / ZIG_SCALE;
    FI[i] = gauss(x[i]);
  }
  FI[ZIG_LAYERS] = 1;
}
/**
 * The same tables indexed by the low 9 bits of a draw (layer + 256 * sign), so the hot loops
 * need no sign branch: KI9[j] = KI[j & 255], WS9[j] = +-WI[j & 255].
 */
const KI9 = new Int32Array(2 * ZIG_LAYERS);
const WS9 = new Float64Array(2 * ZIG_LAYERS);
for (let j = 0; j < 2 * ZIG_LAYERS; j++) {
  KI9[j] = KI[j & 255];
  WS9[j] = j < ZIG_LAYERS ? WI[j] : -WI[j - ZIG_LAYERS];
}

/** WS9 times sd: a draw's deviate times sd is then one multiplication */
function scaledWidths(sd: number): Float64Array {
  const w = new Float64Array(2 * ZIG_LAYERS);
  for (let j = 0; j < w.length; j++) w[j] = sd * WS9[j];
  return w;
}

// ---------------------------------------------------------------- Poisson helpers

const LOGGAM_A = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4, 8.417508417508418e-4,
  -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2, 1.796443723688307e-1, -1.3924322169059,
];

/** log Gamma(x) for x >= 1 (Stirling series with upward recursion below 7, as in numpy's random_loggam) */
export function logGamma(x: number): number {
  if (x === 1 || x === 2) return 0;
  const n = x < 7 ? Math.floor(7 - x) : 0;
  let x0 = x + n;
  const x2 = 1 / (x0 * x0);
  let gl0 = LOGGAM_A[9];
  for (let k = 8; k >= 0; k--) gl0 = gl0 * x2 + LOGGAM_A[k];
  let gl = gl0 / x0 + 0.9189385332046727 + (x0 - 0.5) * Math.log(x0) - x0;
  for (let k = 0; k < n; k++) {
    x0 -= 1;
    gl -= Math.log(x0);
  }
  return gl;
}

/** below this mean, Poisson deviates by inversion; above, by PTRS */
const POISSON_INVERSION_MAX = 10;
/** the inversion's search stops here: P(k > 200 | mean < 10) is 0 in doubles */
const POISSON_INVERSION_KMAX = 200;
/** 1/k, so the inversion's recurrence multiplies instead of dividing */
const INVERSE = new Float64Array(POISSON_INVERSION_KMAX + 1);
for (let k = 1; k <= POISSON_INVERSION_KMAX; k++) INVERSE[k] = 1 / k;
/** logGamma(k + 1) = log(k!) for the k PTRS meets most, cached */
const LOG_FACTORIAL = new Float64Array(1024);
for (let k = 0; k < LOG_FACTORIAL.length; k++) LOG_FACTORIAL[k] = logGamma(k + 1);
const logFactorial = (k: number): number => (k < LOG_FACTORIAL.length ? LOG_FACTORIAL[k] : logGamma(k + 1));

// ---------------------------------------------------------------- the generator

export function createRng(seed: number): Rng {
  const sm = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
  // the state lives in a typed array: int32 values in closure variables would be boxed as heap
  // numbers on every store (they do not fit V8's 31-bit small integers), costing an allocation per draw
  const st = new Int32Array(4);
  st[0] = sm();
  st[1] = sm();
  st[2] = sm();
  st[3] = sm();
  if ((st[0] | st[1] | st[2] | st[3]) === 0) st[0] = 1;

  const nextUint32 = (): number => {
    const b = st[1];
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    const c = st[2] ^ st[0];
    const d = st[3] ^ b;
    st[1] = b ^ c;
    st[0] ^= d;
    st[2] = c ^ t;
    st[3] = rotl(d, 11);
    return r >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  const nextDouble = (): number => ((nextUint32() >>> 5) * 67108864 + (nextUint32() >>> 6)) / 9007199254740992;
  /** uniform in (0, 1], safe for log */
  const nextOpen = (): number => (nextUint32() + 0.5) / 4294967296;

  /** Finishes a ziggurat draw whose magnitude fell outside its layer's inner rectangle. */
  const zigguratSlow = (first: number): number => {
    let r = first;
    for (;;) {
      const idx = r & 255;
      const m = r >>> 9;
      let v = m * WI[idx];
      if (m >= KI[idx]) {
        if (idx === 0) {
          // tail beyond R (Marsaglia 1964)
          let xt: number;
          let yt: number;
          do {
            xt = -Math.log(nextOpen()) / ZIG_R;
            yt = -Math.log(nextOpen());
          } while (yt + yt < xt * xt);
          v = ZIG_R + xt;
        } else if (FI[idx] + next() * (FI[idx + 1] - FI[idx]) >= gauss(v)) {
          r = nextUint32();
          continue;
        }
      }
      return (r & 256) === 0 ? v : -v;
    }
  };

  const normal = (): number => {
    const r = nextUint32();
    const j = r & 511;
    const m = r >>> 9;
    return m < KI9[j] ? m * WS9[j] : zigguratSlow(r);
  };

  // fillNormal and addNormal inline xoshiro128** (the same steps as nextUint32) with the state in
  // locals, and write it back to `st` around the rare slow path (1.5% of draws), which draws more.
  const fillNormal = (out: Float32Array, mean = 0, sd = 1): Float32Array => {
    const w = scaledWidths(sd);
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    const n = out.length;
    for (let i = 0; i < n; i++) {
      const p = Math.imul(s1, 5);
      const r = Math.imul((p << 7) | (p >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const j = r & 511;
      const m = r >>> 9;
      if (m < KI9[j]) {
        out[i] = mean + m * w[j];
      } else {
        st[0] = s0;
        st[1] = s1;
        st[2] = s2;
        st[3] = s3;
        out[i] = mean + sd * zigguratSlow(r);
        s0 = st[0];
        s1 = st[1];
        s2 = st[2];
        s3 = st[3];
      }
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return out;
  };

  const addNormal = (out: Float32Array, base: Float32Array, sd = 1): Float32Array => {
    if (base.length !== out.length) throw new RangeError(`addNormal: base has ${base.length} samples, out ${out.length}`);
    const w = scaledWidths(sd);
    let s0 = st[0];
    let s1 = st[1];
    let s2 = st[2];
    let s3 = st[3];
    const n = out.length;
    for (let i = 0; i < n; i++) {
      const p = Math.imul(s1, 5);
      const r = Math.imul((p << 7) | (p >>> 25), 9);
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = (s3 << 11) | (s3 >>> 21);
      const j = r & 511;
      const m = r >>> 9;
      if (m < KI9[j]) {
        out[i] = base[i] + m * w[j];
      } else {
        st[0] = s0;
        st[1] = s1;
        st[2] = s2;
        st[3] = s3;
        out[i] = base[i] + sd * zigguratSlow(r);
        s0 = st[0];
        s1 = st[1];
        s2 = st[2];
        s3 = st[3];
      }
    }
    st[0] = s0;
    st[1] = s1;
    st[2] = s2;
    st[3] = s3;
    return out;
  };

  const poisson = (lambda: number): number => {
    if (!(lambda >= 0)) return NaN;
    if (lambda === 0) return 0;
    if (lambda === Infinity) return Infinity;
    if (lambda < POISSON_INVERSION_MAX) {
      // inversion: the smallest k whose CDF reaches u
      const u = nextDouble();
      let k = 0;
      let p = Math.exp(-lambda);
      let s = p;
      // the bound only guards against a CDF that rounds below u
      while (u > s && k < POISSON_INVERSION_KMAX) {
        k++;
        p *= lambda * INVERSE[k];
        s += p;
      }
      return k;
    }
    // PTRS, constants from Hörmann (1993), Table 1 / numpy's random_poisson_ptrs
    const slam = Math.sqrt(lambda);
    const bb = 0.931 + 2.53 * slam;
    const aa = -0.059 + 0.02483 * bb;
    const vr = 0.9277 - 3.6224 / (bb - 2);
    // the logs are needed only when the quick acceptance fails (about 1 draw in 7)
    let logConst = NaN;
    let loglam = NaN;
    for (;;) {
      const u = nextDouble() - 0.5;
      const v = nextDouble();
      const us = 0.5 - Math.abs(u);
      const k = Math.floor(((2 * aa) / us + bb) * u + lambda + 0.43);
      if (us >= 0.07 && v <= vr) return k;
      if (k < 0 || (us < 0.013 && v > us)) continue;
      if (Number.isNaN(logConst)) {
        logConst = Math.log(1.1239 + 1.1328 / (bb - 3.4));
        loglam = Math.log(lambda);
      }
      if (Math.log(v) + logConst - Math.log(aa / (us * us) + bb) <= -lambda + k * loglam - logFactorial(k)) return k;
    }
  };

  return {
    next,
    nextUint32,
    nextDouble,
    int: (n: number) => Math.floor(next() * n),
    normal,
    fillNormal,
    addNormal,
    poisson,
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
