/**
 * hush's convolution kernels and gradients, checked three ways: against the cpu
 * backend's built-in kernels (an independent implementation), against a dilated
 * convolution rebuilt as an undilated one with a zero-stuffed filter, and against
 * finite differences. The losses used are linear in the variable being
 * differentiated (sum(conv(x, w) * r)), so central differences are exact up to
 * float32 rounding and the tolerances can be tight.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import type { Tensor, Tensor1D, Tensor4D } from '@tensorflow/tfjs';
import { loadTfjs, type TfjsBackend } from '../../src/runtime/tfjs.js';
import { planInputGradAxis } from '../../src/runtime/kernels/conv-plan.js';
import { createRng } from '../../src/core/rng.js';

const { tf } = await loadTfjs({ backend: 'wasm' });

type Shape4 = [number, number, number, number];
type Pad = 'same' | 'valid';

function random(n: number, seed: number): Float32Array {
  const rng = createRng(seed);
  return Float32Array.from({ length: n }, () => rng.next() * 2 - 1);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

function maxAbs(a: Float32Array): number {
  let m = 0;
  for (const v of a) m = Math.max(m, Math.abs(v));
  return m;
}

/** Runs `f` on a backend and returns its outputs as plain arrays. */
async function on(backend: TfjsBackend, f: () => Tensor[]): Promise<Float32Array[]> {
  await loadTfjs({ backend });
  const outs = tf.tidy(f);
  const values = outs.map((t) => t.dataSync() as Float32Array);
  tf.dispose(outs);
  return values;
}

interface ConvCase {
  x: Shape4;
  k: [number, number];
  co: number;
  strides: number | [number, number];
  pad: Pad;
  dilations?: number;
}

function convGrads(c: ConvCase, xs: Float32Array, ws: Float32Array, rs?: Float32Array): Tensor[] {
  const x = tf.tensor4d(xs, c.x);
  const w = tf.tensor4d(ws, [c.k[0], c.k[1], c.x[3], c.co]);
  const f = (a: Tensor, b: Tensor) => {
    const y = tf.conv2d(a as Tensor4D, b as Tensor4D, c.strides, c.pad, 'NHWC', c.dilations ?? 1);
    // nonlinear in y so that dy varies from pixel to pixel, unless a fixed r is given
    return rs ? tf.sum(tf.mul(y, tf.tensor(rs, y.shape))) : tf.sum(tf.mul(y, tf.sin(y)));
  };
  return tf.grads(f)([x, w]);
}

const UNDILATED: ConvCase[] = [
  { x: [2, 7, 9, 3], k: [3, 3], co: 4, strides: 1, pad: 'same' },
  { x: [2, 7, 9, 3], k: [3, 3], co: 4, strides: 1, pad: 'valid' },
  { x: [2, 8, 8, 3], k: [3, 3], co: 4, strides: 2, pad: 'same' },
  { x: [2, 7, 9, 3], k: [3, 3], co: 4, strides: 2, pad: 'same' },
  { x: [2, 8, 9, 3], k: [3, 3], co: 4, strides: 2, pad: 'valid' },
  { x: [1, 8, 8, 2], k: [4, 4], co: 3, strides: 2, pad: 'same' },
  { x: [1, 9, 7, 2], k: [5, 5], co: 3, strides: 2, pad: 'valid' },
  { x: [2, 6, 6, 3], k: [2, 2], co: 4, strides: 2, pad: 'same' },
  { x: [2, 7, 7, 3], k: [1, 1], co: 4, strides: 2, pad: 'valid' },
  { x: [1, 9, 9, 2], k: [3, 3], co: 2, strides: 3, pad: 'same' },
  { x: [1, 8, 10, 2], k: [3, 2], co: 3, strides: [1, 2], pad: 'same' },
  { x: [1, 5, 6, 1], k: [9, 9], co: 2, strides: 1, pad: 'same' },
  { x: [3, 6, 6, 1], k: [3, 3], co: 5, strides: 1, pad: 'same' },
];

const TOL = 1e-5; // relative to the largest reference value: float32 round-off over at most a few hundred terms

for (const c of UNDILATED) {
  test(`conv2d gradients on wasm match the cpu backend: x ${c.x.join('x')}, ${c.k.join('x')} kernel, stride ${String(c.strides)}, '${c.pad}'`, async () => {
    const xs = random(c.x.reduce((a, b) => a * b), 1);
    const ws = random(c.k[0] * c.k[1] * c.x[3] * c.co, 2);
    const [cx, cw] = await on('cpu', () => convGrads(c, xs, ws));
    const [wx, ww] = await on('wasm', () => convGrads(c, xs, ws));
    assert.ok(maxAbsDiff(wx, cx) <= TOL * (1 + maxAbs(cx)), `dx differs by ${maxAbsDiff(wx, cx)}`);
    assert.ok(maxAbsDiff(ww, cw) <= TOL * (1 + maxAbs(cw)), `dw differs by ${maxAbsDiff(ww, cw)}`);
  });
}

