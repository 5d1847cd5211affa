/**
 * The onnxruntime training step equals tfjs's: the same loss, the same gradients (the
 * tfjs gradients are themselves checked against finite differences in
 * test/runtime), the same batch-norm moving statistics and the same Adam update.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createModel } from '../../src/models/hush-model.js';
import { modelShardLoss, type ShardLossSpec } from '../../src/models/shard-loss.js';
import { OnnxTrainer, onnxTrainingUnsupported, type OnnxTrainingLoss } from '../../src/training/onnx-trainer.js';
import { createRng } from '../../src/core/rng.js';
import type { LayersModel } from '@tensorflow/tfjs';

import { maxRel } from '../helpers/arrays.js';

await loadTfjs({ backend: 'wasm' });

function randomBatch(shape: number[], seed: number, withMask: boolean) {
  const rng = createRng(seed);
  const n = shape.reduce((a, b) => a * b, 1);
  const input = new Float32Array(n);
  const target = new Float32Array(n);
  const mask = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    target[i] = rng.next();
    input[i] = target[i] + 0.2 * (rng.next() - 0.5);
    mask[i] = rng.next() < 0.3 ? 1 : 0;
  }
  return { input, target, mask: withMask ? mask : undefined, shape };
}

/** tfjs's loss and gradients of the same batch, in model.trainableWeights order */
function tfjsGradients(model: LayersModel, batch: ReturnType<typeof randomBatch> & { input2?: Float32Array }, loss: OnnxTrainingLoss, lambda?: number) {
  return tf.tidy(() => {
    const x = tf.tensor(batch.input, batch.shape);
    const y = tf.tensor(batch.target, batch.shape);
    const m = batch.mask ? tf.tensor(batch.mask, batch.shape) : undefined;
    const vars = model.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
    const spec: ShardLossSpec = loss === 'l1' || loss === 'l2' ? { kind: loss } : { kind: 'noise2same', variant: loss, lambda };
    const inputs = batch.input2 ? [x, tf.tensor(batch.input2, batch.shape)] : [x];
    const { value, grads } = tf.variableGrads(() => modelShardLoss(tf, model, inputs, y, m, spec), vars);
    return { loss: value.dataSync()[0], grads: vars.map((v) => grads[v.name].dataSync() as Float32Array) };
  });
}

