import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { addGaussianNoise } from '../../src/noise/gaussian.js';
import { psnr } from '../../src/metrics/index.js';
import { BM3D_DENOISER, BM3D_PARAMS, denoiseBm3d, denoiseBm3dParallel, type DenoiseBm3dOptions } from '../../src/denoise/bm3d.js';
import {
  bior15Matrix,
  blockTransform,
  dctMatrix,
  fastTransform8,
  haarGroupForward,
  haarGroupInverse,
  kaiserWindow,
} from '../../src/denoise/bm3d-transforms.js';
import { floorPow2, matchBlocks, referencePositions } from '../../src/denoise/bm3d-match.js';
import { simdAvailable } from '../../src/denoise/bm3d-simd.js';
import { createRng } from '../../src/core/rng.js';
import { maxAbsDiff, testPattern } from '../helpers/images.js';

const SIGMA = 25 / 255;

function noisy(width: number, height: number, channels: Channels, seed = 1): { clean: Image; noisy: Image } {
  const clean = testPattern(width, height, channels);
  return { clean, noisy: addGaussianNoise(clean, { sigma: SIGMA, seed }) };
}

// ---------------------------------------------------------------------------
// transforms

test('fast 8-point transforms equal the DCT and bior1.5 matrices, and invert them', () => {
  for (const kind of ['dct', 'bior1.5'] as const) {
    const m = blockTransform(kind, 8);
    const f = fastTransform8(kind);
    const x = Float32Array.from({ length: 8 }, (_, i) => Math.sin(3.1 * i + 0.4) * 50 + i);
    const y = new Float32Array(8);
    f.forward(x, 0, 1, y, 0, 1);
    for (let r = 0; r < 8; r++) {
      let s = 0;
      for (let i = 0; i < 8; i++) s += m.forward[r * 8 + i] * x[i];
      assert.ok(Math.abs(s - y[r]) < 1e-4, `${kind} row ${r}: ${s} vs ${y[r]}`);
    }
    const z = new Float32Array(8);
    f.inverse(y, 0, 1, z, 0, 1);
    assert.ok(maxAbsDiff(x, z) < 1e-4, kind);
  }
});

test('block transforms: DCT orthonormal, bior1.5 rows of unit norm with Haar finest details', () => {
  const d = dctMatrix(8);
  for (let a = 0; a < 8; a++) {
    for (let b = 0; b < 8; b++) {
      let s = 0;
      for (let i = 0; i < 8; i++) s += d[a * 8 + i] * d[b * 8 + i];
      assert.ok(Math.abs(s - (a === b ? 1 : 0)) < 1e-12);
    }
  }
  const bi = bior15Matrix(8);
  for (let r = 0; r < 8; r++) {
    let s = 0;
    for (let i = 0; i < 8; i++) s += bi[r * 8 + i] ** 2;
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
  // row 0 is the mean, rows 4..7 the finest Haar differences
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(bi[i] - 1 / Math.sqrt(8)) < 1e-12);
  assert.ok(Math.abs(bi[4 * 8] - Math.SQRT1_2) < 1e-12 && Math.abs(bi[4 * 8 + 1] + Math.SQRT1_2) < 1e-12);
  const t = blockTransform('bior1.5', 8);
  for (let a = 0; a < 8; a++) {
    for (let b = 0; b < 8; b++) {
      let s = 0;
      for (let i = 0; i < 8; i++) s += t.forward[a * 8 + i] * t.inverse[i * 8 + b];
      assert.ok(Math.abs(s - (a === b ? 1 : 0)) < 1e-12);
    }
  }
});

test('Kaiser window (beta 2) matches the table of the reference implementation', () => {
  const k = kaiserWindow(8, 2);
  // Lebrun's IPOL code tabulates the 2-D window; its corner is k0^2 = 0.1924 and centre k3^2 = 0.9718
  assert.ok(Math.abs(k[0] * k[0] - 0.1924) < 1e-4);
  assert.ok(Math.abs(k[3] * k[3] - 0.9718) < 1e-4);
  assert.ok(Math.abs(k[0] * k[3] - 0.4325) < 1e-4);
  assert.equal(k[0], k[7]);
});

