import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRng } from '../../src/core/rng.js';
import { applyMask, blindSpotMask, gridMask, randomMask } from '../../src/training/masking.js';

const shape = { n: 2, h: 28, w: 28, c: 1 };
const count = (m: Float32Array) => m.reduce((a, b) => a + b, 0);

test('grid masks: the w^2 phases cover every pixel exactly once', () => {
  const total = new Float32Array(2 * 28 * 28);
  for (let i = 0; i < 4; i++) for (let j = 0; j < 4; j++) gridMask(shape, 4, i, j).forEach((v, k) => (total[k] += v));
  assert.ok(total.every((v) => v === 1));
  assert.equal(count(gridMask(shape, 4, 1, 2)), 2 * 7 * 7);
});

test('blind spots: one per 14x14 box (0.5 %), all channels together', () => {
  const m = blindSpotMask({ n: 3, h: 28, w: 28, c: 3 }, 14, createRng(1));
  assert.equal(count(m), 3 * 4 * 3);
  for (let p = 0; p < m.length; p += 3) assert.ok(m[p] === m[p + 1] && m[p] === m[p + 2]);
  const r = randomMask(shape, 1 / 16, createRng(2));
  assert.ok(Math.abs(count(r) / (2 * 28 * 28) - 1 / 16) < 0.02);
});

test('replacements change only masked pixels and never copy the centre', () => {
  const rng = createRng(3);
  const x = new Float32Array(2 * 28 * 28).map(() => rng.next());
  const mask = gridMask(shape, 4, 1, 1);
  for (const how of ['interpolate', 'zero', 'neighbour', 'gaussian', 'donut'] as const) {
    const y = applyMask(x, mask, shape, how, createRng(4));
    for (let i = 0; i < x.length; i++) {
      if (mask[i] === 0) assert.equal(y[i], x[i], `${how} changed an unmasked pixel`);
      else assert.notEqual(y[i], x[i], `${how} kept a masked pixel`);
    }
  }
  // interpolate: the Noise2Self kernel [[.5 1 .5] [1 0 1] [.5 1 .5]] / 6
  const ones = new Float32Array(2 * 28 * 28).fill(1);
  ones[1 * 28 + 1] = 100;
  const z = applyMask(ones, mask, shape, 'interpolate', createRng(5));
  assert.equal(z[1 * 28 + 1], 1);
  assert.ok(Math.abs(z[5 * 28 + 5] - 1) < 1e-6);
  assert.equal(applyMask(x, mask, shape, 'zero', createRng(6))[28 + 1], 0);
});
