import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { psnr } from '../../src/metrics/index.js';
import { denoiseMedian, MEDIAN_DENOISER, type DenoiseMedianOptions } from '../../src/denoise/median.js';
import { selectKth } from '../../src/core/select.js';
import { diskOffsets } from '../../src/denoise/filters.js';
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
 * scikit-image 0.19.3 / scipy 1.10.1 (Debian bookworm), same float32 inputs g = noisy(9, 8, 1, 7)[..., 0],
 * rgb = noisy(7, 6, 3, 11):
 *   medianGrey = skimage.filters.median(g, disk(2))
 *   medianRgb  = stack([skimage.filters.median(rgb[..., c], disk(1)) for c in range(3)], axis=-1)
 */
const SKIMAGE = {
  medianGrey: [0.38977945, 0.38977945, 0.4026595, 0.6495024, 0.62127835, 0.543286, 0.57987165, 0.543286, 0.36656606, 0.56730103, 0.54238224, 0.4026595, 0.4026595, 0.62127835, 0.57987165, 0.53389037, 0.53389037, 0.36656606, 0.56730103, 0.54238224, 0.4026595, 0.39650267, 0.48361742, 0.49111405, 0.49111405, 0.49111405, 0.48967227, 0.54238224, 0.4026595, 0.4650413, 0.54238224, 0.48361742, 0.42450005, 0.49111405, 0.49111405, 0.48967227, 0.49002567, 0.4650413, 0.4650413, 0.4650413, 0.42450005, 0.49111405, 0.48361742, 0.47034574, 0.47034574, 0.42274296, 0.4650413, 0.4650413, 0.42274296, 0.48361742, 0.42450005, 0.49164036, 0.49164036, 0.52632415, 0.47948307, 0.4650413, 0.4650413, 0.5630694, 0.54990035, 0.42450005, 0.42173034, 0.53665495, 0.5474134, 0.74078184, 0.5630694, 0.5630694, 0.47948307, 0.53665495, 0.42173034, 0.53665495, 0.53665495, 0.5474134],
  medianRgb: [0.24575402, 0.31448415, 0.45410705, 0.33907992, 0.5568667, 0.67883515, 0.74860424, 0.23261873, 0.45908055, 0.39157587, 0.35431942, 0.45908055, 0.4966854, 0.46562698, 0.3316488, 0.4966854, 0.4577859, 0.3316488, 0.4887868, 0.4577859, 0.78926075, 0.5168019, 0.3524091, 0.33960915, 0.44826946, 0.5568667, 0.67883515, 0.37690932, 0.35141695, 0.5734926, 0.39157587, 0.35431942, 0.5734926, 0.4388599, 0.7205406, 0.60086423, 0.4241246, 0.46562698, 0.41479573, 0.4388599, 0.37284836, 0.41479573, 0.5168019, 0.6636431, 0.2814252, 0.44826946, 0.68970966, 0.6741584, 0.4798729, 0.35141695, 0.5734926, 0.37690932, 0.4744011, 0.5666945, 0.5034231, 0.46562698, 0.4962779, 0.5034231, 0.542588, 0.3812395, 0.51189804, 0.37284836, 0.3812395, 0.501314, 0.6351842, 0.2814252, 0.46962914, 0.7024841, 0.7265909, 0.4482554, 0.5054761, 0.6741584, 0.4798729, 0.4744011, 0.5666945, 0.5034231, 0.4744011, 0.5666945, 0.57589746, 0.48368493, 0.43544796, 0.51189804, 0.6120498, 0.20527369, 0.44734088, 0.5594327, 0.6711289, 0.44734088, 0.7024841, 0.6741584, 0.44734088, 0.5729231, 0.77772343, 0.44222566, 0.55744404, 0.618049, 0.57589746, 0.48368493, 0.618049, 0.44222566, 0.49167404, 0.6809861, 0.4354432, 0.6120498, 0.6809861, 0.49668592, 0.45753732, 0.72271305, 0.41921297, 0.7073442, 0.6163288, 0.41921297, 0.5729231, 0.19867662, 0.64064205, 0.6992402, 0.19867662, 0.64064205, 0.49167404, 0.51485866, 0.20356964, 0.48368493, 0.5884399, 0.20356964, 0.4085295, 0.6369712],
};

test('reproduces skimage.filters.median with a disk footprint exactly, grey and colour', () => {
  assertMatches(denoiseMedian(noisy(9, 8, 1, 7), { radius: 2 }).data, SKIMAGE.medianGrey, 'grey');
  assertMatches(denoiseMedian(noisy(7, 6, 3, 11), { radius: 1 }).data, SKIMAGE.medianRgb, 'rgb');
});

