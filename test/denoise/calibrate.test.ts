import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Image } from '../../src/core/image.js';
import { resolveParams } from '../../src/core/params.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { mse } from '../../src/metrics/index.js';
import { calibrateDenoiser, checkGrid, gridSettings, maskOrder, pairedDifference, parabolaVertex, parseGrid, shrink, shrinkageWeight } from '../../src/denoise/calibrate.js';
import { denoiseInvariant } from '../../src/denoise/invariant.js';
import type { DenoiserInfo } from '../../src/denoise/types.js';
import { testPattern } from '../helpers/images.js';

// scikit-image 0.19.3 `_calibrate_denoiser_search` (approximate loss) on the 7x5 image of
// invariant.test.ts for (1 - w) im + w hmean(im), w = 0, 0.5, 1 (made once with Debian's python3)
const X = [0, 0.608695626, 0.217391297, 0.826086938, 0.434782594, 0.0434782617, 0.652173936, 0.260869563, 0.869565189, 0.478260875, 0.0869565234, 0.695652187, 0.304347813, 0.913043499, 0.521739125, 0.130434781, 0.739130437, 0.347826093, 0.956521749, 0.565217376, 0.173913047, 0.782608688, 0.391304344, 0, 0.608695626, 0.217391297, 0.826086938, 0.434782594, 0.0434782617, 0.652173936, 0.260869563, 0.869565189, 0.478260875, 0.0869565234, 0.695652187];
const LOSSES3 = [0.1185609670355916, 0.13139842823147774, 0.14716742583550513];
const LOSSES4 = [0.14413988962769508, 0.14922391809523106, 0.15490607358515263];

/** (1 - w) x + w [1,2,1]/4 along rows (edge padding), the reference's denoiser. */
const BLEND: DenoiserInfo = {
  id: 'blend-test',
  summary: 'test denoiser',
  params: [{ name: 'w', type: 'number', min: 0, max: 1, default: 1, description: 'weight of the row filter' }],
  usesSigma: false,
  calibrationGrid: () => ({ w: [0, 0.5, 1] }),
  denoise(image, options) {
    const { w } = resolveParams('blend', this.params, options) as { w: number };
    const out = new Float32Array(image.data.length);
    for (let y = 0; y < image.height; y++) {
      for (let x = 0; x < image.width; x++) {
        const r = y * image.width;
        const h = (image.data[r + Math.max(0, x - 1)] + 2 * image.data[r + x] + image.data[r + Math.min(image.width - 1, x + 1)]) / 4;
        out[r + x] = Math.fround(Math.fround((1 - w) * image.data[r + x]) + Math.fround(w * h));
      }
    }
    return Promise.resolve({ ...image, data: out });
  },
};

/** A (2r+1)^2 box mean with clamped borders; records the options it was called with. */
function boxDenoiser(calls: Record<string, unknown>[] = []): DenoiserInfo {
  return {
    id: 'box-test',
    summary: 'box mean',
    params: [
      { name: 'radius', type: 'number', integer: true, min: 0, max: 10, default: 1, description: 'half width' },
      { name: 'sigma', type: 'number', min: 0, description: 'noise level (recorded, unused)' },
      { name: 'mode', type: 'enum', choices: ['a', 'b'], default: 'a', description: 'recorded, unused' },
    ],
    usesSigma: true,
    calibrationGrid: (sigma) => ({ radius: sigma > 0.05 ? [0, 1, 2, 3, 4] : [0, 1, 2] }),
    async denoise(image, options, context) {
      calls.push(options);
      const { radius: r } = resolveParams('box', this.params, options) as { radius: number };
      const { width, height, data } = image;
      const out = new Float32Array(data.length);
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          let s = 0;
          for (let dy = -r; dy <= r; dy++) {
            for (let dx = -r; dx <= r; dx++) {
              s += data[Math.min(height - 1, Math.max(0, y + dy)) * width + Math.min(width - 1, Math.max(0, x + dx))];
            }
          }
          out[y * width + x] = s / (2 * r + 1) ** 2;
        }
      }
      context?.onProgress?.(1);
      return { ...image, data: out };
    },
  };
}

function noisyScene(size: number, sigma: number, seed: number): { clean: Image; noisy: Image } {
  const clean = testPattern(size, size, 1);
  return { clean, noisy: addGaussianNoise(clean, { sigma, seed }) };
}

