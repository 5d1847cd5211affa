import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { psnr } from '../../src/metrics/index.js';
import {
  denoiseTvChambolle,
  denoiseTvChambolleTiled,
  denoiseTvChambolleParallel,
  TV_CHAMBOLLE_DENOISER,
  type DenoiseTvChambolleOptions,
} from '../../src/denoise/tv-chambolle.js';
import { maxAbsDiff, randomImage, testPattern } from '../helpers/images.js';
import { createRng } from '../../src/core/rng.js';

/**
 * The inputs of the pasted references: ((7x + 13y + 3xy + 5c) mod 17)/16 * 0.5 + 0.25 plus
 * 0.2 * (u - 0.5), u from a 31-bit LCG stepped in y, x, c order, stored as float32.
 */
function noisy(width: number, height: number, channels: Channels, seed: number): Image {
  const im = createImage(width, height, channels);
  let s = seed;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        s = (Math.imul(1103515245, s) + 12345) & 0x7fffffff;
        im.data[(y * width + x) * channels + c] = (((7 * x + 13 * y + 3 * x * y + 5 * c) % 17) / 16) * 0.5 + 0.25 + 0.2 * (s / 2 ** 31 - 0.5);
      }
    }
  }
  return im;
}

/*
 * scikit-image 0.19.3 (numpy 1.24.2, Debian bookworm), on the float64 cast of the float32 inputs:
 *   denoise_tv_chambolle(noisy(9, 7, 1, 17)[..., 0], weight=0.1)
 *   denoise_tv_chambolle(noisy(5, 4, 3, 23), weight=0.2, channel_axis=-1)
 *   denoise_tv_chambolle(noisy(9, 7, 1, 17)[..., 0], weight=0.3, eps=1e-3, max_num_iter=7)
 * (row-major, channels last). Our float64 iteration is scikit-image's term for term, so each of
 * our float32 outputs is exactly the float32 rounding of its float64 output.
 */
