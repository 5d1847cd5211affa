import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { psnr } from '../../src/metrics/index.js';
import { denoiseGaussian, GAUSSIAN_DENOISER, type DenoiseGaussianOptions } from '../../src/denoise/gaussian.js';
import { gaussianKernel, gaussianRadius, mirrorIndex, nearestIndex, symmetricIndex } from '../../src/denoise/filters.js';
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

/** float32 references (shortest repr) against a result, within `tolerance` (0: bit for bit) */
function assertMatches(actual: Float32Array, reference: number[], what: string, tolerance = 0): void {
  assert.equal(actual.length, reference.length, what);
  let worst = 0;
  for (let i = 0; i < reference.length; i++) worst = Math.max(worst, Math.abs(actual[i] - Math.fround(reference[i])));
  assert.ok(worst <= tolerance, `${what}: max |difference| ${worst} over ${tolerance}`);
}

/*
 * scipy 1.10.1 (Debian bookworm), same float32 inputs g = noisy(9, 8, 1, 7)[..., 0], rgb = noisy(7, 6, 3, 11):
 *   gaussianGrey = scipy.ndimage.gaussian_filter(g, 1.3, mode='reflect', truncate=4.0)
 *   gaussianRgb  = scipy.ndimage.gaussian_filter(rgb, (0.7, 0.7, 0), mode='reflect', truncate=4.0)
 */
const SCIPY = {
  gaussianGrey: [0.45203838, 0.48107094, 0.5160075, 0.5302199, 0.5286193, 0.52359235, 0.51270056, 0.48014024, 0.43567872, 0.48951435, 0.4925571, 0.5048089, 0.51355684, 0.5119822, 0.508056, 0.5032977, 0.4838895, 0.4540659, 0.5088301, 0.48585996, 0.47662917, 0.48991174, 0.50447655, 0.5099475, 0.5083139, 0.49546352, 0.47630638, 0.48993686, 0.4641167, 0.45313796, 0.47453526, 0.50131994, 0.50947976, 0.5038869, 0.4922991, 0.479516, 0.4590113, 0.45039698, 0.4516284, 0.46921688, 0.48417702, 0.48244232, 0.47539064, 0.4721445, 0.46988413, 0.45702398, 0.46372116, 0.46920934, 0.46916437, 0.4656123, 0.46097484, 0.46079037, 0.4674669, 0.4754813, 0.5067139, 0.51020557, 0.5019377, 0.48065525, 0.46779716, 0.4688243, 0.47326785, 0.48211285, 0.49596012, 0.5679252, 0.5583458, 0.53336495, 0.49943885, 0.48298937, 0.48434836, 0.48521078, 0.49200177, 0.50972986],
  gaussianRgb: [0.3393835, 0.38091755, 0.5051892, 0.42621982, 0.449958, 0.63880616, 0.60127574, 0.3318901, 0.53223574, 0.48269767, 0.40966156, 0.44675142, 0.50806993, 0.4958138, 0.32677045, 0.66362906, 0.4543832, 0.3799593, 0.5320061, 0.43597925, 0.6127992, 0.49490416, 0.4639655, 0.4312688, 0.44454277, 0.5236708, 0.6003458, 0.5269907, 0.3941202, 0.5742743, 0.45249355, 0.46779, 0.5411666, 0.39615834, 0.5527355, 0.48413688, 0.47930536, 0.5663912, 0.37331003, 0.46967238, 0.42531025, 0.43967634, 0.5110787, 0.61123455, 0.36627594, 0.4306064, 0.603108, 0.5885819, 0.39563915, 0.42447644, 0.5801955, 0.4760485, 0.37951928, 0.5003137, 0.49794382, 0.49990743, 0.5433048, 0.52574486, 0.50671166, 0.4243032, 0.6187638, 0.40306452, 0.35709783, 0.48396504, 0.6376256, 0.38039583, 0.45374095, 0.63779676, 0.626835, 0.4158406, 0.51970595, 0.68291444, 0.45036948, 0.44212875, 0.57323486, 0.5818456, 0.39444205, 0.52496815, 0.60049903, 0.43532383, 0.40404683, 0.5700596, 0.5639294, 0.33579335, 0.4583799, 0.5885563, 0.6091537, 0.44890523, 0.6437, 0.6975189, 0.4418711, 0.6051346, 0.6634903, 0.45564574, 0.60068, 0.5871032, 0.5111018, 0.47364727, 0.62332034, 0.48259854, 0.47193494, 0.5884312, 0.4242558, 0.5628274, 0.5699103, 0.4702934, 0.5374857, 0.6926272, 0.43971995, 0.6491448, 0.5890445, 0.47063068, 0.6606276, 0.36463022, 0.5804242, 0.6802715, 0.35490337, 0.5159032, 0.43835276, 0.52567005, 0.28551716, 0.43807933, 0.6059634, 0.24279301, 0.4608554, 0.63576525],
};

