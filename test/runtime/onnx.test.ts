import test from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createImage } from '../../src/core/image.js';
import { createModel } from '../../src/models/hush-model.js';
import { saveModel } from '../../src/models/io.js';
import { exportOnnx, saveOnnx } from '../../src/onnx/export.js';
import { loadOnnxModel, onnxMetadata } from '../../src/runtime/onnx.js';
import { denoiseWithModel, openModel, resolveModelPath } from '../../src/runtime/denoise-model.js';
import { inferTiled } from '../../src/runtime/tiled.js';
import { tfjsTileRunner } from '../../src/runtime/tfjs-tile-runner.js';
import { randomImage, tempDir } from '../helpers/images.js';

const dncnn = () => createModel('dncnn', { channels: 1, depth: 5, width: 8, seed: 2 });

test('ONNX session: metadata from metadata_props, output equal to tfjs through the same tiles', async () => {
  const m = await dncnn();
  const bytes = exportOnnx(m);
  const meta = onnxMetadata(bytes);
  assert.equal(meta?.architecture, 'dncnn');
  assert.equal(meta?.channels, 1);
  const onnx = await loadOnnxModel(bytes, { threads: 2 });
  assert.equal(onnx.threads, 2);
  assert.equal(onnx.channels, 1);
  const image = randomImage(97, 75, 1, 5);
  const a = await inferTiled(image, onnx, { tileSize: 48, tileOverlap: 12 });
  const b = await inferTiled(image, tfjsTileRunner(m), { tileSize: 48, tileOverlap: 12 });
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  assert.ok(max < 1e-4, `onnx vs tfjs ${max}`);
  await onnx.dispose();
  await assert.rejects(onnx.run(new Float32Array(64), 1, 1, 8, 8), /was disposed/);
  m.dispose();
});

test('seams: a tiled and an untiled onnxruntime run differ by less than 1e-4 away from the borders', async () => {
  const m = await dncnn();
  const onnx = await loadOnnxModel(exportOnnx(m));
  const image = randomImage(203, 161, 1, 9);
  const tiled = await inferTiled(image, onnx, { tileSize: 64, tileOverlap: 16 });
  const whole = await inferTiled(image, onnx, { tileSize: 256, tileOverlap: 16 });
  const r = 5; // receptive-field radius of 5 convolutions 3x3
  let max = 0;
  for (let y = r; y < image.height - r; y++) for (let x = r; x < image.width - r; x++) max = Math.max(max, Math.abs(tiled.data[y * image.width + x] - whole.data[y * image.width + x]));
  assert.ok(max < 1e-4, `seam difference ${max}`);
  // NaN pixels stay NaN, their neighbours finite
  const holes = createImage(64, 64, 1, randomImage(64, 64, 1, 3).data.slice());
  holes.data[30 * 64 + 30] = Number.NaN;
  const out = await inferTiled(holes, onnx, { tileSize: 32, tileOverlap: 8 });
  assert.ok(Number.isNaN(out.data[30 * 64 + 30]));
  assert.ok(Number.isFinite(out.data[30 * 64 + 31]) && Number.isFinite(out.data[31 * 64 + 30]));
  await onnx.dispose();
  m.dispose();
});

test('openModel: .onnx files, hush model folders on both runtimes, and clear errors', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const m = await dncnn();
    await saveModel(m, join(dir, 'net'));
    await saveOnnx(m, join(dir, 'net.onnx'));
    const image = randomImage(40, 30, 1, 1);
    const outs = [];
    for (const [path, runtime] of [[join(dir, 'net.onnx'), 'onnx'], [join(dir, 'net'), 'onnx'], [join(dir, 'net'), 'tfjs']] as const) {
      const opened = await openModel(path, { runtime });
      assert.equal(opened.runtime, runtime);
      assert.equal(opened.metadata?.architecture, 'dncnn');
      outs.push((await inferTiled(image, opened)).data);
      await opened.dispose();
    }
    for (const o of outs.slice(1)) for (let i = 0; i < o.length; i++) assert.ok(Math.abs(o[i] - outs[0][i]) < 1e-4);
    await assert.rejects(openModel(join(dir, 'net.onnx'), { runtime: 'tfjs' }), /is an ONNX model; run it with runtime 'onnx'/);
    await assert.rejects(openModel(join(dir, 'nope')), /is neither a built-in model \(dncnn-grey-s25\) nor an existing file or folder/);
    writeFileSync(join(dir, 'junk.onnx'), 'not a model at all');
    await assert.rejects(loadOnnxModel(join(dir, 'junk.onnx')), (e: Error & { code?: string }) => e.code === 'ERR_DECODE' && /junk\.onnx/.test(e.message));
    writeFileSync(join(dir, 'image.png'), 'x');
    assert.throws(() => resolveModelPath(join(dir, 'image.png'), 'onnx'), /is not a model: give an \.onnx file/);
    m.dispose();
  } finally {
    cleanup();
  }
});