const SKIMAGE_TV = {
  grey9x7: [0.4377880339447807, 0.4736668642715964, 0.49473105693129893, 0.48097618817272747, 0.4780927014369274, 0.4728032235963865,
 0.47336974946622173, 0.5436321057701365, 0.5289828642102031, 0.4680244462040647, 0.46957601578222097, 0.4983054004098431,
 0.4864712350506743, 0.4726856393949572, 0.4725641980437623, 0.4732310512093939, 0.5551689469595654, 0.5285708778496288,
 0.46585182844578016, 0.4542066663342752, 0.4599394229347977, 0.48864378244593765, 0.4712044843943505, 0.4674888703523629,
 0.4530249766835606, 0.6143595094848854, 0.6149176483289217, 0.4353996706440474, 0.4365437445221355, 0.4371843964467036,
 0.43768809328673014, 0.4330449129898708, 0.4235743852871501, 0.6093551204833938, 0.6191101327770203, 0.6187647987647933,
 0.4328562540267092, 0.4359495661419685, 0.437691234346573, 0.44470752232433514, 0.45374469575753584, 0.48433399236366426,
 0.5831798021932536, 0.6194560928564811, 0.4860989913311589, 0.4633567005922448, 0.43496703835655987, 0.43945548475191865,
 0.44522643779640625, 0.44533018620987885, 0.4998541782483566, 0.5526033643727336, 0.5522842581244897, 0.4872345945711331,
 0.4823318914962631, 0.43151940164350405, 0.44205209635012965, 0.44262862649146767, 0.4663940107840914, 0.553246114860033,
 0.5531163747941239, 0.5535395610674323, 0.48748417235456754],
  rgb5x4: [0.4875058050591574, 0.49852803719103767, 0.47682534294521295, 0.49248010367622697, 0.5091109562672302, 0.48009022304569177,
 0.5023956634778, 0.5213809222522048, 0.49290854770024994, 0.49284738803632455, 0.5633550972835282, 0.49638160454654345,
 0.4912066536544142, 0.5975634584368585, 0.49020653141226955, 0.4876622920634368, 0.49801650387254115, 0.48329570468208655,
 0.4861472463038051, 0.5035550936354517, 0.5066959904308388, 0.5020476976476065, 0.5158464044544305, 0.5073097036997155,
 0.485167996334645, 0.551350867315287, 0.4982959936906154, 0.4760103452661929, 0.5635861904474029, 0.4963293636492225,
 0.4674808980288074, 0.4997780005910083, 0.48615556032648843, 0.46506983737969354, 0.49796771939289447, 0.531984959024171,
 0.46421656840187137, 0.49890791778608945, 0.5321557139962261, 0.47332380082498293, 0.511486511549106, 0.5198307111299076,
 0.4608697794924697, 0.5382287346116408, 0.5043264234458603, 0.45717058589160553, 0.4966879557292692, 0.5465652078199961,
 0.4548890608153332, 0.492012672855672, 0.5492056946361585, 0.44945177991020796, 0.4896864102345265, 0.5486895498780745,
 0.4401832868159561, 0.49133927254251103, 0.5377216829800212, 0.436833116782271, 0.49506591227086816, 0.5198385690064947],
  grey9x7Eps: [0.4613939023586722, 0.48036808457289587, 0.49648663884692307, 0.4911698782074838, 0.4819208473575943, 0.4769352723117787,
 0.49115979160151124, 0.5197618611175776, 0.5239459198862434, 0.4658529819935254, 0.4721393767788536, 0.4924684987182367,
 0.48872563600125796, 0.4765603133614362, 0.48442513500896045, 0.49939011133005073, 0.5379559422755652, 0.5443537852544938,
 0.45149348077676765, 0.458755630391579, 0.4633842974006495, 0.4755570286874302, 0.47305915423387057, 0.481907997242007,
 0.5108172768821924, 0.5668941417526251, 0.5800845856508263, 0.43111003026590766, 0.4312480585865436, 0.4418979662973171,
 0.4493878645291737, 0.4582645068758795, 0.47789620861126014, 0.553472313709984, 0.5808745540690545, 0.5890389064078616,
 0.42303133902990453, 0.4257783456598664, 0.43124997170142393, 0.4449475123053461, 0.46820625638300506, 0.501189153035011,
 0.5468480616585908, 0.5679586262104777, 0.5509402694260679, 0.43817426392557834, 0.4287449276014118, 0.4316630697283921,
 0.4505002055491451, 0.4677721235418242, 0.5104247441312396, 0.5426078406776154, 0.5491434709177874, 0.534838304754386,
 0.45068412883273, 0.43420462794691606, 0.43685581231535653, 0.4450408277759039, 0.4805388966853555, 0.5262602461334437,
 0.5421493124667721, 0.5448158420253861, 0.5248595277451927],
};

/**
 * hush iterates in float32 (as scikit-image does on float32 input), so its outputs are
 * scikit-image's float64 ones up to float32 round-off, which accumulates over the
 * iterations: within `tolerance` (measured: at most 5.7e-8 here), but not all equal to
 * the float32 rounding.
 */
function assertNear(actual: Float32Array, reference: number[], what: string, tolerance = 2e-7): void {
  assert.equal(actual.length, reference.length, what);
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs(actual[i] - reference[i]));
  }
  assert.ok(worst <= tolerance, `${what}: max |hush - scikit-image| = ${worst}`);
}

test('equals scikit-image denoise_tv_chambolle (grey, colour per channel, eps and maxIterations)', () => {
  assertNear(denoiseTvChambolle(noisy(9, 7, 1, 17), { weight: 0.1 }).data, SKIMAGE_TV.grey9x7, 'grey');
  assertNear(denoiseTvChambolle(noisy(5, 4, 3, 23), { weight: 0.2 }).data, SKIMAGE_TV.rgb5x4, 'rgb');
  assertNear(denoiseTvChambolle(noisy(9, 7, 1, 17), { weight: 0.3, eps: 1e-3, maxIterations: 7 }).data, SKIMAGE_TV.grey9x7Eps, 'eps');
});

/** Runs `body` with the SIMD kernels turned off (the JavaScript kernels). */
async function withoutSimd<T>(body: () => T | Promise<T>): Promise<T> {
  const before = process.env.HUSH_NO_SIMD;
  process.env.HUSH_NO_SIMD = '1';
  try {
    return await body();
  } finally {
    if (before === undefined) delete process.env.HUSH_NO_SIMD;
    else process.env.HUSH_NO_SIMD = before;
  }
}

