/**
 * The GAN step on onnxruntime equals gan.ts's tfjs step: the same discriminator and
 * generator losses, and the same weights and moving statistics after each step
 * (strided 4x4 convolutions, inference-mode batch norm and the gradient into the
 * discriminator's input included); fitGan resumes exactly on this engine too.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createModel } from '../../src/models/hush-model.js';
import { createRng } from '../../src/core/rng.js';
import { OnnxGanTrainer, onnxGanUnsupported } from '../../src/training/onnx-gan-trainer.js';
import { fitGan, tfjsGanStep, type FitGanOptions } from '../../src/training/gan.js';
import { buildVgg16Features } from '../../src/training/losses.js';
import { rgbTrainImages } from '../models/fixture.js';

import { maxRel } from '../helpers/arrays.js';

await loadTfjs({ backend: 'wasm' });

function batch(shape: number[], seed: number) {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const clean = new Float32Array(n);
  const noisy = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    clean[i] = 0.5 + 0.4 * Math.sin(i / 7) * rng.next();
    noisy[i] = clean[i] + 0.2 * (rng.next() - 0.5);
  }
  return { clean, noisy };
}

const pair = async (channels: 1 | 3, meanMatch = true) => ({
  g: await createModel('gan-generator', { channels, width: 4, residualBlocks: 1, seed: 1, meanMatch }),
  d: await createModel('gan-discriminator', { channels, width: 4, seed: 2 }),
});

for (const c of [
  { name: 'README weights, RGB, 16x16', channels: 3 as const, shape: [2, 16, 16, 3], weights: { adversarial: 0.5, pixel: 1, smooth: 0.0001 } },
  { name: 'strong smoothness, grey, 24x16 (odd discriminator sizes)', channels: 1 as const, shape: [3, 24, 16, 1], weights: { adversarial: 1, pixel: 0.5, smooth: 0.5 } },
  // without the mean match: with it, and no adversarial term, this D's weights are ill-conditioned
  // (in tfjs alone, a 1e-6 relative change of the input moves them by 3.5e-4 relative after 3 steps)
  { name: 'pixel term only (adversarial and smoothness weights 0: D still steps), paper generator', channels: 1 as const, shape: [2, 16, 16, 1], weights: { adversarial: 0, pixel: 1, smooth: 0 }, meanMatch: false },
]) {
  test(`onnxruntime GAN step equals tfjs's: ${c.name}`, async () => {
    const a = await pair(c.channels, c.meanMatch);
    const b = await pair(c.channels, c.meanMatch);
    b.g.model.setWeights(a.g.model.getWeights());
    b.d.model.setWeights(a.d.model.getWeights());
    assert.equal(onnxGanUnsupported(a.g.model, a.d.model), undefined);
    const trainer = await OnnxGanTrainer.create(a.g.model, a.d.model, { weights: c.weights, threads: 1 });
    const gOpt = tf.train.adam(1e-3, 0.5);
    const dOpt = tf.train.adam(1e-3, 0.5);
    try {
      for (let step = 0; step < 3; step++) {
        const { clean, noisy } = batch(c.shape, 10 + step);
        const mine = await trainer.step(noisy, clean, c.shape, 1e-3);
        const x = tf.tensor4d(noisy, c.shape as [number, number, number, number]);
        const y = tf.tensor4d(clean, c.shape as [number, number, number, number]);
        const ref = tfjsGanStep(tf, b.g.model, b.d.model, gOpt, dOpt, x, y, { ...c.weights, feature: 0 });
        tf.dispose([x, y]);
        assert.ok(Math.abs(mine.discriminator - ref.discriminator) <= 1e-5 * ref.discriminator, `step ${step} D loss ${mine.discriminator} vs ${ref.discriminator}`);
        assert.ok(Math.abs(mine.generator - ref.generator) <= 1e-5 * ref.generator, `step ${step} G loss ${mine.generator} vs ${ref.generator}`);
      }
      await trainer.syncToModels();
      for (const [m, n, name] of [[a.g, b.g, 'generator'], [a.d, b.d, 'discriminator']] as const) {
        const wa = m.model.getWeights();
        const wb = n.model.getWeights();
        for (let i = 0; i < wa.length; i++) {
          const d = maxRel(wa[i].dataSync() as Float32Array, wb[i].dataSync() as Float32Array);
          assert.ok(d < 1e-4, `${name} weight ${m.model.weights[i].name} differs by ${d}`);
        }
      }
    } finally {
      gOpt.dispose();
      dOpt.dispose();
      await trainer.dispose();
      for (const m of [a, b]) {
        m.g.dispose();
        m.d.dispose();
      }
    }
  });
}

test('fitGan on onnxruntime: the default engine without a feature loss; exact resume; a feature loss on --engine onnx is refused', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-gan-onnx-'));
  const base = (out: string): FitGanOptions => ({ sets: rgbTrainImages(4, 24).map((t) => [t]), noise: { model: 'gaussian', sigma: 0.1 }, weights: { feature: 0 }, steps: 6, batchSize: 3, patchSize: 16, seed: 4, out, checkpointEvery: 2, threads: 1 });
  try {
    const a = await pair(3);
    const r = await fitGan(a.g, a.d, base(join(dir, 'straight')));
    assert.equal(r.engine, 'onnx');
    const b = await pair(3);
    assert.equal((await fitGan(b.g, b.d, { ...base(join(dir, 'resumed')), stopAfter: 3 })).stopped, 'stopAfter');
    const c = await pair(3);
    await fitGan(c.g, c.d, { ...base(join(dir, 'resumed')), resume: true });
    for (const [x, y] of [[c.g, a.g], [c.d, a.d]] as const) {
      assert.deepEqual(
        x.model.getWeights().map((t) => Array.from(t.dataSync())),
        y.model.getWeights().map((t) => Array.from(t.dataSync())),
      );
    }
    await assert.rejects(
      fitGan(c.g, c.d, { ...base(join(dir, 'vgg')), weights: { feature: 1 }, vgg: buildVgg16Features({ blocks: 2, widthDivisor: 16, seed: 3 }), engine: 'onnx' }),
      /cannot train on onnxruntime \(the VGG feature loss runs on tfjs only\); use --engine tfjs/,
    );
    for (const m of [a, b, c]) {
      m.g.dispose();
      m.d.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