test('Haar along the group is orthonormal and its own inverse', () => {
  for (const count of [1, 2, 4, 16]) {
    const g = Float32Array.from({ length: count * 3 }, (_, i) => Math.cos(i * 1.7) * 10);
    const orig = g.slice();
    haarGroupForward(g, count, 3);
    let e0 = 0;
    let e1 = 0;
    for (let i = 0; i < g.length; i++) {
      e0 += orig[i] ** 2;
      e1 += g[i] ** 2;
    }
    assert.ok(Math.abs(e0 - e1) < 1e-3 * e0);
    // the DC of each column is sum / sqrt(count)
    let s = 0;
    for (let p = 0; p < count; p++) s += orig[p * 3];
    assert.ok(Math.abs(g[0] - s / Math.sqrt(count)) < 1e-4);
    haarGroupInverse(g, count, 3);
    assert.ok(maxAbsDiff(g, orig) < 1e-4);
  }
});

// ---------------------------------------------------------------------------
// block matching

test('reference grid: multiples of the step in absolute coordinates, plus the last block', () => {
  assert.deepEqual([...referencePositions(20, 8, 3, 0)], [0, 3, 6, 9, 12]);
  assert.deepEqual([...referencePositions(21, 8, 3, 0)], [0, 3, 6, 9, 12, 13]);
  assert.deepEqual([...referencePositions(21, 8, 3, 4)], [2, 5, 8, 11, 13]);
  assert.deepEqual([...referencePositions(8, 8, 3, 7)], [0]);
  assert.equal(floorPow2(1), 1);
  assert.equal(floorPow2(31), 16);
  assert.equal(floorPow2(32), 32);
});

test('block matching finds planted copies of the reference block, nearest first, within tau', () => {
  const W = 40;
  const H = 40;
  const rng = createRng(11);
  const im = new Float32Array(W * H);
  for (let i = 0; i < im.length; i++) im[i] = 255 * rng.next();
  // plant exact copies of the block at (12, 12) at (3, 20) and (25, 5), and a near copy at (20, 28)
  const copy = (x0: number, y0: number, delta: number): void => {
    for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) im[(y0 + y) * W + x0 + x] = im[(12 + y) * W + 12 + x] + delta;
  };
  copy(3, 20, 0);
  copy(25, 5, 0);
  copy(20, 28, 2);
  const m = matchBlocks(im, W, H, 8, Int32Array.of(12), Int32Array.of(12), 16, 8, 10);
  assert.equal(m.count[0], 4);
  const got = [...m.positions.subarray(0, 4)];
  assert.equal(got[0], 12 * W + 12);
  assert.deepEqual(new Set(got.slice(1, 3)), new Set([20 * W + 3, 5 * W + 25]));
  assert.equal(got[3], 28 * W + 20);
  // a tau below the near copy's distance (4 per pixel) leaves 3 matches, rounded down to 2
  const strict = matchBlocks(im, W, H, 8, Int32Array.of(12), Int32Array.of(12), 16, 8, 3.9);
  assert.equal(strict.count[0], 2);
  // a window that cannot reach the copies leaves the reference alone
  const near = matchBlocks(im, W, H, 8, Int32Array.of(12), Int32Array.of(12), 2, 8, 10);
  assert.equal(near.count[0], 1);
});

test('the WebAssembly SIMD matching kernel gives exactly the matches of the JavaScript loops', (t) => {
  if (!simdAvailable()) {
    t.skip('no WebAssembly SIMD here');
    return;
  }
  const rng = createRng(5);
  const W = 61;
  const H = 47;
  const im = new Float32Array(W * H);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) im[y * W + x] = 128 + 80 * Math.sin(x * 0.3) * Math.cos(y * 0.2) + 30 * rng.normal();
  const rx = referencePositions(W, 8, 3, 0);
  const ry = referencePositions(H, 8, 3, 1);
  for (const [radius, K, tau] of [
    [9, 16, 3000],
    [6, 8, 400],
    [12, 32, 1e9],
  ]) {
    const simd = matchBlocks(im, W, H, 8, rx, ry, radius, K, tau);
    process.env.HUSH_NO_SIMD = '1';
    try {
      const js = matchBlocks(im, W, H, 8, rx, ry, radius, K, tau);
      assert.deepEqual(simd.count, js.count);
      assert.deepEqual(simd.positions, js.positions);
    } finally {
      delete process.env.HUSH_NO_SIMD;
    }
    // every group holds the reference first and only blocks within the window
    for (let r = 0; r < simd.count.length; r++) {
      const ref = simd.positions[r * K];
      for (let k = 0; k < simd.count[r]; k++) {
        const q = simd.positions[r * K + k];
        assert.ok(Math.abs((q % W) - (ref % W)) <= radius && Math.abs(Math.floor(q / W) - Math.floor(ref / W)) <= radius);
      }
    }
  }
});

