import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { mse, psnr } from '../../src/metrics/index.js';
import { denoiseDonutMedian, DONUT_MEDIAN_DENOISER, type DenoiseDonutMedianOptions } from '../../src/denoise/donut-median.js';
import { randomImage, testPattern } from '../helpers/images.js';

/** ((5x + 11y + 2xy + 3c) mod 13)/12 * 0.6 + 0.2 plus 0.3 (u - 0.5), u from a 31-bit LCG in y, x, c order; float32. */
function noisy(width: number, height: number, channels: Channels, seed: number): Image {
  const im = createImage(width, height, channels);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        s = (Math.imul(1103515245, s) + 12345) & 0x7fffffff;
        im.data[(y * width + x) * channels + c] = (((5 * x + 11 * y + 2 * x * y + 3 * c) % 13) / 12) * 0.6 + 0.2 + 0.3 * (s / 2 ** 31 - 0.5);
      }
    }
  }
  return im;
}

function withNoise(clean: Image, sigma: number, seed: number): Image {
  const rng = createRng(seed);
  return { ...clean, data: clean.data.map((v) => v + sigma * rng.normal()) };
}

/*
 * scipy 1.10.1 (Debian bookworm), same float32 input g = noisy(9, 8, 1, 7)[..., 0]:
 *   fp = skimage.morphology.disk(2); fp[2, 2] = 0
 *   donutGreyScipy = scipy.ndimage.median_filter(g, footprint=fp, mode='nearest')
 * equal except at border pixels where scipy's clamped footprint reads the pixel itself (hush leaves those out).
 */
const SCIPY = {
  donutGreyScipy: [0.38977945, 0.38977945, 0.4026595, 0.6495024, 0.62127835, 0.543286, 0.68081224, 0.543286, 0.36656606, 0.56730103, 0.62127835, 0.4026595, 0.4026595, 0.68081224, 0.62127835, 0.543286, 0.53389037, 0.47034574, 0.56730103, 0.56730103, 0.54238224, 0.39650267, 0.62127835, 0.53389037, 0.49111405, 0.49111405, 0.48967227, 0.54238224, 0.4026595, 0.54238224, 0.54990035, 0.48361742, 0.42450005, 0.53389037, 0.49111405, 0.48967227, 0.49002567, 0.49002567, 0.48361742, 0.4650413, 0.42450005, 0.56335825, 0.49111405, 0.47034574, 0.48967227, 0.4650413, 0.47948307, 0.54990035, 0.42274296, 0.48361742, 0.48361742, 0.52632415, 0.52632415, 0.52632415, 0.49002567, 0.4650413, 0.4650413, 0.57382345, 0.6048899, 0.42450005, 0.42173034, 0.5474134, 0.5474134, 0.74078184, 0.6939679, 0.5630694, 0.54990035, 0.53665495, 0.53665495, 0.53665495, 0.53665495, 0.5474134],
};

test('equals scipy median_filter with the donut footprint away from the border', () => {
  const out = denoiseDonutMedian(noisy(9, 8, 1, 7), { radius: 2 });
  for (let y = 2; y < 6; y++) for (let x = 2; x < 7; x++) assert.equal(out.data[y * 9 + x], Math.fround(SCIPY.donutGreyScipy[y * 9 + x]), `(${x}, ${y})`);
});

test('at the border: scipy\'s clamped footprint, minus the copies of the pixel itself', () => {
  // (0, 0) of a 3x3, radius 1: up and left clamp onto the pixel and are left out: {0.1, 0.3} -> 0.3
  // scipy reads {0.9, 0.9, 0.1, 0.3} there -> 0.9, the pixel's own value
  const im = createImage(3, 3, 1, Float32Array.from([9, 1, 5, 3, 7, 2, 8, 4, 6], (v) => v / 10));
  assert.equal(denoiseDonutMedian(im, { radius: 1 }).data[0], Math.fround(0.3));
});

test('hand-checked 3x3, radius 1: the centre is left out', () => {
  const im = createImage(3, 3, 1, Float32Array.from([9, 1, 5, 3, 7, 2, 8, 4, 6], (v) => v / 10));
  const out = denoiseDonutMedian(im, { radius: 1 });
  // centre: {1, 3, 2, 4} -> rank 2 of 4 (scipy's upper median) = 3; corner (0,0): {1, 3} -> 3;
  // edge (1,0): up clamps onto the pixel and is left out, {9, 5, 7} -> 7
  assert.equal(out.data[4], Math.fround(0.3));
  assert.equal(out.data[0], Math.fround(0.3));
  assert.equal(out.data[1], Math.fround(0.7));
});

