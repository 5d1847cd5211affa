/**
 * exportOnnx against tfjs: every architecture of the zoo, each preset, grey and RGB,
 * batch norm on and off, runs in onnxruntime-node with the outputs of tfjs's predict
 * to within 1e-4 (max abs), on inputs of a non-square size that is a multiple of the
 * network's (odd where the multiple is 1). Batch-norm statistics and biases are
 * random and non-trivial so that folding and bias mapping are really tested. Also:
 * the metadata round-trip, the folding itself, the layers outside the zoo that are
 * mapped, and the refusals with their messages.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LayersModel, SymbolicTensor, Tensor } from '@tensorflow/tfjs';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { createRng, type Rng } from '../../src/core/rng.js';
import { createModel, type HushModel, type ModelArchitecture } from '../../src/models/index.js';
import { BATCH_NORM_MODES, decodeModel, exportOnnx, ONNX_IR_VERSION, ONNX_LAYER_CLASSES, ONNX_OPSET, saveOnnx, type OnnxModel } from '../../src/onnx/index.js';

const { tf } = await loadTfjs({ backend: 'wasm' });
const ort = await import('onnxruntime-node');
const dir = await mkdtemp(join(tmpdir(), 'hush-onnx-'));
test.after(() => rm(dir, { recursive: true, force: true }));

const TOLERANCE = 1e-4;

/** Random, non-trivial batch-norm statistics and biases (tfjs initialises biases to 0 and BN to identity). */
function randomizeWeights(model: LayersModel, rng: Rng): void {
  const uniform = (lo: number, hi: number) => lo + (hi - lo) * rng.next();
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'BatchNormalization') {
      const values = layer.weights.map((w) => {
        const n = w.shape.reduce((a: number, b) => a * (b as number), 1);
        const which = w.originalName.split('/').pop();
        const [lo, hi] = which === 'gamma' ? [0.6, 1.4] : which === 'beta' ? [-0.2, 0.2] : which === 'moving_mean' ? [-0.3, 0.3] : [0.5, 1.6];
        return tf.tensor(Float32Array.from({ length: n }, () => uniform(lo, hi)), w.shape as number[]);
      });
      layer.setWeights(values);
      tf.dispose(values);
    } else if (layer.weights.some((w) => w.originalName.endsWith('/bias'))) {
      const made: Tensor[] = [];
      const values = layer.getWeights().map((w, i) => {
        if (!layer.weights[i].originalName.endsWith('/bias')) return w;
        made.push(tf.tensor(Float32Array.from({ length: w.size }, () => uniform(-0.1, 0.1)), w.shape));
        return made[made.length - 1];
      });
      layer.setWeights(values);
      tf.dispose(made);
    }
  }
}

interface Run {
  /** max |tfjs - onnxruntime| over the whole output */
  maxDiff: number;
  /** max |output|, to show the comparison is not between near-zero maps */
  maxAbs: number;
  shape: number[];
}

/** NHWC -> NCHW (and back with the inverse flag). */
function toNchw(data: Float32Array, [n, h, w, c]: number[]): Float32Array {
  const out = new Float32Array(data.length);
  for (let b = 0; b < n; b++) for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let k = 0; k < c; k++) out[((b * c + k) * h + y) * w + x] = data[((b * h + y) * w + x) * c + k];
  return out;
}

