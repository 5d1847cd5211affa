import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { psnr } from '../../src/metrics/index.js';
import { BILATERAL_DENOISER, bilateralSpatialWeights, defaultWinSize, denoiseBilateral, type DenoiseBilateralOptions } from '../../src/denoise/bilateral.js';
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
 * scikit-image 0.19.3 (Debian bookworm), same float32 inputs g = noisy(9, 8, 1, 7)[..., 0], rgb = noisy(7, 6, 3, 11):
 *   bilateralGrey     = denoise_bilateral(g)                    (sigma_color = g.std(), win_size 5, mode 'constant')
 *   bilateralGreyEdge = denoise_bilateral(g - 0.5, sigma_color=0.2, sigma_spatial=1.2, win_size=5, mode='edge', bins=500)
 *   bilateralRgb      = denoise_bilateral(rgb, sigma_color=0.1, sigma_spatial=1, mode='reflect', channel_axis=-1)
 */
const SKIMAGE = {
  bilateralGrey: [0.068486534, 0.40702283, 0.6056175, 0.3791177, 0.6687764, 0.6998177, 0.5363276, 0.6647378, 0.23660381, 0.60410005, 0.39282364, 0.60024154, 0.54262304, 0.36034653, 0.39299306, 0.20115836, 0.5489333, 0.44124818, 0.6181151, 0.34509522, 0.1780474, 0.5485878, 0.45326686, 0.45572498, 0.6032941, 0.4674883, 0.44188315, 0.43830925, 0.4673209, 0.37153, 0.37361383, 0.5697944, 0.5750968, 0.5353152, 0.54887146, 0.42832845, 0.4393519, 0.27752972, 0.39499912, 0.5289495, 0.50855476, 0.44051751, 0.34225425, 0.56105185, 0.3785725, 0.17416923, 0.36770952, 0.44865504, 0.52375275, 0.5878961, 0.14449468, 0.38403624, 0.32698804, 0.51716167, 0.073398605, 0.4999774, 0.6610458, 0.034947824, 0.15366012, 0.59242517, 0.5790035, 0.46554983, 0.45393568, 0.66217417, 0.36779097, 0.57585955, 0.2850103, 0.5417569, 0.2960993, 0.40985796, 0.004622214, 0.39955655],
  bilateralGreyEdge: [0.0758135, 0.024180591, 0.035124242, -0.043875962, 0.0923641, 0.06995824, -0.043762565, 0.024180472, -0.14104593, 0.10792747, 0.0671227, 0.038075626, -0.056380898, -0.12054843, 0.05561784, -0.034623027, 0.024261177, -0.025987715, 0.009044349, -0.0110913515, -0.064789444, -0.03309223, -0.057510614, -0.008014977, 0.04305482, -0.018217772, -0.040810823, -0.089681774, -0.075214714, -0.053040475, -0.04129538, 0.025091678, 0.04505256, -0.06082815, -0.08939761, -0.07149458, -0.14045185, -0.108068585, -0.040578067, -0.0070802867, -0.062674075, -0.051349103, -0.03712979, -0.006426394, -0.030967504, -0.00023514032, 0.005186677, 0.026340216, 0.03452781, 0.032693684, -0.113963544, -0.027677953, -0.0304299, 0.010024399, 0.15753463, 0.13981596, 0.115701765, -0.01305899, 0.02145639, -0.006681323, 0.035428584, -0.020220071, 0.0093096495, 0.2887768, 0.14776, 0.15181002, 0.023847252, 0.08753732, -0.027859151, 0.037545502, -0.040109545, 0.03994271],
  bilateralRgb: [0.344135, 0.44191313, 0.54244393, 0.4039472, 0.6158267, 0.64684016, 0.63933873, 0.47204706, 0.40828866, 0.41846794, 0.48728564, 0.5409145, 0.46156606, 0.47128853, 0.46306458, 0.6994628, 0.23465909, 0.37718257, 0.43732378, 0.57970566, 0.6027586, 0.5000919, 0.4014727, 0.5225456, 0.41835004, 0.61453396, 0.6875235, 0.49677697, 0.60669273, 0.58234525, 0.44338086, 0.6257566, 0.6714342, 0.38061398, 0.5532424, 0.6583444, 0.40722752, 0.55045, 0.4920717, 0.48747593, 0.43966255, 0.5244206, 0.41692123, 0.59423447, 0.55323356, 0.45046186, 0.62830913, 0.7393129, 0.43509057, 0.60459536, 0.62999356, 0.59627616, 0.43093696, 0.36815682, 0.44218442, 0.6241113, 0.7200214, 0.4081034, 0.5472517, 0.6507381, 0.623681, 0.26536202, 0.4636223, 0.45371404, 0.64096904, 0.305503, 0.44499466, 0.6309256, 0.7185856, 0.45711464, 0.6043048, 0.7223899, 0.44032982, 0.61178267, 0.6523726, 0.57582235, 0.43265587, 0.43780833, 0.5954381, 0.4044056, 0.41331774, 0.5281175, 0.6825971, 0.4630682, 0.4285233, 0.62893116, 0.7043899, 0.44753072, 0.63474023, 0.7549909, 0.4557855, 0.6132837, 0.72937495, 0.43723014, 0.59910685, 0.7104382, 0.43448564, 0.58989584, 0.73943305, 0.4714337, 0.51852345, 0.6691557, 0.44889528, 0.57412606, 0.6625313, 0.41976604, 0.5882667, 0.6882797, 0.46181953, 0.6429501, 0.66927004, 0.47392616, 0.6227841, 0.3177738, 0.47625238, 0.6326686, 0.43241864, 0.5001542, 0.40557417, 0.5650787, 0.37428737, 0.5184461, 0.6355037, 0.4177145, 0.5423643, 0.5867093],
};

