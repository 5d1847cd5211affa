import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { addSaltAndPepperNoise } from '../../src/noise/salt-and-pepper.js';

function flat(width: number, height: number, channels: 1 | 2 | 3 | 4, value: number): Image {
  return createImage(width, height, channels, new Float32Array(width * height * channels).fill(value));
}

test('seeded: same seed same noise, different seed different noise', () => {
  const im = flat(50, 40, 1, 0.5);
  const a = addSaltAndPepperNoise(im, { amount: 0.2, seed: 1 });
  assert.deepEqual(a.data, addSaltAndPepperNoise(im, { amount: 0.2, seed: 1 }).data);
  assert.notDeepEqual(a.data, addSaltAndPepperNoise(im, { amount: 0.2, seed: 2 }).data);
});

test('hit fraction is amount and salt share is saltRatio (within 4 binomial SE on 1e6 pixels)', () => {
  const n = 1000 * 1000;
  const y = addSaltAndPepperNoise(flat(1000, 1000, 1, 0.5), { amount: 0.1, saltRatio: 0.3, seed: 7 });
  let salt = 0;
  let pepper = 0;
  for (const v of y.data) {
    if (v === 1) salt++;
    else if (v === 0) pepper++;
    else assert.equal(v, 0.5);
  }
  const hits = salt + pepper;
  assert.ok(Math.abs(hits / n - 0.1) < 4 * Math.sqrt((0.1 * 0.9) / n), `hit fraction ${hits / n}`);
  assert.ok(Math.abs(salt / hits - 0.3) < 4 * Math.sqrt((0.3 * 0.7) / hits), `salt share ${salt / hits}`);
});

test("per 'pixel' sets every colour channel alike; per 'sample' picks samples independently", () => {
  const im = flat(200, 100, 3, 0.5);
  const byPixel = addSaltAndPepperNoise(im, { amount: 0.3, seed: 3 });
  let mixed = 0;
  let hit = 0;
  for (let p = 0; p < 200 * 100; p++) {
    const [r, g, b] = byPixel.data.subarray(p * 3, p * 3 + 3);
    if (r !== 0.5 || g !== 0.5 || b !== 0.5) hit++;
    if (r !== g || g !== b) mixed++;
  }
  assert.equal(mixed, 0);
  assert.ok(Math.abs(hit / 20000 - 0.3) < 0.02, `pixel hit fraction ${hit / 20000}`);
  const bySample = addSaltAndPepperNoise(im, { amount: 0.3, seed: 3, per: 'sample' });
  let changed = 0;
  mixed = 0;
  for (let p = 0; p < 200 * 100; p++) {
    const [r, g, b] = bySample.data.subarray(p * 3, p * 3 + 3);
    changed += Number(r !== 0.5) + Number(g !== 0.5) + Number(b !== 0.5);
    if (r !== g || g !== b) mixed++;
  }
  assert.ok(mixed > 5000, `${mixed} pixels with channels hit differently`);
  assert.ok(Math.abs(changed / 60000 - 0.3) < 0.015, `sample hit fraction ${changed / 60000}`);
});

test('low and high set the pepper and salt values (physical-scale images); amount 0 changes nothing', () => {
  const im = flat(100, 100, 1, 500);
  const y = addSaltAndPepperNoise(im, { amount: 0.5, low: -10, high: 65535, seed: 1 });
  const values = new Set(y.data);
  assert.deepEqual([...values].sort((a, b) => a - b), [-10, 500, 65535]);
  assert.deepEqual(addSaltAndPepperNoise(im, { amount: 0 }).data, im.data);
  assert.ok(addSaltAndPepperNoise(im, { amount: 1, saltRatio: 1 }).data.every((v) => v === 1));
  assert.ok(addSaltAndPepperNoise(im, { amount: 1, saltRatio: 0 }).data.every((v) => v === 0));
});

test('input, alpha and masked samples untouched', () => {
  const im = flat(30, 30, 4, 0.5);
  im.mask = new Uint8Array(im.data.length);
  for (let i = 0; i < im.mask.length; i += 8) im.mask[i] = 1;
  const before = im.data.slice();
  const y = addSaltAndPepperNoise(im, { amount: 1, seed: 2 });
  assert.deepEqual(im.data, before);
  for (let i = 0; i < y.data.length; i++) {
    if (i % 4 === 3 || im.mask[i]) assert.equal(y.data[i], 0.5, `sample ${i}`);
    else assert.ok(y.data[i] === 0 || y.data[i] === 1, `sample ${i}`);
  }
});

test('rejects bad options with the house-style message', () => {
  const im = flat(4, 4, 1, 0.5);
  const bad = (options: unknown): (() => void) => () => addSaltAndPepperNoise(im, options as object);
  assert.throws(bad({ amount: 1.5 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'addSaltAndPepperNoise: expected a finite number from 0 to 1 for options.amount but received 1.5 (number).',
  });
  assert.throws(bad({ saltRatio: -0.1 }), {
    message: 'addSaltAndPepperNoise: expected a finite number from 0 to 1 for options.saltRatio but received -0.1 (number).',
  });
  assert.throws(bad({ high: Infinity }), {
    message: 'addSaltAndPepperNoise: expected a finite number for options.high but received Infinity (number).',
  });
  assert.throws(bad({ per: 'samples' }), {
    message: "addSaltAndPepperNoise: expected one of 'pixel', 'sample' for options.per but received 'samples' (string). Did you mean 'sample'?",
  });
  assert.throws(bad({ salt_vs_pepper: 0.5 }), {
    message:
      "addSaltAndPepperNoise: expected only the options 'amount', 'saltRatio', 'low', 'high', 'per', 'seed' for options but received 'salt_vs_pepper' (string).",
  });
});