test('with and without the SIMD kernel the denoised images agree (float32 rounding only)', (t) => {
  if (!simdAvailable()) {
    t.skip('no WebAssembly SIMD here');
    return;
  }
  for (const channels of [1, 3] as const) {
    const { noisy: n } = noisy(40, 32, channels, 8);
    const simd = denoiseBm3d(n, { sigma: SIGMA, searchWindow: 15 });
    process.env.HUSH_NO_SIMD = '1';
    try {
      const js = denoiseBm3d(n, { sigma: SIGMA, searchWindow: 15 });
      assert.ok(maxAbsDiff(simd.data, js.data) < 1e-4, `${channels}: ${maxAbsDiff(simd.data, js.data)}`);
    } finally {
      delete process.env.HUSH_NO_SIMD;
    }
  }
});

// ---------------------------------------------------------------------------
// denoising

test('denoising raises PSNR on a noisy grey test pattern; both stages beat the hard stage alone', () => {
  const { clean, noisy: n } = noisy(64, 64, 1);
  const before = psnr(clean, n, { dataRange: 1 });
  const hard = psnr(clean, denoiseBm3d(n, { sigma: SIGMA, stage: 'hard' }), { dataRange: 1 });
  const both = psnr(clean, denoiseBm3d(n, { sigma: SIGMA }), { dataRange: 1 });
  assert.ok(hard > before + 6, `hard ${hard} vs noisy ${before}`);
  assert.ok(both > hard + 0.2, `both ${both} vs hard ${hard}`);
});

test('colour (CBM3D): raises PSNR, alpha carried through untouched, input untouched', () => {
  for (const space of ['opp', 'ycbcr'] as const) {
    const { clean, noisy: n } = noisy(48, 40, 4, 2);
    const copy = n.data.slice();
    const out = denoiseBm3d(n, { sigma: SIGMA, colourSpace: space });
    assert.deepEqual(n.data, copy);
    assert.equal(out.channels, 4);
    for (let i = 3; i < out.data.length; i += 4) assert.equal(out.data[i], n.data[i]);
    const before = psnr(clean, n, { dataRange: 1 });
    const after = psnr(clean, out, { dataRange: 1 });
    assert.ok(after > before + 6, `${space}: ${after} vs ${before}`);
  }
});

test('grey + alpha: alpha untouched', () => {
  const { noisy: n } = noisy(30, 20, 2, 3);
  const out = denoiseBm3d(n, { sigma: SIGMA });
  for (let i = 1; i < out.data.length; i += 2) assert.equal(out.data[i], n.data[i]);
});

test('images smaller than a block (and odd sizes) are mirror-padded, not rejected', () => {
  for (const [w, h, c] of [
    [1, 1, 1],
    [2, 2, 1],
    [1, 9, 3],
    [7, 5, 4],
    [9, 3, 1],
    [13, 11, 3],
  ] as const) {
    const im = testPattern(w, h, c);
    const out = denoiseBm3d(im, { sigma: SIGMA });
    assert.equal(out.width, w);
    assert.equal(out.height, h);
    assert.equal(out.channels, c);
    for (const v of out.data) assert.ok(Number.isFinite(v));
  }
  // a constant image stays constant (up to the Wiener shrinkage of a lone block's mean, 0.25% here)
  const flat = createImage(3, 3, 1, new Float32Array(9).fill(0.25));
  const out = denoiseBm3d(flat, { sigma: SIGMA }).data;
  for (const v of out) assert.ok(v === out[0] && Math.abs(v - 0.25) < 1e-3, `${v}`);
  const big = createImage(20, 20, 1, new Float32Array(400).fill(0.25));
  for (const v of denoiseBm3d(big, { sigma: SIGMA }).data) assert.ok(Math.abs(v - 0.25) < 1e-4, `${v}`);
});