test("weights 'skimage-0.19' reproduce scikit-image within 2 float32 steps (it sums in float32)", () => {
  const tol = 2.5e-7;
  const g = noisy(9, 8, 1, 7);
  assertMatches(denoiseBilateral(g, { weights: 'skimage-0.19' }).data, SKIMAGE.bilateralGrey, 'grey, defaults', tol);
  const shifted = { ...g, data: g.data.map((v) => v - 0.5) };
  const edge = denoiseBilateral(shifted, { sigmaColor: 0.2, sigmaSpatial: 1.2, winSize: 5, mode: 'edge', bins: 500, weights: 'skimage-0.19' });
  assertMatches(edge.data, SKIMAGE.bilateralGreyEdge, 'grey, negative values, edge', tol);
  const rgb = denoiseBilateral(noisy(7, 6, 3, 11), { sigmaColor: 0.1, sigmaSpatial: 1, mode: 'reflect', weights: 'skimage-0.19' });
  assertMatches(rgb.data, SKIMAGE.bilateralRgb, 'rgb, reflect', tol);
});

test("scikit-image 0.19's spatial table is read with the wrong stride; hush's default is the Gaussian", () => {
  const sk = bilateralSpatialWeights(5, 1, 'skimage-0.19');
  const gauss = bilateralSpatialWeights(5, 1, 'gaussian');
  // centre (2, 2) -> flat index 12 of a 6x6 table over -3..2: (-1, -3), exp(-10 / 2)
  assert.ok(Math.abs(sk[12] - Math.exp(-5)) < 1e-15);
  assert.equal(gauss[12], 1);
  assert.ok(Math.abs(gauss[13] - Math.exp(-0.5)) < 1e-15);
  assert.ok(Math.abs(gauss[0] - Math.exp(-4)) < 1e-15);
  assert.equal(defaultWinSize(1), 7);
  assert.equal(defaultWinSize(0.5), 5);
  assert.equal(defaultWinSize(2.1), 15);
});

test('hand-checked 3x1 ramp: weights are spatial Gaussian times the colour table entry', () => {
  const im = createImage(3, 1, 1, Float32Array.of(0, 0.5, 1));
  const out = denoiseBilateral(im, { sigmaColor: 0.5, sigmaSpatial: 1, winSize: 3, mode: 'edge', bins: 4 });
  // edge mode: the window's three rows are the same row. Table over [0, 1) in 4 bins, entry k = exp(-(k/4)^2 / (2 0.25)).
  // centre 0.5: neighbours 0 and 1 at distance 0.5 -> bin 2; itself bin 0. Spatial weights exp(-(dy^2 + dx^2) / 2).
  const c = (k: number): number => Math.exp(-((k / 4) ** 2) / 0.5);
  const s = (dy: number, dx: number): number => Math.exp(-(dy * dy + dx * dx) / 2);
  let num = 0;
  let den = 0;
  for (const dy of [-1, 0, 1]) {
    for (const [dx, v] of [[-1, 0], [0, 0.5], [1, 1]] as const) {
      const w = s(dy, dx) * c(v === 0.5 ? 0 : 2);
      num += w * v;
      den += w;
    }
  }
  assert.equal(out.data[1], Math.fround(num / den));
});

test('a flat image is returned as is; edges survive where a Gaussian would blur them', () => {
  const flat = createImage(6, 5, 3, new Float32Array(90).fill(0.25));
  assert.deepEqual(denoiseBilateral(flat).data, flat.data);
  const step = createImage(12, 6, 1);
  for (let y = 0; y < 6; y++) for (let x = 0; x < 12; x++) step.data[y * 12 + x] = x < 6 ? 0.2 : 0.8;
  const out = denoiseBilateral(step, { sigmaColor: 0.05, mode: 'edge' });
  assert.ok(Math.abs(out.data[2 * 12 + 5] - 0.2) < 1e-6 && Math.abs(out.data[2 * 12 + 6] - 0.8) < 1e-6);
});