test('approximate loss matches scikit-image 0.19 calibrate_denoiser (one mask, offset stride^2 div 2)', async () => {
  const im = createImage(7, 5, 1, Float32Array.from(X));
  for (const [stride, expected] of [[3, LOSSES3], [4, LOSSES4]] as const) {
    const r = await calibrateDenoiser(im, BLEND, { w: [0, 0.5, 1] }, { stride, sigma: 0.1, interpolation: 'four-neighbour', loss: 'approximate' });
    assert.deepEqual(r.table.map((e) => e.params), [{ w: 0 }, { w: 0.5 }, { w: 1 }]);
    for (let i = 0; i < 3; i++) assert.ok(Math.abs(r.table[i].loss - expected[i]) < 1e-7 * expected[i], `stride ${stride} w ${i}: ${r.table[i].loss} vs ${expected[i]}`);
    assert.equal(r.bestIndex, 0);
    assert.deepEqual(r.best, { w: 0 });
  }
});

test('the self-supervised loss picks the setting the true error picks (box radius on a noisy scene)', async () => {
  const { clean, noisy } = noisyScene(96, 0.1, 3);
  const r = await calibrateDenoiser(noisy, boxDenoiser(), undefined, { reference: clean, loss: 'full', stride: 3 });
  assert.deepEqual(r.table.map((e) => e.params.radius), [0, 1, 2, 3, 4], 'default grid from calibrationGrid(estimated sigma)');
  const argmin = (v: number[]): number => v.indexOf(Math.min(...v));
  const trueBest = argmin(r.table.map((e) => e.invariantMse as number));
  assert.equal(r.bestIndex, trueBest, 'same minimum as the true error of the J-invariant denoiser');
  assert.ok(Math.abs(r.bestIndex - argmin(r.table.map((e) => e.mse as number))) <= 1, 'within one setting of the plain denoiser\'s best');
  // the identity E L = E mse + sigma^2, per setting, to a few per cent
  for (const e of r.table) {
    const predicted = (e.invariantMse as number) + 0.01;
    assert.ok(Math.abs(e.loss - predicted) < 0.05 * predicted, `loss ${e.loss} vs mse + sigma^2 ${predicted}`);
    assert.ok(Math.abs((e.psnr as number) - 10 * Math.log10(1 / (e.mse as number))) < 1e-9);
  }
  assert.ok(Math.abs(r.sigma - 0.1) < 0.01, `estimated sigma ${r.sigma}`);
});

test('the renoised fill follows the plain denoiser where the four-neighbour mean favours doing nothing', async () => {
  // blocks with a gentle ripple: the J-invariant radius 0 (the fill itself) wins with the
  // plain mean, though the plain radius 0 is the identity and radius 1 halves the error
  const clean = createImage(96, 96, 1);
  for (let y = 0; y < 96; y++) for (let x = 0; x < 96; x++) clean.data[y * 96 + x] = 0.3 + 0.4 * (((x >> 4) + (y >> 4)) & 1) + 0.1 * Math.sin(x * 0.1);
  const noisy = addGaussianNoise(clean, { sigma: 0.1, seed: 4 });
  const info = boxDenoiser();
  const grid = { radius: [0, 1, 2, 3] };
  const mean = await calibrateDenoiser(noisy, info, grid, { reference: clean, interpolation: 'four-neighbour' });
  const renoised = await calibrateDenoiser(noisy, info, grid, { reference: clean });
  const plainBest = renoised.table.reduce((b, e, i) => ((e.mse as number) < (renoised.table[b].mse as number) ? i : b), 0);
  assert.equal(mean.bestIndex, 0, 'the plain mean picks the identity');
  assert.equal(renoised.interpolation, 'renoised');
  assert.equal(renoised.bestIndex, plainBest, 'the renoised fill picks the plain denoiser\'s best');
  assert.ok((renoised.table[renoised.bestIndex].mse as number) < 0.6 * (mean.table[mean.bestIndex].mse as number));
});

test('shrinkage: lambda = sigma^2 / loss lowers the true error of the J-invariant output', async () => {
  for (const seed of [1, 2, 3]) {
    const { clean, noisy } = noisyScene(80, 0.1, seed);
    const info = boxDenoiser();
    const r = await calibrateDenoiser(noisy, info, { radius: [1, 2] }, { loss: 'full', sigma: 0.1 });
    assert.equal(r.lambda, r.shrinkage.lambda);
    assert.ok(Math.abs(r.lambda - 0.01 / r.table[r.bestIndex].loss) < 1e-12);
    assert.ok(r.lambda > 0 && r.lambda < 1);
    const f = await denoiseInvariant(noisy, (im) => info.denoise(im, r.best), { stride: 4 });
    const shrunk = shrink(f, noisy, r.lambda);
    const eF = mse(clean, f);
    const eS = mse(clean, shrunk);
    assert.ok(eS < eF, `seed ${seed}: shrunk ${eS} vs invariant ${eF}`);
    // and the predicted error lambda * e is close to the measured one
    assert.ok(Math.abs(r.shrinkage.loss - 0.01 - eS) < 0.15 * eS, `predicted ${r.shrinkage.loss - 0.01} measured ${eS}`);
  }
  assert.equal(shrinkageWeight(0.1, 0.005), 1, 'clamped when the loss is below sigma^2');
  assert.equal(shrinkageWeight(0.1, 0), 1);
});