/** Runs `net` in tfjs and its ONNX export in onnxruntime on one random batch; compares. */
async function parity(net: LayersModel, bytes: Uint8Array, input: { batch: number; height: number; width: number; seed: number; ratios?: number[] }): Promise<Run> {
  const rng = createRng(input.seed);
  const c = net.inputs[0].shape[3] as number;
  const shape = [input.batch, input.height, input.width, c];
  const x = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next());
  const expected = tf.tidy(() => {
    const xs = tf.tensor4d(x, shape as [number, number, number, number]);
    const ins = input.ratios ? [xs, tf.tensor2d(input.ratios, [input.batch, 1])] : xs;
    const y = net.predict(ins) as Tensor;
    return { data: y.dataSync() as Float32Array, shape: y.shape.slice() as number[] };
  });
  const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  try {
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = { input: new ort.Tensor('float32', toNchw(x, shape), [shape[0], shape[3], shape[1], shape[2]]) };
    if (input.ratios) feeds.exposure_ratio = new ort.Tensor('float32', Float32Array.from(input.ratios), [input.batch, 1]);
    const { output } = await session.run(feeds);
    const want = expected.shape.length === 4 ? toNchw(expected.data, expected.shape) : expected.data;
    const got = output.data as Float32Array;
    const [n, h, w, k] = expected.shape;
    assert.deepEqual(output.dims, expected.shape.length === 4 ? [n, k, h, w] : expected.shape);
    let maxDiff = 0;
    let maxAbs = 0;
    for (let i = 0; i < want.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(want[i] - got[i]));
      maxAbs = Math.max(maxAbs, Math.abs(want[i]));
    }
    assert.ok(got.every(Number.isFinite), 'onnxruntime output is finite');
    return { maxDiff, maxAbs, shape: expected.shape };
  } finally {
    await session.release();
  }
}

interface ZooCase {
  name: string;
  architecture: ModelArchitecture;
  options: Record<string, unknown>;
  height: number;
  width: number;
  batch?: number;
  /** exposure-time ratios, one per batch item, for the conditioned U-net */
  ratios?: number[];
}

const CASES: ZooCase[] = [];
for (const channels of [1, 3]) {
  for (const preset of ['paper', 'blind', 'small']) {
    for (const featureNorm of ['batch', 'none']) {
      CASES.push({ name: `dncnn ${preset} width 8 featureNorm ${featureNorm} c${channels}`, architecture: 'dncnn', options: { preset, featureNorm, width: 8, channels }, height: 37, width: 53 });
    }
  }
  CASES.push({ name: `dncnn small width 8 direct c${channels}`, architecture: 'dncnn', options: { preset: 'small', width: 8, output: 'direct', channels }, height: 37, width: 53 });
  CASES.push({ name: `unet astro c${channels}`, architecture: 'unet', options: { preset: 'astro', width: 4, maxWidth: 32, channels }, height: 48, width: 80, ratios: [0.5, 3] });
  CASES.push({ name: `unet baby c${channels}`, architecture: 'unet', options: { preset: 'baby', width: 4, maxWidth: 8, channels }, height: 36, width: 52 });
  CASES.push({ name: `unet noise2same c${channels}`, architecture: 'unet', options: { preset: 'noise2same', width: 4, maxWidth: 16, channels }, height: 36, width: 52 });
  CASES.push({ name: `unet (default preset) c${channels}`, architecture: 'unet', options: { width: 4, maxWidth: 8, channels }, height: 36, width: 52 });
  CASES.push({
    name: `unet max-pool transposed-conv residual c${channels}`,
    architecture: 'unet',
    options: { preset: 'baby', width: 4, maxWidth: 16, down: 'max-pool', up: 'transposed-conv', output: 'residual', levels: 4, channels },
    height: 40,
    width: 56,
  });
  CASES.push({
    name: `unet double-conv strided-conv bilinear relu c${channels}`,
    architecture: 'unet',
    options: { block: 'double-conv', down: 'strided-conv', up: 'bilinear', featureNorm: 'batch', alpha: 0, width: 4, maxWidth: 16, channels },
    height: 36,
    width: 52,
  });
  CASES.push({ name: `ridnet c${channels}`, architecture: 'ridnet', options: { modules: 2, width: 8, reduction: 4, channels }, height: 37, width: 53 });
  CASES.push({ name: `autoencoder c${channels}`, architecture: 'autoencoder', options: { levels: 2, width: 8, channels }, height: 36, width: 52 });
  CASES.push({ name: `gan-generator c${channels}`, architecture: 'gan-generator', options: { width: 4, channels }, height: 37, width: 53 });
  CASES.push({ name: `gan-generator strided c${channels}`, architecture: 'gan-generator', options: { width: 4, downsampling: 'strided', residualBlocks: 1, channels }, height: 36, width: 52 });
  CASES.push({ name: `gan-discriminator c${channels}`, architecture: 'gan-discriminator', options: { width: 4, channels }, height: 40, width: 56 });
  // not a multiple of 8: TensorFlow's 'same' pads of the stride-2 4x4 convs change with the size's parity
  CASES.push({ name: `gan-discriminator odd size c${channels}`, architecture: 'gan-discriminator', options: { width: 4, channels }, height: 37, width: 53 });
}
// the default sizes, once per architecture (and the astro U-net, the largest preset)
CASES.push({ name: 'dncnn default size', architecture: 'dncnn', options: {}, height: 37, width: 53, batch: 1 });
CASES.push({ name: 'unet default size', architecture: 'unet', options: {}, height: 36, width: 52, batch: 1 });
CASES.push({ name: 'unet astro default size', architecture: 'unet', options: { preset: 'astro' }, height: 48, width: 80, batch: 1, ratios: [2] });
CASES.push({ name: 'unet noise2same default size', architecture: 'unet', options: { preset: 'noise2same' }, height: 36, width: 52, batch: 1 });
CASES.push({ name: 'ridnet default size', architecture: 'ridnet', options: {}, height: 37, width: 53, batch: 1 });
CASES.push({ name: 'autoencoder default size', architecture: 'autoencoder', options: {}, height: 36, width: 52, batch: 1 });
CASES.push({ name: 'gan-generator default size', architecture: 'gan-generator', options: {}, height: 37, width: 53, batch: 1 });
CASES.push({ name: 'gan-discriminator default size', architecture: 'gan-discriminator', options: {}, height: 40, width: 56, batch: 1 });

