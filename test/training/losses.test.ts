/**
 * The training losses: exact values on hand-checkable tensors, SSIM against hush's
 * own float64 SSIM metric (an independent implementation), the perceptual loss on a
 * tiny random-weight VGG16-shaped network built in code (saved to and read back from
 * a file, as a user's VGG16 would be), and the Noise2Same invariance term's
 * indifference to pixels outside the mask.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Tensor, Tensor4D } from '@tensorflow/tfjs';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import {
  adversarialLoss,
  buildVgg16Features,
  klLoss,
  l1Loss,
  l2Loss,
  loadVgg16Features,
  noise2SameInvariance,
  noise2SameLoss,
  perceptualLoss,
  smoothnessLoss,
  ssimLoss,
} from '../../src/training/losses.js';
import { fileSaveHandler } from '../../src/models/io.js';
import { ssim } from '../../src/metrics/index.js';
import { createImage } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';

const { tf } = await loadTfjs({ backend: 'wasm' });
const value = (t: Tensor) => {
  const v = t.dataSync()[0];
  t.dispose();
  return v;
};
const near = (a: number, b: number, tol = 1e-6) => assert.ok(Math.abs(a - b) <= tol * (1 + Math.abs(b)), `${a} vs ${b}`);
function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.next());
}

test('l1 and l2: exact on a tiny tensor, and over a mask only', () => {
  const p = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const t = tf.tensor4d([0, 2, 5, 4], [1, 2, 2, 1]);
  const m = tf.tensor4d([1, 0, 1, 0], [1, 2, 2, 1]);
  near(value(l1Loss(p, t)), (1 + 0 + 2 + 0) / 4);
  near(value(l2Loss(p, t)), (1 + 0 + 4 + 0) / 4);
  near(value(l1Loss(p, t, m)), (1 + 2) / 2);
  near(value(l2Loss(p, t, m)), (1 + 4) / 2);
  assert.throws(() => l2Loss(p, tf.zeros([1, 2, 3, 1])), { message: 'l2Loss: expected a tensor of shape [1, 2, 2, 1] (the prediction\'s) for target but received \'[1, 2, 3, 1]\' (string).' });
  tf.dispose([p, t, m]);
});

test('smoothness: squared one-pixel differences across and down, each averaged', () => {
  // 2x3: [[0, 1, 3], [2, 2, 2]] -> across: 1, 4, 0, 0 (mean 1.25); down: 4, 1, 1 (mean 2)
  const y = tf.tensor4d([0, 1, 3, 2, 2, 2], [1, 2, 3, 1]);
  near(value(smoothnessLoss(y)), 1.25 + 2);
  near(value(smoothnessLoss(tf.fill([2, 4, 4, 3], 0.7) as Tensor4D)), 0);
  y.dispose();
});

test('adversarial: binary cross-entropy against real and fake', () => {
  const p = tf.tensor1d([0.5, 0.8]);
  near(value(adversarialLoss(p, 'real')), -(Math.log(0.5) + Math.log(0.8)) / 2, 1e-5);
  near(value(adversarialLoss(p, 'fake')), -(Math.log(0.5) + Math.log(0.2)) / 2, 1e-5);
  assert.ok(Number.isFinite(value(adversarialLoss(tf.tensor1d([0, 1]), 'real'))), 'clipped at 0 and 1');
  assert.throws(() => adversarialLoss(p, 'true' as 'real'), { message: "adversarialLoss: expected one of 'real', 'fake' for target but received 'true' (string)." });
  p.dispose();
});

test('kl: zero for equal images, the softmax KL over pixels otherwise', () => {
  const a = tf.tensor4d([0, Math.log(3)], [1, 1, 2, 1]); // softmax -> [1/4, 3/4]
  const b = tf.tensor4d([0, 0], [1, 1, 2, 1]); // softmax -> [1/2, 1/2]
  near(value(klLoss(a, a)), 0);
  // KL(p = softmax(b) || q = softmax(a)) = 0.5 ln(0.5/0.25) + 0.5 ln(0.5/0.75)
  near(value(klLoss(a, b)), 0.5 * Math.log(2) + 0.5 * Math.log(2 / 3), 1e-5);
  tf.dispose([a, b]);
});

test('ssim loss equals 1 - SSIM of hush\'s float64 metric (Wang config), per channel, to 1e-5', () => {
  const [h, w] = [24, 20];
  for (const c of [1, 3] as const) {
    const a = random(h * w * c, 31);
    const b = a.map((v, i) => Math.min(1, Math.max(0, v * 0.7 + 0.2 * random(1, 32 + i)[0])));
    const ref = ssim(createImage(w, h, c, a), createImage(w, h, c, Float32Array.from(b)), { dataRange: 1, config: 'wang' });
    const got = value(ssimLoss(tf.tensor4d(a, [1, h, w, c]), tf.tensor4d(b, [1, h, w, c])));
    near(got, 1 - (ref as number), 1e-5);
    near(value(ssimLoss(tf.tensor4d(a, [1, h, w, c]), tf.tensor4d(a, [1, h, w, c]))), 0, 1e-6);
  }
  assert.throws(() => ssimLoss(tf.zeros([1, 8, 8, 1]) as Tensor4D, tf.zeros([1, 8, 8, 1]) as Tensor4D), /at least 11x11/);
});

test('every loss is differentiable with finite gradients', () => {
  const x = tf.tensor4d(random(2 * 12 * 12 * 1, 40), [2, 12, 12, 1]);
  const t = tf.tensor4d(random(2 * 12 * 12 * 1, 41), [2, 12, 12, 1]);
  const m = tf.tensor4d(random(2 * 12 * 12 * 1, 42).map((v) => (v < 0.2 ? 1 : 0)), [2, 12, 12, 1]);
  const losses: [string, (p: Tensor4D) => Tensor][] = [
    ['l1', (p) => l1Loss(p, t)],
    ['l2', (p) => l2Loss(p, t, m)],
    ['smooth', (p) => smoothnessLoss(p)],
    ['adversarial', (p) => adversarialLoss(tf.sigmoid(p), 'real')],
    ['kl', (p) => klLoss(p, t as Tensor4D)],
    ['ssim', (p) => ssimLoss(p, t as Tensor4D)],
    ['noise2same', (p) => noise2SameLoss(t, p, tf.mul(p, 0.9), m)],
  ];
  for (const [name, f] of losses) {
    const g = tf.grad((p: Tensor) => f(p as Tensor4D))(x);
    const d = g.dataSync();
    assert.ok(d.every(Number.isFinite), name);
    assert.ok(d.some((v) => v !== 0), `${name}: zero gradient`);
    g.dispose();
  }
  tf.dispose([x, t, m]);
});

test('perceptual loss on a tiny VGG16-shaped network: zero for equal images, positive otherwise, the VGG stays frozen', () => {
  const vgg = buildVgg16Features({ blocks: 3, widthDivisor: 16, seed: 5 });
  const loss = perceptualLoss({ vgg, weights: { block1_conv2: 1, block3_conv3: 0.5 } });
  const a = tf.tensor4d(random(2 * 16 * 16 * 3, 50), [2, 16, 16, 3]);
  const b = tf.tensor4d(random(2 * 16 * 16 * 3, 51), [2, 16, 16, 3]);
  near(value(loss(a, a)), 0);
  assert.ok(value(loss(a, b)) > 0);
  const grey = tf.tensor4d(random(16 * 16, 52), [1, 16, 16, 1]);
  assert.ok(Number.isFinite(value(loss(grey, tf.mul(grey, 0.5) as Tensor4D))), 'grey images are repeated to RGB');
  // an optimizer on the loss trains the variable, not the VGG
  const before = vgg.getWeights().map((w) => w.dataSync().slice());
  const p = tf.variable(b);
  const opt = tf.train.adam(0.1);
  opt.minimize(() => loss(p as unknown as Tensor4D, a));
  vgg.getWeights().forEach((w, i) => assert.deepEqual(w.dataSync(), before[i]));
  assert.ok(maxDiff(p.dataSync() as Float32Array, b.dataSync() as Float32Array) > 0, 'the prediction moved');
  assert.throws(() => perceptualLoss({ vgg, weights: { block5_conv3: 1 } }), { message: "perceptualLoss: the VGG network has no layer 'block5_conv3' (expected Keras VGG16 layer names such as block1_conv2, block2_conv2, block3_conv3, block4_conv3, block5_conv3)" });
  assert.throws(() => perceptualLoss({ vgg, weights: { conv2: 1 } as never }), /expected one of 'block1_conv2'/);
  tf.dispose([a, b, grey, p]);
  opt.dispose();
  vgg.dispose();
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
}

test('VGG16 weights come from a user-given tfjs file: saved, read back, same loss', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-vgg-'));
  try {
    const vgg = buildVgg16Features({ blocks: 2, widthDivisor: 32, seed: 6 });
    await vgg.save(fileSaveHandler(dir));
    const loaded = await loadVgg16Features(dir);
    const a = tf.tensor4d(random(16 * 16 * 3, 60), [1, 16, 16, 3]);
    const b = tf.tensor4d(random(16 * 16 * 3, 61), [1, 16, 16, 3]);
    near(value(perceptualLoss({ vgg })(a, b)), value(perceptualLoss({ vgg: loaded })(a, b)), 1e-6);
    await assert.rejects(loadVgg16Features(join(dir, 'missing')), { message: `loadVgg16Features: cannot read '${join(dir, 'missing', 'model.json')}': no such file` });
    tf.dispose([a, b]);
    vgg.dispose();
    loaded.dispose();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('Noise2Same invariance: restricted to the mask, it ignores every unmasked pixel', () => {
  const fx = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
  const mask = tf.tensor4d([1, 0, 0, 1], [1, 2, 2, 1]);
  const fxm = tf.tensor4d([0, 2, 3, 6], [1, 2, 2, 1]);
  // masked differences 1 and -2: sqrt((1 + 4) / 2)
  near(value(noise2SameInvariance(fx, fxm, mask)), Math.sqrt(2.5), 1e-5);
  // wild changes at unmasked pixels change nothing
  const fxmOff = tf.tensor4d([0, 100, -50, 6], [1, 2, 2, 1]);
  near(value(noise2SameInvariance(fx, fxmOff, mask)), Math.sqrt(2.5), 1e-5);
  // and they get no gradient
  const g = tf.grad((y: Tensor) => noise2SameInvariance(fx, y, mask))(fxm).dataSync();
  assert.equal(g[1], 0);
  assert.equal(g[2], 0);
  assert.ok(g[0] !== 0 && g[3] !== 0);
  tf.dispose([fx, mask, fxm, fxmOff]);
});

test('Noise2Same loss: rec + lambda * inv, and Noise2SamePro with lambda = 2 sqrt(rec)', () => {
  const x = tf.tensor4d([0, 0, 0, 0], [1, 2, 2, 1]);
  const fx = tf.tensor4d([1, 1, 1, 1], [1, 2, 2, 1]); // rec = 1
  const fxm = tf.tensor4d([3, 1, 1, 1], [1, 2, 2, 1]);
  const mask = tf.tensor4d([1, 1, 0, 0], [1, 2, 2, 1]); // inv = sqrt(4 / 2)
  near(value(noise2SameLoss(x, fx, fxm, mask)), 1 + 2 * Math.sqrt(2), 1e-5);
  near(value(noise2SameLoss(x, fx, fxm, mask, { lambda: 0.5 })), 1 + 0.5 * Math.sqrt(2), 1e-5);
  near(value(noise2SameLoss(x, fx, fxm, mask, { variant: 'noise2same-pro' })), 1 + 2 * 1 * Math.sqrt(2), 1e-5);
  assert.throws(() => noise2SameLoss(x, fx, fxm, mask, { lambda: -1 }), { message: 'noise2SameLoss: expected a finite number of at least 0 for options.lambda but received -1 (number).' });
  tf.dispose([x, fx, fxm, mask]);
});