test('the SIMD and the JavaScript kernels give the same result bit for bit (one thread and two)', async () => {
  // odd widths exercise the vector loops' scalar ends; the energies (so the stopping iteration) must agree too
  for (const [w, h, ch] of [
    [37, 29, 1],
    [4, 9, 1],
    [1, 7, 1],
    [23, 11, 3],
  ] as const) {
    const im = randomImage(w, h, ch, w * h);
    const simd = denoiseTvChambolle(im, { weight: 0.1 });
    const js = await withoutSimd(() => denoiseTvChambolle(im, { weight: 0.1 }));
    assert.deepEqual(simd.data, js.data, `${w}x${h}x${ch}`);
    assert.ok(maxAbsDiff(simd.data, im.data) > 1e-3, 'it did denoise');
  }
  const big = randomImage(301, 230, 1, 3);
  const opts = { weight: 0.12, maxIterations: 25 };
  const jsThreads = await withoutSimd(() => denoiseTvChambolleParallel(big, opts, { threads: 2, minPixels: 0 }));
  assert.deepEqual(jsThreads.data, denoiseTvChambolle(big, opts).data);
});

test('a step edge after one dual update shrinks by the hand-computed amount', () => {
  // columns 0,1 at 0 and 2,3 at 1. First iteration: u = f, the only gradient is g1 = 1 between
  // columns 1 and 2, so p1 = -tau g1 / (1 + tau/weight |g|) = -0.25 / (1 + 0.25/0.5) = -1/6 there.
  // Second iteration: u = f + div p: column 1 gains 1/6, column 2 loses 1/6 (a step of 2/3).
  const im = createImage(4, 3, 1, Float32Array.from([0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1]));
  const r = denoiseTvChambolle(im, { weight: 0.5, eps: 0, maxIterations: 2 });
  const sixth = Math.fround(1 / 6);
  const five6 = Math.fround(5 / 6);
  assert.deepEqual(Array.from(r.data), [0, sixth, five6, 1, 0, sixth, five6, 1, 0, sixth, five6, 1]);
  // one iteration returns the input (scikit-image's loop returns u before any update)
  assert.deepEqual(denoiseTvChambolle(im, { weight: 0.5, maxIterations: 1 }).data, im.data);
});

test('a constant image stays constant; tiny and thin images work', () => {
  const flat = createImage(6, 5, 3, new Float32Array(90).fill(0.3));
  assert.deepEqual(denoiseTvChambolle(flat, { weight: 0.2 }).data, flat.data);
  for (const [w, h] of [
    [1, 1],
    [2, 2],
    [1, 7],
    [9, 1],
    [3, 2],
  ]) {
    const im = randomImage(w, h, 1, w * 10 + h);
    const r = denoiseTvChambolle(im, { weight: 0.1 });
    assert.equal(r.data.length, w * h);
    assert.ok(r.data.every(Number.isFinite), `${w}x${h}`);
    // TV keeps the mean (the divergence of p sums to zero)
    const mean = (a: Float32Array): number => a.reduce((s, v) => s + v, 0) / a.length;
    assert.ok(Math.abs(mean(r.data) - mean(im.data)) < 1e-6, `${w}x${h} mean`);
  }
  assert.deepEqual(denoiseTvChambolle(createImage(1, 1, 1, Float32Array.from([0.7])), { weight: 1 }).data, Float32Array.from([0.7]));
});