test('sigma, fixed options and threads reach the denoiser; progress ends at 1', async () => {
  const calls: Record<string, unknown>[] = [];
  const { noisy } = noisyScene(32, 0.1, 5);
  const fractions: number[] = [];
  const r = await calibrateDenoiser(noisy, boxDenoiser(calls), { radius: [1, 2] }, { sigma: 0.07, fixed: { mode: 'b' }, loss: 'approximate', context: { onProgress: (f) => fractions.push(f) } });
  assert.equal(calls.length, 2);
  for (const c of calls) assert.deepEqual({ ...c, radius: 0 }, { sigma: 0.07, mode: 'b', radius: 0 });
  assert.deepEqual(r.best, { sigma: 0.07, mode: 'b', radius: r.table[r.bestIndex].params.radius });
  assert.equal(fractions.at(-1), 1);
  for (let i = 1; i < fractions.length; i++) assert.ok(fractions[i] >= fractions[i - 1], 'progress never goes back');
  // a denoiser without usesSigma gets no sigma
  const calls2: Record<string, unknown>[] = [];
  await calibrateDenoiser(noisy, { ...boxDenoiser(calls2), usesSigma: false }, { radius: [1] });
  assert.equal(calls2[0].sigma, undefined);
});

test('masked and NaN samples are left out of the loss', async () => {
  const { noisy } = noisyScene(40, 0.1, 6);
  const withHoles = { ...noisy, data: noisy.data.slice(), mask: new Uint8Array(noisy.data.length) };
  for (let i = 0; i < withHoles.data.length; i += 7) {
    withHoles.data[i] = NaN;
    withHoles.mask[i] = 1;
  }
  // a denoiser that treats NaN as 0 would spread it; this one skips it, as the real ones do with image.mask
  const info: DenoiserInfo = {
    ...boxDenoiser(),
    usesSigma: false,
    async denoise(image) {
      return { ...image, data: image.data.map((v, i) => (image.mask?.[i] ? v : v * 0.9 + 0.05)) };
    },
  };
  const r = await calibrateDenoiser(withHoles, info, { radius: [1] });
  assert.ok(Number.isFinite(r.table[0].loss));
});

test('grids: product order, parsing, validation messages', async () => {
  assert.deepEqual(gridSettings({ a: [1, 2], b: ['x', 'y'] }), [
    { a: 1, b: 'x' },
    { a: 1, b: 'y' },
    { a: 2, b: 'x' },
    { a: 2, b: 'y' },
  ]);
  assert.deepEqual(parseGrid('h=0.02,0.04, 0.06;patchSize=5,7'), { h: [0.02, 0.04, 0.06], patchSize: [5, 7] });
  assert.deepEqual(parseGrid('mode=soft,hard'), { mode: ['soft', 'hard'] });
  assert.throws(() => parseGrid('h'), { message: "parseGrid: expected 'name=v1,v2;name2=v3,...' for grid but received 'h' (string)." });
  assert.throws(() => parseGrid('h=1;h=2'), { message: "parseGrid: expected each parameter once for grid but received 'h' (string)." });
  const info = boxDenoiser();
  assert.throws(() => checkGrid('calibrateDenoiser', info, { radus: [1] }), {
    message: "calibrateDenoiser: expected one of 'radius', 'sigma', 'mode' for parameterGrid keys but received 'radus' (string). Did you mean 'radius'?",
  });
  assert.throws(() => checkGrid('calibrateDenoiser', info, { radius: [] }), {
    message: 'calibrateDenoiser: expected a non-empty array of values for parameterGrid.radius but received an array of length 0.',
  });
  assert.throws(() => checkGrid('calibrateDenoiser', info, { radius: [1, 2.5] }), {
    message: 'calibrateDenoiser: expected an integer from 0 to 10 for options.radius but received 2.5 (number).',
  });
  assert.deepEqual(gridSettings(checkGrid('calibrateDenoiser', info, {})), [{}], 'an empty grid is one setting: the defaults');
  const big = { radius: Array.from({ length: 11 }, (_, i) => i % 10), sigma: Array.from({ length: 100 }, (_, i) => i / 100) };
  assert.throws(() => checkGrid('calibrateDenoiser', info, big), { message: "calibrateDenoiser: expected at most 1000 settings for parameterGrid but received '1100 settings' (string)." });
});

