/**
 * runModel's plumbing, checked with models whose output is known: a residual DnCNN
 * whose last convolution is zero is the identity, so whatever the size, the padding,
 * the normalisation or the channel handling, the output must be the input.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { LayersModel } from '@tensorflow/tfjs';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createModel, inferMultiple, runModel, type HushModel } from '../../src/models/index.js';
import { createImage } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';

const { tf } = await loadTfjs({ backend: 'wasm' });

async function identity(channels: 1 | 3, normalization?: HushModel['metadata']['normalization']): Promise<HushModel> {
  const m = await createModel('dncnn', { depth: 3, width: 4, channels, ...(normalization ? { normalization } : {}) });
  const last = m.model.layers.filter((l) => l.getClassName() === 'Conv2D').pop()!;
  last.setWeights(last.getWeights().map((w) => tf.zerosLike(w)));
  return m;
}

function image(w: number, h: number, c: 1 | 2 | 3 | 4, seed: number) {
  const rng = createRng(seed);
  return createImage(w, h, c, Float32Array.from({ length: w * h * c }, () => rng.next()));
}

const close = (a: Float32Array, b: Float32Array, tol: number) => a.every((v, i) => Math.abs(v - b[i]) <= tol);

test('an identity model returns the input for odd sizes, with every normalisation', async () => {
  for (const normalization of [{ kind: 'none' as const }, { kind: 'affine' as const, offset: 0.5, scale: 2 }, { kind: 'standardize' as const }]) {
    const m = await identity(1, normalization);
    m.metadata.multiple = 8; // force padding: 13x7 goes to 16x8 and back
    const im = image(13, 7, 1, 1);
    const out = await runModel(m, im);
    assert.equal(out.width, 13);
    assert.equal(out.height, 7);
    assert.ok(close(out.data, im.data, 1e-5), normalization.kind);
    m.dispose();
  }
});

test('alpha and the no-data mask are carried through untouched; RGB and per-channel grey both work', async () => {
  const rgb = await identity(3);
  const im = image(9, 6, 4, 2);
  im.mask = new Uint8Array(im.data.length);
  im.mask[5] = 1;
  const out = await runModel(rgb, im);
  assert.equal(out.channels, 4);
  assert.ok(close(out.data, im.data, 1e-5));
  assert.deepEqual(out.mask, im.mask);
  const grey = await identity(1);
  const im3 = image(5, 4, 3, 3);
  const out3 = await runModel(grey, im3, { channelMode: 'per-channel' });
  assert.ok(close(out3.data, im3.data, 1e-5));
  rgb.dispose();
  grey.dispose();
});

test('runModel pads to the U-Net multiple for an image smaller than it, and needs the exposure ratio for astro', async () => {
  const m = await createModel('unet', { preset: 'astro', width: 2, maxWidth: 8 });
  assert.equal(m.metadata.multiple, 16);
  const out = await runModel(m, image(5, 3, 1, 4), { exposureRatio: 2 });
  assert.equal(out.width, 5);
  assert.equal(out.height, 3);
  await assert.rejects(runModel(m, image(5, 3, 1, 4)), {
    message: 'runModel: expected a positive number (the model is conditioned on the exposure-time ratio) for options.exposureRatio but received undefined.',
  });
  await assert.rejects(runModel(m, image(5, 3, 1, 4), { exposureRatio: 0 }), { message: 'runModel: expected a finite number above 0 for options.exposureRatio but received 0 (number).' });
  m.dispose();
});

test('inferMultiple: the product of down-sampling strides of a bare LayersModel', async () => {
  const cases: [string, Record<string, unknown>, number][] = [
    ['dncnn', { depth: 3, width: 2 }, 1],
    ['unet', { preset: 'baby', width: 2 }, 4],
    ['unet', { preset: 'noise2same', width: 2, maxWidth: 8 }, 4],
    ['autoencoder', { levels: 3, width: 2 }, 8],
    ['gan-generator', { width: 2, downsampling: 'strided' }, 4],
  ];
  for (const [id, o, expected] of cases) {
    const m = await createModel(id as 'dncnn', o);
    assert.equal(inferMultiple(m.model as LayersModel), expected, id);
    assert.equal(m.metadata.multiple, expected, id);
    m.dispose();
  }
});
