import test from 'node:test';
import assert from 'node:assert/strict';
import { createRng, deriveSeed, logGamma } from '../../src/core/rng.js';

/** Standard normal CDF via erfc (Numerical Recipes' erfcc, fractional error < 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - r / 2 : r / 2;
}

test('the uniform stream is unchanged from the first release (others rely on it)', () => {
  const r = createRng(7);
  assert.deepEqual(
    Array.from({ length: 4 }, () => r.nextUint32()),
    [1004282400, 2200021487, 1928073449, 741806228],
  );
  const q = createRng(2 ** 40 + 3);
  assert.deepEqual([q.nextUint32(), q.int(10), q.next()], [1837739972, 2, 0.8321726648136973]);
});

test('seeded: same seed same normals, different seed different normals', () => {
  const a = createRng(11).fillNormal(new Float32Array(1000));
  const b = createRng(11).fillNormal(new Float32Array(1000));
  const c = createRng(12).fillNormal(new Float32Array(1000));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
});

test('fillNormal, addNormal and normal() draw the same sequence, and leave the stream in the same place', () => {
  const r1 = createRng(5);
  const r2 = createRng(5);
  const r3 = createRng(5);
  const filled = r1.fillNormal(new Float32Array(20000), 2, 3);
  const base = new Float32Array(20000).map((_, i) => i / 1000);
  const added = r3.addNormal(new Float32Array(20000), base, 3);
  for (let i = 0; i < filled.length; i++) {
    const z = r2.normal();
    // sd is folded into the layer widths, so the last bit of the double may differ before rounding to float32
    assert.ok(Math.abs(filled[i] - (2 + 3 * z)) <= 1e-6 * (2 + Math.abs(3 * z)), `sample ${i}`);
    assert.ok(Math.abs(added[i] - (base[i] + 3 * z)) <= 1e-6 * (base[i] + Math.abs(3 * z)), `sample ${i}`);
  }
  const next = r2.nextUint32();
  assert.equal(r1.nextUint32(), next);
  assert.equal(r3.nextUint32(), next);
  // in place
  const inPlace = base.slice();
  createRng(5).addNormal(inPlace, inPlace, 3);
  assert.deepEqual(inPlace, added);
  assert.throws(() => createRng(1).addNormal(new Float32Array(3), new Float32Array(4)), /addNormal: base has 4 samples, out 3/);
});

test('nextDouble is in [0, 1) with 53-bit resolution; deriveSeed separates streams', () => {
  const r = createRng(3);
  let fine = 0;
  for (let i = 0; i < 10000; i++) {
    const u = r.nextDouble();
    assert.ok(u >= 0 && u < 1);
    if (u * 2 ** 32 !== Math.floor(u * 2 ** 32)) fine++;
  }
  assert.ok(fine > 9900, `${fine} of 10000 doubles use more than 32 bits`);
  const seeds = new Set([deriveSeed(1, 1), deriveSeed(1, 2), deriveSeed(2, 1), 1, 2]);
  assert.equal(seeds.size, 5);
  assert.equal(deriveSeed(1, 1), deriveSeed(1, 1));
});

test('ziggurat normals: moments, tails, chi-square over equal-probability bins, and KS on 1e6 samples', () => {
  const n = 1_000_000;
  const x = createRng(20240601).fillNormal(new Float32Array(n));
  let mean = 0;
  for (let i = 0; i < n; i++) mean += x[i];
  mean /= n;
  let m2 = 0;
  let m4 = 0;
  let beyond3 = 0;
  let beyondR = 0;
  for (let i = 0; i < n; i++) {
    const d = x[i] - mean;
    m2 += d * d;
    m4 += d * d * d * d;
    const a = Math.abs(x[i]);
    if (a > 3) beyond3++;
    if (a > 3.6541528853610088) beyondR++;
  }
  m2 /= n;
  m4 /= n;
  // standard errors: mean 1e-3, variance 1.4e-3, kurtosis 4.9e-3
  assert.ok(Math.abs(mean) < 0.005, `mean ${mean}`);
  assert.ok(Math.abs(m2 - 1) < 0.007, `variance ${m2}`);
  assert.ok(Math.abs(m4 / (m2 * m2) - 3) < 0.025, `kurtosis ${m4 / (m2 * m2)}`);
  // P(|X| > 3) = 0.0026998, SE 5.2e-5; P(|X| > R), the tail the ziggurat samples separately, = 2.58e-4, SE 1.6e-5
  const p3 = 2 * (1 - normalCdf(3));
  assert.ok(Math.abs(beyond3 / n - p3) < 2.5e-4, `fraction beyond 3 sigma ${beyond3 / n}, expected ${p3}`);
  const pR = 2 * (1 - normalCdf(3.6541528853610088));
  assert.ok(Math.abs(beyondR / n - pR) < 8e-5, `fraction beyond R ${beyondR / n}, expected ${pR}`);

  const sorted = Float64Array.from(x).sort();
  let d = 0;
  for (let i = 0; i < n; i++) {
    const f = normalCdf(sorted[i]);
    d = Math.max(d, Math.abs((i + 1) / n - f), Math.abs(f - i / n));
  }
  // 1.63 / sqrt(n) is the 1% critical value of the KS statistic
  assert.ok(d < 1.63 / Math.sqrt(n), `KS statistic ${d}`);

  // 200 bins of equal probability: chi-square with 199 degrees of freedom (mean 199, sd 20)
  const bins = 200;
  const counts = new Float64Array(bins);
  for (let i = 0; i < n; i++) counts[Math.min(bins - 1, Math.floor(normalCdf(x[i]) * bins))]++;
  let chi2 = 0;
  for (const c of counts) chi2 += (c - n / bins) ** 2 / (n / bins);
  assert.ok(chi2 < 270, `chi-square ${chi2}`);
});

test('fillNormal applies mean and sd', () => {
  const x = createRng(9).fillNormal(new Float32Array(200000), 5, 0.5);
  let m = 0;
  for (const v of x) m += v;
  m /= x.length;
  let v2 = 0;
  for (const v of x) v2 += (v - m) ** 2;
  v2 /= x.length;
  assert.ok(Math.abs(m - 5) < 0.005, `mean ${m}`);
  assert.ok(Math.abs(Math.sqrt(v2) - 0.5) < 0.005, `sd ${Math.sqrt(v2)}`);
});

test('logGamma matches ln((x-1)!)', () => {
  let lf = 0;
  for (let k = 1; k <= 170; k++) {
    assert.ok(Math.abs(logGamma(k) - lf) <= 1e-12 * Math.max(1, lf), `logGamma(${k}) = ${logGamma(k)}, expected ${lf}`);
    lf += Math.log(k);
  }
  assert.ok(Math.abs(logGamma(0.5 + 1) - Math.log(Math.sqrt(Math.PI) / 2)) < 1e-12);
});

test('poisson: mean and variance on both sides of the inversion/PTRS switch', () => {
  const r = createRng(42);
  const n = 200000;
  for (const lambda of [0.05, 1, 4, 9.99, 10, 25, 100, 1e4, 1e7]) {
    let m = 0;
    let m2 = 0;
    for (let i = 0; i < n; i++) {
      const k = r.poisson(lambda);
      assert.ok(Number.isInteger(k) && k >= 0);
      m += k;
      m2 += k * k;
    }
    m /= n;
    const v = (m2 - n * m * m) / (n - 1);
    const seMean = Math.sqrt(lambda / n);
    const seVar = Math.sqrt((2 * lambda * lambda + lambda) / n);
    assert.ok(Math.abs(m - lambda) < 5 * seMean, `lambda ${lambda}: mean ${m}`);
    assert.ok(Math.abs(v - lambda) < 5 * seVar, `lambda ${lambda}: variance ${v}`);
  }
  assert.equal(r.poisson(0), 0);
  assert.ok(Number.isNaN(r.poisson(-1)));
  assert.ok(Number.isNaN(r.poisson(Number.NaN)));
});

test('poisson: histogram against the exact pmf (chi-square) for an inversion and a PTRS mean', () => {
  const r = createRng(7);
  const n = 300000;
  for (const lambda of [3, 15.5]) {
    const counts = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const k = r.poisson(lambda);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    // pool the two tails so every cell expects at least 20
    let chi2 = 0;
    let cells = 0;
    let lowP = 0;
    let lowC = 0;
    let k = 0;
    const pmf = (j: number): number => Math.exp(-lambda + j * Math.log(lambda) - logGamma(j + 1));
    for (; ; k++) {
      lowP += pmf(k);
      lowC += counts.get(k) ?? 0;
      if (lowP * n >= 20) break;
    }
    chi2 += (lowC - lowP * n) ** 2 / (lowP * n);
    cells++;
    let restP = 1 - lowP;
    let restC = n - lowC;
    for (k++; pmf(k) * n >= 20 && (restP - pmf(k)) * n >= 20; k++) {
      const e = pmf(k) * n;
      const c = counts.get(k) ?? 0;
      chi2 += (c - e) ** 2 / e;
      cells++;
      restP -= pmf(k);
      restC -= c;
    }
    chi2 += (restC - restP * n) ** 2 / (restP * n);
    cells++;
    const dof = cells - 1;
    // mean dof, sd sqrt(2 dof): allow 4 sd
    assert.ok(chi2 < dof + 4 * Math.sqrt(2 * dof), `lambda ${lambda}: chi-square ${chi2} on ${dof} dof`);
  }
});