test('J-invariant: the output at a pixel does not depend on that pixel, borders included', () => {
  const im = randomImage(11, 9, 1, 21);
  for (const radius of [1, 2, 3]) {
    const base = denoiseDonutMedian(im, { radius });
    for (let p = 0; p < im.data.length; p += 7) {
      for (const v of [-10, 0.5, 10]) {
        const changed = { ...im, data: im.data.slice() };
        changed.data[p] = v;
        assert.equal(denoiseDonutMedian(changed, { radius }).data[p], base.data[p], `radius ${radius}, pixel ${p}, value ${v}`);
      }
    }
  }
});

test('the self-supervised loss ranks radii as the true error does (seeded, sigma 0.1)', () => {
  const clean = testPattern(64, 64, 1);
  const noisyIm = withNoise(clean, 0.1, 31);
  const radii = [1, 2, 3, 4, 5, 6];
  const loss = radii.map((radius) => mse(noisyIm, denoiseDonutMedian(noisyIm, { radius })));
  const error = radii.map((radius) => mse(clean, denoiseDonutMedian(noisyIm, { radius })));
  const best = (a: number[]): number => radii[a.indexOf(Math.min(...a))];
  assert.equal(best(loss), best(error), `loss ${loss.map((v) => v.toFixed(5))}, error ${error.map((v) => v.toFixed(5))}`);
  // E loss = E error + sigma^2 for a J-invariant filter
  for (let i = 0; i < radii.length; i++) assert.ok(Math.abs(loss[i] - error[i] - 0.01) < 0.002, `radius ${radii[i]}`);
});

test('denoising raises PSNR (seeded, colour)', () => {
  const clean = testPattern(40, 36, 3);
  const noisyIm = withNoise(clean, 0.1, 13);
  assert.ok(psnr(clean, denoiseDonutMedian(noisyIm, { radius: 2 }), { dataRange: 1 }) > psnr(clean, noisyIm, { dataRange: 1 }) + 3);
});

test('tiled on worker threads equals untiled exactly', async () => {
  const im = randomImage(35, 91, 1, 8);
  const whole = denoiseDonutMedian(im, { radius: 3 });
  const tiled = await DONUT_MEDIAN_DENOISER.denoise(im, { radius: 3 }, { threads: 2 });
  assert.deepEqual(tiled.data, whole.data);
});

test('alpha carried, NaN and masked samples filled then restored, never spread', () => {
  const im = randomImage(9, 8, 4, 4);
  im.data[(3 * 9 + 3) * 4 + 1] = NaN;
  const mask = new Uint8Array(im.data.length);
  mask[(6 * 9 + 1) * 4 + 2] = 1;
  const out = denoiseDonutMedian({ ...im, mask }, { radius: 2 });
  for (let i = 0; i < out.data.length; i++) {
    if (i % 4 === 3 || i === (3 * 9 + 3) * 4 + 1 || i === (6 * 9 + 1) * 4 + 2) assert.ok(Object.is(out.data[i], im.data[i]), `sample ${i}`);
    else assert.ok(out.data[i] >= 0 && out.data[i] <= 1, `sample ${i} = ${out.data[i]}`);
  }
});

test('tiny images: 1x1 has no neighbour and is kept; 2x2 and 1x4 use the clamped ring without the pixel', () => {
  const one = randomImage(1, 1, 3, 1);
  assert.deepEqual(denoiseDonutMedian(one, { radius: 3 }).data, one.data);
  const im = createImage(2, 2, 1, Float32Array.of(0.1, 0.2, 0.3, 0.4));
  // radius 1 at (0,0): {0.2, 0.3} -> upper median 0.3; radius 2 at (1,1): {0.2, 0.1, 0.2, 0.2, 0.3, 0.3, 0.3} -> 0.2
  assert.equal(denoiseDonutMedian(im, { radius: 1 }).data[0], Math.fround(0.3));
  assert.equal(denoiseDonutMedian(im, { radius: 2 }).data[3], Math.fround(0.2));
  assert.ok(denoiseDonutMedian(randomImage(1, 4, 1, 2), { radius: 2 }).data.every((v) => v >= 0 && v <= 1));
});

test('every option is validated with an exact message', () => {
  const im = randomImage(4, 4, 1, 2);
  const cases: [Record<string, unknown>, string][] = [
    [{ radius: 0 }, 'denoiseDonutMedian: expected an integer from 1 to 50 for options.radius but received 0 (number).'],
    [{ radius: -2 }, 'denoiseDonutMedian: expected an integer from 1 to 50 for options.radius but received -2 (number).'],
    [{ radius: NaN }, 'denoiseDonutMedian: expected an integer from 1 to 50 for options.radius but received NaN (number).'],
    [{ radiu: 2 }, "denoiseDonutMedian: expected only the options 'radius' for options but received 'radiu' (string)."],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => denoiseDonutMedian(im, options as DenoiseDonutMedianOptions), { code: 'ERR_INVALID_PARAMETER', message });
  }
  assert.equal(DONUT_MEDIAN_DENOISER.id, 'donut-median');
});