const TRANSPOSED: { x: Shape4; k: [number, number]; out: number; strides: number | [number, number]; pad: Pad; outShape: Shape4 }[] = [
  { x: [2, 4, 5, 6], k: [2, 2], out: 3, strides: 2, pad: 'same', outShape: [2, 8, 10, 3] },
  { x: [2, 4, 5, 6], k: [3, 3], out: 3, strides: 2, pad: 'same', outShape: [2, 8, 10, 3] },
  { x: [1, 4, 4, 2], k: [4, 4], out: 3, strides: 2, pad: 'valid', outShape: [1, 10, 10, 3] },
  { x: [1, 5, 5, 2], k: [3, 3], out: 3, strides: 1, pad: 'same', outShape: [1, 5, 5, 3] },
  { x: [1, 4, 3, 2], k: [2, 3], out: 2, strides: [2, 3], pad: 'same', outShape: [1, 8, 9, 2] },
];

for (const c of TRANSPOSED) {
  test(`conv2dTranspose (Conv2DBackpropInput) on wasm matches cpu: x ${c.x.join('x')}, ${c.k.join('x')} kernel, stride ${String(c.strides)}, '${c.pad}'`, async () => {
    const xs = random(c.x.reduce((a, b) => a * b), 3);
    const ws = random(c.k[0] * c.k[1] * c.out * c.x[3], 4);
    const run = () => {
      const x = tf.tensor4d(xs, c.x);
      const w = tf.tensor4d(ws, [c.k[0], c.k[1], c.out, c.x[3]]);
      const f = (a: Tensor, b: Tensor) => tf.sum(tf.square(tf.conv2dTranspose(a as Tensor4D, b as Tensor4D, c.outShape, c.strides, c.pad)));
      return [tf.conv2dTranspose(x, w, c.outShape, c.strides, c.pad), ...tf.grads(f)([x, w])];
    };
    const cpu = await on('cpu', run);
    const wasm = await on('wasm', run);
    for (let i = 0; i < 3; i++) {
      assert.ok(maxAbsDiff(wasm[i], cpu[i]) <= TOL * (1 + maxAbs(cpu[i])), `output ${i} differs by ${maxAbsDiff(wasm[i], cpu[i])}`);
    }
  });
}

/** The same convolution with the filter spread out by zeros: dilation d becomes dilation 1. */
function zeroStuffed(ws: Float32Array, k: number, ci: number, co: number, d: number): Float32Array {
  const kd = (k - 1) * d + 1;
  const out = new Float32Array(kd * kd * ci * co);
  for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (let i = 0; i < ci * co; i++) out[(a * d * kd + b * d) * ci * co + i] = ws[(a * k + b) * ci * co + i];
  return out;
}

const DILATED: ConvCase[] = [
  { x: [2, 9, 8, 3], k: [3, 3], co: 4, strides: 1, pad: 'same', dilations: 2 },
  { x: [2, 11, 10, 2], k: [3, 3], co: 3, strides: 1, pad: 'same', dilations: 3 },
  { x: [1, 12, 11, 2], k: [3, 3], co: 3, strides: 1, pad: 'same', dilations: 4 },
  { x: [2, 10, 9, 2], k: [3, 3], co: 3, strides: 1, pad: 'valid', dilations: 2 },
  { x: [1, 9, 9, 2], k: [2, 2], co: 2, strides: 1, pad: 'same', dilations: 3 },
];

