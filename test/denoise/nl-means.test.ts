import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { runTiled } from '../../src/core/pool.js';
import { psnr } from '../../src/metrics/index.js';
import {
  denoiseNlMeans,
  fastExp,
  fixedPointScale,
  nlMeansFastJs,
  nlMeansFastSimd,
  NL_MEANS_DENOISER,
  NL_MEANS_PARAMS,
  type DenoiseNlMeansOptions,
} from '../../src/denoise/nl-means.js';
import { maxAbsDiff, randomImage, testPattern } from '../helpers/images.js';

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
 * scikit-image 0.19.3 (numpy 1.24.2, Debian bookworm's python3-skimage), on the same float32 inputs
 * g = noisy(9, 8, 1, 7)[..., 0], rgb = noisy(7, 6, 3, 11), t2 = noisy(2, 2, 1, 3), t31 = noisy(3, 1, 1, 5):
 *   nlmFastGrey      = denoise_nl_means(g, patch_size=3, patch_distance=2, h=0.15)
 *   nlmFastGreySigma = denoise_nl_means(g, patch_size=5, patch_distance=3, h=0.1, sigma=0.1)
 *   nlmFastRgb       = denoise_nl_means(rgb, patch_size=3, patch_distance=2, h=0.2, sigma=0.05, channel_axis=-1)
 *   nlmFast2x2       = denoise_nl_means(t2, patch_size=3, patch_distance=2, h=0.3)
 *   nlmFast3x1       = denoise_nl_means(t31, patch_size=3, patch_distance=2, h=0.3)
 *   nlmExactGrey     = denoise_nl_means(g, patch_size=3, patch_distance=2, h=0.15, sigma=0.05, fast_mode=False)
 *   nlmExactRgb      = denoise_nl_means(rgb, patch_size=3, patch_distance=2, h=0.2, fast_mode=False, channel_axis=-1)
 *   nlmExact2x2      = denoise_nl_means(t2, patch_size=3, patch_distance=2, h=0.3, fast_mode=False)
 */
const SKIMAGE = {
  nlmFastGrey: [0.378498, 0.45249143, 0.56673497, 0.4310235, 0.6121969, 0.5769337, 0.5035756, 0.59972537, 0.3679959, 0.60160017, 0.4079154, 0.6863034, 0.5313172, 0.4198124, 0.487332, 0.34661698, 0.5522833, 0.45127848, 0.49798518, 0.44629487, 0.34923762, 0.5700445, 0.45756072, 0.46452734, 0.5665219, 0.528108, 0.5037357, 0.45584592, 0.47727123, 0.45484588, 0.38085464, 0.5749894, 0.57704586, 0.47699958, 0.5063423, 0.47599167, 0.43358836, 0.42281738, 0.43545136, 0.47650748, 0.48933917, 0.5000974, 0.46810964, 0.51266974, 0.48643982, 0.44942188, 0.4488527, 0.4802511, 0.5148199, 0.5196292, 0.34789222, 0.46699542, 0.43186405, 0.4932187, 0.46380147, 0.48101968, 0.54829824, 0.34884572, 0.40562853, 0.49105483, 0.5343419, 0.4672497, 0.51999515, 0.57821524, 0.47108978, 0.54132545, 0.47904205, 0.5464422, 0.400081, 0.49315903, 0.39309707, 0.5111652],
  nlmFastGreySigma: [0.25176278, 0.43161112, 0.57761914, 0.4113118, 0.6468287, 0.61107975, 0.5215838, 0.66361254, 0.3722616, 0.5603409, 0.39806008, 0.6602664, 0.55391073, 0.36497343, 0.4820783, 0.33253103, 0.54039615, 0.42935115, 0.5440448, 0.43221238, 0.33870453, 0.5690426, 0.39983353, 0.46017668, 0.5464281, 0.50360245, 0.50102574, 0.46566778, 0.498947, 0.43591696, 0.354326, 0.57531184, 0.59056693, 0.48661053, 0.5165788, 0.48919162, 0.47643104, 0.44274223, 0.5008173, 0.55537933, 0.4667092, 0.47134194, 0.43215832, 0.49770486, 0.42105687, 0.43141833, 0.44346836, 0.45144662, 0.5169495, 0.54545444, 0.39815027, 0.4883752, 0.43590796, 0.51845276, 0.41193658, 0.5122923, 0.53324896, 0.3353202, 0.4105486, 0.50703585, 0.54637426, 0.4763458, 0.52270496, 0.52647555, 0.45816132, 0.4939253, 0.44996437, 0.5559731, 0.42146325, 0.4775356, 0.372368, 0.50247777],
  nlmFastRgb: [0.46608025, 0.4323434, 0.5270329, 0.40274006, 0.5463505, 0.6186519, 0.48585853, 0.4442281, 0.5004063, 0.43314406, 0.49158758, 0.5279435, 0.48529112, 0.45167443, 0.47148353, 0.5795012, 0.4497496, 0.41016442, 0.4821769, 0.54105943, 0.5089537, 0.52250457, 0.4509268, 0.5323287, 0.4073925, 0.5532251, 0.60512674, 0.5074246, 0.43675998, 0.5226532, 0.46764928, 0.54315484, 0.54655725, 0.45456392, 0.4468314, 0.4776199, 0.48484358, 0.54629016, 0.37941256, 0.46795112, 0.5046341, 0.41200584, 0.47399244, 0.51743835, 0.5943739, 0.4322885, 0.5656786, 0.62839365, 0.42392343, 0.4920036, 0.5744484, 0.53412026, 0.44726852, 0.52752924, 0.4974474, 0.48996347, 0.54702824, 0.5110122, 0.50093204, 0.476544, 0.59348136, 0.4546641, 0.44659796, 0.45239028, 0.5693771, 0.55196995, 0.45118967, 0.6189503, 0.5959558, 0.46487874, 0.5418537, 0.5886557, 0.43797073, 0.5431566, 0.56191695, 0.48979232, 0.4554407, 0.47649214, 0.48641396, 0.4717869, 0.44547284, 0.48010913, 0.48834646, 0.46153873, 0.43145138, 0.59782696, 0.66550493, 0.4429465, 0.632141, 0.67116076, 0.46016282, 0.5754254, 0.65877414, 0.44806695, 0.5735501, 0.64573437, 0.4527808, 0.5152194, 0.62191236, 0.48558193, 0.49140844, 0.56315994, 0.49052984, 0.4753827, 0.6092977, 0.4576074, 0.6075104, 0.66842026, 0.45146096, 0.6446208, 0.62237173, 0.49005342, 0.5572059, 0.5254743, 0.50271404, 0.5548531, 0.56491816, 0.4863546, 0.4714412, 0.56409794, 0.44130707, 0.48695216, 0.538878, 0.49945024, 0.41679928, 0.55286735],
  nlmFast2x2: [0.35478488, 0.3811888, 0.4893973, 0.4231853],
  nlmFast3x1: [0.42736563, 0.3951956, 0.39311555],
  nlmExactGrey: [0.25043133, 0.38727552, 0.6511586, 0.37611574, 0.69952035, 0.65577525, 0.54897314, 0.72990197, 0.20946237, 0.64735174, 0.40219358, 0.792289, 0.5968137, 0.3152323, 0.43868774, 0.17550446, 0.5539368, 0.4297115, 0.6163387, 0.39621276, 0.19921392, 0.6981965, 0.41150203, 0.44116074, 0.70769054, 0.5205109, 0.4822718, 0.51671165, 0.5087312, 0.3961852, 0.28878394, 0.7304121, 0.6943008, 0.4717653, 0.52608985, 0.4637673, 0.46800143, 0.3798726, 0.4171494, 0.53241134, 0.47474712, 0.46418723, 0.38514358, 0.52289003, 0.42328158, 0.40569675, 0.43666252, 0.46577984, 0.5277153, 0.6091857, 0.2137516, 0.43201, 0.3776312, 0.5187973, 0.36870834, 0.5097542, 0.64033103, 0.21555276, 0.32442006, 0.572055, 0.62598777, 0.47138146, 0.5253145, 0.79089296, 0.46798497, 0.6865356, 0.45812136, 0.63653207, 0.41636568, 0.53476745, 0.2834566, 0.5956271],
  nlmExactRgb: [0.37795138, 0.39030144, 0.4820152, 0.36025965, 0.5654063, 0.6736465, 0.6465586, 0.28609014, 0.42733067, 0.41131765, 0.4643389, 0.52073777, 0.48953736, 0.48914692, 0.3416143, 0.80286366, 0.29798546, 0.35362878, 0.47295964, 0.5074875, 0.66221255, 0.56782424, 0.42389327, 0.4238203, 0.38227275, 0.59031415, 0.6518723, 0.6117593, 0.32933432, 0.4846607, 0.4123902, 0.6203858, 0.6521859, 0.34068197, 0.45855844, 0.5491984, 0.4602659, 0.68172187, 0.26786113, 0.40444663, 0.4395301, 0.432176, 0.49287227, 0.5511031, 0.42875245, 0.41744187, 0.6142425, 0.68294793, 0.33233273, 0.4722037, 0.58394283, 0.65134215, 0.27017128, 0.38315836, 0.45135313, 0.5805168, 0.6752194, 0.4420311, 0.52620554, 0.5379529, 0.74599373, 0.3092686, 0.39408705, 0.4880584, 0.5881377, 0.34140047, 0.4389375, 0.63359815, 0.65611476, 0.44564265, 0.5628495, 0.6783143, 0.376198, 0.53451556, 0.61367595, 0.6384658, 0.2890301, 0.44363517, 0.6182114, 0.33547547, 0.35911417, 0.48251358, 0.6662812, 0.2869597, 0.44814128, 0.5898552, 0.66693217, 0.4395135, 0.6243544, 0.7041022, 0.44720685, 0.5830006, 0.7268626, 0.41282874, 0.6141931, 0.6713555, 0.42310676, 0.53046286, 0.69768864, 0.4796743, 0.49513507, 0.6166725, 0.448442, 0.53631586, 0.6490436, 0.46169448, 0.5768176, 0.71311045, 0.4415534, 0.63650435, 0.63825995, 0.46897513, 0.5913088, 0.29642308, 0.61938876, 0.78692055, 0.3281077, 0.5690295, 0.33033803, 0.5335928, 0.25288656, 0.49864084, 0.6094301, 0.30143553, 0.45254377, 0.6291655],
  nlmExact2x2: [0.3209308, 0.38127172, 0.525698, 0.38900414],
};

test("'fast' reproduces scikit-image's fast mode bit for bit (grey, sigma-aware, colour, 2x2, 3x1)", () => {
  const g = noisy(9, 8, 1, 7);
  assertMatches(denoiseNlMeans(g, { patchSize: 3, patchDistance: 2, h: 0.15 }).data, SKIMAGE.nlmFastGrey, 'grey');
  assertMatches(denoiseNlMeans(g, { patchSize: 5, patchDistance: 3, h: 0.1, sigma: 0.1 }).data, SKIMAGE.nlmFastGreySigma, 'grey, sigma 0.1');
  assertMatches(denoiseNlMeans(noisy(7, 6, 3, 11), { patchSize: 3, patchDistance: 2, h: 0.2, sigma: 0.05 }).data, SKIMAGE.nlmFastRgb, 'rgb');
  assertMatches(denoiseNlMeans(noisy(2, 2, 1, 3), { patchSize: 3, patchDistance: 2, h: 0.3 }).data, SKIMAGE.nlmFast2x2, '2x2');
  assertMatches(denoiseNlMeans(noisy(3, 1, 1, 5), { patchSize: 3, patchDistance: 2, h: 0.3 }).data, SKIMAGE.nlmFast3x1, '3x1');
});

test("'exact' reproduces scikit-image's slow mode within 2 float32 steps (it sums in float32, we in float64)", () => {
  const tol = 2.5e-7;
  assertMatches(denoiseNlMeans(noisy(9, 8, 1, 7), { patchSize: 3, patchDistance: 2, h: 0.15, sigma: 0.05, mode: 'exact' }).data, SKIMAGE.nlmExactGrey, 'grey', tol);
  assertMatches(denoiseNlMeans(noisy(7, 6, 3, 11), { patchSize: 3, patchDistance: 2, h: 0.2, mode: 'exact' }).data, SKIMAGE.nlmExactRgb, 'rgb', tol);
  assertMatches(denoiseNlMeans(noisy(2, 2, 1, 3), { patchSize: 3, patchDistance: 2, h: 0.3, mode: 'exact' }).data, SKIMAGE.nlmExact2x2, '2x2', tol);
});

test("fastExp is scikit-image's _fast_exp (values from skimage._shared.fast_exp)", () => {
  assert.equal(fastExp(0), 0.9710078239440918);
  assert.equal(fastExp(-0.5), 0.6103343963623047);
  assert.equal(fastExp(-1.2345), 0.2902522087097168);
  assert.equal(fastExp(-4.99), 0.006808467209339142);
  assert.equal(fastExp(-0.001), 0.9702868461608887);
});

test('fixed-point scale: a power of two that keeps a window sum under 2^52', () => {
  const k = fixedPointScale(1, 7, 1);
  assert.equal(Math.log2(k) % 1, 0);
  assert.ok(36 * k <= 2 ** 52 && 36 * k * 2 > 2 ** 52);
  assert.equal(fixedPointScale(0, 7, 3), 1);
});

test('default parameters are scikit-image defaults', () => {
  const defaults = Object.fromEntries(NL_MEANS_PARAMS.map((p) => [p.name, p.default]));
  assert.deepEqual(defaults, { h: 0.1, patchSize: 7, patchDistance: 11, sigma: 0, mode: 'fast' });
});

test('denoising raises PSNR (seeded, both modes, grey and colour)', () => {
  for (const channels of [1, 3] as const) {
    const clean = testPattern(40, 36, channels);
    const noisyIm = withNoise(clean, 0.1, 42 + channels);
    const before = psnr(clean, noisyIm, { dataRange: 1 });
    for (const mode of ['fast', 'exact'] as const) {
      const out = denoiseNlMeans(noisyIm, { h: mode === 'fast' ? 0.08 : 0.06, sigma: 0.1, patchSize: 5, patchDistance: 4, mode });
      const after = psnr(clean, out, { dataRange: 1 });
      assert.ok(after > before + 3, `${channels} channels, ${mode}: ${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
    }
  }
});

test('tiled on worker threads equals untiled exactly (bands through denoise, square tiles through runTiled)', async () => {
  const im = withNoise(testPattern(53, 90, 1), 0.1, 3);
  for (const mode of ['fast', 'exact'] as const) {
    const options: DenoiseNlMeansOptions = { h: 0.09, sigma: 0.1, patchSize: 5, patchDistance: 3, mode };
    const whole = denoiseNlMeans(im, options);
    let last = 0;
    const tiled = await NL_MEANS_DENOISER.denoise(im, { ...options }, { threads: 2, onProgress: (f) => (last = f) });
    assert.deepEqual(tiled.data, whole.data, mode);
    assert.equal(last, 1);
  }
  const rgba = withNoise(testPattern(37, 29, 4), 0.05, 4);
  const p = { h: 0.1, sigma: 0.05, patchSize: 3, patchDistance: 4, mode: 'fast' as const };
  const whole = denoiseNlMeans(rgba, p);
  const colour = Float32Array.from({ length: 37 * 29 * 3 }, (_, i) => rgba.data[Math.floor(i / 3) * 4 + (i % 3)]);
  let min = Infinity;
  let max = -Infinity;
  for (const v of colour) [min, max] = [Math.min(min, v), Math.max(max, v)];
  const task = { moduleUrl: new URL('../../src/denoise/nl-means.js', import.meta.url).href, exportName: 'nlMeansTile', options: { ...p, scale: fixedPointScale(max - min, 3, 3) } };
  for (const tileSize of [13]) {
    const tiled = await runTiled(rgba, task, { threads: 2, tileSize, overlap: 5 });
    assert.deepEqual(tiled.data, whole.data, `tile ${tileSize}`);
  }
});

test('alpha is carried through untouched, grey+alpha and RGBA', () => {
  for (const channels of [2, 4] as const) {
    const im = withNoise(testPattern(12, 10, channels), 0.05, 9);
    for (const mode of ['fast', 'exact'] as const) {
      const out = denoiseNlMeans(im, { h: 0.1, patchSize: 3, patchDistance: 2, mode });
      for (let i = channels - 1; i < im.data.length; i += channels) assert.equal(out.data[i], im.data[i]);
    }
  }
});

test('NaN and masked samples are filled from their neighbours, restored after, and never spread', () => {
  const im = withNoise(testPattern(16, 14, 3), 0.05, 10);
  im.data[(5 * 16 + 7) * 3 + 1] = NaN;
  const mask = new Uint8Array(im.data.length);
  mask[(9 * 16 + 2) * 3] = 1;
  im.data[(9 * 16 + 2) * 3] = -1e30;
  const masked = { ...im, mask };
  for (const mode of ['fast', 'exact'] as const) {
    const out = denoiseNlMeans(masked, { h: 0.1, patchSize: 3, patchDistance: 3, mode });
    assert.equal(out.mask, mask);
    for (let i = 0; i < out.data.length; i++) {
      if (i === (5 * 16 + 7) * 3 + 1) assert.ok(Number.isNaN(out.data[i]));
      else if (i === (9 * 16 + 2) * 3) assert.equal(out.data[i], Math.fround(-1e30));
      else assert.ok(out.data[i] > 0 && out.data[i] < 1, `sample ${i} = ${out.data[i]}`);
    }
  }
});

test('physical values: scaling the image and h together scales the result', () => {
  const im = withNoise(testPattern(20, 18, 1), 0.1, 12);
  const big = { ...im, data: im.data.map((v) => 1000 * v + 500) };
  for (const mode of ['fast', 'exact'] as const) {
    const a = denoiseNlMeans(im, { h: 0.08, sigma: 0.1, patchSize: 5, patchDistance: 3, mode });
    const b = denoiseNlMeans(big, { h: 80, sigma: 100, patchSize: 5, patchDistance: 3, mode });
    const scaledBack = b.data.map((v) => (v - 500) / 1000);
    assert.ok(maxAbsDiff(a.data, scaledBack) < 1e-5, `${mode}: ${maxAbsDiff(a.data, scaledBack)}`);
  }
});

test('tiny images: 1x1 unchanged, 2x2, 1x5 and 5x1 finite, grey and colour', () => {
  for (const channels of [1, 3] as const) {
    for (const mode of ['fast', 'exact'] as const) {
      const one = randomImage(1, 1, channels, 1);
      assert.deepEqual(denoiseNlMeans(one, { mode }).data, one.data);
      for (const [w, h] of [[2, 2], [1, 5], [5, 1]]) {
        const out = denoiseNlMeans(randomImage(w, h, channels, w * 10 + h), { mode, patchSize: 7, patchDistance: 5 });
        assert.equal(out.data.length, w * h * channels);
        assert.ok(out.data.every((v) => v >= 0 && v <= 1), `${w}x${h} ${mode}`);
      }
    }
  }
});

test('a constant image stays constant; the input is not modified', () => {
  const im = createImage(11, 9, 3, new Float32Array(11 * 9 * 3).fill(0.3));
  const copy = im.data.slice();
  for (const mode of ['fast', 'exact'] as const) assert.ok(denoiseNlMeans(im, { mode }).data.every((v) => v === Math.fround(0.3)));
  assert.deepEqual(im.data, copy);
});

test('every option is validated with an exact message', () => {
  const im = randomImage(8, 8, 1, 2);
  const cases: [Record<string, unknown>, string][] = [
    [{ patchSize: 4 }, 'denoiseNlMeans: expected an odd integer from 3 to 21 for options.patchSize but received 4 (number).'],
    [{ patchSize: 23 }, 'denoiseNlMeans: expected an odd integer from 3 to 21 for options.patchSize but received 23 (number).'],
    [{ h: 0 }, 'denoiseNlMeans: expected a finite number above 0 for options.h but received 0 (number).'],
    [{ h: NaN }, 'denoiseNlMeans: expected a finite number above 0 for options.h but received NaN (number).'],
    [{ patchDistance: 0 }, 'denoiseNlMeans: expected an integer from 1 to 50 for options.patchDistance but received 0 (number).'],
    [{ patchDistance: 2.5 }, 'denoiseNlMeans: expected an integer from 1 to 50 for options.patchDistance but received 2.5 (number).'],
    [{ sigma: -0.1 }, 'denoiseNlMeans: expected a finite number of at least 0 for options.sigma but received -0.1 (number).'],
    [{ sigma: Infinity }, 'denoiseNlMeans: expected a finite number of at least 0 for options.sigma but received Infinity (number).'],
    [{ mode: 'fats' }, "denoiseNlMeans: expected one of 'fast', 'exact' for options.mode but received 'fats' (string). Did you mean 'fast'?"],
    [{ patch_size: 7 }, "denoiseNlMeans: expected only the options 'h', 'patchSize', 'patchDistance', 'sigma', 'mode' for options but received 'patch_size' (string)."],
  ];
  for (const [options, message] of cases) {
    assert.throws(() => denoiseNlMeans(im, options as DenoiseNlMeansOptions), { code: 'ERR_INVALID_PARAMETER', message });
  }
  assert.throws(() => denoiseNlMeans(im, 5 as unknown as DenoiseNlMeansOptions), { message: 'denoiseNlMeans: expected an object for options but received 5 (number).' });
  assert.throws(() => denoiseNlMeans({ width: 2 } as unknown as Image), { message: 'denoiseNlMeans: expected a Float32Array for image.data but received undefined.' });
});

test('the async entry validates before starting workers', async () => {
  await assert.rejects(NL_MEANS_DENOISER.denoise(randomImage(8, 8, 1, 2), { patchSize: 4 }), {
    message: 'denoiseNlMeans: expected an odd integer from 3 to 21 for options.patchSize but received 4 (number).',
  });
});

test('registry entry: id, parameters and a calibration grid of valid options', () => {
  assert.equal(NL_MEANS_DENOISER.id, 'nl-means');
  const grid = NL_MEANS_DENOISER.calibrationGrid(0.1);
  for (const h of grid.h) denoiseNlMeans(randomImage(6, 6, 1, 1), { h: h as number, sigma: 0.1, patchSize: grid.patchSize[0] as number });
  assert.ok(NL_MEANS_DENOISER.calibrationGrid(0).h.every((h) => (h as number) > 0));
});

test("the WebAssembly SIMD kernels give the JavaScript kernels' results bit for bit", () => {
  const shapes: [number, number, 1 | 3, number, number, number, number][] = [
    [9, 8, 1, 3, 2, 0.15, 0], [17, 13, 1, 5, 3, 0.1, 0.1], [16, 12, 3, 3, 2, 0.2, 0.05], [1, 5, 1, 3, 2, 0.3, 0],
    [2, 2, 3, 5, 4, 0.3, 0.1], [40, 31, 1, 7, 5, 0.08, 0.1], [33, 20, 3, 7, 4, 0.1, 0.05], [8, 8, 1, 21, 1, 0.2, 0],
  ];
  for (const [w, h, nc, patchSize, patchDistance, hh, sigma] of shapes) {
    const im = withNoise(testPattern(w, h, nc), 0.1, w * 100 + h);
    let min = Infinity;
    let max = -Infinity;
    for (const v of im.data) [min, max] = [Math.min(min, v), Math.max(max, v)];
    const p = { h: hh, patchSize, patchDistance, sigma, mode: 'fast' as const, scale: fixedPointScale(max - min, patchSize, nc) };
    const simd = nlMeansFastSimd(im.data, w, h, nc, p);
    assert.ok(simd, 'WebAssembly SIMD is available in Node 20');
    assert.deepEqual(simd, nlMeansFastJs(im.data, w, h, nc, p), `${w}x${h}x${nc} patch ${patchSize} distance ${patchDistance}`);
  }
});
