import test from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { heapTransform, simdEligible, waveletSimdAvailable } from '../../src/denoise/wavelet-simd.js';
import { wavedec2Unchecked, waveletFilters, WAVELETS } from '../../src/denoise/wavelet-transform.js';
import { denoiseWavelet, medianAbsNonZero32, type DenoiseWaveletOptions } from '../../src/denoise/wavelet.js';
import { medianInPlace } from '../../src/core/select.js';
import { psnr } from '../../src/metrics/index.js';
import { testPattern } from '../helpers/images.js';

test('the SIMD transform equals pywt (our float64 transform) to float32 round-off: every wavelet, odd sizes, 1-3 levels', () => {
  assert.ok(waveletSimdAvailable(), 'Node 20 has WebAssembly SIMD');
  const rng = createRng(41);
  let tested = 0;
  for (const name of WAVELETS) {
    const bank = waveletFilters(name);
    for (const [w, h] of [
      [64, 33],
      [37, 50],
      [101, 7],
      [8, 9],
      [200, 131],
    ]) {
      for (const levels of [1, 2, 3]) {
        const t = heapTransform(bank, w, h, levels);
        assert.equal(t !== undefined, simdEligible(w, h, bank.length, levels));
        if (!t) continue;
        tested++;
        const data = Float32Array.from({ length: w * h }, () => rng.next());
        t.input.set(data);
        t.decompose();
        const ref = wavedec2Unchecked({ data: Float64Array.from(data), width: w, height: h }, bank, 'symmetric', levels);
        let worst = 0;
        for (let l = 0; l < levels; l++) {
          const r = ref.details[levels - 1 - l];
          [r.horizontal, r.vertical, r.diagonal].forEach((band, i) => {
            const ours = t.details[l][i].data;
            assert.equal(ours.length, band.data.length);
            for (let q = 0; q < ours.length; q++) worst = Math.max(worst, Math.abs(ours[q] - band.data[q]));
          });
        }
        // coefficients grow by up to 2 per level; float32 sums of up to 16 terms
        assert.ok(worst < 2e-6 * 2 ** levels, `${name} ${w}x${h} L${levels}: ${worst}`);
        const back = t.reconstruct();
        assert.equal(back.length, w * h);
        let err = 0;
        for (let q = 0; q < back.length; q++) err = Math.max(err, Math.abs(back[q] - data[q]));
        assert.ok(err < 2e-6, `${name} ${w}x${h} L${levels} round trip: ${err}`);
      }
    }
  }
  assert.ok(tested > 200, `${tested} transforms`);
  // too small for 4-wide vectors: the float64 path runs instead
  assert.equal(simdEligible(3, 50, 2, 1), false);
  assert.equal(simdEligible(4, 50, 16, 1), false);
  assert.equal(simdEligible(50, 50, 16, 3), true);
});

test('the float32 median of |d| equals numpy.median over the non-zero samples', () => {
  const rng = createRng(5);
  for (const n of [1, 2, 3, 10, 11, 1000, 4097]) {
    const d = Float32Array.from({ length: n }, (_, i) => (i % 7 === 3 ? 0 : rng.normal() * (i % 2 ? 1 : 3)));
    const abs = Float64Array.from(d.filter((v) => v !== 0), Math.abs);
    assert.equal(medianAbsNonZero32(d), medianInPlace(abs, abs.length), `n = ${n}`);
  }
  // many ties in one bin, an even count, and all zeros
  const ties = Float32Array.from([2, -2, 2, 1, -3, 2, 0, 2]);
  assert.equal(medianAbsNonZero32(ties), 2);
  assert.equal(medianAbsNonZero32(Float32Array.from([0, -4, 1, 0])), 2.5);
  assert.equal(medianAbsNonZero32(new Float32Array(5)), 0);
});

test('denoiseWavelet: the SIMD path agrees with the float64 fallback and scores the same PSNR', () => {
  const clean = testPattern(96, 80, 3);
  const rng = createRng(9);
  const noisy = { ...clean, data: clean.data.map((v) => v + 0.1 * rng.normal()) };
  const cases: DenoiseWaveletOptions[] = [
    {},
    { wavelet: 'sym8', sigma: 0.1 },
    { wavelet: 'db2', method: 'VisuShrink', mode: 'hard', sigma: 0.1 },
    { wavelet: 'db4', colourSpace: 'ycbcr' },
  ];
  for (const o of cases) {
    const simd = denoiseWavelet(noisy, o);
    process.env.HUSH_NO_SIMD = '1';
    let js;
    try {
      js = denoiseWavelet(noisy, o);
    } finally {
      delete process.env.HUSH_NO_SIMD;
    }
    let worst = 0;
    let changed = 0;
    for (let i = 0; i < simd.data.length; i++) {
      worst = Math.max(worst, Math.abs(simd.data[i] - js.data[i]));
      if (simd.data[i] !== noisy.data[i]) changed++;
    }
    // hard thresholding can flip a coefficient that sits on the threshold: allow a little more there
    assert.ok(worst < (o.mode === 'hard' ? 1e-3 : 2e-5), `${JSON.stringify(o)}: ${worst}`);
    assert.ok(changed > simd.data.length / 2, 'it did denoise');
    const dp = psnr(clean, simd, { dataRange: 1 }) - psnr(clean, js, { dataRange: 1 });
    assert.ok(Math.abs(dp) < 1e-3, `${JSON.stringify(o)}: PSNR ${dp} dB`);
  }
});