async function zooModel(c: ZooCase, seed: number): Promise<HushModel> {
  const model = await createModel(c.architecture, { ...c.options, seed });
  randomizeWeights(model.model, createRng(seed + 100));
  return model;
}

for (const [i, c] of CASES.entries()) {
  test(`${c.name}: onnxruntime matches tfjs within ${TOLERANCE}`, async (t) => {
    const model = await zooModel(c, 11 + i);
    try {
      const batch = c.batch ?? c.ratios?.length ?? 2;
      const run = await parity(model.model, exportOnnx(model), { batch, height: c.height, width: c.width, seed: 1000 + i, ratios: c.ratios });
      t.diagnostic(`max abs diff ${run.maxDiff.toExponential(2)} (max |output| ${run.maxAbs.toFixed(3)}, output ${run.shape.join('x')})`);
      assert.ok(run.maxDiff < TOLERANCE, `max abs diff ${run.maxDiff}`);
      assert.ok(run.maxAbs > 0.05, `output too small to compare (${run.maxAbs})`);
    } finally {
      model.dispose();
    }
  });
}

function ops(m: OnnxModel): string[] {
  return (m.graph?.node ?? []).map((n) => n.op_type);
}

test('dncnn: batch norm is folded into the convolutions; batchNorm: keep gives the same outputs', async (t) => {
  const model = await zooModel({ name: '', architecture: 'dncnn', options: { depth: 6, width: 8 }, height: 0, width: 0 }, 5);
  try {
    const folded = decodeModel(exportOnnx(model));
    assert.ok(!ops(folded).includes('BatchNormalization'), `ops: ${ops(folded).join(', ')}`);
    assert.deepEqual(ops(folded), ['Conv', 'Relu', ...Array.from({ length: 4 }, () => ['Conv', 'Relu']).flat(), 'Conv', 'Sub']);
    const keptBytes = exportOnnx(model, { batchNorm: 'keep' });
    assert.equal(ops(decodeModel(keptBytes)).filter((o) => o === 'BatchNormalization').length, 4);
    const run = await parity(model.model, keptBytes, { batch: 1, height: 21, width: 30, seed: 3 });
    t.diagnostic(`batchNorm 'keep': max abs diff ${run.maxDiff.toExponential(2)}`);
    assert.ok(run.maxDiff < TOLERANCE);
  } finally {
    model.dispose();
  }
});

