import test from 'node:test';
import assert from 'node:assert/strict';
import { checkNumber, checkOneOf } from '../../src/core/validate.js';
import { createRng } from '../../src/core/rng.js';

test('checkNumber message follows the house style', () => {
  assert.throws(() => checkNumber('denoiseNlMeans', 'options.patchSize', 4, { odd: true, min: 3, max: 21 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'denoiseNlMeans: expected an odd integer from 3 to 21 for options.patchSize but received 4 (number).',
  });
  assert.throws(() => checkNumber('f', 'x', Number.NaN), /expected a finite number for x but received NaN \(number\)/);
  assert.equal(checkNumber('f', 'x', 0, { min: 0 }), 0);
});

test('checkOneOf suggests the closest choice', () => {
  assert.throws(() => checkOneOf('addNoise', 'options.kind', 'gauss', ['gaussian', 'poisson']), {
    message: "addNoise: expected one of 'gaussian', 'poisson' for options.kind but received 'gauss' (string). Did you mean 'gaussian'?",
  });
});

test('rng is seeded and reproducible', () => {
  const a = createRng(7);
  const b = createRng(7);
  const c = createRng(8);
  const xa = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xa, Array.from({ length: 5 }, () => b.next()));
  assert.notDeepEqual(xa, Array.from({ length: 5 }, () => c.next()));
  const n = createRng(1).fillNormal(new Float32Array(100000));
  let m = 0;
  let v = 0;
  for (const x of n) m += x;
  m /= n.length;
  for (const x of n) v += (x - m) ** 2;
  v /= n.length;
  assert.ok(Math.abs(m) < 0.01, `mean ${m}`);
  assert.ok(Math.abs(v - 1) < 0.02, `variance ${v}`);
});
