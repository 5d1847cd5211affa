import test from 'node:test';
import assert from 'node:assert/strict';
import { createImage } from '../../src/core/image.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { denoiseSelfSupervised } from '../../src/training/self-supervised.js';
import { testPattern } from '../helpers/images.js';

test('self-supervised single-image denoising: fits within its budget and returns a finite image of the same shape', async () => {
  const clean = testPattern(48, 40, 1);
  const noisy = addGaussianNoise(clean, { sigma: 0.1, seed: 2 });
  const fractions: number[] = [];
  const t = performance.now();
  const r = await denoiseSelfSupervised(noisy, { method: 'n2same', network: 'dncnn', budgetSeconds: 6, threads: 1, onProgress: (f) => fractions.push(f) });
  assert.equal(r.network, 'dncnn');
  const seconds = (performance.now() - t) / 1000;
  assert.ok(seconds < 6 * 1.5 + 2, `took ${seconds} s for a 6 s budget`);
  assert.equal(r.image.width, 48);
  assert.equal(r.image.height, 40);
  assert.ok(r.image.data.every((v) => Number.isFinite(v)));
  // at least one step of training (3-6 on an idle 2-core machine, 2 with a training job beside it)
  assert.ok(r.steps >= 1, `${r.steps} steps`);
  assert.ok(Math.abs(r.sigma - 0.1) < 0.03, `estimated sigma ${r.sigma}`);
  assert.equal(fractions.at(-1), 1);
});

test('self-supervised: NaN pixels and tiny images are refused with a clear message', async () => {
  const bad = createImage(32, 32, 1, new Float32Array(32 * 32).fill(0.5));
  bad.data[5] = Number.NaN;
  await assert.rejects(denoiseSelfSupervised(bad, { budgetSeconds: 5 }), /NaN or infinite pixels/);
  await assert.rejects(denoiseSelfSupervised(createImage(8, 8, 1), { budgetSeconds: 5 }), /at least 16x16 pixels/);
  await assert.rejects(denoiseSelfSupervised(bad, { method: 'n2v' as never }), /options\.method/);
  await assert.rejects(denoiseSelfSupervised(bad, { network: 'resnet' as never }), /options\.network/);
});