test('raises PSNR on noisy images, grey and colour; physical values scale with the weight', () => {
  for (const channels of [1, 3] as const) {
    const clean = testPattern(48, 40, channels);
    const rng = createRng(7 + channels);
    const noisyIm = { ...clean, data: clean.data.map((v) => v + 0.1 * rng.normal()) };
    const r = denoiseTvChambolle(noisyIm, { weight: 0.1 });
    const before = psnr(clean, noisyIm, { dataRange: 1 });
    const after = psnr(clean, r, { dataRange: 1 });
    assert.ok(after > before + 3, `${channels} channels: ${before.toFixed(2)} -> ${after.toFixed(2)} dB`);
    // the same image on a 0..1000 scale with weight x1000 gives the same result x1000
    const big = { ...noisyIm, data: noisyIm.data.map((v) => v * 1000) };
    const rb = denoiseTvChambolle(big, { weight: 100 });
    let err = 0;
    for (let i = 0; i < r.data.length; i++) err = Math.max(err, Math.abs(rb.data[i] / 1000 - r.data[i]));
    assert.ok(err < 1e-5, `scaled: ${err}`);
  }
});

test('alpha is untouched and missing samples are filled, then restored', () => {
  const im = randomImage(12, 9, 4, 3);
  im.data[(4 * 12 + 5) * 4 + 1] = NaN;
  const mask = new Uint8Array(im.data.length);
  mask[(2 * 12 + 2) * 4] = 1;
  im.data[(2 * 12 + 2) * 4] = -1e30;
  const before = im.data.slice();
  const r = denoiseTvChambolle({ ...im, mask }, { weight: 0.1 });
  assert.deepEqual(im.data, before, 'input untouched');
  for (let p = 0; p < 12 * 9; p++) assert.equal(r.data[p * 4 + 3], im.data[p * 4 + 3], 'alpha');
  assert.ok(Number.isNaN(r.data[(4 * 12 + 5) * 4 + 1]), 'NaN restored');
  assert.equal(r.data[(2 * 12 + 2) * 4], Math.fround(-1e30), 'masked value restored');
  assert.equal(r.mask, mask);
  let finite = 0;
  for (let i = 0; i < r.data.length; i++) if (Number.isFinite(r.data[i]) && Math.abs(r.data[i]) < 2) finite++;
  assert.equal(finite, r.data.length - 2, 'no NaN or huge value spread');
  // grey + alpha
  const ga = randomImage(7, 6, 2, 4);
  const rg = denoiseTvChambolle(ga, { weight: 0.1 });
  for (let p = 0; p < 42; p++) assert.equal(rg.data[p * 2 + 1], ga.data[p * 2 + 1]);
});

test('denoise on two worker threads equals the single-thread result bit for bit', async () => {
  const grey = randomImage(260, 256, 1, 11);
  const sync = denoiseTvChambolle(grey, { weight: 0.15, maxIterations: 40 });
  let progress = 0;
  const par = await denoiseTvChambolleParallel(grey, { weight: 0.15, maxIterations: 40 }, { threads: 2, minPixels: 0, onProgress: (f) => (progress = f) });
  assert.deepEqual(par.data, sync.data);
  assert.equal(progress, 1);
  const rgb = randomImage(200, 330, 3, 12);
  const opts: DenoiseTvChambolleOptions = { weight: 0.1, eps: 5e-3, maxIterations: 30 };
  assert.deepEqual((await denoiseTvChambolleParallel(rgb, { ...opts }, { threads: 3, minPixels: 0 })).data, denoiseTvChambolle(rgb, opts).data);
  // a second call reuses the kept shared memory: it must start from a zero dual field again
  assert.deepEqual((await denoiseTvChambolleParallel(rgb, { ...opts }, { threads: 2, minPixels: 0 })).data, denoiseTvChambolle(rgb, opts).data);
  // few pixels: stays in the calling thread
  const small = randomImage(20, 10, 1, 13);
  assert.deepEqual((await TV_CHAMBOLLE_DENOISER.denoise(small, { weight: 0.1 })).data, denoiseTvChambolle(small, { weight: 0.1 }).data);
});

