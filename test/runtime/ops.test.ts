/**
 * Every layer and op the model zoo trains through, in one small functional model:
 * its gradients on wasm (our kernels plus the built-in ones) must equal the cpu
 * backend's for the same weights, and 200 Adam steps must leave the tensor count,
 * the wasm heap buffers and the loss going the right way.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { LayersModel, SymbolicTensor, Tensor } from '@tensorflow/tfjs';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createRng } from '../../src/core/rng.js';

const { tf } = await loadTfjs({ backend: 'wasm' });

function build(): LayersModel {
  const L = tf.layers;
  const sym = (t: unknown) => t as SymbolicTensor;
  const inp = tf.input({ shape: [8, 8, 2] });
  let x = sym(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', useBias: false }).apply(inp));
  x = sym(L.batchNormalization().apply(x));
  x = sym(L.leakyReLU({ alpha: 0.2 }).apply(x));
  const p = sym(L.maxPooling2d({ poolSize: 2 }).apply(x));
  const t = sym(L.conv2dTranspose({ filters: 4, kernelSize: 2, strides: 2, padding: 'same' }).apply(p));
  const b = sym(L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }).apply(p));
  const n = sym(L.upSampling2d({ size: [2, 2] }).apply(p));
  const u = sym(L.concatenate().apply([t, b, n, x]));
  let d = sym(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 2, activation: 'relu' }).apply(u));
  const e = sym(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', dilationRate: 3 }).apply(u));
  d = sym(L.add().apply([d, e]));
  const g = sym(L.globalAveragePooling2d({}).apply(d));
  let a = sym(L.reshape({ targetShape: [1, 1, 4] }).apply(g));
  a = sym(L.conv2d({ filters: 2, kernelSize: 1, activation: 'relu' }).apply(a));
  a = sym(L.conv2d({ filters: 4, kernelSize: 1, activation: 'sigmoid' }).apply(a));
  d = sym(L.multiply().apply([d, a]));
  const s = sym(L.conv2d({ filters: 4, kernelSize: 4, strides: 2, padding: 'same' }).apply(d));
  const s2 = sym(L.conv2dTranspose({ filters: 4, kernelSize: 3, strides: 2, padding: 'same' }).apply(s));
  d = sym(L.add().apply([d, s2]));
  d = sym(L.activation({ activation: 'tanh' }).apply(d));
  const out = sym(L.conv2d({ filters: 2, kernelSize: 1, activation: 'sigmoid' }).apply(d));
  return tf.model({ inputs: inp, outputs: out });
}

function batch(seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: 2 * 8 * 8 * 2 }, () => rng.next());
}

test('every op of the zoo has gradients on wasm equal to the cpu backend\'s', async () => {
  await loadTfjs({ backend: 'cpu' });
  const cpuModel = build();
  const weights = cpuModel.getWeights().map((w) => w.dataSync().slice());
  const xs = batch(1);
  const grads = async (model: LayersModel) =>
    tf.tidy(() => {
      const x = tf.tensor4d(xs, [2, 8, 8, 2]);
      const { grads: g } = tf.variableGrads(() => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as Tensor, x))) as ReturnType<typeof tf.scalar>);
      return model.trainableWeights.map((w) => g[w.originalName ?? w.name]?.dataSync().slice() ?? new Float32Array());
    });
  const ref = await grads(cpuModel);
  await loadTfjs({ backend: 'wasm' });
  const wasmModel = build();
  wasmModel.setWeights(weights.map((w, i) => tf.tensor(w, cpuModel.getWeights()[i].shape)));
  const got = await grads(wasmModel);
  assert.equal(got.length, ref.length);
  assert.ok(ref.length >= 15);
  for (let i = 0; i < ref.length; i++) {
    assert.ok(ref[i].length > 0, `no gradient for ${cpuModel.trainableWeights[i].name}`);
    let scale = 0;
    let diff = 0;
    for (let j = 0; j < ref[i].length; j++) {
      scale = Math.max(scale, Math.abs(ref[i][j]));
      diff = Math.max(diff, Math.abs(ref[i][j] - got[i][j]));
    }
    // 1e-4 of the largest entry: float32 sums in a different order through ~15 layers
    assert.ok(diff <= 1e-4 * scale + 1e-7, `${cpuModel.trainableWeights[i].name}: wasm and cpu gradients differ by ${diff} (scale ${scale})`);
  }
  wasmModel.dispose();
  cpuModel.dispose();
});

test('200 Adam steps on wasm keep tf.memory().numTensors and the wasm buffers flat, and the loss falls', async () => {
  await loadTfjs({ backend: 'wasm' });
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const model = build();
  const optimizer = tf.train.adam(0.01);
  const x = tf.tensor4d(batch(2), [2, 8, 8, 2]);
  const step = () => {
    const loss = optimizer.minimize(() => tf.mean(tf.square(tf.sub(model.apply(x, { training: true }) as Tensor, x))) as ReturnType<typeof tf.scalar>, true);
    const v = loss!.dataSync()[0];
    loss!.dispose();
    return v;
  };
  const first = step(); // the optimizer makes its slots on the first step
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  let last = first;
  for (let i = 0; i < 199; i++) last = step();
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), buffers);
  assert.ok(last < first * 0.5, `loss ${first} -> ${last}`);
  x.dispose();
  optimizer.dispose();
  model.dispose();
});