test('reproduces scipy.ndimage.gaussian_filter(mode=reflect) bit for bit, grey and colour', () => {
  assertMatches(denoiseGaussian(noisy(9, 8, 1, 7), { sigmaSpatial: 1.3 }).data, SCIPY.gaussianGrey, 'grey');
  assertMatches(denoiseGaussian(noisy(7, 6, 3, 11), { sigmaSpatial: 0.7 }).data, SCIPY.gaussianRgb, 'rgb');
});

test('kernel: radius round(4 sigma), weights exp(-x^2 / 2 sigma^2) summing to 1', () => {
  assert.equal(gaussianRadius(1), 4);
  assert.equal(gaussianRadius(0.6), 2);
  assert.equal(gaussianRadius(0.65), 3);
  const k = gaussianKernel(1, 4);
  const z = 1 + 2 * (Math.exp(-0.5) + Math.exp(-2) + Math.exp(-4.5) + Math.exp(-8));
  assert.equal(k.length, 9);
  assert.ok(Math.abs(k[4] - 1 / z) < 1e-16);
  assert.ok(Math.abs(k[5] - Math.exp(-0.5) / z) < 1e-16);
  assert.ok(Math.abs(k[0] - Math.exp(-8) / z) < 1e-16);
  assert.equal(k[3], k[5]);
});

test("border rules: scipy 'reflect', numpy 'reflect' (mirror) and 'nearest', for any distance out", () => {
  assert.deepEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((k) => symmetricIndex(k, 3)), [2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0]);
  assert.deepEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 6].map((k) => mirrorIndex(k, 3)), [0, 1, 2, 1, 0, 1, 2, 1, 0, 1, 2]);
  assert.deepEqual([-2, 0, 1, 3].map((k) => mirrorIndex(k, 1)), [0, 0, 0, 0]);
  assert.deepEqual([-2, 0, 1, 3].map((k) => symmetricIndex(k, 1)), [0, 0, 0, 0]);
  assert.deepEqual([-2, 0, 2, 3].map((k) => nearestIndex(k, 3)), [0, 0, 2, 2]);
});

test('hand-checked: a centred delta gives the outer product of the kernel; a 2x1 step reflects', () => {
  const im = createImage(5, 5, 1);
  im.data[12] = 1;
  const k = gaussianKernel(0.5, 2);
  const out = denoiseGaussian(im, { sigmaSpatial: 0.5 });
  for (let y = 0; y < 5; y++) for (let x = 0; x < 5; x++) assert.equal(out.data[y * 5 + x], Math.fround(Math.fround(k[y]) * k[x]));
  // [0, 1] extended as 1 0 | 0 1 | 1 0: out[0] = w1 (0 + 1) + w2 (1 + 1)
  const step = denoiseGaussian(createImage(2, 1, 1, Float32Array.of(0, 1)), { sigmaSpatial: 0.5 });
  assert.equal(step.data[0], Math.fround(k[3] + 2 * k[4]));
  assert.equal(step.data[1], Math.fround(k[2] + k[3] + 0));
});

