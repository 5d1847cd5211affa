import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../../src/models/hush-model.js';
import { fitGan, type FitGanOptions } from '../../src/training/gan.js';
import { buildVgg16Features } from '../../src/training/losses.js';
import { rgbTrainImages } from '../models/fixture.js';

const models = async () => ({
  g: await createModel('gan-generator', { channels: 3, width: 4, residualBlocks: 1, seed: 1 }),
  d: await createModel('gan-discriminator', { channels: 3, width: 4, seed: 2 }),
});

function base(out: string): FitGanOptions {
  return { sets: rgbTrainImages(4, 24).map((t) => [t]), noise: { model: 'gaussian', sigma: 0.1 }, vgg: buildVgg16Features({ blocks: 2, widthDivisor: 16, seed: 3 }), steps: 8, batchSize: 3, patchSize: 16, seed: 4, out, checkpointEvery: 3, reportEvery: 1 };
}

test('GAN: alternating updates with all four generator losses, checkpoints, exact resume, ONNX export', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'hush-gan-'));
  try {
    const a = await models();
    const losses: number[] = [];
    const r = await fitGan(a.g, a.d, { ...base(join(dir, 'straight')), onProgress: (p) => losses.push(p.loss, p.discriminatorLoss) });
    assert.equal(r.steps, 8);
    assert.ok(losses.every((v) => Number.isFinite(v) && v > 0));
    assert.ok(existsSync(join(dir, 'straight', 'best', 'model.onnx')));
    const lines = (await readFile(join(dir, 'straight', 'metrics.jsonl'), 'utf8')).trim().split('\n');
    assert.equal(lines.length, 8);
    const b = await models();
    assert.equal((await fitGan(b.g, b.d, { ...base(join(dir, 'resumed')), stopAfter: 4, resume: true })).stopped, 'stopAfter');
    const c = await models();
    await fitGan(c.g, c.d, { ...base(join(dir, 'resumed')), resume: true });
    assert.deepEqual(
      c.g.model.getWeights().map((t) => Array.from(t.dataSync())),
      a.g.model.getWeights().map((t) => Array.from(t.dataSync())),
    );
    assert.deepEqual(
      c.d.model.getWeights().map((t) => Array.from(t.dataSync())),
      a.d.model.getWeights().map((t) => Array.from(t.dataSync())),
    );
    for (const m of [a, b, c]) {
      m.g.dispose();
      m.d.dispose();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('GAN: the feature loss needs VGG16 weights unless its weight is 0; presets', async () => {
  const { g, d } = await models();
  await assert.rejects(fitGan(g, d, { ...base('/tmp/unused-gan'), vgg: undefined }), /the feature loss needs VGG16 weights \(options\.vgg, --vgg FILE/);
  await assert.rejects(fitGan(g, d, { ...base('/tmp/unused-gan'), preset: 'paper' as never }), /options\.preset/);
  g.dispose();
  d.dispose();
});
