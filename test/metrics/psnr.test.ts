import test from 'node:test';
import assert from 'node:assert/strict';
import { psnr } from '../../src/metrics/index.js';
import { createImage } from '../../src/core/image.js';

const grey = (v: number[]) => createImage(v.length, 1, 1, new Float32Array(v));

test('psnr of identical images is Infinity', () => {
  const a = grey([0.1, 0.2, 0.3]);
  assert.equal(psnr(a, a, { dataRange: 1 }), Infinity);
});

test('psnr = 10 log10(dataRange^2 / mse), hand-checked', () => {
  // a constant offset of 0.125: mse 1/64, so PSNR = 10 log10(64) = 60 log10(2)
  const a = grey([0, 0.5, 1, 0.25]);
  const b = grey([0.125, 0.625, 1.125, 0.375]);
  assert.equal(psnr(a, b, { dataRange: 1 }), 10 * Math.log10(64));
  assert.ok(Math.abs(psnr(a, b, { dataRange: 1 }) - 18.061799739838872) < 1e-12);
  // the same errors on the 0..255 scale: 16 / 8 on data in 0..255
  const a255 = grey([0, 128, 255, 64]);
  const b255 = grey([16, 112, 255, 64]);
  assert.equal(psnr(a255, b255, { dataRange: 255 }), 10 * Math.log10((255 * 255) / 128));
});

test('psnr does not clip: values outside the data range count as they are', () => {
  // error 2 on a range of 1: 10 log10(1/4) = -6.02 dB
  assert.equal(psnr(grey([2]), grey([0]), { dataRange: 1 }), 10 * Math.log10(0.25));
  assert.equal(psnr(grey([-0.5, 1.5]), grey([0, 1]), { dataRange: 1 }), 10 * Math.log10(4));
});

test('psnr requires an explicit, valid dataRange and no unknown options', () => {
  const a = grey([0]);
  const hint = 'Pass the range of possible values explicitly: 1 for images in [0,1], 255 for 0..255.';
  assert.throws(() => psnr(a, a, {} as never), {
    code: 'ERR_INVALID_PARAMETER',
    message: `psnr: expected a finite number above 0 for options.dataRange but received undefined. ${hint}`,
  });
  assert.throws(() => psnr(a, a, undefined as never), {
    message: `psnr: expected a finite number above 0 for options.dataRange but received undefined. ${hint}`,
  });
  assert.throws(() => psnr(a, a, { dataRange: 0 }), {
    message: 'psnr: expected a finite number above 0 for options.dataRange but received 0 (number).',
  });
  assert.throws(() => psnr(a, a, { dataRange: NaN }), {
    message: 'psnr: expected a finite number above 0 for options.dataRange but received NaN (number).',
  });
  assert.throws(() => psnr(a, a, { dataRange: '255' as never }), {
    message: "psnr: expected a finite number above 0 for options.dataRange but received '255' (string).",
  });
  assert.throws(() => psnr(a, a, { data_range: 1 } as never), {
    message: "psnr: expected only the options 'dataRange' for options but received 'data_range' (string).",
  });
  assert.throws(() => psnr(a, grey([0, 0]), { dataRange: 1 }), {
    message: 'psnr: expected an image the shape of reference, 1x1x1 (width x height x channels) for test but received 2x1x1.',
  });
});