test('batch norm is folded only where it is exact: after a linear convolution (or transposed one) that feeds nothing else', async (t) => {
  const L = tf.layers;
  const init = (seed: number) => tf.initializers.glorotUniform({ seed });
  const input = tf.input({ shape: [null, null, 2] });
  const shared = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: init(1) }).apply(input) as SymbolicTensor;
  const kept = L.add().apply([L.batchNormalization({}).apply(shared) as SymbolicTensor, shared]) as SymbolicTensor;
  const fused = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'relu', kernelInitializer: init(2) }).apply(kept) as SymbolicTensor;
  const afterRelu = L.batchNormalization({ center: false }).apply(fused) as SymbolicTensor;
  const up = L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', useBias: false, kernelInitializer: init(3) }).apply(afterRelu) as SymbolicTensor;
  const out = L.batchNormalization({ scale: false }).apply(up) as SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: out });
  randomizeWeights(net, createRng(8));
  try {
    const bytes = exportOnnx(net);
    const graph = decodeModel(bytes).graph!;
    assert.deepEqual(ops(decodeModel(bytes)), ['Conv', 'BatchNormalization', 'Add', 'Conv', 'Relu', 'BatchNormalization', 'ConvTranspose']);
    assert.equal(graph.node![6].input.length, 3, 'the folded transposed convolution gained a bias');
    const run = await parity(net, bytes, { batch: 2, height: 11, width: 14, seed: 9 });
    t.diagnostic(`max abs diff ${run.maxDiff.toExponential(2)}`);
    assert.ok(run.maxDiff < TOLERANCE, String(run.maxDiff));
  } finally {
    net.dispose();
  }
});

test('noise2same: batch norm before an activation (pre-activation blocks) stays a BatchNormalization node', async () => {
  const model = await zooModel({ name: '', architecture: 'unet', options: { preset: 'noise2same', width: 4, maxWidth: 8 }, height: 0, width: 0 }, 6);
  try {
    const graph = decodeModel(exportOnnx(model));
    assert.ok(ops(graph).includes('BatchNormalization'));
  } finally {
    model.dispose();
  }
});

test('metadata_props carry the hush metadata; inputs and outputs are NCHW with symbolic N, H, W', async () => {
  const model = await createModel('unet', { preset: 'astro', width: 4, maxWidth: 8, channels: 3, normalization: { kind: 'affine', offset: 0.5, scale: 2 } });
  model.metadata.noise = { model: 'poisson', level: 30 };
  try {
    const decoded = decodeModel(exportOnnx(model));
    assert.equal(decoded.ir_version, ONNX_IR_VERSION);
    assert.deepEqual(decoded.opset_import, [{ version: ONNX_OPSET }]);
    assert.equal(decoded.producer_name, 'hush');
    const props = new Map((decoded.metadata_props ?? []).map((p) => [p.key, p.value]));
    assert.deepEqual(JSON.parse(props.get('hush') as string), model.metadata);
    assert.match(props.get('producer') as string, /^hush \d+\.\d+\.\d+ exportOnnx$/);
    assert.match(props.get('source') as string, /^TensorFlow\.js 4\.\d+\.\d+ layers model 'unet'$/);
    assert.match(decoded.doc_string as string, /^hush unet \(preset astro\) for RGB images, exported by hush .*H and W multiples of 16, 'exposure_ratio' \[N, 1\]/);
    const graph = decoded.graph!;
    const shape = (v: (typeof graph.input & object)[number]) => v.type?.tensor_type?.shape?.dim?.map((d) => d.dim_param ?? d.dim_value);
    assert.deepEqual(graph.input!.map((v) => v.name), ['input', 'exposure_ratio']);
    assert.deepEqual(graph.input!.map(shape), [['N', 3, 'H', 'W'], ['N', 1]]);
    assert.deepEqual(graph.output!.map((v) => v.name), ['output']);
    assert.deepEqual(graph.output!.map(shape), [['N', 3, 'H', 'W']]);
    const session = await ort.InferenceSession.create(exportOnnx(model));
    try {
      assert.deepEqual(session.inputNames, ['input', 'exposure_ratio']);
      assert.deepEqual(session.outputNames, ['output']);
    } finally {
      await session.release();
    }
  } finally {
    model.dispose();
  }
});