for (const c of DILATED) {
  const name = `x ${c.x.join('x')}, ${c.k.join('x')} kernel, dilation ${c.dilations}, '${c.pad}'`;
  test(`dilated conv2d gradients (wasm and cpu) match the zero-stuffed undilated conv on cpu: ${name}`, async () => {
    const k = c.k[0];
    const d = c.dilations ?? 1;
    const kd = (k - 1) * d + 1;
    const xs = random(c.x.reduce((a, b) => a * b), 5);
    const ws = random(k * k * c.x[3] * c.co, 6);
    const [rx, rwStuffed] = await on('cpu', () => convGrads({ ...c, k: [kd, kd], dilations: 1 }, xs, zeroStuffed(ws, k, c.x[3], c.co, d)));
    const rw = new Float32Array(ws.length);
    const cc = c.x[3] * c.co;
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) for (let i = 0; i < cc; i++) rw[(a * k + b) * cc + i] = rwStuffed[(a * d * kd + b * d) * cc + i];
    for (const backend of ['wasm', 'cpu'] as const) {
      const [gx, gw] = await on(backend, () => convGrads(c, xs, ws));
      assert.ok(maxAbsDiff(gx, rx) <= TOL * (1 + maxAbs(rx)), `${backend} dx differs by ${maxAbsDiff(gx, rx)}`);
      assert.ok(maxAbsDiff(gw, rw) <= TOL * (1 + maxAbs(rw)), `${backend} dw differs by ${maxAbsDiff(gw, rw)}`);
    }
  });
}

const FINITE: ConvCase[] = [
  { x: [2, 6, 7, 2], k: [3, 3], co: 3, strides: 1, pad: 'same' },
  { x: [2, 7, 6, 2], k: [3, 3], co: 3, strides: 2, pad: 'same' },
  { x: [1, 8, 8, 2], k: [4, 4], co: 2, strides: 2, pad: 'valid' },
  { x: [1, 9, 8, 2], k: [3, 3], co: 2, strides: 1, pad: 'same', dilations: 2 },
];

for (const c of FINITE) {
  test(`conv2d gradients on wasm match central finite differences: x ${c.x.join('x')}, ${c.k.join('x')}, stride ${String(c.strides)}, dilation ${c.dilations ?? 1}`, async () => {
    await loadTfjs({ backend: 'wasm' });
    const xs = random(c.x.reduce((a, b) => a * b), 7);
    const ws = random(c.k[0] * c.k[1] * c.x[3] * c.co, 8);
    const yShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as Tensor4D, tf.zeros([c.k[0], c.k[1], c.x[3], c.co]) as Tensor4D, c.strides, c.pad, 'NHWC', c.dilations ?? 1).shape);
    const rs = random(yShape.reduce((a, b) => a * b), 9);
    const [gx, gw] = await on('wasm', () => convGrads(c, xs, ws, rs));
    const loss = (x: Float32Array, w: Float32Array) =>
      tf.tidy(() => {
        const y = tf.conv2d(tf.tensor4d(x, c.x), tf.tensor4d(w, [c.k[0], c.k[1], c.x[3], c.co]), c.strides, c.pad, 'NHWC', c.dilations ?? 1);
        return tf.sum(tf.mul(y, tf.tensor(rs, y.shape))).dataSync()[0];
      });
    const eps = 0.5; // the loss is linear in x and in w: any step is exact up to rounding
    for (const [grad, base, which] of [
      [gx, xs, 'x'],
      [gw, ws, 'w'],
    ] as const) {
      const rng = createRng(10);
      for (let t = 0; t < 12; t++) {
        const i = Math.floor(rng.next() * base.length);
        const plus = base.slice();
        const minus = base.slice();
        plus[i] += eps;
        minus[i] -= eps;
        const fd = which === 'x' ? (loss(plus, ws) - loss(minus, ws)) / (2 * eps) : (loss(xs, plus) - loss(xs, minus)) / (2 * eps);
        assert.ok(Math.abs(fd - grad[i]) <= 1e-4 * (1 + Math.abs(fd)), `d/d${which}[${i}]: finite difference ${fd}, gradient ${grad[i]}`);
      }
    }
  });
}

test('a dilated fused conv (what tfjs-layers calls) has a gradient, equal to the unfused one', async () => {
  const xs = random(2 * 9 * 9 * 2, 11);
  const ws = random(3 * 3 * 2 * 3, 12);
  const bs = random(3, 13);
  for (const backend of ['wasm', 'cpu'] as const) {
    const [fx, fw, fb] = await on(backend, () => {
      const f = (x: Tensor, w: Tensor, b: Tensor) =>
        tf.sum(tf.square(tf.fused.conv2d({ x: x as Tensor4D, filter: w as Tensor4D, bias: b, strides: 1, pad: 'same', dilations: 2 })));
      return tf.grads(f)([tf.tensor4d(xs, [2, 9, 9, 2]), tf.tensor4d(ws, [3, 3, 2, 3]), tf.tensor1d(bs)]);
    });
    const [ux, uw, ub] = await on(backend, () => {
      const f = (x: Tensor, w: Tensor, b: Tensor) => tf.sum(tf.square(tf.add(tf.conv2d(x as Tensor4D, w as Tensor4D, 1, 'same', 'NHWC', 2), b)));
      return tf.grads(f)([tf.tensor4d(xs, [2, 9, 9, 2]), tf.tensor4d(ws, [3, 3, 2, 3]), tf.tensor1d(bs)]);
    });
    assert.ok(maxAbsDiff(fx, ux) <= TOL * (1 + maxAbs(ux)));
    assert.ok(maxAbsDiff(fw, uw) <= TOL * (1 + maxAbs(uw)));
    assert.ok(maxAbsDiff(fb, ub) <= TOL * (1 + maxAbs(ub)));
  }
});

