/**
 * Seeded random numbers. xoshiro128** (Blackman & Vigna) on 32-bit integer
 * arithmetic, seeded through splitmix32; normal deviates by the Marsaglia polar
 * method. Every random thing in hush takes a seed and goes through here.
 */

export interface Rng {
  /** uniform in [0, 1) */
  next(): number;
  /** uniform 32-bit unsigned integer */
  nextUint32(): number;
  /** uniform integer in [0, n) */
  int(n: number): number;
  /** standard normal deviate */
  normal(): number;
  /** fill `out` with N(mean, sd^2) */
  fillNormal(out: Float32Array, mean?: number, sd?: number): Float32Array;
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

export function createRng(seed: number): Rng {
  const sm = splitmix32(Math.floor(seed) ^ Math.floor(seed / 2 ** 32));
  let a = sm();
  let b = sm();
  let c = sm();
  let d = sm();
  if ((a | b | c | d) === 0) a = 1;
  const nextUint32 = (): number => {
    const r = Math.imul(rotl(Math.imul(b, 5), 7), 9);
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return r >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  let spare = NaN;
  const normal = (): number => {
    if (!Number.isNaN(spare)) {
      const s = spare;
      spare = NaN;
      return s;
    }
    let u: number;
    let v: number;
    let s: number;
    do {
      u = next() * 2 - 1;
      v = next() * 2 - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * Math.log(s)) / s);
    spare = v * m;
    return u * m;
  };
  return {
    next,
    nextUint32,
    int: (n: number) => Math.floor(next() * n),
    normal,
    fillNormal(out: Float32Array, mean = 0, sd = 1): Float32Array {
      for (let i = 0; i < out.length; i++) out[i] = mean + sd * normal();
      return out;
    },
  };
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