test('denoising raises PSNR (seeded, grey and colour)', () => {
  for (const channels of [1, 3] as const) {
    const clean = testPattern(40, 36, channels);
    const noisyIm = withNoise(clean, 0.1, 17 + channels);
    const before = psnr(clean, noisyIm, { dataRange: 1 });
    const after = psnr(clean, denoiseBilateral(noisyIm, { sigmaColor: 0.2, sigmaSpatial: 1.5, mode: 'reflect' }), { dataRange: 1 });
    assert.ok(after > before + 2, `${channels} channels: ${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
  }
});

test('tiled on worker threads equals untiled exactly (image-wide colour sigma and range)', async () => {
  const im = randomImage(33, 95, 3, 8, 2, -0.5);
  for (const options of [{}, { sigmaColor: 0.3, sigmaSpatial: 1.3, mode: 'symmetric' }] as DenoiseBilateralOptions[]) {
    const whole = denoiseBilateral(im, options);
    const tiled = await BILATERAL_DENOISER.denoise(im, { ...options }, { threads: 2 });
    assert.deepEqual(tiled.data, whole.data, JSON.stringify(options));
  }
});

test('alpha carried, NaN and masked samples filled then restored, never spread', () => {
  const im = randomImage(9, 8, 4, 4);
  im.data[(3 * 9 + 3) * 4 + 1] = NaN;
  const mask = new Uint8Array(im.data.length);
  mask[(6 * 9 + 1) * 4 + 2] = 1;
  im.data[(6 * 9 + 1) * 4 + 2] = 1e9;
  const out = denoiseBilateral({ ...im, mask }, { sigmaColor: 0.2, mode: 'reflect' });
  for (let i = 0; i < out.data.length; i++) {
    if (i % 4 === 3 || i === (3 * 9 + 3) * 4 + 1 || i === (6 * 9 + 1) * 4 + 2) assert.ok(Object.is(out.data[i], im.data[i]), `sample ${i}`);
    else assert.ok(out.data[i] >= 0 && out.data[i] <= 1, `sample ${i} = ${out.data[i]}`);
  }
});

test("tiny images: 1x1 unchanged unless padded with 'constant' zeros, 2x2 and 1x3 in range", () => {
  const one = randomImage(1, 1, 3, 1);
  for (const mode of ['edge', 'symmetric', 'reflect'] as const) assert.deepEqual(denoiseBilateral(one, { mode }).data, one.data);
  assert.ok(denoiseBilateral(one).data.every((v, i) => v > 0 && v <= one.data[i]));
  for (const [w, h] of [[2, 2], [1, 3], [3, 1]]) {
    for (const mode of ['constant', 'edge', 'symmetric', 'reflect'] as const) {
      const out = denoiseBilateral(randomImage(w, h, 1, w + h), { mode, sigmaSpatial: 2 });
      assert.ok(out.data.every((v) => v >= 0 && v <= 1), `${w}x${h} ${mode}`);
    }
  }
});

test('every option is validated with an exact message', () => {
  const im = randomImage(4, 4, 1, 2);
  const cases: [Record<string, unknown>, string][] = [
    [{ sigmaColor: 0 }, 'denoiseBilateral: expected a finite number above 0 for options.sigmaColor but received 0 (number).'],
    [{ sigmaSpatial: -1 }, 'denoiseBilateral: expected a finite number above 0 and at most 50 for options.sigmaSpatial but received -1 (number).'],
    [{ winSize: 4 }, 'denoiseBilateral: expected an odd integer from 1 to 301 for options.winSize but received 4 (number).'],
    [{ bins: 0 }, 'denoiseBilateral: expected an integer from 1 to 10000000 for options.bins but received 0 (number).'],
    [{ mode: 'wrap' }, "denoiseBilateral: expected one of 'constant', 'edge', 'symmetric', 'reflect' for options.mode but received 'wrap' (string)."],
    [{ mode: 'edges' }, "denoiseBilateral: expected one of 'constant', 'edge', 'symmetric', 'reflect' for options.mode but received 'edges' (string). Did you mean 'edge'?"],
    [{ weights: 'skimage' }, "denoiseBilateral: expected one of 'gaussian', 'skimage-0.19' for options.weights but received 'skimage' (string). Did you mean 'skimage-0.19'?"],
    [{ sigma_color: 0.1 }, "denoiseBilateral: expected only the options 'sigmaColor', 'sigmaSpatial', 'winSize', 'bins', 'mode', 'weights' for options but received 'sigma_color' (string)."],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => denoiseBilateral(im, options as DenoiseBilateralOptions), { code: 'ERR_INVALID_PARAMETER', message });
  }
  assert.equal(BILATERAL_DENOISER.id, 'bilateral');
});
