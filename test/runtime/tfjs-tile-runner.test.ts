/**
 * tfjsTileRunner: with no overlap and one tile, inferTiled pads exactly as runModel
 * does, so the two must agree; that checks the NCHW <-> NHWC transposes (RGB, per
 * channel, batches), the multiple, the normalisation and the exposure ratio taken
 * from the model.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createModel, runModel } from '../../src/models/index.js';
import { inferTiled } from '../../src/runtime/tiled.js';
import { tfjsTileRunner } from '../../src/runtime/tfjs-tile-runner.js';
import { maxAbsDiff, randomImage } from '../helpers/images.js';

const { tf } = await loadTfjs({ backend: 'wasm' });

test('one tile without overlap equals runModel: RGB, per-channel grey, padding to the multiple, standardize', async () => {
  const rgb = await createModel('dncnn', { depth: 3, width: 4, channels: 3, seed: 2 });
  const im = randomImage(13, 7, 4, 1);
  const before = tf.memory().numTensors;
  const a = await inferTiled(im, tfjsTileRunner(rgb), { tileOverlap: 0, tileSize: 64 });
  assert.equal(tf.memory().numTensors, before);
  assert.ok(maxAbsDiff(a.data, (await runModel(rgb, im)).data) < 1e-5);

  const grey = await createModel('dncnn', { depth: 3, width: 4, seed: 3, normalization: { kind: 'standardize' } });
  const im3 = randomImage(9, 11, 3, 2);
  const b = await inferTiled(im3, tfjsTileRunner(grey), { tileOverlap: 0, tileSize: 64, channelMode: 'per-channel' });
  assert.ok(maxAbsDiff(b.data, (await runModel(grey, im3, { channelMode: 'per-channel' })).data) < 1e-5);

  const unet = await createModel('unet', { preset: 'baby', width: 2, seed: 4 });
  const runner = tfjsTileRunner(unet);
  assert.equal(runner.multiple, 4);
  assert.equal(runner.channels, 1);
  assert.equal(runner.conditioned, false);
  const c = await inferTiled(randomImage(13, 7, 1, 3), runner, { tileOverlap: 0, tileSize: 64 });
  assert.ok(maxAbsDiff(c.data, (await runModel(unet, randomImage(13, 7, 1, 3))).data) < 1e-5);
  for (const m of [rgb, grey, unet]) m.dispose();
});

test('batches of several tiles run as one NCHW batch and blend like single tiles', async () => {
  const m = await createModel('dncnn', { depth: 3, width: 4, channels: 3, seed: 5 });
  const im = randomImage(40, 30, 3, 4);
  const one = await inferTiled(im, tfjsTileRunner(m), { tileSize: 24, tileOverlap: 4 });
  const four = await inferTiled(im, tfjsTileRunner(m), { tileSize: 24, tileOverlap: 4, batchSize: 4 });
  assert.ok(maxAbsDiff(one.data, four.data) < 1e-6);
  m.dispose();
});

test('a model conditioned on the exposure ratio gets it from inferTiled', async () => {
  const m = await createModel('unet', { preset: 'astro', width: 2, maxWidth: 8 });
  const runner = tfjsTileRunner(m);
  assert.equal(runner.multiple, 16);
  assert.equal(runner.conditioned, true);
  const im = randomImage(5, 3, 1, 6);
  const out = await inferTiled(im, runner, { exposureRatio: 2, tileOverlap: 0, tileSize: 16 });
  assert.ok(maxAbsDiff(out.data, (await runModel(m, im, { exposureRatio: 2 })).data) < 1e-5);
  await assert.rejects(runner.run(new Float32Array(256), 1, 1, 16, 16), {
    message: 'tfjsTileRunner: expected a positive number (the model is conditioned on the exposure-time ratio) for extra.exposureRatio but received undefined.',
  });
  m.dispose();
});

test('tfjsTileRunner rejects what is not a model', () => {
  assert.throws(() => tfjsTileRunner({} as never), { message: 'tfjsTileRunner: expected a HushModel or a tfjs LayersModel for model but received an object (Object).' });
});
