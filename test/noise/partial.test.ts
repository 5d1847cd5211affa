import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { addPartialNoise, partialNoiseRegions } from '../../src/noise/partial.js';
import { addGaussianNoise } from '../../src/noise/gaussian.js';
import { addSaltAndPepperNoise } from '../../src/noise/salt-and-pepper.js';

function ramp(width: number, height: number, channels: 1 | 2 | 3 | 4): Image {
  const d = new Float32Array(width * height * channels);
  for (let i = 0; i < d.length; i++) d[i] = 0.1 + 0.8 * ((i % 89) / 88);
  return createImage(width, height, channels, d);
}

test('the rectangles cover the fraction to within one rectangle row, and their union is the coverage map', () => {
  for (const [width, height] of [
    [256, 256],
    [101, 37],
    [640, 480],
  ]) {
    for (const fraction of [0.05, 0.3, 0.5, 0.9, 0.99]) {
      for (const maxRectSize of [0.1, 0.25, 1]) {
        const r = partialNoiseRegions(width, height, { fraction, maxRectSize, seed: 5 });
        const total = width * height;
        const widest = Math.max(1, Math.round(maxRectSize * width));
        const where = `${width}x${height} fraction ${fraction} maxRectSize ${maxRectSize}`;
        assert.ok(Math.abs(r.fraction - fraction) <= widest / total + 0.5 / total, `${where}: covers ${r.fraction}`);
        const union = new Uint8Array(total);
        for (const q of r.rectangles) {
          assert.ok(q.x >= 0 && q.y >= 0 && q.width >= 1 && q.height >= 1, where);
          assert.ok(q.x + q.width <= width && q.y + q.height <= height, `${where}: rectangle outside the image`);
          assert.ok(q.width <= widest && q.height <= Math.max(1, Math.round(maxRectSize * height)), `${where}: rectangle too big`);
          for (let y = q.y; y < q.y + q.height; y++) union.fill(1, y * width + q.x, y * width + q.x + q.width);
        }
        assert.deepEqual(union, r.covered, where);
        assert.equal(union.reduce((s, v) => s + v, 0) / total, r.fraction, where);
      }
    }
  }
  // on a 256x256 image with the default rectangles, within 0.1% of the image
  for (const fraction of [0.1, 0.3, 0.7]) {
    const r = partialNoiseRegions(256, 256, { fraction, seed: 1 });
    assert.ok(Math.abs(r.fraction - fraction) < 0.001, `covers ${r.fraction} for ${fraction}`);
    assert.ok(r.rectangles.length > 1);
  }
  assert.equal(partialNoiseRegions(10, 10, { fraction: 0 }).rectangles.length, 0);
  assert.deepEqual(partialNoiseRegions(10, 10, { fraction: 1 }).rectangles, [{ x: 0, y: 0, width: 10, height: 10 }]);
});

test('noise lands exactly inside the rectangles and equals the inner model there; the rest is untouched', () => {
  const im = ramp(120, 80, 3);
  const before = im.data.slice();
  const y = addPartialNoise(im, { inner: 'gaussian', fraction: 0.35, sigma: 0.1, seed: 11 });
  const full = addGaussianNoise(im, { sigma: 0.1, seed: 11 });
  const { covered } = partialNoiseRegions(120, 80, { fraction: 0.35, seed: 11 });
  assert.deepEqual(im.data, before);
  let changed = 0;
  for (let p = 0; p < covered.length; p++) {
    for (let c = 0; c < 3; c++) {
      const i = p * 3 + c;
      if (covered[p]) {
        assert.equal(y.data[i], full.data[i]);
        if (y.data[i] !== im.data[i]) changed++;
      } else assert.equal(y.data[i], im.data[i], `sample ${i} outside the rectangles changed`);
    }
  }
  const coveredCount = covered.reduce((s, v) => s + v, 0);
  assert.ok(changed > 0.999 * 3 * coveredCount, `${changed} of ${3 * coveredCount} covered samples changed`);
});

