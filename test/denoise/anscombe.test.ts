import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { addPoissonNoise } from '../../src/noise/poisson.js';
import { estimateSigma } from '../../src/noise/estimate-sigma.js';
import { psnr } from '../../src/metrics/index.js';
import {
  anscombe,
  anscombeForward,
  anscombeInverse,
  anscombeInverseAlgebraic,
  anscombeInverseUnbiased,
  denoiseWithAnscombe,
} from '../../src/denoise/anscombe.js';
import { denoiseBm3d } from '../../src/denoise/bm3d.js';
import { testPattern } from '../helpers/images.js';

/** E[f(z)] for z ~ Poisson(lambda), summed over the pmf (f(z) = anscombe(z, s) averaged over Gaussian noise when s > 0). */
function expectedTransform(lambda: number, f: (k: number) => number): number {
  let p = Math.exp(-lambda);
  let sum = 0;
  const kMax = Math.ceil(lambda + 12 * Math.sqrt(lambda) + 30);
  for (let k = 0; k <= kMax; k++) {
    sum += p * f(k);
    p *= lambda / (k + 1);
  }
  return sum;
}

test('forward and algebraic inverse are exact inverses; the transform of value 1 is 2 sqrt(peak + 3/8)', () => {
  for (const [peak, sigma] of [
    [1, 0],
    [30, 0],
    [10, 0.05],
  ]) {
    const im = createImage(5, 1, 1, Float32Array.of(0, 0.1, 0.5, 1, 3));
    const f = anscombeForward(im, { peak, sigma });
    assert.ok(Math.abs(f.data[3] - 2 * Math.sqrt(peak + 0.375 + (sigma * peak) ** 2)) < 1e-5);
    const back = anscombeInverse(f, { peak, sigma, inverse: 'algebraic' });
    for (let i = 0; i < 5; i++) assert.ok(Math.abs(back.data[i] - im.data[i]) < 1e-5 * Math.max(1, im.data[i]), `${peak} ${i}`);
  }
  assert.equal(anscombe(0), 2 * Math.sqrt(0.375));
  assert.equal(anscombeInverseAlgebraic(anscombe(7)), 7);
});

test('the unbiased inverse undoes the bias of E[f(z)]: within 1% (or 0.01) from 0.5 counts up, where the algebraic inverse is far off', () => {
  for (const lambda of [0.5, 1, 2, 5, 20, 100]) {
    const ef = expectedTransform(lambda, (k) => anscombe(k));
    const unbiased = anscombeInverseUnbiased(ef);
    const algebraic = anscombeInverseAlgebraic(ef);
    assert.ok(Math.abs(unbiased - lambda) < Math.max(0.01, 0.01 * lambda), `lambda ${lambda}: unbiased ${unbiased}`);
    if (lambda <= 5) assert.ok(Math.abs(algebraic - lambda) > 5 * Math.abs(unbiased - lambda), `lambda ${lambda}: algebraic ${algebraic}`);
  }
  // 0 counts and below map to 0
  assert.equal(anscombeInverseUnbiased(anscombe(0)), 0);
  assert.equal(anscombeInverseUnbiased(0.5), 0);
  assert.equal(anscombeInverseUnbiased(NaN), 0);
});

test('the transform stabilises the variance near 1 (Poisson and Poisson-Gaussian)', () => {
  for (const lambda of [10, 50]) {
    const m = expectedTransform(lambda, (k) => anscombe(k));
    const v = expectedTransform(lambda, (k) => (anscombe(k) - m) ** 2);
    assert.ok(Math.abs(v - 1) < 0.03, `lambda ${lambda}: variance ${v}`);
  }
  // Poisson-Gaussian, Monte Carlo with a seeded generator: counts Pois(20) plus N(0, 3^2)
  const rng = createRng(3);
  const n = 100000;
  const s = 3;
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < n; i++) {
    const d = anscombe(rng.poisson(20) + s * rng.normal(), s);
    sum += d;
    sum2 += d * d;
  }
  const mean = sum / n;
  const variance = sum2 / n - mean * mean;
  assert.ok(Math.abs(variance - 1) < 0.05, `variance ${variance}`);
  assert.ok(Math.abs(anscombeInverseUnbiased(mean, s) - 20) < 0.2, `${anscombeInverseUnbiased(mean, s)}`);
});