test('a plain LayersModel exports without hush metadata; the discriminator output has its own H and W', async () => {
  const model = await createModel('gan-discriminator', { width: 2 });
  try {
    const plain = decodeModel(exportOnnx(model.model));
    assert.deepEqual((plain.metadata_props ?? []).map((p) => p.key), ['producer', 'source']);
    assert.match(plain.doc_string as string, /^the TensorFlow\.js model 'gan_discriminator', exported by hush/);
    const hush = decodeModel(exportOnnx(model));
    assert.deepEqual(hush.graph!.output![0].type?.tensor_type?.shape?.dim, [{ dim_param: 'N' }, { dim_value: 1 }, { dim_param: 'H_out' }, { dim_param: 'W_out' }]);
  } finally {
    model.dispose();
  }
});

test('layers outside the zoo: activations, Dense, Flatten, Reshape, pooling and convolutions of every padding, merges', async (t) => {
  const rng = createRng(9);
  const seeded = (s: number) => tf.initializers.glorotUniform({ seed: s });
  const L = tf.layers;
  const ap = (layer: { apply(x: SymbolicTensor | SymbolicTensor[]): unknown }, x: SymbolicTensor | SymbolicTensor[]) => layer.apply(x) as SymbolicTensor;
  const input = tf.input({ shape: [null, null, 3], name: 'pixels' });
  const branches: SymbolicTensor[] = [];
  for (const [i, activation] of (['elu', 'selu', 'softplus', 'softsign', 'relu6', 'hardSigmoid', 'swish', 'mish', 'gelu', 'gelu_new', 'softmax', 'logSoftmax'] as const).entries()) {
    const y = ap(L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', activation: 'linear', kernelInitializer: seeded(i) }), input);
    branches.push(ap(L.activation({ activation: activation as 'relu' }), y));
  }
  branches.push(ap(L.reLU({ maxValue: 0.3 }), branches[0]), ap(L.elu({}), branches[1]), ap(L.softmax({ axis: -1 }), branches[2]));
  branches.push(ap(L.dense({ units: 4, activation: 'tanh', kernelInitializer: seeded(20) }), input));
  branches.push(ap(L.dropout({ rate: 0.5 }), branches[3]));
  const a = ap(L.average(), branches.slice(0, 4));
  const b = ap(L.maximum(), branches.slice(4, 8));
  const m = ap(L.minimum(), branches.slice(8, 12));
  const merged = ap(L.concatenate({ axis: 3 }), [a, b, m, ...branches.slice(12)]);
  // strided windows at an odd size: the padding depends on the size's parity
  const s1 = ap(L.conv2d({ filters: 6, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: seeded(30) }), merged);
  const s2 = ap(L.conv2d({ filters: 6, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: seeded(31) }), merged);
  const s3 = ap(L.conv2d({ filters: 6, kernelSize: 1, strides: 2, padding: 'same', kernelInitializer: seeded(32) }), merged);
  const s4 = ap(L.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }), ap(L.conv2d({ filters: 6, kernelSize: 1, kernelInitializer: seeded(33) }), merged));
  const s5 = ap(L.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }), ap(L.conv2d({ filters: 6, kernelSize: 1, kernelInitializer: seeded(34) }), merged));
  let y = ap(L.add(), [s1, s2, s3, s4, s5]);
  y = ap(L.averagePooling2d({ poolSize: 3, strides: 1, padding: 'same' }), y);
  y = ap(L.conv2d({ filters: 5, kernelSize: [3, 5], dilationRate: [2, 1], padding: 'same', kernelInitializer: seeded(35) }), y);
  const t1 = ap(L.conv2dTranspose({ filters: 3, kernelSize: 3, strides: 2, padding: 'same', kernelInitializer: seeded(40) }), y);
  const t2 = ap(L.conv2dTranspose({ filters: 3, kernelSize: 1, strides: 2, padding: 'same', kernelInitializer: seeded(41) }), y);
  const t3 = ap(L.conv2dTranspose({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', kernelInitializer: seeded(42) }), y);
  const t4 = ap(L.upSampling2d({ size: [2, 2], interpolation: 'bilinear' }), ap(L.conv2d({ filters: 3, kernelSize: 1, kernelInitializer: seeded(43) }), y));
  const up = ap(L.multiply(), [ap(L.add(), [t1, t2, t3]), t4]);
  const valid = ap(L.conv2dTranspose({ filters: 2, kernelSize: 3, strides: 2, padding: 'valid', kernelInitializer: seeded(44) }), ap(L.conv2d({ filters: 3, kernelSize: 3, padding: 'valid', kernelInitializer: seeded(45) }), up));
  const nearest = ap(L.upSampling2d({ size: [3, 2] }), ap(L.maxPooling2d({ poolSize: 2 }), valid));
  const gmax = ap(L.globalMaxPooling2d({}), nearest);
  const scores = ap(L.dense({ units: 2, kernelInitializer: seeded(46) }), gmax);
  const net = tf.model({ inputs: input, outputs: [nearest, scores], name: 'extras' });
  randomizeWeights(net, rng);
  try {
    const bytes = exportOnnx(net);
    // the two outputs: the map and the dense scores
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    assert.deepEqual(session.outputNames, ['output', 'output_1']);
    const x = Float32Array.from({ length: 1 * 23 * 31 * 3 }, () => rng.next() * 2 - 1);
    const [wantMap, wantScores] = tf.tidy(() => (net.predict(tf.tensor4d(x, [1, 23, 31, 3])) as Tensor[]).map((r) => ({ data: r.dataSync() as Float32Array, shape: r.shape.slice() as number[] })));
    const out = await session.run({ input: new ort.Tensor('float32', toNchw(x, [1, 23, 31, 3]), [1, 3, 23, 31]) });
    await session.release();
    const maxDiff = (p: Float32Array, q: Float32Array) => p.reduce((d, v, i) => Math.max(d, Math.abs(v - q[i])), 0);
    assert.deepEqual(out.output.dims, [wantMap.shape[0], wantMap.shape[3], wantMap.shape[1], wantMap.shape[2]]);
    const d1 = maxDiff(toNchw(wantMap.data, wantMap.shape), out.output.data as Float32Array);
    const d2 = maxDiff(wantScores.data, out.output_1.data as Float32Array);
    t.diagnostic(`max abs diff: map ${d1.toExponential(2)}, scores ${d2.toExponential(2)}`);
    assert.ok(d1 < TOLERANCE && d2 < TOLERANCE, `${d1} ${d2}`);
  } finally {
    net.dispose();
  }
});

test('Flatten, Dense on a map, and a Reshape that moves pixels (static input size)', async (t) => {
  const L = tf.layers;
  const input = tf.input({ shape: [6, 10, 3] });
  const conv = L.conv2d({ filters: 4, kernelSize: 3, padding: 'same', kernelInitializer: tf.initializers.glorotUniform({ seed: 1 }) }).apply(input) as SymbolicTensor;
  const perPixel = L.dense({ units: 2, activation: 'sigmoid', kernelInitializer: tf.initializers.glorotUniform({ seed: 2 }) }).apply(conv) as SymbolicTensor;
  const flat = L.flatten().apply(perPixel) as SymbolicTensor;
  const dense = L.dense({ units: 60, kernelInitializer: tf.initializers.glorotUniform({ seed: 3 }) }).apply(flat) as SymbolicTensor;
  const map = L.reshape({ targetShape: [5, 4, 3] }).apply(dense) as SymbolicTensor;
  const again = L.reshape({ targetShape: [10, -1, 2] }).apply(map) as SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: again });
  randomizeWeights(net, createRng(4));
  try {
    const run = await parity(net, exportOnnx(net), { batch: 2, height: 6, width: 10, seed: 5 });
    t.diagnostic(`max abs diff ${run.maxDiff.toExponential(2)}`);
    assert.deepEqual(run.shape, [2, 10, 3, 2]);
    assert.ok(run.maxDiff < TOLERANCE, String(run.maxDiff));
  } finally {
    net.dispose();
  }
});

