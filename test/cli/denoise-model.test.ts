import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { cli } from '../helpers/cli.js';
import { readImage, writeImage } from '../../src/io/index.js';
import { createModel } from '../../src/models/hush-model.js';
import { saveModel } from '../../src/models/io.js';
import { saveOnnx } from '../../src/onnx/export.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { createImage } from '../../src/core/image.js';
import { testPattern, tempDir } from '../helpers/images.js';

/** A DnCNN whose last layer is scaled down, so it removes a little and keeps values in range. */
async function gentleModel(dir: string): Promise<{ folder: string; onnx: string }> {
  const m = await createModel('dncnn', { channels: 1, depth: 4, width: 8, seed: 4 });
  const last = m.model.layers.filter((l) => l.getClassName() === 'Conv2D').at(-1)!;
  last.setWeights(last.getWeights().map((w) => tf.mul(w, 0.02)));
  const folder = join(dir, 'model');
  const onnx = join(dir, 'model.onnx');
  await saveModel(m, folder);
  await saveOnnx(m, onnx);
  m.dispose();
  return { folder, onnx };
}

test('hush denoise --model: PNG, 16-bit TIFF and FITS inputs, onnx and tfjs runtimes agree', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { folder, onnx } = await gentleModel(dir);
    const clean = testPattern(70, 52, 1);
    const noisy = addGaussianNoise(clean, { sigma: 0.05, seed: 3, clip: 'unit' });
    await writeImage(join(dir, 'in.png'), noisy);
    await writeImage(join(dir, 'in.tif'), noisy, { bitDepth: 16 });
    const fits = createImage(70, 52, 1, noisy.data.map((v) => 1000 * v));
    fits.data[5 * 70 + 5] = Number.NaN;
    await writeImage(join(dir, 'in.fits'), fits);
    for (const ext of ['png', 'tif', 'fits']) {
      const r = await cli(['denoise', join(dir, `in.${ext}`), '-o', join(dir, `out.${ext}`), '--model', onnx, '--tile', '32', '--overlap', '8']);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, /denoised with .*model\.onnx \(onnx\)/);
      const out = await readImage(join(dir, `out.${ext}`));
      assert.equal(out.width, 70);
      if (ext === 'tif') assert.equal(out.source?.sampleFormat, 'uint16');
      if (ext === 'fits') {
        assert.ok(Number.isNaN(out.data[5 * 70 + 5]), 'the NaN pixel stays NaN');
        assert.ok(out.data.filter((v) => Number.isFinite(v)).length === 70 * 52 - 1);
      }
    }
    const t = await cli(['denoise', join(dir, 'in.png'), '-o', join(dir, 'out-tfjs.tif'), '--model', folder, '--runtime', 'tfjs', '--json', '--tile', '32', '--overlap', '8']);
    assert.equal(t.code, 0, t.err);
    assert.equal((JSON.parse(t.out) as { runtime: string }).runtime, 'tfjs');
    const o = await cli(['denoise', join(dir, 'in.png'), '-o', join(dir, 'out-onnx.tif'), '--model', folder, '--tile', '32', '--overlap', '8']);
    assert.equal(o.code, 0, o.err);
    const a = await readImage(join(dir, 'out-tfjs.tif'));
    const b = await readImage(join(dir, 'out-onnx.tif'));
    let max = 0;
    for (let i = 0; i < a.data.length; i++) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
    assert.ok(max <= 1 / 65535, `runtimes differ by ${max}`);
  } finally {
    cleanup();
  }
});

test('hush denoise --model over a folder: bad files are reported at the end, the others written, exit 1', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const { onnx } = await gentleModel(dir);
    const inDir = join(dir, 'in');
    mkdirSync(inDir);
    for (let i = 0; i < 3; i++) await writeImage(join(inDir, `${i}.png`), testPattern(40 + i, 33, 1));
    writeFileSync(join(inDir, 'broken.png'), 'not a png');
    const r = await cli(['denoise', inDir, '-o', join(dir, 'out'), '--model', onnx]);
    assert.equal(r.code, 1);
    assert.match(r.out, /denoised 3 of 4 files/);
    assert.match(r.err, /1 file\(s\) failed:\n {2}.*broken\.png: readImage: cannot decode/);
    for (let i = 0; i < 3; i++) assert.ok(existsSync(join(dir, 'out', `${i}.png`)));
    // the same batch again refuses to overwrite, file by file, without --force
    const again = await cli(['denoise', join(inDir, '[0-2].png'), '-o', join(dir, 'out'), '--model', onnx]);
    assert.equal(again.code, 1);
    assert.match(again.err, /3 file\(s\) failed/);
    const forced = await cli(['denoise', join(inDir, '[0-2].png'), '-o', join(dir, 'out'), '--model', onnx, '--force']);
    assert.equal(forced.code, 0, forced.err);
  } finally {
    cleanup();
  }
});

test('hush denoise --model: usage errors', async () => {
  const { dir, cleanup } = tempDir();
  try {
    await writeImage(join(dir, 'a.png'), testPattern(20, 20, 1));
    const cases: [string[], RegExp][] = [
      [['denoise', join(dir, 'a.png'), '-o', join(dir, 'b.png'), '--tile', '64'], /--tile needs --model/],
      [['denoise', join(dir, 'a.png'), '-o', join(dir, 'b.png'), '--model', 'x', '--method', 'bm3d'], /give --method \(a classical denoiser\) or --model \(a network\), not both/],
      [['denoise', join(dir, 'a.png'), '-o', join(dir, 'b.png'), '--model', 'no-such-model'], /'no-such-model' is neither a built-in model/],
      [['denoise', join(dir, 'a.png'), '-o', join(dir, 'b.png'), '--model', 'x', '--runtime', 'cuda'], /--runtime/],
      [['denoise', join(dir, 'a.png'), '-o', join(dir, 'b.png'), '--model', 'x', '--h', '0.1'], /--h does not apply with --model/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re);
    }
  } finally {
    cleanup();
  }
});
