import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { addPixelModificationNoise } from '../../src/noise/pixel-modification.js';

function flat(width: number, height: number, channels: 1 | 2 | 3 | 4, value: number): Image {
  return createImage(width, height, channels, new Float32Array(width * height * channels).fill(value));
}

test('seeded: same seed same noise, different seed different noise', () => {
  const im = flat(50, 40, 1, 0.5);
  const a = addPixelModificationNoise(im, { fraction: 0.2, value: 'random', seed: 1 });
  assert.deepEqual(a.data, addPixelModificationNoise(im, { fraction: 0.2, value: 'random', seed: 1 }).data);
  assert.notDeepEqual(a.data, addPixelModificationNoise(im, { fraction: 0.2, value: 'random', seed: 2 }).data);
});

test("replaced fraction is fraction (4 binomial SE on 1e6 pixels), with 0, 1 or uniform values", () => {
  const n = 1000 * 1000;
  const im = flat(1000, 1000, 1, 0.5);
  const se = 4 * Math.sqrt((0.25 * 0.75) / n);
  const zero = addPixelModificationNoise(im, { fraction: 0.25, seed: 4 });
  const zeros = zero.data.filter((v) => v === 0).length;
  assert.ok(zero.data.every((v) => v === 0 || v === 0.5));
  assert.ok(Math.abs(zeros / n - 0.25) < se, `zero fraction ${zeros / n}`);
  const one = addPixelModificationNoise(im, { fraction: 0.25, value: 'one', seed: 4 });
  assert.ok(one.data.every((v) => v === 1 || v === 0.5));
  // the same seed picks the same pixels whatever the value
  for (let i = 0; i < n; i++) assert.equal(one.data[i] === 1, zero.data[i] === 0);
  const random = addPixelModificationNoise(im, { fraction: 0.25, value: 'random', seed: 4 });
  let m = 0;
  let count = 0;
  let below = 0;
  for (let i = 0; i < n; i++) {
    if (zero.data[i] !== 0) {
      assert.equal(random.data[i], 0.5);
      continue;
    }
    const v = random.data[i];
    assert.ok(v >= 0 && v <= 1);
    m += v;
    count++;
    if (v < 0.1) below++;
  }
  m /= count;
  // uniform on [0,1): mean 0.5 (SE 0.29 / sqrt(count)), P(v < 0.1) = 0.1
  assert.ok(Math.abs(m - 0.5) < 4 * (0.2887 / Math.sqrt(count)), `mean of random values ${m}`);
  assert.ok(Math.abs(below / count - 0.1) < 4 * Math.sqrt(0.09 / count), `fraction below 0.1: ${below / count}`);
});

test("per 'pixel' replaces all colour channels of a pixel; per 'sample' independently", () => {
  const im = flat(100, 100, 3, 0.5);
  const px = addPixelModificationNoise(im, { fraction: 0.4, value: 'one', seed: 1 });
  for (let p = 0; p < 10000; p++) {
    const s = px.data.subarray(p * 3, p * 3 + 3);
    assert.ok(s[0] === s[1] && s[1] === s[2]);
  }
  const sm = addPixelModificationNoise(im, { fraction: 0.4, value: 'one', seed: 1, per: 'sample' });
  let mixed = 0;
  for (let p = 0; p < 10000; p++) {
    const s = sm.data.subarray(p * 3, p * 3 + 3);
    if (s[0] !== s[1] || s[1] !== s[2]) mixed++;
  }
  assert.ok(mixed > 5000, `${mixed} mixed pixels`);
});

test('input, alpha and masked samples untouched; fraction 0 changes nothing', () => {
  const im = flat(20, 20, 2, 0.5);
  im.mask = new Uint8Array(im.data.length);
  for (let i = 0; i < 100; i++) im.mask[i] = 1;
  const before = im.data.slice();
  const y = addPixelModificationNoise(im, { fraction: 1, value: 'zero', seed: 1 });
  assert.deepEqual(im.data, before);
  for (let i = 0; i < y.data.length; i++) assert.equal(y.data[i], i % 2 === 1 || i < 100 ? 0.5 : 0, `sample ${i}`);
  assert.deepEqual(addPixelModificationNoise(im, { fraction: 0 }).data, im.data);
});

test('rejects bad options with the house-style message', () => {
  const im = flat(4, 4, 1, 0.5);
  const bad = (options: unknown): (() => void) => () => addPixelModificationNoise(im, options as { fraction: number });
  assert.throws(bad({}), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'addPixelModificationNoise: expected a finite number from 0 to 1 for options.fraction but received undefined.',
  });
  assert.throws(bad({ fraction: 2 }), {
    message: 'addPixelModificationNoise: expected a finite number from 0 to 1 for options.fraction but received 2 (number).',
  });
  assert.throws(bad({ fraction: 0.1, value: 'ones' }), {
    message: "addPixelModificationNoise: expected one of 'zero', 'one', 'random' for options.value but received 'ones' (string). Did you mean 'one'?",
  });
  assert.throws(bad({ fraction: 0.1, amount: 0.1 }), {
    message:
      "addPixelModificationNoise: expected only the options 'fraction', 'value', 'per', 'seed' for options but received 'amount' (string).",
  });
});