test('missing samples (NaN, mask) are filled for the computation and restored, never spread', () => {
  const { clean, noisy: n } = noisy(40, 40, 1, 4);
  const withHoles = { ...n, data: n.data.slice(), mask: new Uint8Array(n.data.length) };
  for (let y = 10; y < 14; y++) for (let x = 10; x < 16; x++) withHoles.data[y * 40 + x] = NaN;
  withHoles.mask[30 * 40 + 5] = 1;
  withHoles.data[30 * 40 + 5] = 1000;
  const out = denoiseBm3d(withHoles, { sigma: SIGMA });
  for (let i = 0; i < out.data.length; i++) {
    if (Number.isNaN(withHoles.data[i])) assert.ok(Number.isNaN(out.data[i]));
    else if (withHoles.mask[i]) assert.equal(out.data[i], 1000);
    else assert.ok(Number.isFinite(out.data[i]) && Math.abs(out.data[i]) < 2, `sample ${i}: ${out.data[i]}`);
  }
  assert.equal(out.mask, withHoles.mask);
  // away from the holes the result is still a good denoising
  const holeFree = (im: Image): Image => ({ ...im, data: im.data.map((v, i) => ((i / 40) | 0) < 20 ? 0 : v) });
  assert.ok(psnr(holeFree(clean), holeFree(out), { dataRange: 1 }) > psnr(holeFree(clean), holeFree(n), { dataRange: 1 }) + 5);
});

test('worker-thread bands equal the single-thread result exactly (grey and colour, both stages)', async () => {
  // searchWindow 9 needs 2 * 4 + 8 = 16 rows of context; 150 rows make one band per thread (2 or 3)
  const cases: [Channels, DenoiseBm3dOptions][] = [
    [1, { sigma: SIGMA, searchWindow: 9 }],
    [3, { sigma: SIGMA, searchWindow: 9, step: 4, stage: 'hard' }],
    [3, { sigma: SIGMA, searchWindow: 7, step: 4 }],
  ];
  for (const [channels, opts] of cases) {
    const { noisy: n } = noisy(24, 150, channels, 5);
    const single = denoiseBm3d(n, opts);
    for (const threads of [2, 3]) {
      let last = 0;
      const tiled = await denoiseBm3dParallel(n, opts, { threads, onProgress: (f) => (last = f) });
      assert.equal(maxAbsDiff(single.data, tiled.data), 0, `${threads} threads ${JSON.stringify(opts)}`);
      assert.equal(last, 1);
    }
    // without a thread count an image this small stays in the calling thread, same result
    assert.equal(maxAbsDiff(single.data, (await denoiseBm3dParallel(n, opts)).data), 0);
  }
});

test('registry entry: id, sigma, params with descriptions, calibration grid around sigma, async denoise', async () => {
  assert.equal(BM3D_DENOISER.id, 'bm3d');
  assert.equal(BM3D_DENOISER.usesSigma, true);
  assert.equal(BM3D_DENOISER.params, BM3D_PARAMS);
  for (const p of BM3D_PARAMS) assert.ok(p.description.length > 10, p.name);
  const grid = BM3D_DENOISER.calibrationGrid(0.1);
  assert.ok(grid.sigma.includes(0.1));
  assert.ok(Math.min(...(grid.sigma as number[])) < 0.1 && Math.max(...(grid.sigma as number[])) > 0.1);
  const { noisy: n } = noisy(20, 20, 1, 6);
  const a = await BM3D_DENOISER.denoise(n, { sigma: SIGMA }, { threads: 1 });
  assert.deepEqual(a.data, denoiseBm3d(n, { sigma: SIGMA }).data);
});

test('the thresholds refer to dataRange: a 0..255 image with dataRange 255 gives the same result', () => {
  const { noisy: n } = noisy(24, 24, 1, 7);
  const scaled = { ...n, data: n.data.map((v) => v * 255) };
  const a = denoiseBm3d(n, { sigma: SIGMA });
  const b = denoiseBm3d(scaled, { sigma: 25, dataRange: 255 });
  let worst = 0;
  for (let i = 0; i < a.data.length; i++) worst = Math.max(worst, Math.abs(a.data[i] * 255 - b.data[i]));
  assert.ok(worst < 1e-2, `${worst}`);
});