test('tiles (used above TV_EXACT_MAX_PIXELS) stay close to the global iteration', async () => {
  const clean = testPattern(200, 150, 1);
  const rng = createRng(5);
  const im = { ...clean, data: clean.data.map((v) => v + 0.1 * rng.normal()) };
  const whole = denoiseTvChambolle(im, { weight: 0.1 });
  const one = await denoiseTvChambolleTiled(im, { weight: 0.1 }, { tileSize: 256, overlap: 8, threads: 1 });
  assert.deepEqual(one.data, whole.data, 'a single tile is the global iteration');
  // with a fixed number of iterations only the tile borders differ, and 24 pixels of context hide them
  const fixed = { weight: 0.1, eps: 0, maxIterations: 60 };
  const fixedTiled = await denoiseTvChambolleTiled(im, fixed, { tileSize: 64, overlap: 24, threads: 2 });
  const dFixed = maxAbsDiff(fixedTiled.data, denoiseTvChambolle(im, fixed).data);
  assert.ok(dFixed < 1e-5, `fixed iterations, tiled vs whole: ${dFixed}`);
  // with the stopping rule each tile stops on its own energy: larger differences, still well under the noise
  const tiled = await denoiseTvChambolleTiled(im, { weight: 0.1 }, { tileSize: 64, overlap: 24, threads: 2 });
  const d = maxAbsDiff(tiled.data, whole.data);
  assert.ok(d > dFixed && d < 0.05, `tiled vs whole: ${d}`);
  // and no worse for the image (here the tiles iterate longer and gain 0.3 dB)
  assert.ok(psnr(clean, tiled, { dataRange: 1 }) > psnr(clean, whole, { dataRange: 1 }) - 0.05);
});

test('rejects bad options with exact messages', () => {
  const im = randomImage(4, 4, 1, 1);
  const bad = (options: unknown, message: string): void =>
    assert.throws(() => denoiseTvChambolle(im, options as DenoiseTvChambolleOptions), { code: 'ERR_INVALID_PARAMETER', message });
  bad({}, 'denoiseTvChambolle: expected a finite number above 0 for options.weight but received undefined.');
  bad({ weight: 0 }, 'denoiseTvChambolle: expected a finite number above 0 for options.weight but received 0 (number).');
  bad({ weight: NaN }, 'denoiseTvChambolle: expected a finite number above 0 for options.weight but received NaN (number).');
  bad({ weight: '0.1' }, "denoiseTvChambolle: expected a finite number above 0 for options.weight but received '0.1' (string).");
  bad({ weight: 0.1, eps: -1 }, 'denoiseTvChambolle: expected a finite number of at least 0 for options.eps but received -1 (number).');
  bad({ weight: 0.1, maxIterations: 0 }, 'denoiseTvChambolle: expected an integer from 1 to 100000 for options.maxIterations but received 0 (number).');
  bad({ weight: 0.1, maxIterations: 2.5 }, 'denoiseTvChambolle: expected an integer from 1 to 100000 for options.maxIterations but received 2.5 (number).');
  bad({ weight: 0.1, sigma: 0.1 }, "denoiseTvChambolle: expected only the options 'weight', 'eps', 'maxIterations' for options but received 'sigma' (string).");
  bad(null, 'denoiseTvChambolle: expected an object for options but received null.');
  assert.throws(() => denoiseTvChambolle({ ...im, width: 3 }, { weight: 0.1 }), {
    message: 'denoiseTvChambolle: expected length 12 (width x height x channels) for image.data but received a Float32Array.',
  });
});

test('registry entry: id, parameters, grid', async () => {
  assert.equal(TV_CHAMBOLLE_DENOISER.id, 'tv-chambolle');
  assert.equal(TV_CHAMBOLLE_DENOISER.usesSigma, false);
  assert.deepEqual(
    TV_CHAMBOLLE_DENOISER.params.map((p) => [p.name, p.default]),
    [
      ['weight', undefined],
      ['eps', 2e-4],
      ['maxIterations', 200],
    ],
  );
  for (const p of TV_CHAMBOLLE_DENOISER.params) assert.ok(p.description.length > 20, p.name);
  assert.deepEqual(TV_CHAMBOLLE_DENOISER.calibrationGrid(0.1), { weight: [0.05, 0.07, 0.1, 0.14, 0.2, 0.3] });
  assert.ok(TV_CHAMBOLLE_DENOISER.calibrationGrid(0).weight.every((w) => (w as number) > 0));
  await assert.rejects(TV_CHAMBOLLE_DENOISER.denoise(randomImage(4, 4, 1, 1), { weight: -1 }), {
    message: 'denoiseTvChambolle: expected a finite number above 0 for options.weight but received -1 (number).',
  });
});
