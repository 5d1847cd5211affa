import test from 'node:test';
import assert from 'node:assert/strict';
import { mse } from '../../src/metrics/index.js';
import { createImage, type Channels } from '../../src/core/image.js';

const img = (w: number, h: number, c: Channels, v: number[], mask?: number[]) =>
  createImage(w, h, c, new Float32Array(v), mask ? { mask: new Uint8Array(mask) } : {});

test('mse of tiny hand-checkable arrays', () => {
  const a = img(2, 2, 1, [0, 0.5, 1, 0.25]);
  assert.equal(mse(a, a), 0);
  // squared errors 0.25, 0, 1, 0
  assert.equal(mse(a, img(2, 2, 1, [0.5, 0.5, 0, 0.25])), 0.3125);
  // a constant offset of 0.125 everywhere: 0.125^2
  assert.equal(mse(a, img(2, 2, 1, [0.125, 0.625, 1.125, 0.375])), 0.015625);
});

test('mse is taken over colour samples in float64; alpha is ignored', () => {
  const rgb = img(2, 1, 3, [0, 0, 0, 1, 1, 1]);
  assert.equal(mse(rgb, img(2, 1, 3, [0.5, 0, 0, 1, 1, 0])), (0.25 + 1) / 6);
  // alpha differs completely, colour is equal
  assert.equal(mse(img(2, 1, 4, [0.2, 0.3, 0.4, 1, 0, 0, 0, 0]), img(2, 1, 4, [0.2, 0.3, 0.4, 0, 0, 0, 0, 1])), 0);
  assert.equal(mse(img(2, 1, 2, [0.5, 1, 0.25, 1]), img(2, 1, 2, [0, 0, 0.25, 0])), 0.125);
  // float32 inputs, float64 arithmetic: 0.1f - 0.3f squared, not rounded to float32
  const d = Math.fround(0.1) - Math.fround(0.3);
  assert.equal(mse(img(1, 1, 1, [0.1]), img(1, 1, 1, [0.3])), d * d);
});

test('mse excludes samples masked in either image', () => {
  const a = img(3, 1, 1, [0, 0, NaN], [0, 0, 1]);
  const b = img(3, 1, 1, [0.5, 0, 7]);
  assert.equal(mse(a, b), 0.125);
  assert.equal(mse(b, a), 0.125);
  const c = img(3, 1, 1, [0.5, 9, 7], [0, 1, 0]);
  assert.equal(mse(a, c), 0.25); // only sample 0 is unmasked in both
  assert.throws(() => mse(img(1, 1, 1, [0], [1]), img(1, 1, 1, [0])), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'mse: every colour sample is masked in reference or test; there is nothing to compare.',
  });
});

test('mse rejects mismatched shapes and non-images with exact messages', () => {
  assert.throws(() => mse(img(2, 1, 3, [0, 0, 0, 0, 0, 0]), img(2, 1, 1, [0, 0])), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'mse: expected an image the shape of reference, 2x1x3 (width x height x channels) for test but received 2x1x1.',
  });
  assert.throws(() => mse(img(1, 2, 1, [0, 0]), img(2, 1, 1, [0, 0])), {
    message: 'mse: expected an image the shape of reference, 1x2x1 (width x height x channels) for test but received 2x1x1.',
  });
  assert.throws(() => mse({ data: [1] } as never, img(1, 1, 1, [0])), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'mse: expected a Float32Array for reference.data but received an array of length 1.',
  });
});