// ---------------------------------------------------------------------------
// rejections, one per public option, with the exact text

test('every option is validated with the house-style message', () => {
  const im = testPattern(8, 8, 1);
  const cases: [Record<string, unknown>, string][] = [
    [{ sigma: -1 }, 'denoiseBm3d: expected a finite number above 0 for options.sigma but received -1 (number).'],
    [{}, 'denoiseBm3d: expected a finite number above 0 for options.sigma but received undefined.'],
    [{ sigma: NaN }, 'denoiseBm3d: expected a finite number above 0 for options.sigma but received NaN (number).'],
    [{ sigma: 0.1, stage: 'soft' }, "denoiseBm3d: expected one of 'both', 'hard' for options.stage but received 'soft' (string)."],
    [{ sigma: 0.1, stage: 'hrad' }, "denoiseBm3d: expected one of 'both', 'hard' for options.stage but received 'hrad' (string). Did you mean 'hard'?"],
    [{ sigma: 0.1, transform: 'haar' }, "denoiseBm3d: expected one of 'bior1.5', 'dct' for options.transform but received 'haar' (string)."],
    [{ sigma: 0.1, searchWindow: 4 }, 'denoiseBm3d: expected an odd integer from 3 to 75 for options.searchWindow but received 4 (number).'],
    [{ sigma: 0.1, step: 0 }, 'denoiseBm3d: expected an integer from 1 to 8 for options.step but received 0 (number).'],
    [{ sigma: 0.1, groupSizeHard: 12 }, 'denoiseBm3d: expected a power of 2 from 1 to 64 for options.groupSizeHard but received 12 (number).'],
    [{ sigma: 0.1, groupSizeHard: 128 }, 'denoiseBm3d: expected an integer from 1 to 64 for options.groupSizeHard but received 128 (number).'],
    [{ sigma: 0.1, groupSizeWiener: 3 }, 'denoiseBm3d: expected a power of 2 from 1 to 64 for options.groupSizeWiener but received 3 (number).'],
    [{ sigma: 0.1, lambda3d: 0 }, 'denoiseBm3d: expected a finite number above 0 for options.lambda3d but received 0 (number).'],
    [{ sigma: 0.1, tauMatchHard: -5 }, 'denoiseBm3d: expected a finite number above 0 for options.tauMatchHard but received -5 (number).'],
    [{ sigma: 0.1, tauMatchWiener: Infinity }, 'denoiseBm3d: expected a finite number above 0 for options.tauMatchWiener but received Infinity (number).'],
    [{ sigma: 0.1, colourSpace: 'rgb' }, "denoiseBm3d: expected one of 'opp', 'ycbcr' for options.colourSpace but received 'rgb' (string)."],
    [{ sigma: 0.1, dataRange: 0 }, 'denoiseBm3d: expected a finite number above 0 for options.dataRange but received 0 (number).'],
    [
      { sigma: 0.1, sigma255: 25 },
      "denoiseBm3d: expected only the options 'sigma', 'stage', 'transform', 'searchWindow', 'step', 'groupSizeHard', 'groupSizeWiener', 'lambda3d', 'tauMatchHard', 'tauMatchWiener', 'colourSpace', 'dataRange' for options but received 'sigma255' (string).",
    ],
  ];
  for (const [opts, message] of cases) {
    assert.throws(() => denoiseBm3d(im, opts as unknown as DenoiseBm3dOptions), { code: 'ERR_INVALID_PARAMETER', message });
  }
  assert.throws(() => denoiseBm3d({ width: 2 } as unknown as Image, { sigma: 0.1 }), {
    message: 'denoiseBm3d: expected a Float32Array for image.data but received undefined.',
  });
  assert.throws(() => denoiseBm3d(im, null as unknown as DenoiseBm3dOptions), {
    message: 'denoiseBm3d: expected an object for options but received null.',
  });
});

test('the registry entry and the parallel path reject like denoiseBm3d', async () => {
  const im = testPattern(8, 8, 1);
  await assert.rejects(BM3D_DENOISER.denoise(im, { sigma: -1 }), {
    message: 'denoiseBm3d: expected a finite number above 0 for options.sigma but received -1 (number).',
  });
});
