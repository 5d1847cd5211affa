import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { addPoissonNoise } from '../../src/noise/poisson.js';

function flat(width: number, height: number, channels: 1 | 2 | 3 | 4, value: number): Image {
  return createImage(width, height, channels, new Float32Array(width * height * channels).fill(value));
}

function moments(d: Float32Array): { mean: number; variance: number } {
  let m = 0;
  for (const v of d) m += v;
  m /= d.length;
  let v2 = 0;
  for (const v of d) v2 += (v - m) ** 2;
  return { mean: m, variance: v2 / (d.length - 1) };
}

test('seeded: same seed same noise, different seed different noise', () => {
  const im = flat(40, 30, 3, 0.4);
  const a = addPoissonNoise(im, { peak: 30, seed: 5 });
  assert.deepEqual(a.data, addPoissonNoise(im, { peak: 30, seed: 5 }).data);
  assert.notDeepEqual(a.data, addPoissonNoise(im, { peak: 30, seed: 6 }).data);
});

test('y * peak is a Poisson count: mean x, variance x / peak, for small and large means', () => {
  for (const [x, peak] of [
    [0.3, 50],
    [0.01, 10],
    [0.8, 1000],
  ]) {
    const y = addPoissonNoise(flat(1000, 500, 1, x), { peak, seed: 1 });
    for (let i = 0; i < 1000; i++) {
      const k = y.data[i] * peak;
      assert.ok(Math.abs(k - Math.round(k)) < 1e-3 * Math.max(1, k), `count ${k}`);
    }
    const { mean, variance } = moments(y.data);
    const xf = Math.fround(x);
    const n = y.data.length;
    const lambda = xf * peak;
    assert.ok(Math.abs(mean - xf) < (5 * Math.sqrt(lambda / n)) / peak, `x ${x} peak ${peak}: mean ${mean}`);
    const seVar = Math.sqrt((2 * lambda * lambda + lambda) / n) / (peak * peak);
    assert.ok(Math.abs(variance - xf / peak) < 5 * seVar, `x ${x} peak ${peak}: variance ${variance}`);
  }
});

test('zero and negative values give 0, non-finite values pass through, alpha and mask untouched', () => {
  // colour samples at even indices: 0, -0.5, NaN, 0.5 (masked), 0.7; alpha at odd indices
  const d = new Float32Array([0, 0.1, -0.5, 0.2, Number.NaN, 0.3, 0.5, 0.4, 0.7, 0.6]);
  const im = createImage(5, 1, 2, d.slice(), { mask: new Uint8Array([0, 0, 0, 0, 0, 0, 1, 0, 0, 0]) });
  const y = addPoissonNoise(im, { peak: 100, seed: 3 });
  assert.equal(y.data[0], 0);
  assert.equal(y.data[2], 0);
  assert.ok(Number.isNaN(y.data[4]));
  assert.equal(y.data[6], d[6]);
  assert.notEqual(y.data[8], d[8]);
  for (const i of [1, 3, 5, 7, 9]) assert.equal(y.data[i], d[i]);
  assert.ok(Number.isNaN(im.data[4]));
  im.data[4] = 0;
  d[4] = 0;
  assert.deepEqual(im.data, d);
  const nan = addPoissonNoise(createImage(1, 1, 1, new Float32Array([Number.NaN])), { peak: 10 });
  assert.ok(Number.isNaN(nan.data[0]));
});

test('rejects bad options with the house-style message', () => {
  const im = flat(4, 4, 1, 0.5);
  const bad = (options: unknown): (() => void) => () => addPoissonNoise(im, options as { peak: number });
  assert.throws(bad({}), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'addPoissonNoise: expected a finite number above 0 for options.peak but received undefined.',
  });
  assert.throws(bad({ peak: 0 }), {
    message: 'addPoissonNoise: expected a finite number above 0 for options.peak but received 0 (number).',
  });
  assert.throws(bad({ peak: Infinity }), {
    message: 'addPoissonNoise: expected a finite number above 0 for options.peak but received Infinity (number).',
  });
  assert.throws(bad({ peak: 10, sigma: 0.1 }), {
    message: "addPoissonNoise: expected only the options 'peak', 'seed' for options but received 'sigma' (string).",
  });
  assert.throws(bad({ peak: 10, seed: -1 }), {
    message: 'addPoissonNoise: expected an integer from 0 to 4294967295 for options.seed but received -1 (number).',
  });
});