test('saveOnnx writes the bytes atomically and refuses to overwrite unless told', async () => {
  const model = await createModel('dncnn', { depth: 3, width: 4 });
  try {
    const path = join(dir, 'dncnn.onnx');
    await saveOnnx(model, path);
    assert.deepEqual(new Uint8Array(await readFile(path)), exportOnnx(model));
    await assert.rejects(saveOnnx(model, path), { code: 'ERR_EXISTS', message: `refusing to overwrite '${path}': it exists (use --force to replace it)` });
    await saveOnnx(model, path, { ifExists: 'overwrite', batchNorm: 'keep' });
    assert.deepEqual(new Uint8Array(await readFile(path)), exportOnnx(model, { batchNorm: 'keep' }));
    const session = await ort.InferenceSession.create(path);
    assert.deepEqual(session.inputNames, ['input']);
    await session.release();
    await assert.rejects(saveOnnx(model, path, { ifExists: 'replace' as 'overwrite' }), {
      code: 'ERR_INVALID_PARAMETER',
      message: "saveOnnx: expected one of 'error', 'overwrite' for options.ifExists but received 'replace' (string).",
    });
    await assert.rejects(saveOnnx(model, ''), { code: 'ERR_INVALID_PARAMETER', message: "saveOnnx: expected a file path for path but received '' (string)." });
  } finally {
    model.dispose();
  }
});