test("a mean-matched GAN generator keeps the image's channel means through tiled inference (ONNX and tfjs; NaN left out)", async () => {
  const { dir, cleanup } = tempDir();
  try {
    const g = await createModel('gan-generator', { channels: 3, width: 4, residualBlocks: 1, seed: 7 });
    await saveModel(g, join(dir, 'gan'));
    const image = randomImage(70, 45, 3, 2);
    image.data[5] = Number.NaN;
    const means = (im: { data: Float32Array }, c: number) => {
      let s = 0;
      let n = 0;
      for (let i = c; i < im.data.length; i += 3) {
        if (i === 5) continue;
        s += im.data[i];
        n++;
      }
      return s / n;
    };
    for (const runtime of ['onnx', 'tfjs'] as const) {
      const opened = await openModel(join(dir, 'gan'), { runtime });
      // small tiles: every tile has mirrored context, whose mean is not the image's
      const tiledOnly = await inferTiled(image, opened, { tileSize: 40, tileOverlap: 8 });
      const out = await denoiseWithModel(image, opened, { tileSize: 40, tileOverlap: 8 });
      let before = 0;
      for (let c = 0; c < 3; c++) {
        before = Math.max(before, Math.abs(means(tiledOnly, c) - means(image, c)));
        assert.ok(Math.abs(means(out, c) - means(image, c)) < 1e-6, `${runtime} channel ${c}: ${means(out, c)} vs ${means(image, c)}`);
      }
      assert.ok(before > 1e-4, `${runtime}: the tiles alone should leave a shift (${before})`);
      assert.ok(Number.isNaN(out.data[5]), 'a missing sample stays missing');
      await opened.dispose();
    }
    g.dispose();
  } finally {
    cleanup();
  }
});

test('the built-in dncnn-grey-s25 opens by name on both runtimes and removes sigma-25 noise', async () => {
  const { testPattern } = await import('../helpers/images.js');
  const { addGaussianNoise } = await import('../../src/noise/index.js');
  const { psnr } = await import('../../src/metrics/index.js');
  const clean = testPattern(96, 80, 1);
  const noisy = addGaussianNoise(clean, { sigma: 25 / 255, seed: 3 });
  const before = psnr(clean, noisy, { dataRange: 1 });
  for (const runtime of ['onnx', 'tfjs'] as const) {
    const model = await openModel('dncnn-grey-s25', { runtime });
    assert.equal(model.metadata?.training?.method, 'n2true');
    assert.equal(model.metadata?.noise?.model, 'gaussian');
    const after = psnr(clean, await inferTiled(noisy, model), { dataRange: 1 });
    assert.ok(after > before + 5, `${runtime}: ${before.toFixed(2)} dB -> ${after.toFixed(2)} dB`);
    await model.dispose();
  }
});

test('onnxruntime-web (the browser runtime, run here under Node) gives the same output as onnxruntime-node', async () => {
  const { readFileSync } = await import('node:fs');
  const { loadOnnxModelWeb } = await import('../../src/runtime/onnx-web.js');
  const bytes = new Uint8Array(readFileSync(resolveModelPath('dncnn-grey-s25', 'onnx').path));
  const web = await loadOnnxModelWeb(bytes);
  assert.equal(web.channels, 1);
  assert.equal((web.metadata as { architecture?: string }).architecture, 'dncnn');
  const node = await loadOnnxModel(bytes);
  const image = randomImage(70, 45, 1, 8);
  const a = await inferTiled(image, web, { tileSize: 64, tileOverlap: 8 });
  const b = await inferTiled(image, node, { tileSize: 64, tileOverlap: 8 });
  let max = 0;
  for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  assert.ok(max < 1e-4, `web vs node ${max}`);
  await web.dispose();
  await node.dispose();
  await assert.rejects(loadOnnxModelWeb(new Uint8Array([1, 2, 3, 4, 5])), /not an ONNX model|ERR_DECODE|malformed|onnxruntime/);
});
