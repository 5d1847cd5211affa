/**
 * Every architecture of the zoo, at a tiny width: it trains for a few Adam steps on
 * a seeded fixture with a falling loss, saves, reloads, and the reloaded model gives
 * bit-identical outputs; runModel handles a size that is not a multiple of the
 * network's.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor } from '@tensorflow/tfjs';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createModel, loadModel, runModel, saveModel, type ModelArchitecture, type HushModel } from '../../src/models/index.js';
import { createImage } from '../../src/core/image.js';
import { makeFixture } from './fixture.js';

const { tf } = await loadTfjs({ backend: 'wasm' });
const dir = await mkdtemp(join(tmpdir(), 'hush-zoo-'));
test.after(() => rm(dir, { recursive: true, force: true }));

interface ZooCase {
  name: string;
  architecture: ModelArchitecture;
  options: Record<string, unknown>;
  size: number;
  channels: 1 | 3;
  exposureRatio?: number;
}

const CASES: ZooCase[] = [
  { name: 'dncnn', architecture: 'dncnn', options: { depth: 4, width: 8 }, size: 16, channels: 1 },
  { name: 'dncnn rgb without BN', architecture: 'dncnn', options: { depth: 3, width: 8, featureNorm: 'none' }, size: 16, channels: 3 },
  { name: 'unet astro', architecture: 'unet', options: { preset: 'astro', width: 4, maxWidth: 32 }, size: 16, channels: 1, exposureRatio: 2 },
  { name: 'unet baby', architecture: 'unet', options: { preset: 'baby', width: 4, maxWidth: 8 }, size: 16, channels: 1 },
  { name: 'unet noise2same rgb', architecture: 'unet', options: { preset: 'noise2same', width: 4, maxWidth: 16 }, size: 16, channels: 3 },
  { name: 'ridnet', architecture: 'ridnet', options: { modules: 1, width: 8, reduction: 4 }, size: 16, channels: 1 },
  { name: 'autoencoder', architecture: 'autoencoder', options: { levels: 2, width: 4 }, size: 16, channels: 1 },
  { name: 'gan-generator', architecture: 'gan-generator', options: { width: 4 }, size: 16, channels: 3 },
  { name: 'gan-generator strided', architecture: 'gan-generator', options: { width: 4, downsampling: 'strided', residualBlocks: 1 }, size: 16, channels: 1 },
  { name: 'gan-discriminator', architecture: 'gan-discriminator', options: { width: 4 }, size: 32, channels: 1 },
];

const STEPS = 12;

function inputs(c: ZooCase, x: Tensor): Tensor | Tensor[] {
  return c.exposureRatio === undefined ? x : [x, tf.fill([x.shape[0], 1], c.exposureRatio)];
}

/** Trains for STEPS Adam steps; returns the losses. Denoisers: MSE to clean; the discriminator: BCE clean=1, noisy=0. */
function train(model: HushModel, c: ZooCase): number[] {
  const f = makeFixture(4, c.size, c.channels, 0.1, 3);
  const clean = tf.tensor4d(f.clean, f.shape);
  const noisy = tf.tensor4d(f.noisy, f.shape);
  const optimizer = tf.train.adam(0.005);
  const losses: number[] = [];
  for (let i = 0; i < STEPS; i++) {
    const loss = optimizer.minimize(() => {
      if (model.metadata.architecture === 'gan-discriminator') {
        const pReal = model.model.apply(clean, { training: true }) as Tensor;
        const pFake = model.model.apply(noisy, { training: true }) as Tensor;
        return tf.add(tf.losses.sigmoidCrossEntropy(tf.onesLike(pReal), tf.log(tf.div(pReal, tf.sub(1, pReal)))), tf.losses.sigmoidCrossEntropy(tf.zerosLike(pFake), tf.log(tf.div(pFake, tf.sub(1, pFake))))) as ReturnType<typeof tf.scalar>;
      }
      const y = model.model.apply(inputs(c, noisy), { training: true }) as Tensor;
      return tf.mean(tf.square(tf.sub(y, clean))) as ReturnType<typeof tf.scalar>;
    }, true);
    losses.push(loss!.dataSync()[0]);
    loss!.dispose();
  }
  optimizer.dispose();
  tf.dispose([clean, noisy]);
  return losses;
}