test('the kernels free every intermediate: tensors and wasm buffers stay flat', async () => {
  await loadTfjs({ backend: 'wasm' });
  const backend = tf.backend() as unknown as { numDataIds(): number };
  const c: ConvCase = { x: [2, 7, 9, 3], k: [3, 3], co: 4, strides: 2, pad: 'same' };
  const xs = random(2 * 7 * 9 * 3, 1);
  const ws = random(3 * 3 * 3 * 4, 2);
  tf.dispose(tf.tidy(() => convGrads(c, xs, ws)));
  const tensors = tf.memory().numTensors;
  const buffers = backend.numDataIds();
  for (let i = 0; i < 5; i++) {
    tf.dispose(tf.tidy(() => convGrads(c, xs, ws)));
    tf.dispose(tf.tidy(() => convGrads({ ...c, strides: 1, dilations: 2 }, xs, ws)));
    tf.dispose(tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(xs, c.x), tf.tensor4d(ws, [3, 3, 4, 3]), [2, 14, 18, 4], 2, 'same')));
  }
  assert.equal(tf.memory().numTensors, tensors);
  assert.equal(backend.numDataIds(), buffers);
});

test('max-pool gradient routes each dy to the first maximum of its window, negative windows included, on both backends', async () => {
  const [n, h, c] = [2, 8, 4];
  const xs = Float32Array.from({ length: n * h * h * c }, (_, i) => Math.sin(i * 1.7));
  const oh = h / 2;
  const rs = Float32Array.from({ length: n * oh * oh * c }, (_, i) => i + 1);
  const ref = new Float32Array(xs.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < oh; i++)
      for (let j = 0; j < oh; j++)
        for (let d = 0; d < c; d++) {
          let best = -Infinity;
          let at = -1;
          for (let r = 2 * i; r < 2 * i + 2; r++)
            for (let q = 2 * j; q < 2 * j + 2; q++) {
              const k = ((b * h + r) * h + q) * c + d;
              if (xs[k] > best) [best, at] = [xs[k], k];
            }
          ref[at] += rs[((b * oh + i) * oh + j) * c + d];
        }
  for (const backend of ['wasm', 'cpu'] as const) {
    const [g] = await on(backend, () => [tf.grad((a: Tensor) => tf.sum(tf.mul(tf.maxPool(a as Tensor4D, 2, 2, 'valid'), tf.tensor4d(rs, [n, oh, oh, c]))))(tf.tensor4d(xs, [n, h, h, c]))]);
    assert.deepEqual([...g], [...ref], backend);
  }
});

test('nearest-neighbour up-sampling gradient is the adjoint of the forward for every image of a batch, on both backends', async () => {
  const [n, h, c] = [2, 4, 3];
  const xs = Float32Array.from({ length: n * h * h * c }, (_, i) => Math.sin(i * 1.7));
  const rs = Float32Array.from({ length: n * 4 * h * h * c }, (_, i) => (i % 7) + 1);
  const ref = new Float32Array(xs.length);
  for (let b = 0; b < n; b++)
    for (let i = 0; i < 2 * h; i++)
      for (let j = 0; j < 2 * h; j++)
        for (let d = 0; d < c; d++) ref[((b * h + (i >> 1)) * h + (j >> 1)) * c + d] += rs[((b * 2 * h + i) * 2 * h + j) * c + d];
  for (const backend of ['wasm', 'cpu'] as const) {
    const [g] = await on(backend, () => [
      tf.grad((a: Tensor) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(a as Tensor4D, [2 * h, 2 * h]), tf.tensor4d(rs, [n, 2 * h, 2 * h, c]))))(tf.tensor4d(xs, [n, h, h, c])),
    ]);
    assert.deepEqual([...g], [...ref], backend);
  }
});

