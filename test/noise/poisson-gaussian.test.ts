import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type FitsMeta, type Image } from '../../src/core/image.js';
import { addPoissonGaussianNoise, fitsExposureTime } from '../../src/noise/poisson-gaussian.js';

function card(keyword: string, value: string, comment = ''): string {
  return `${keyword.padEnd(8)}= ${value.padStart(20)}${comment ? ` / ${comment}` : ''}`.padEnd(80);
}

function fitsMeta(cards: string[]): FitsMeta {
  return { cards, bitpix: -32, bscale: 1, bzero: 0, hdu: 0 };
}

/** columns in blocks of `values`, repeated down `height` rows */
function blocks(values: number[], blockWidth: number, height: number): Image {
  const width = values.length * blockWidth;
  const d = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) d[y * width + x] = values[Math.floor(x / blockWidth)];
  return createImage(width, height, 1, d);
}

test('seeded: same seed same noise, different seed different noise', () => {
  const im = blocks([0.5, 2, 10], 10, 10);
  const a = addPoissonGaussianNoise(im, { exposureTime: 300, ratio: 4, seed: 1 });
  assert.deepEqual(a.data, addPoissonGaussianNoise(im, { exposureTime: 300, ratio: 4, seed: 1 }).data);
  assert.notDeepEqual(a.data, addPoissonGaussianNoise(im, { exposureTime: 300, ratio: 4, seed: 2 }).data);
});

test('per pixel value: mean x and variance (x t/r + dk t/(3600 r) + ron^2) / (t/r)^2', () => {
  const values = [0.5, 2, 10, 100, -3];
  const blockWidth = 500;
  const height = 500;
  const t = 300;
  const r = 4;
  const dk = 7;
  const ron = 3;
  const y = addPoissonGaussianNoise(blocks(values, blockWidth, height), { exposureTime: t, ratio: r, seed: 8 });
  const width = values.length * blockWidth;
  const tr = t / r;
  values.forEach((x, b) => {
    const s: number[] = [];
    for (let row = 0; row < height; row++) for (let c = 0; c < blockWidth; c++) s.push(y.data[row * width + b * blockWidth + c]);
    const n = s.length;
    const mean = s.reduce((p, v) => p + v, 0) / n;
    const variance = s.reduce((p, v) => p + (v - mean) ** 2, 0) / (n - 1);
    // negative values are clipped to 0 electrons of signal but keep dark and read noise
    const xe = Math.max(0, x);
    const expected = (xe * tr + (dk * t) / (3600 * r) + ron * ron) / (tr * tr);
    assert.ok(Math.abs(mean - xe) < 5 * Math.sqrt(expected / n), `x ${x}: mean ${mean}, expected ${xe}`);
    // the variance of a sample variance is about 2 sigma^4 / n (near-normal here): 5 SE is 1.4%
    assert.ok(Math.abs(variance / expected - 1) < 5 * Math.sqrt(2 / n), `x ${x}: variance ${variance}, expected ${expected}`);
  });
});

test('pixels exactly 0 stay 0; dark current and read noise follow their parameters', () => {
  const im = blocks([0, 1], 300, 300);
  const y = addPoissonGaussianNoise(im, { exposureTime: 100, ratio: 2, darkCurrent: 0, readNoise: 0, seed: 4 });
  const width = 600;
  for (let row = 0; row < 300; row++) for (let c = 0; c < 300; c++) assert.equal(y.data[row * width + c], 0);
  // no dark or read noise: a pure Poisson count over t/r = 50 s
  for (let i = 300; i < 310; i++) {
    const k = y.data[i] * 50;
    assert.ok(Math.abs(k - Math.round(k)) < 1e-3, `count ${k}`);
  }
});

test("exposure time comes from the FITS EXPTIME card when the caller does not give one", () => {
  const im = blocks([1, 5], 8, 8);
  im.fits = fitsMeta([card('SIMPLE', 'T'), card('EXPTIME', '300.0', 'exposure time [s]'), card('GAIN', '1.5')]);
  assert.equal(fitsExposureTime(im), 300);
  const fromHeader = addPoissonGaussianNoise(im, { ratio: 3, seed: 2 });
  assert.deepEqual(fromHeader.data, addPoissonGaussianNoise(im, { exposureTime: 300, ratio: 3, seed: 2 }).data);
  assert.notDeepEqual(fromHeader.data, addPoissonGaussianNoise(im, { exposureTime: 30, ratio: 3, seed: 2 }).data);
  assert.equal(fromHeader.fits, im.fits);
  im.fits = fitsMeta([card('EXPTIME', '1.2D2')]);
  assert.equal(fitsExposureTime(im), 120);
  im.fits = fitsMeta([card('EXPTIME', "'45'")]);
  assert.equal(fitsExposureTime(im), 45);
  im.fits = fitsMeta([card('EXPOSURE', '45')]);
  assert.equal(fitsExposureTime(im), undefined);
});

test('input, alpha, masked and non-finite samples untouched', () => {
  const d = new Float32Array([5, 0.5, 7, 0.5, Number.NaN, 0.5, 9, 0.5]);
  const mask = new Uint8Array([0, 0, 1, 0, 0, 0, 0, 0]);
  const im = createImage(2, 2, 2, d.slice(), { mask });
  const y = addPoissonGaussianNoise(im, { exposureTime: 10, seed: 1 });
  assert.deepEqual(im.data, d);
  for (const i of [1, 3, 5, 7]) assert.equal(y.data[i], 0.5);
  assert.equal(y.data[2], 7);
  assert.ok(Number.isNaN(y.data[4]));
  assert.notEqual(y.data[0], 5);
  assert.notEqual(y.data[6], 9);
});

test('rejects bad options with the house-style message', () => {
  const im = blocks([1], 4, 4);
  const bad = (options: unknown, image = im): (() => void) => () => addPoissonGaussianNoise(image, options as object);
  assert.throws(bad({}), {
    code: 'ERR_INVALID_PARAMETER',
    message:
      'addPoissonGaussianNoise: expected a finite number above 0 for options.exposureTime but received undefined. The image has no FITS EXPTIME card to take it from.',
  });
  assert.throws(bad({ exposureTime: 0 }), {
    message: 'addPoissonGaussianNoise: expected a finite number above 0 for options.exposureTime but received 0 (number).',
  });
  assert.throws(bad({ exposureTime: 100, ratio: 0.5 }), {
    message: 'addPoissonGaussianNoise: expected a finite number of at least 1 for options.ratio but received 0.5 (number).',
  });
  assert.throws(bad({ exposureTime: 100, darkCurrent: -1 }), {
    message: 'addPoissonGaussianNoise: expected a finite number of at least 0 for options.darkCurrent but received -1 (number).',
  });
  assert.throws(bad({ exposureTime: 100, readNoise: Number.NaN }), {
    message: 'addPoissonGaussianNoise: expected a finite number of at least 0 for options.readNoise but received NaN (number).',
  });
  assert.throws(bad({ exposureTime: 100, ron: 3 }), {
    message:
      "addPoissonGaussianNoise: expected only the options 'exposureTime', 'ratio', 'darkCurrent', 'readNoise', 'seed' for options but received 'ron' (string).",
  });
  const withBadCard = blocks([1], 4, 4);
  withBadCard.fits = fitsMeta([card('EXPTIME', "'long'")]);
  assert.throws(bad({}, withBadCard), {
    message:
      "addPoissonGaussianNoise: expected a finite number above 0 for the FITS EXPTIME card but received 'long' (string). Pass options.exposureTime.",
  });
});