test('seeded: same seed same noise and rectangles, different seed different', () => {
  const im = ramp(64, 48, 1);
  const options = { inner: 'poisson' as const, fraction: 0.4, peak: 30, seed: 3 };
  const a = addPartialNoise(im, options);
  assert.deepEqual(a.data, addPartialNoise(im, options).data);
  assert.notDeepEqual(a.data, addPartialNoise(im, { ...options, seed: 4 }).data);
  assert.notDeepEqual(partialNoiseRegions(64, 48, { fraction: 0.4, seed: 3 }).covered, partialNoiseRegions(64, 48, { fraction: 0.4, seed: 4 }).covered);
});

test('the inner model keeps its rules: alpha and masked samples untouched, inner options passed through', () => {
  const im = ramp(40, 40, 4);
  im.mask = new Uint8Array(im.data.length);
  im.mask.fill(1, 0, 400);
  const y = addPartialNoise(im, { inner: 'salt-and-pepper', fraction: 1, amount: 1, saltRatio: 1, seed: 2 });
  assert.equal(y.mask, im.mask);
  for (let i = 0; i < y.data.length; i++) {
    if (i % 4 === 3 || i < 400) assert.equal(y.data[i], im.data[i], `sample ${i}`);
    else assert.equal(y.data[i], 1, `sample ${i}`);
  }
  // fraction 1 is the inner model on the whole image
  assert.deepEqual(
    addPartialNoise(im, { inner: 'salt-and-pepper', fraction: 1, amount: 0.3, seed: 6 }).data,
    addSaltAndPepperNoise(im, { amount: 0.3, seed: 6 }).data,
  );
  assert.deepEqual(addPartialNoise(im, { inner: 'gaussian', fraction: 0, sigma: 0.5 }).data, im.data);
});

test('rejects bad options with the house-style message', () => {
  const im = ramp(8, 8, 1);
  const bad = (options: unknown): (() => void) => () => addPartialNoise(im, options as Parameters<typeof addPartialNoise>[1]);
  const inners = "'gaussian', 'poisson', 'poisson-gaussian', 'salt-and-pepper', 'pixel-modification'";
  assert.throws(bad({ fraction: 0.3 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: `addPartialNoise: expected one of ${inners} for options.inner but received undefined.`,
  });
  assert.throws(bad({ inner: 'partial', fraction: 0.3 }), {
    message: `addPartialNoise: expected one of ${inners} for options.inner but received 'partial' (string).`,
  });
  assert.throws(bad({ inner: 'gausian', fraction: 0.3 }), {
    message: `addPartialNoise: expected one of ${inners} for options.inner but received 'gausian' (string). Did you mean 'gaussian'?`,
  });
  assert.throws(bad({ inner: 'gaussian', sigma: 0.1 }), {
    message: 'addPartialNoise: expected a finite number from 0 to 1 for options.fraction but received undefined.',
  });
  assert.throws(bad({ inner: 'gaussian', fraction: 0.3, maxRectSize: 0 }), {
    message: 'addPartialNoise: expected a finite number above 0 and at most 1 for options.maxRectSize but received 0 (number).',
  });
  assert.throws(bad({ inner: 'poisson', fraction: 0.3, sigma: 0.1 }), {
    message: "addPartialNoise: expected only the options 'inner', 'fraction', 'maxRectSize', 'seed', 'peak' for options but received 'sigma' (string).",
  });
  // the inner model validates its own options
  assert.throws(bad({ inner: 'gaussian', fraction: 0.3 }), {
    message: 'addGaussianNoise: expected a finite number of at least 0 for options.sigma but received undefined.',
  });
  assert.throws(() => partialNoiseRegions(0, 5, { fraction: 0.1 }), {
    message: 'partialNoiseRegions: expected an integer of at least 1 for width but received 0 (number).',
  });
});