for (const c of CASES) {
  test(`${c.name}: trains with a falling loss, saves, reloads with identical outputs`, async () => {
    const model = await createModel(c.architecture, { ...c.options, channels: c.channels, seed: 7 });
    const losses = train(model, c);
    const head = (losses[0] + losses[1] + losses[2]) / 3;
    const tail = (losses[STEPS - 1] + losses[STEPS - 2] + losses[STEPS - 3]) / 3;
    assert.ok(losses.every(Number.isFinite), `losses ${losses.join(', ')}`);
    assert.ok(tail < head * 0.9, `loss did not fall: ${losses.map((l) => l.toFixed(4)).join(', ')}`);

    model.metadata.training = { method: 'noise2true', steps: STEPS, data: 'test fixture' };
    const where = join(dir, c.name.replace(/ /g, '-'));
    await saveModel(model, where);
    const loaded = await loadModel(where);
    assert.deepEqual(loaded.metadata, model.metadata);
    const probe = makeFixture(2, c.size, c.channels, 0.1, 4);
    const [a, b] = [model, loaded].map((m) =>
      tf.tidy(() => (m.model.predict(inputs(c, tf.tensor4d(probe.noisy, probe.shape))) as Tensor).dataSync() as Float32Array),
    );
    assert.equal(a.length, b.length);
    assert.ok(a.every((v, i) => Object.is(v, b[i])), 'reloaded outputs differ');

    if (model.metadata.architecture !== 'gan-discriminator') {
      // a size that is no multiple of the network's: padded and cropped back
      const odd = makeFixture(1, c.size + 3, c.channels, 0.1, 5);
      const size = c.size + 3;
      const image = createImage(size, size - 2, c.channels, odd.noisy.subarray(0, size * (size - 2) * c.channels).slice());
      const out = await runModel(loaded, image, c.exposureRatio === undefined ? {} : { exposureRatio: c.exposureRatio });
      assert.equal(out.width, image.width);
      assert.equal(out.height, image.height);
      assert.equal(out.channels, image.channels);
      assert.ok(out.data.every(Number.isFinite));
    }
    model.dispose();
    loaded.dispose();
  });
}

test("gan-generator's mean match: every output channel keeps the input's mean ('paper', without it, does not)", async () => {
  const f = makeFixture(2, 24, 3, 0.1, 6);
  for (const meanMatch of [true, false]) {
    const g = await createModel('gan-generator', { channels: 3, width: 4, residualBlocks: 1, seed: 3, meanMatch });
    const out = tf.tidy(() => (g.model.predict(tf.tensor4d(f.noisy, f.shape)) as Tensor).dataSync() as Float32Array);
    let worst = 0;
    for (let n = 0; n < 2; n++) {
      for (let c = 0; c < 3; c++) {
        let si = 0;
        let so = 0;
        for (let q = 0; q < 24 * 24; q++) {
          si += f.noisy[(n * 576 + q) * 3 + c];
          so += out[(n * 576 + q) * 3 + c];
        }
        worst = Math.max(worst, Math.abs(si - so) / 576);
      }
    }
    if (meanMatch) assert.ok(worst < 1e-6, `channel means differ by ${worst}`);
    else assert.ok(worst > 1e-3, `an untrained sigmoid generator should shift the means, got ${worst}`);
    g.dispose();
  }
  const paper = await createModel('gan-generator', { channels: 3, preset: 'paper' });
  assert.ok(!paper.model.layers.some((l) => l.getClassName() === 'HushMatchMean'), "the 'paper' preset is the public code's generator");
  paper.dispose();
});