test('planInputGradAxis: a 2x2 stride-2 transposed conv is one 1x1 tap per phase, a 3x3 stride-1 one is the flipped filter', () => {
  const p = planInputGradAxis(2, 2, 0, 8, 4);
  assert.deepEqual([p.taps, p.phases, [...p.tapIndex], p.padBefore, p.padAfter, p.outRows], [1, 2, [0, 1], 0, 0, 4]);
  const q = planInputGradAxis(3, 1, 1, 5, 5);
  assert.deepEqual([q.taps, [...q.tapIndex], q.padBefore, q.padAfter], [3, [2, 1, 0], 1, 1]);
});

test('batch-norm gradient (ours, no Tile) equals tfjs\'s built-in one, in training (batch moments) and inference form', async () => {
  const { BUILTIN_GRADIENTS, registerHushKernels } = await import('../../src/runtime/kernels/index.js');
  registerHushKernels();
  const ours = tf.getGradient('FusedBatchNorm')!;
  const builtin = BUILTIN_GRADIENTS.get('FusedBatchNorm')!;
  assert.ok(builtin && ours !== builtin);
  const xs = random(2 * 5 * 6 * 3, 21);
  const rs = random(2 * 5 * 6 * 3, 22);
  const run = (training: boolean) => () => {
    const f = (x: Tensor, g: Tensor, b: Tensor) => {
      const m = training ? tf.moments(x, [0, 1, 2]) : { mean: tf.tensor1d([0.1, -0.2, 0.3]), variance: tf.tensor1d([0.5, 1.5, 2]) };
      const y = tf.batchNorm(x as Tensor4D, m.mean, m.variance, b as Tensor1D, g as Tensor1D, 1e-3);
      return tf.sum(tf.mul(tf.sin(y), tf.tensor(rs, y.shape)));
    };
    return tf.grads(f)([tf.tensor4d(xs, [2, 5, 6, 3]), tf.tensor1d([1.5, 0.5, -1]), tf.tensor1d([0.1, 0.2, 0.3])]);
  };
  for (const backend of ['wasm', 'cpu'] as const) {
    for (const training of [true, false]) {
      const got = await on(backend, run(training));
      tf.registerGradient(builtin);
      const ref = await on('cpu', run(training));
      tf.registerGradient(ours);
      for (let i = 0; i < 3; i++) assert.ok(maxAbsDiff(got[i], ref[i]) <= 1e-5 * (1 + maxAbs(ref[i])), `${backend} training=${training} input ${i}: ${maxAbsDiff(got[i], ref[i])}`);
    }
  }
});

test('Sum and Mean over leading axes on wasm equal the cpu backend; other axes still work', async () => {
  const xs = random(3 * 4 * 5 * 6, 23);
  const cases: [number[], boolean][] = [
    [[0, 1, 2], false],
    [[0, 1, 2], true],
    [[0], false],
    [[0, 1, 2, 3], false],
    [[1, 2], false],
    [[3], true],
  ];
  for (const [axes, keepDims] of cases) {
    const f = () => {
      const x = tf.tensor4d(xs, [3, 4, 5, 6]);
      return [tf.sum(x, axes, keepDims), tf.mean(x, axes, keepDims)];
    };
    const cpu = await on('cpu', f);
    const wasm = await on('wasm', f);
    await loadTfjs({ backend: 'wasm' });
    const shape = tf.tidy(() => tf.sum(tf.zeros([3, 4, 5, 6]), axes, keepDims).shape);
    await loadTfjs({ backend: 'cpu' });
    const cpuShape = tf.tidy(() => tf.sum(tf.zeros([3, 4, 5, 6]), axes, keepDims).shape);
    assert.deepEqual(shape, cpuShape);
    for (let i = 0; i < 2; i++) assert.ok(maxAbsDiff(wasm[i], cpu[i]) <= 1e-5 * (1 + maxAbs(cpu[i])), `axes ${axes} keepDims ${keepDims}`);
  }
});

test('Identity and Cast share buffers on wasm without aliasing bugs: a clone survives its source and a variable update', async () => {
  await loadTfjs({ backend: 'wasm' });
  const v = tf.variable(tf.tensor1d([1, 2, 3]));
  const c = tf.clone(v);
  const k = tf.cast(v, 'float32');
  v.assign(tf.tensor1d([7, 8, 9]));
  assert.deepEqual([...c.dataSync()], [1, 2, 3]);
  assert.deepEqual([...k.dataSync()], [1, 2, 3]);
  const a = tf.tensor1d([4, 5]);
  const b = tf.clone(a);
  a.dispose();
  assert.deepEqual([...b.dataSync()], [4, 5]);
  assert.deepEqual([...tf.cast(tf.tensor1d([1.7, -2.2]), 'int32').dataSync()], [1, -2]);
  tf.dispose([v, c, k, b]);
});