test('denoising raises PSNR (seeded, grey and colour)', () => {
  for (const channels of [1, 3] as const) {
    const clean = testPattern(40, 36, channels);
    const noisyIm = withNoise(clean, 0.1, 7 + channels);
    const before = psnr(clean, noisyIm, { dataRange: 1 });
    const after = psnr(clean, denoiseGaussian(noisyIm, { sigmaSpatial: 1 }), { dataRange: 1 });
    assert.ok(after > before + 3, `${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
  }
});

test('tiled on worker threads equals untiled exactly', async () => {
  const im = randomImage(41, 97, 3, 5);
  for (const sigmaSpatial of [0.8, 2.2]) {
    const whole = denoiseGaussian(im, { sigmaSpatial });
    const tiled = await GAUSSIAN_DENOISER.denoise(im, { sigmaSpatial }, { threads: 2 });
    assert.deepEqual(tiled.data, whole.data, `sigmaSpatial ${sigmaSpatial}`);
  }
});

test('alpha carried, NaN and masked samples filled then restored, never spread', () => {
  const im = randomImage(10, 9, 4, 3);
  im.data[(4 * 10 + 4) * 4 + 2] = NaN;
  const mask = new Uint8Array(im.data.length);
  mask[(1 * 10 + 8) * 4] = 1;
  im.data[(1 * 10 + 8) * 4] = 1e6;
  const out = denoiseGaussian({ ...im, mask }, { sigmaSpatial: 1.5 });
  for (let i = 0; i < out.data.length; i++) {
    if (i % 4 === 3 || i === (4 * 10 + 4) * 4 + 2 || i === (1 * 10 + 8) * 4) assert.ok(Object.is(out.data[i], im.data[i]), `sample ${i}`);
    else assert.ok(out.data[i] >= 0 && out.data[i] <= 1, `sample ${i} = ${out.data[i]}`);
  }
  // the hole is filled with the mean of its 8 neighbours before filtering
  const hole = createImage(3, 3, 1, Float32Array.of(1, 2, 3, 4, NaN, 6, 7, 8, 9));
  const filled = createImage(3, 3, 1, Float32Array.of(1, 2, 3, 4, 5, 6, 7, 8, 9));
  const a = denoiseGaussian(hole, { sigmaSpatial: 1 });
  const b = denoiseGaussian(filled, { sigmaSpatial: 1 });
  for (let i = 0; i < 9; i++) if (i !== 4) assert.equal(a.data[i], b.data[i]);
  assert.ok(Number.isNaN(a.data[4]));
});

test('tiny images: 1x1 unchanged, 2x2 and 1x3 with a wide kernel stay in range', () => {
  const one = randomImage(1, 1, 3, 1);
  assert.deepEqual(denoiseGaussian(one, { sigmaSpatial: 3 }).data, one.data);
  for (const [w, h] of [[2, 2], [1, 3], [3, 1]]) {
    const im = randomImage(w, h, 1, w + h);
    const out = denoiseGaussian(im, { sigmaSpatial: 5 });
    const mean = im.data.reduce((s, v) => s + v, 0) / im.data.length;
    // a kernel much wider than the image averages the reflected image: close to the mean
    assert.ok(out.data.every((v) => Math.abs(v - mean) < 0.05), `${w}x${h}`);
  }
});

test('every option is validated with an exact message', () => {
  const im = randomImage(4, 4, 1, 2);
  const cases: [Record<string, unknown>, string][] = [
    [{ sigmaSpatial: 0 }, 'denoiseGaussian: expected a finite number above 0 and at most 100 for options.sigmaSpatial but received 0 (number).'],
    [{ sigmaSpatial: 101 }, 'denoiseGaussian: expected a finite number above 0 and at most 100 for options.sigmaSpatial but received 101 (number).'],
    [{ sigmaSpatial: '1' }, "denoiseGaussian: expected a finite number above 0 and at most 100 for options.sigmaSpatial but received '1' (string)."],
    [{ sigma: 1 }, "denoiseGaussian: expected only the options 'sigmaSpatial' for options but received 'sigma' (string)."],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => denoiseGaussian(im, options as DenoiseGaussianOptions), { code: 'ERR_INVALID_PARAMETER', message });
  }
  assert.equal(GAUSSIAN_DENOISER.id, 'gaussian');
});
