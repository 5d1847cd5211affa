import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { addGaussianNoise, GAUSSIAN_PARAMS } from '../../src/noise/gaussian.js';

function flat(width: number, height: number, channels: 1 | 2 | 3 | 4, value: number): Image {
  return createImage(width, height, channels, new Float32Array(width * height * channels).fill(value));
}

function ramp(width: number, height: number, channels: 1 | 2 | 3 | 4): Image {
  const d = new Float32Array(width * height * channels);
  for (let i = 0; i < d.length; i++) d[i] = (i % 97) / 96;
  return createImage(width, height, channels, d);
}

test('seeded: same seed same noise, different seed different noise, default seed 0', () => {
  const im = ramp(32, 16, 3);
  const a = addGaussianNoise(im, { sigma: 0.1, seed: 3 });
  assert.deepEqual(a.data, addGaussianNoise(im, { sigma: 0.1, seed: 3 }).data);
  assert.notDeepEqual(a.data, addGaussianNoise(im, { sigma: 0.1, seed: 4 }).data);
  assert.deepEqual(addGaussianNoise(im, { sigma: 0.1 }).data, addGaussianNoise(im, { sigma: 0.1, seed: 0 }).data);
});

test('y - x has zero mean and standard deviation sigma (within 1% on 1e6 samples)', () => {
  const im = flat(1000, 1000, 1, 0.5);
  const sigma = 25 / 255;
  const y = addGaussianNoise(im, { sigma, seed: 17 });
  let m = 0;
  for (let i = 0; i < y.data.length; i++) m += y.data[i] - 0.5;
  m /= y.data.length;
  let v = 0;
  for (let i = 0; i < y.data.length; i++) v += (y.data[i] - 0.5 - m) ** 2;
  const sd = Math.sqrt(v / y.data.length);
  assert.ok(Math.abs(m) < 5 * (sigma / 1000), `mean ${m}`);
  assert.ok(Math.abs(sd / sigma - 1) < 0.01, `sd ${sd}, sigma ${sigma}`);
});

test("no clipping by default (the benchmark protocol); clip: 'unit' clamps to [0,1]", () => {
  const im = flat(100, 100, 1, 0.95);
  const raw = addGaussianNoise(im, { sigma: 0.2, seed: 1 });
  assert.ok(raw.data.some((v) => v > 1));
  const clipped = addGaussianNoise(im, { sigma: 0.2, seed: 1, clip: 'unit' });
  assert.ok(clipped.data.every((v) => v >= 0 && v <= 1));
  assert.ok(clipped.data.some((v) => v === 1));
  for (let i = 0; i < raw.data.length; i++) assert.equal(clipped.data[i], Math.min(1, Math.max(0, raw.data[i])));
});

test('input untouched, alpha untouched, masked samples untouched, metadata carried', () => {
  const im = ramp(20, 10, 4);
  im.mask = new Uint8Array(im.data.length);
  im.mask[5 * 4 + 1] = 1;
  im.source = { format: 'png', sampleFormat: 'uint8', scale: 'unit' };
  const before = im.data.slice();
  const y = addGaussianNoise(im, { sigma: 0.1, seed: 2 });
  assert.deepEqual(im.data, before);
  assert.notEqual(y.data, im.data);
  for (let i = 3; i < y.data.length; i += 4) assert.equal(y.data[i], im.data[i]);
  assert.equal(y.data[21], im.data[21]);
  assert.notEqual(y.data[20], im.data[20]);
  assert.equal(y.mask, im.mask);
  assert.deepEqual(y.source, im.source);
  assert.deepEqual([y.width, y.height, y.channels], [20, 10, 4]);
});

test('sigma 0 returns the same values', () => {
  const im = ramp(8, 8, 1);
  assert.deepEqual(addGaussianNoise(im, { sigma: 0 }).data, im.data);
});

test('rejects bad options with the house-style message', () => {
  const im = flat(4, 4, 1, 0.5);
  const bad = (options: unknown): (() => void) => () => addGaussianNoise(im, options as { sigma: number });
  assert.throws(bad({}), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'addGaussianNoise: expected a finite number of at least 0 for options.sigma but received undefined.',
  });
  assert.throws(bad({ sigma: -0.1 }), {
    message: 'addGaussianNoise: expected a finite number of at least 0 for options.sigma but received -0.1 (number).',
  });
  assert.throws(bad({ sigma: Number.NaN }), {
    message: 'addGaussianNoise: expected a finite number of at least 0 for options.sigma but received NaN (number).',
  });
  assert.throws(bad({ sigma: '0.1' }), {
    message: "addGaussianNoise: expected a finite number of at least 0 for options.sigma but received '0.1' (string).",
  });
  assert.throws(bad({ sigma: 0.1, clip: 'yes' }), {
    message: "addGaussianNoise: expected one of 'none', 'unit' for options.clip but received 'yes' (string).",
  });
  assert.throws(bad({ sigma: 0.1, seed: 1.5 }), {
    message: 'addGaussianNoise: expected an integer from 0 to 4294967295 for options.seed but received 1.5 (number).',
  });
  assert.throws(bad({ sigma: 0.1, sigm: 2 }), {
    message: "addGaussianNoise: expected only the options 'sigma', 'clip', 'seed' for options but received 'sigm' (string).",
  });
  assert.throws(bad(null), {
    message: 'addGaussianNoise: expected an object for options but received null.',
  });
  assert.throws(() => addGaussianNoise(null as unknown as Image, { sigma: 0.1 }), {
    message: 'addGaussianNoise: expected an Image object for image but received null.',
  });
});

test('the params table describes every option it validates', () => {
  assert.deepEqual(
    GAUSSIAN_PARAMS.map((p) => p.name),
    ['sigma', 'clip', 'seed'],
  );
});