test('hand-checked 3x3, radius 1 (a plus sign), edges repeated', () => {
  const im = createImage(3, 3, 1, Float32Array.from([9, 1, 5, 3, 7, 2, 8, 4, 6], (v) => v / 10));
  const out = denoiseMedian(im, { radius: 1 });
  // centre: {1, 3, 7, 2, 4} -> 3; corner (0,0): {9, 9, 9, 1, 3} -> 9; edge (0,1): {1, 9, 1, 5, 7} -> 5
  assert.equal(out.data[4], Math.fround(0.3));
  assert.equal(out.data[0], Math.fround(0.9));
  assert.equal(out.data[1], Math.fround(0.5));
});

test('disk footprints are skimage.morphology.disk', () => {
  assert.equal(diskOffsets(1).length / 2, 5);
  assert.equal(diskOffsets(2).length / 2, 13);
  assert.equal(diskOffsets(3).length / 2, 29);
  assert.equal(diskOffsets(3, true).length / 2, 28);
  assert.deepEqual(Array.from(diskOffsets(1)), [-1, 0, 0, -1, 0, 0, 0, 1, 1, 0]);
});

test('selectKth finds every rank of shuffled values with ties', () => {
  const rng = createRng(5);
  for (let n = 1; n <= 40; n++) {
    const values = Array.from({ length: n }, () => Math.floor(rng.next() * 7));
    const sorted = [...values].sort((a, b) => a - b);
    for (let k = 0; k < n; k++) assert.equal(selectKth(Float64Array.from(values), n, k), sorted[k]);
  }
});

test('removes impulse noise and raises PSNR (seeded)', () => {
  const clean = testPattern(40, 36, 1);
  const rng = createRng(11);
  const noisyIm = { ...clean, data: clean.data.map((v) => (rng.next() < 0.1 ? (rng.next() < 0.5 ? 0 : 1) : v)) };
  const before = psnr(clean, noisyIm, { dataRange: 1 });
  const after = psnr(clean, denoiseMedian(noisyIm, { radius: 1 }), { dataRange: 1 });
  assert.ok(after > before + 8, `${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
  const gauss = withNoise(testPattern(40, 36, 3), 0.1, 12);
  assert.ok(psnr(testPattern(40, 36, 3), denoiseMedian(gauss, { radius: 2 }), { dataRange: 1 }) > psnr(testPattern(40, 36, 3), gauss, { dataRange: 1 }) + 3);
});

test('tiled on worker threads equals untiled exactly', async () => {
  const im = randomImage(37, 93, 3, 8);
  const whole = denoiseMedian(im, { radius: 3 });
  const tiled = await MEDIAN_DENOISER.denoise(im, { radius: 3 }, { threads: 2 });
  assert.deepEqual(tiled.data, whole.data);
});

test('alpha carried, NaN and masked samples filled then restored, never spread', () => {
  const im = randomImage(9, 8, 2, 4);
  im.data[(3 * 9 + 3) * 2] = NaN;
  const mask = new Uint8Array(im.data.length);
  mask[(6 * 9 + 1) * 2] = 1;
  im.data[(6 * 9 + 1) * 2] = -5;
  const out = denoiseMedian({ ...im, mask }, { radius: 2 });
  for (let i = 0; i < out.data.length; i++) {
    if (i % 2 === 1 || i === (3 * 9 + 3) * 2 || i === (6 * 9 + 1) * 2) assert.ok(Object.is(out.data[i], im.data[i]), `sample ${i}`);
    else assert.ok(out.data[i] >= 0 && out.data[i] <= 1, `sample ${i} = ${out.data[i]}`);
  }
});

test('tiny images: 1x1 unchanged; 2x2 radius 5 is the (upper) median of the clamped window', () => {
  const one = randomImage(1, 1, 1, 1);
  assert.deepEqual(denoiseMedian(one, { radius: 4 }).data, one.data);
  const im = createImage(2, 2, 1, Float32Array.of(0.1, 0.2, 0.3, 0.4));
  const out = denoiseMedian(im, { radius: 1 });
  // (0,0): {0.1 (up, clamped), 0.1 (left), 0.1, 0.2, 0.3} -> 0.1
  assert.equal(out.data[0], Math.fround(0.1));
  assert.ok(denoiseMedian(randomImage(1, 5, 3, 2), { radius: 3 }).data.every((v) => v >= 0 && v <= 1));
});

test('every option is validated with an exact message', () => {
  const im = randomImage(4, 4, 1, 2);
  const cases: [Record<string, unknown>, string][] = [
    [{ radius: 0 }, 'denoiseMedian: expected an integer from 1 to 50 for options.radius but received 0 (number).'],
    [{ radius: 1.5 }, 'denoiseMedian: expected an integer from 1 to 50 for options.radius but received 1.5 (number).'],
    [{ radius: 51 }, 'denoiseMedian: expected an integer from 1 to 50 for options.radius but received 51 (number).'],
    [{ size: 3 }, "denoiseMedian: expected only the options 'radius' for options but received 'size' (string)."],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => denoiseMedian(im, options as DenoiseMedianOptions), { code: 'ERR_INVALID_PARAMETER', message });
  }
  assert.equal(MEDIAN_DENOISER.id, 'median');
});