test('alpha and missing samples pass through the transforms untouched', () => {
  const im = createImage(2, 1, 2, Float32Array.of(0.5, 0.7, NaN, 0.2));
  const f = anscombeForward(im, { peak: 10 });
  assert.equal(f.data[1], im.data[1]);
  assert.ok(Number.isNaN(f.data[2]));
  assert.equal(f.data[3], im.data[3]);
  const g = anscombeInverse(f, { peak: 10 });
  assert.equal(g.data[1], im.data[1]);
  // the unbiased inverse of a single (noise-free) transform is a little above the value: it undoes E[f(z)], not f
  assert.ok(g.data[0] > 0.5 && g.data[0] < 0.53, `${g.data[0]}`);
});

test('BM3D behind the Anscombe transform beats BM3D on the raw Poisson image with the estimated sigma', async () => {
  const clean = testPattern(64, 64, 1);
  const peak = 8;
  const noisy = addPoissonNoise(clean, { peak, seed: 9 });
  const direct = denoiseBm3d(noisy, { sigma: estimateSigma(noisy)[0] });
  const stabilised = await denoiseWithAnscombe(noisy, (im, s) => denoiseBm3d(im, { sigma: s }), { peak });
  const pNoisy = psnr(clean, noisy, { dataRange: 1 });
  const pDirect = psnr(clean, direct, { dataRange: 1 });
  const pStab = psnr(clean, stabilised, { dataRange: 1 });
  assert.ok(pDirect > pNoisy, `${pDirect} vs ${pNoisy}`);
  assert.ok(pStab > pDirect + 0.5, `Anscombe ${pStab} vs direct ${pDirect}`);
  console.log(`# peak ${peak}: noisy ${pNoisy.toFixed(2)} dB, BM3D direct ${pDirect.toFixed(2)} dB, BM3D + Anscombe ${pStab.toFixed(2)} dB`);
  // and its mean is not biased low, as the algebraic inverse would make it
  const mean = (im: Image): number => im.data.reduce((a, b) => a + b, 0) / im.data.length;
  assert.ok(Math.abs(mean(stabilised) - mean(clean)) < 0.01, `${mean(stabilised)} vs ${mean(clean)}`);
});

test('Poisson-Gaussian: the generalised transform with the Gaussian part given', async () => {
  const clean = testPattern(48, 48, 1);
  const peak = 20;
  const sigma = 0.05;
  const rng = createRng(21);
  const noisy = addPoissonNoise(clean, { peak, seed: 4 });
  for (let i = 0; i < noisy.data.length; i++) noisy.data[i] += sigma * rng.normal();
  const out = await denoiseWithAnscombe(noisy, (im, s) => denoiseBm3d(im, { sigma: s }), { peak, sigma });
  assert.ok(psnr(clean, out, { dataRange: 1 }) > psnr(clean, noisy, { dataRange: 1 }) + 6);
});

test('options are validated with the house-style message', async () => {
  const im = testPattern(4, 4, 1);
  const id = (x: Image): Image => x;
  await assert.rejects(denoiseWithAnscombe(im, id, {} as never), {
    message: 'denoiseWithAnscombe: expected a finite number above 0 for options.peak but received undefined.',
  });
  await assert.rejects(denoiseWithAnscombe(im, id, { peak: 0 }), {
    message: 'denoiseWithAnscombe: expected a finite number above 0 for options.peak but received 0 (number).',
  });
  await assert.rejects(denoiseWithAnscombe(im, id, { peak: 5, sigma: -1 }), {
    message: 'denoiseWithAnscombe: expected a finite number of at least 0 for options.sigma but received -1 (number).',
  });
  await assert.rejects(denoiseWithAnscombe(im, 3 as never, { peak: 5 }), {
    message: 'denoiseWithAnscombe: expected a function (image, sigma) => Image for denoiser but received 3 (number).',
  });
  await assert.rejects(denoiseWithAnscombe(im, () => testPattern(3, 3, 1), { peak: 5 }), {
    message: 'denoiseWithAnscombe: expected an image of 4x4x1 for the denoiser result but received an object (Object).',
  });
  assert.throws(() => anscombeInverse(im, { inverse: 'exact' as never }), {
    message: "anscombeInverse: expected one of 'unbiased', 'algebraic' for options.inverse but received 'exact' (string).",
  });
  assert.throws(() => anscombeForward(im, { peak: -2 }), {
    message: 'anscombeForward: expected a finite number above 0 for options.peak but received -2 (number).',
  });
});