function chainModel(): LayersModel {
  // dilated convolution, leaky ReLU, batch norm, bias-free conv, no residual output: the rest of the supported op set
  const input = tf.input({ shape: [null, null, 3] });
  const init = (seed: number) => ({ kernelInitializer: tf.initializers.glorotUniform({ seed }) });
  let x = tf.layers.conv2d({ filters: 6, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'relu', ...init(11) }).apply(input) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 5, kernelSize: 5, padding: 'same', useBias: false, ...init(12) }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.batchNormalization({ momentum: 0.8, epsilon: 1e-4 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.leakyReLU({ alpha: 0.2 }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.conv2d({ filters: 3, kernelSize: 1, padding: 'same', ...init(13) }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: x });
}

const cases = [
  { name: 'dncnn with batch norm, residual, masked l2', build: async () => (await createModel('dncnn', { channels: 1, depth: 5, width: 8, seed: 2 })).model, shape: [3, 12, 10, 1], mask: true, loss: 'l2' as const },
  { name: 'dncnn, 3 channels, l1 over every pixel', build: async () => (await createModel('dncnn', { channels: 3, depth: 4, width: 6, seed: 4 })).model, shape: [2, 9, 11, 3], mask: false, loss: 'l1' as const },
  { name: 'dilated / 5x5 / 1x1 convs, leaky ReLU, no residual', build: async () => chainModel(), shape: [2, 13, 8, 3], mask: true, loss: 'l2' as const },
  { name: 'Noise2Same (two passes, lambda 0.7)', build: async () => (await createModel('dncnn', { channels: 1, depth: 5, width: 8, seed: 5 })).model, shape: [3, 12, 10, 1], mask: true, loss: 'noise2same' as const, lambda: 0.7 },
  { name: "the GAN's generator (9x9 kernels, skips by addition, leaky ReLU, sigmoid output)", build: async () => (await createModel('gan-generator', { channels: 3, width: 4, residualBlocks: 1, seed: 6 })).model, shape: [2, 11, 9, 3], mask: false, loss: 'l2' as const },
  { name: "U-net 'baby' (average pooling, bilinear up-sampling, concatenation, residual blocks with BN)", build: async () => (await createModel('unet', { preset: 'baby', channels: 1, width: 4, maxWidth: 8, seed: 7 })).model, shape: [2, 8, 12, 1], mask: true, loss: 'l2' as const },
  { name: "U-net 'noise2same' (strided convs, 2x2 transposed convs, pre-activation blocks), RGB, residual output", build: async () => (await createModel('unet', { preset: 'noise2same', channels: 3, width: 4, maxWidth: 8, output: 'residual', seed: 8 })).model, shape: [2, 12, 8, 3], mask: false, loss: 'l1' as const },
  { name: 'U-net with max pooling, double convs, 4 levels', build: async () => (await createModel('unet', { channels: 1, levels: 4, width: 3, maxWidth: 6, block: 'double-conv', down: 'max-pool', up: 'bilinear', featureNorm: 'none', seed: 9 })).model, shape: [1, 16, 8, 1], mask: true, loss: 'l2' as const },
  { name: "the GAN's generator with strided down-sampling and nearest up-sampling", build: async () => (await createModel('gan-generator', { channels: 1, width: 4, residualBlocks: 1, downsampling: 'strided', seed: 10 })).model, shape: [2, 8, 8, 1], mask: false, loss: 'l2' as const },
  { name: 'Noise2Same on a U-net', build: async () => (await createModel('unet', { preset: 'baby', channels: 1, width: 4, maxWidth: 8, seed: 11 })).model, shape: [2, 8, 8, 1], mask: true, loss: 'noise2same' as const, lambda: 0.5 },
  { name: 'Noise2SamePro (lambda from the batch, differentiated)', build: async () => chainModel(), shape: [2, 13, 8, 3], mask: true, loss: 'noise2same-pro' as const },
];

for (const c of cases) {
  test(`onnxruntime training step equals tfjs's: ${c.name}`, async () => {
    const a = await c.build();
    const b = await c.build();
    b.setWeights(a.getWeights());
    const n2same = c.loss.startsWith('noise2same');
    const batch = { ...randomBatch(c.shape, 7, c.mask), ...(n2same ? { input2: randomBatch(c.shape, 8, false).input, lambda: (c as { lambda?: number }).lambda } : {}) };
    if (n2same) batch.target = batch.input;
    const trainer = await OnnxTrainer.create(a, { threads: 1, loss: c.loss }, true);
    try {
      const loss = await trainer.step(batch, 1e-2);
      const ref = tfjsGradients(b, batch, c.loss, (c as { lambda?: number }).lambda);
      assert.ok(Math.abs(loss - ref.loss) <= 1e-5 * Math.abs(ref.loss), `loss ${loss} vs ${ref.loss}`);
      const mine = trainer.lastGradients!;
      // lastGradients follow the chain's parameter order, which is model.trainableWeights' order here
      assert.equal(mine.length, ref.grads.length);
      // relative to the larger of the weight's own gradient and 1e-3 of the largest: a bias just
      // before a batch norm (the U-nets' pre-activation blocks) has a gradient that is zero but for rounding
      const scale = Math.max(...ref.grads.map((r) => r.reduce((m, v) => Math.max(m, Math.abs(v)), 0)));
      for (let i = 0; i < mine.length; i++) {
        const own = ref.grads[i].reduce((m, v) => Math.max(m, Math.abs(v)), 0);
        const rel = maxRel(mine[i], ref.grads[i]) * (own / Math.max(own, 1e-3 * scale, 1e-12));
        assert.ok(rel < 2e-4, `gradient ${b.trainableWeights[i].name}: ${rel}`);
      }
      // getWeights returns the variables' own tensors: not disposed here
      // Adam step 1 in tfjs on b with the graph's own gradients (checked above), then compare all
      // weights (moving statistics included). Not tfjs's gradients: Adam's first step is about
      // lr * g / (|g| + eps), so a component near zero turns a 1e-7 difference in g into one of
      // order lr in the weight (a run with unseeded weights once differed by 3.2e-3 that way)
      const opt = tf.train.adam(1e-2);
      const vars = b.trainableWeights.map((w) => (w as unknown as { val: tf.Variable }).val);
      const named = vars.map((v, i) => ({ name: v.name, tensor: tf.tensor(mine[i], v.shape) }));
      opt.applyGradients(named);
      tf.dispose(named.map((n) => n.tensor));
      await trainer.syncToModel();
      const wa = a.getWeights();
      const wb = b.getWeights();
      for (let i = 0; i < wa.length; i++) {
        const d = maxRel(wa[i].dataSync() as Float32Array, wb[i].dataSync() as Float32Array);
        assert.ok(d < 1e-4, `weight ${i} (${a.weights[i].name}) differs by ${d}`);
      }
      opt.dispose();
    } finally {
      await trainer.dispose();
      a.dispose();
      b.dispose();
    }
  });
}

test('onnxruntime training: loss falls; moments round-trip in tfjs order; resume continues exactly', async () => {
  const model = (await createModel('dncnn', { channels: 1, depth: 4, width: 8, seed: 9 })).model;
  const twin = (await createModel('dncnn', { channels: 1, depth: 4, width: 8, seed: 9 })).model;
  const trainer = await OnnxTrainer.create(model, { threads: 2 });
  const losses: number[] = [];
  for (let s = 0; s < 40; s++) losses.push(await trainer.step(randomBatch([4, 16, 16, 1], 100 + (s % 4), false), 3e-3));
  const first = losses.slice(0, 5).reduce((a, b) => a + b) / 5;
  const last = losses.slice(-5).reduce((a, b) => a + b) / 5;
  assert.ok(last < 0.5 * first, `loss ${first} -> ${last}`);
  // a second trainer restored from the first one's state takes the same next step
  await trainer.syncToModel();
  twin.setWeights(model.getWeights());
  const other = await OnnxTrainer.create(twin, { threads: 2 });
  other.restore(trainer.moments(), trainer.iterations);
  const next = randomBatch([4, 16, 16, 1], 555, false);
  assert.equal(await other.step(next, 1e-3), await trainer.step(next, 1e-3));
  await trainer.syncToModel();
  await other.syncToModel();
  const wa = model.getWeights();
  const wb = twin.getWeights();
  for (let i = 0; i < wa.length; i++) assert.deepEqual(wa[i].dataSync(), wb[i].dataSync());
  await trainer.dispose();
  await other.dispose();
  model.dispose();
  twin.dispose();
});

test('networks outside the op set are refused with the reason, and bad batches with a clear message', async () => {
  // the Astro U-net's second input (the exposure ratio)
  const unet = (await createModel('unet', { preset: 'astro', channels: 1, width: 2, maxWidth: 4, seed: 1 })).model;
  assert.match(onnxTrainingUnsupported(unet) ?? '', /more than one input/);
  const ridnet = (await createModel('ridnet', { channels: 1, seed: 1 })).model;
  assert.ok(onnxTrainingUnsupported(ridnet), 'RIDNet (channel attention) is outside the op set');
  ridnet.dispose();
  // a network that halves the size
  const input = tf.input({ shape: [null, null, 1] });
  const half = tf.model({ inputs: input, outputs: tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }).apply(tf.layers.conv2d({ filters: 1, kernelSize: 3, padding: 'same' }).apply(input) as tf.SymbolicTensor) as tf.SymbolicTensor });
  assert.match(onnxTrainingUnsupported(half) ?? '', /the network changes the image size/);
  half.dispose();
  await assert.rejects(OnnxTrainer.create(unet), (e: Error & { code?: string }) => e.code === 'ERR_UNSUPPORTED' && /cannot train on onnxruntime .*use the tfjs engine/.test(e.message));
  unet.dispose();
  const model = (await createModel('dncnn', { channels: 1, depth: 3, width: 4, seed: 1 })).model;
  assert.equal(onnxTrainingUnsupported(model), undefined);
  const trainer = await OnnxTrainer.create(model, { threads: 1 });
  await assert.rejects(trainer.step({ input: new Float32Array(10), target: new Float32Array(10), shape: [1, 4, 4, 1] }, 1e-3), /16 values.*batch\.input/);
  await assert.rejects(trainer.step({ input: new Float32Array(48), target: new Float32Array(48), shape: [1, 4, 4, 3] }, 1e-3), /batch\.shape/);
  await trainer.dispose();
  model.dispose();
});
