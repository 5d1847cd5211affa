import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { psnr } from '../../src/metrics/index.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { dihedralImage, recorruptedDenoise, recorruptionFromMetadata } from '../../src/runtime/recorrupted.js';
import { R2R } from '../../src/training/methods/r2r.js';
import { checkerboardSqueeze, denoiseSelfSupervised } from '../../src/training/self-supervised.js';
import { testPattern } from '../helpers/images.js';

test('r2r: input y + alpha z and target y - z / alpha from one z of the given sigma; no sigma, a clear message', () => {
  const n = 20000;
  const noisy = new Float32Array(n).map((_, i) => (i % 97) / 97);
  const shape = { n: 1, h: 100, w: 200, c: 1 };
  const alpha = 0.5;
  const sigma = 0.1;
  const b = R2R.batch({ noisy, shape, rng: createRng(4), step: 0, steps: 1, sigma }, { alpha });
  const [input] = b.inputs;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    const d = input[i] - noisy[i];
    // the same z in both: (input - y) = -alpha^2 (target - y)
    assert.ok(Math.abs(d + alpha * alpha * (b.target[i] - noisy[i])) < 1e-6, `pixel ${i}`);
    s2 += d * d;
  }
  const sd = Math.sqrt(s2 / n);
  assert.ok(Math.abs(sd - alpha * sigma) < 0.002, `sd of alpha z: ${sd}`);
  assert.equal(b.mask, undefined);
  assert.throws(() => R2R.batch({ noisy, shape, rng: createRng(4), step: 0, steps: 1 }, { alpha }), /r2r needs the Gaussian noise sigma/);
});

test('checkerboard squeeze: each colour of the checkerboard packed along x or y; the two colours cover every pixel once', () => {
  const w = 6;
  const h = 4;
  const t = { data: Float32Array.from({ length: w * h }, (_, i) => i), width: w, height: h, channels: 1 as const, file: 't' };
  const a = checkerboardSqueeze(t, 'x', 0);
  const b = checkerboardSqueeze(t, 'x', 1);
  assert.deepEqual([a.width, a.height], [3, 4]);
  // row 0: x = 0, 2, 4 (x + y even); row 1: x = 1, 3, 5
  assert.deepEqual([...a.data.slice(0, 6)], [0, 2, 4, 7, 9, 11]);
  assert.deepEqual([...b.data.slice(0, 6)], [1, 3, 5, 6, 8, 10]);
  assert.deepEqual([...a.data, ...b.data].sort((p, q) => p - q), [...t.data]);
  const c = checkerboardSqueeze(t, 'y', 0);
  assert.deepEqual([c.width, c.height], [6, 2]);
  // column 0: y = 0, 2; column 1: y = 1, 3
  assert.deepEqual([c.data[0], c.data[6], c.data[1], c.data[7]], [0, 12, 7, 19]);
});

test('dihedral: the 8 symmetries undo exactly, the mask moves with the samples, bit 2 transposes', () => {
  const im = createImage(5, 3, 3, Float32Array.from({ length: 45 }, (_, i) => i), { mask: Uint8Array.from({ length: 45 }, (_, i) => (i === 7 ? 1 : 0)) });
  for (let t = 0; t < 8; t++) {
    const f = dihedralImage(im, t);
    assert.deepEqual([f.width, f.height], t & 4 ? [3, 5] : [5, 3]);
    const back = dihedralImage(f, t, true);
    assert.deepEqual([back.width, back.height], [5, 3]);
    assert.deepEqual(back.data, im.data, `symmetry ${t}`);
    assert.deepEqual(back.mask, im.mask, `symmetry ${t}`);
  }
  const tr = dihedralImage(im, 4);
  // pixel (x 1, y 0) goes to (x 0, y 1)
  assert.deepEqual([...tr.data.slice(3 * 3, 3 * 3 + 3)], [3, 4, 5]);
  const fx = dihedralImage(im, 1);
  assert.deepEqual([...fx.data.slice(0, 3)], [12, 13, 14]);
});

test('recorrupted inference: the identity network gives back the image up to alpha sigma / sqrt(passes); alpha and missing samples untouched', async () => {
  const im = testPattern(40, 30, 4);
  im.mask = new Uint8Array(im.data.length);
  im.mask[4 * 33] = 1;
  const seen: number[] = [];
  const out = await recorruptedDenoise(im, async (y) => (seen.push(y.width), y), { sigma: 0.2, alpha: 0.5, passes: 16, seed: 3 });
  // every symmetry, transposed ones included
  assert.deepEqual(seen.slice(0, 8), [40, 40, 40, 40, 30, 30, 30, 30]);
  let s2 = 0;
  let n = 0;
  for (let i = 0; i < im.data.length; i++) {
    if (i % 4 === 3 || im.mask[i]) {
      assert.equal(out.data[i], im.data[i], `sample ${i}`);
      continue;
    }
    s2 += (out.data[i] - im.data[i]) ** 2;
    n++;
  }
  const sd = Math.sqrt(s2 / n);
  assert.ok(Math.abs(sd - (0.5 * 0.2) / 4) < 0.003, `residual sd ${sd}`);
  assert.deepEqual(recorruptionFromMetadata({ training: { method: 'r2r', methodOptions: { alpha: 0.7 }, sigma: 0.1 } } as never), { alpha: 0.7, sigma: 0.1 });
  assert.equal(recorruptionFromMetadata({ training: { method: 'n2n' } } as never), undefined);
});

test('self-supervised default (r2r): a few seconds of fitting on the noisy image alone removes most of the noise', async () => {
  const clean = testPattern(64, 64, 1);
  const noisy = addGaussianNoise(clean, { sigma: 0.1, seed: 5 });
  const r = await denoiseSelfSupervised(noisy, { budgetSeconds: 8, threads: 1 });
  assert.equal(r.method, 'r2r');
  assert.deepEqual(r.settings, { batchSize: 4, patchSize: 24, lr: 3e-3, depth: 8, width: 32, alpha: 0.5, passes: 16 });
  const before = psnr(clean, noisy, { dataRange: 1 });
  const after = psnr(clean, r.image, { dataRange: 1 });
  // 19.99 -> 27.17 dB in 334 steps beside a training job
  assert.ok(after > before + 4, `${before.toFixed(2)} dB -> ${after.toFixed(2)} dB in ${r.steps} steps`);
  // Noise2Fast (checkerboard-squeezed noisy/noisy pairs, no noise model): 19.99 -> 23.48 dB in 360 steps there
  const f = await denoiseSelfSupervised(noisy, { method: 'n2fast', budgetSeconds: 8, threads: 1 });
  const fast = psnr(clean, f.image, { dataRange: 1 });
  assert.ok(fast > before + 1.5, `n2fast: ${before.toFixed(2)} dB -> ${fast.toFixed(2)} dB in ${f.steps} steps`);
});