test('an unmapped layer class is refused, naming the layer and its class', () => {
  const input = tf.input({ shape: [null, null, 2] });
  const y = tf.layers.layerNormalization({ name: 'norm' }).apply(input) as SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: y });
  try {
    assert.throws(() => exportOnnx(net), {
      name: 'HushError',
      code: 'ERR_UNSUPPORTED',
      message: `exportOnnx: layer 'norm' (LayerNormalization) has no ONNX mapping. Supported layer classes: ${[...ONNX_LAYER_CLASSES].sort().join(', ')}`,
    });
    assert.match(String([...ONNX_LAYER_CLASSES].sort()), /^Activation,Add,.*HushAppendConstantChannel,HushMatchMean,HushSubtract,.*UpSampling2D$/);
  } finally {
    net.dispose();
  }
});

test('an unmapped configuration is refused with the reason', () => {
  const input = tf.input({ shape: [null, 5, 2] });
  const y = tf.layers.activation({ activation: 'relu' }).apply(input) as SymbolicTensor;
  const z = tf.layers.batchNormalization({ axis: 2, name: 'bn_w' }).apply(y) as SymbolicTensor;
  const net = tf.model({ inputs: input, outputs: z });
  try {
    assert.throws(() => exportOnnx(net), { code: 'ERR_UNSUPPORTED', message: "exportOnnx: layer 'bn_w' (BatchNormalization) normalises axis 2; only the channel (last) axis is mapped" });
  } finally {
    net.dispose();
  }
});

test('exportOnnx rejects what is not a model and unknown options', async () => {
  assert.throws(() => exportOnnx(null as unknown as LayersModel), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'exportOnnx: expected a HushModel or a tfjs LayersModel for model but received null.',
  });
  const model = await createModel('dncnn', { depth: 3, width: 2 });
  try {
    assert.deepEqual(BATCH_NORM_MODES, ['fold', 'keep']);
    assert.throws(() => exportOnnx(model, { batchNorm: 'folded' as 'fold' }), {
      code: 'ERR_INVALID_PARAMETER',
      message: "exportOnnx: expected one of 'fold', 'keep' for options.batchNorm but received 'folded' (string). Did you mean 'fold'?",
    });
  } finally {
    model.dispose();
  }
});