test('calibrateDenoiser rejects bad arguments with the house-style message', async () => {
  const { noisy, clean } = noisyScene(16, 0.1, 7);
  const info = boxDenoiser();
  await assert.rejects(calibrateDenoiser(noisy, 'no-such-method', { radius: [1] }), { code: 'ERR_INVALID_PARAMETER', message: /^calibrateDenoiser: expected one of .* for denoiser but received 'no-such-method' \(string\)/ });
  await assert.rejects(calibrateDenoiser(noisy, { id: 'x' } as unknown as DenoiserInfo), {
    message: 'calibrateDenoiser: expected a registered denoiser id or a DenoiserInfo for denoiser but received an object (Object).',
  });
  await assert.rejects(calibrateDenoiser(noisy, info, { radius: [1] }, { loss: 'exact' as 'full' }), {
    message: "calibrateDenoiser: expected one of 'adaptive', 'approximate', 'full' for options.loss but received 'exact' (string).",
  });
  await assert.rejects(calibrateDenoiser(noisy, info, { radius: [1] }, { sigma: -1 }), {
    message: 'calibrateDenoiser: expected a finite number of at least 0 for options.sigma but received -1 (number).',
  });
  await assert.rejects(calibrateDenoiser(noisy, info, { radius: [1] }, { reference: testPattern(8, 8, 1) }), {
    message: "calibrateDenoiser: expected an image of 16x16x1 for options.reference but received '8x8x1' (string).",
  });
  await assert.rejects(calibrateDenoiser(noisy, info, { radius: [1] }, { stride: 40 }), {
    message: 'calibrateDenoiser: expected a stride under the image size (16x16) for the adaptive loss for options.stride but received 40 (number).',
  });
  assert.ok(clean);
});

test('mask order: scikit-image\'s mask first, then the farthest from those taken', () => {
  const four = maskOrder(4);
  assert.deepEqual(four.slice(0, 4), [8, 2, 0, 10], 'phases (2,0), (0,2), (0,0), (2,2)');
  assert.deepEqual(four.slice().sort((a, b) => a - b), Array.from({ length: 16 }, (_, k) => k));
  assert.deepEqual(maskOrder(2), [2, 1, 0, 3]);
  assert.equal(maskOrder(3)[0], 4);
  assert.equal(new Set(maskOrder(5)).size, 25);
});

test('paired difference: mean and standard error of per-sample differences over the common masks', () => {
  const best = { residuals: [Float32Array.of(1, 2, 3, 4), Float32Array.of(0, 0)] };
  const row = { residuals: [Float32Array.of(2, 2, 4, 4), Float32Array.of(1, NaN)] };
  const d = pairedDifference(row, best);
  // differences 1, 0, 1, 0, 1 (the NaN left out): mean 0.6, sample variance 0.3
  assert.equal(d.samples, 5);
  assert.ok(Math.abs(d.mean - 0.6) < 1e-12);
  assert.ok(Math.abs(d.standardError - Math.sqrt(0.3 / 5)) < 1e-12);
  assert.equal(pairedDifference({ residuals: [Float32Array.of(1)] }, { residuals: [Float32Array.of(1)] }).standardError, Infinity);
});

test('parabola vertex', () => {
  const f = (x: number): number => 3 * (x - 0.7) ** 2 + 2;
  assert.ok(Math.abs((parabolaVertex([0, 0.5, 1], [f(0), f(0.5), f(1)]) as number) - 0.7) < 1e-12);
  assert.ok(Math.abs((parabolaVertex([-1, 0.25, 2], [f(-1), f(0.25), f(2)]) as number) - 0.7) < 1e-12, 'uneven spacing');
  assert.equal(parabolaVertex([0, 1, 2], [1, 2, 3]), undefined, 'collinear');
});

test('adaptive loss: the parabola-vertex setting between grid values, exact where the loss is quadratic', async () => {
  // the J-invariant blend is linear in w on the masked pixels, so its loss is a parabola in w
  const { noisy } = noisyScene(64, 0.045, 8);
  const grid = { w: [0, 0.5, 1] };
  const plain = await calibrateDenoiser(noisy, BLEND, grid, { loss: 'approximate' });
  const r = await calibrateDenoiser(noisy, BLEND, grid, { maxMasks: 1 });
  assert.equal(r.loss, 'adaptive');
  assert.deepEqual(r.table.slice(0, 3).map((e) => e.loss), plain.table.map((e) => e.loss), 'the grid rows are the approximate loss');
  assert.equal(r.table.length, 4);
  const refined = r.table[3];
  assert.equal(refined.refined, true);
  const expected = parabolaVertex([0, 0.5, 1], plain.table.map((e) => e.loss) as [number, number, number]) as number;
  assert.ok(Math.abs((refined.params.w as number) - expected) < 1e-5, `w ${refined.params.w} vs ${expected}`);
  assert.ok(refined.params.w !== 0.5 && (refined.params.w as number) > 0 && (refined.params.w as number) < 1);
  assert.equal(r.bestIndex, 3, 'the vertex has the lowest loss');
  assert.ok(refined.loss < Math.min(...plain.table.map((e) => e.loss)));
  assert.deepEqual(r.best, { w: refined.params.w });
  assert.equal(r.calls, 4);
  const off = await calibrateDenoiser(noisy, BLEND, grid, { maxMasks: 1, refine: false });
  assert.equal(off.table.length, 3);
  assert.equal(off.bestIndex, plain.bestIndex);
  // integer parameters are not interpolated
  const box = await calibrateDenoiser(noisy, boxDenoiser(), { radius: [0, 1, 2, 3] }, { sigma: 0.1 });
  assert.ok(box.table.every((e) => !e.refined && Number.isInteger(e.params.radius)));
  // nor stepwise ones (TV's weight, whose result jumps with its stopping rule)
  const tv = await calibrateDenoiser(noisy, 'tv-chambolle', { weight: [0.02, 0.04, 0.08, 0.16] }, { sigma: 0.045 });
  assert.equal(tv.table.length, 4);
  assert.ok(tv.table.every((e) => !e.refined));
});

test('adaptive loss: near ties get more masks; one setting costs one call', async () => {
  let agreeAdaptive = 0;
  let agreeApproximate = 0;
  let extraCalls = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const { noisy } = noisyScene(48, 0.1, 20 + seed);
    const grid = { radius: [1, 2, 3] };
    const info = boxDenoiser();
    const full = await calibrateDenoiser(noisy, info, grid, { loss: 'full', sigma: 0.1 });
    const approximate = await calibrateDenoiser(noisy, info, grid, { loss: 'approximate', sigma: 0.1 });
    const adaptive = await calibrateDenoiser(noisy, info, grid, { sigma: 0.1 });
    assert.equal(adaptive.calls, adaptive.table.reduce((s, e) => s + (e.masks as number), 0));
    assert.equal(full.calls, 3 * 16);
    assert.equal(approximate.calls, 3);
    const most = Math.max(...adaptive.table.map((e) => e.masks as number));
    assert.ok(most <= 4, 'at most maxMasks (4) masks');
    assert.equal(adaptive.table[adaptive.bestIndex].masks, most, 'the best is among the rows scored on the most masks');
    for (const e of adaptive.table) if (e.masks === most) assert.ok(e.loss >= adaptive.table[adaptive.bestIndex].loss);
    extraCalls += adaptive.calls - 3;
    if (adaptive.bestIndex === full.bestIndex) agreeAdaptive++;
    if (approximate.bestIndex === full.bestIndex) agreeApproximate++;
  }
  assert.ok(extraCalls > 0, 'some seeds had near ties');
  assert.ok(agreeAdaptive >= agreeApproximate, `adaptive agrees with the full loss on ${agreeAdaptive}/6, approximate on ${agreeApproximate}/6`);
  assert.ok(agreeAdaptive >= 5, `adaptive agrees with the full loss on ${agreeAdaptive}/6`);
  // a one-setting grid (what denoiseAuto calibrates with) costs one denoiser call
  const calls: Record<string, unknown>[] = [];
  const one = await calibrateDenoiser(noisyScene(32, 0.1, 9).noisy, boxDenoiser(calls), { radius: [2] }, { sigma: 0.1 });
  assert.equal(calls.length, 1);
  assert.equal(one.calls, 1);
  await assert.rejects(calibrateDenoiser(noisyScene(16, 0.1, 9).noisy, boxDenoiser(), { radius: [2] }, { maxMasks: 17 }), {
    message: 'calibrateDenoiser: expected an integer from 1 to 16 for options.maxMasks but received 17 (number).',
  });
});
