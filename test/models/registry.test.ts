/**
 * The registry: every architecture file is registered, documented and listed by
 * `hush models`; options resolve from presets and are rejected with exact messages;
 * FLOPs match hand counts; the same seed builds the same weights.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadTfjs } from '../../src/runtime/tfjs.js';
import { buildModel, countFlops, MODEL_ARCHITECTURES, MODEL_REGISTRY, modelStats, resolveModelOptions } from '../../src/models/index.js';

await loadTfjs({ backend: 'wasm' });
const root = fileURLToPath(new URL('../../../', import.meta.url));

test('every architecture file is in the registry under its file name, and every registry entry has a file', async () => {
  const support = new Set(['index', 'registry', 'types', 'blocks', 'flops', 'normalization', 'hush-model', 'run-model', 'io', 'data-parallel', 'data-parallel-worker', 'shard-loss', 'channels']);
  const files = (await readdir(`${root}src/models`)).filter((f) => f.endsWith('.ts')).map((f) => f.slice(0, -3)).filter((f) => !support.has(f));
  assert.deepEqual([...files].sort(), [...MODEL_ARCHITECTURES].sort());
  for (const id of MODEL_ARCHITECTURES) assert.equal(MODEL_REGISTRY[id].id, id);
});

test('docs/neural-engine.md and `hush models` name every architecture', async () => {
  const doc = await readFile(`${root}docs/neural-engine.md`, 'utf8');
  const { run } = await import('../../src/cli/commands/models.js');
  let out = '';
  await run([], { stdout: (s) => (out += s), stderr: () => {}, isTTY: false });
  for (const id of MODEL_ARCHITECTURES) {
    assert.ok(doc.includes(`\`${id}\``), `docs lack ${id}`);
    assert.ok(out.includes(id), `hush models lacks ${id}`);
  }
});

test('options: preset under explicit options under defaults', () => {
  const r = resolveModelOptions('unet', { preset: 'astro', width: 8 });
  assert.equal(r.levels, 5);
  assert.equal(r.width, 8);
  assert.equal(r.down, 'max-pool');
  assert.equal(r.preset, 'astro');
  assert.equal(r.channels, 1);
  assert.equal(r.seed, 1);
  assert.equal(resolveModelOptions('dncnn').depth, 17);
  assert.equal(resolveModelOptions('dncnn', { preset: 'small' }).width, 32);
});

test('options are rejected with the house-style messages', () => {
  const cases: [unknown, unknown, string][] = [
    ['dcnn', {}, "buildModel: expected one of 'dncnn', 'unet', 'ridnet', 'autoencoder', 'gan-generator', 'gan-discriminator' for architecture but received 'dcnn' (string). Did you mean 'dncnn'?"],
    ['dncnn', { channels: 2 }, 'buildModel: expected one of 1, 3 for options.channels but received 2 (number).'],
    ['unet', { preset: 'astr' }, "buildModel: expected one of 'astro', 'baby', 'noise2same' for options.preset but received 'astr' (string). Did you mean 'astro'?"],
    ['dncnn', { depth: 2 }, 'buildModel: expected an integer from 3 to 64 for options.depth but received 2 (number).'],
    ['dncnn', { width: Number.NaN }, 'buildModel: expected an integer from 1 to 512 for options.width but received NaN (number).'],
    ['dncnn', { featureNorm: 'group' }, "buildModel: expected one of 'batch', 'none' for options.featureNorm but received 'group' (string)."],
    ['dncnn', { depht: 5 }, "buildModel: expected only the options 'depth', 'width', 'featureNorm', 'output' for options but received 'depht' (string)."],
    ['ridnet', { seed: -1 }, 'buildModel: expected an integer of at least 0 for options.seed but received -1 (number).'],
  ];
  for (const [id, o, message] of cases) assert.throws(() => resolveModelOptions(id, o), { message });
});

test('FLOPs per pixel: DnCNN by hand, and the paper configurations\' parameter counts', async () => {
  // conv 1->64, 15 x conv 64->64, conv 64->1: 2 * 9 * (64 + 15 * 64 * 64 + 64)
  const s = await modelStats('dncnn');
  assert.equal(s.flopsPerPixel, 2 * 9 * (64 + 15 * 64 * 64 + 64));
  assert.equal(s.parameters, 558017); // 556k weights + BN (the paper's ~0.56M)
  const r = await modelStats('ridnet');
  assert.ok(Math.abs(r.parameters - 1.5e6) < 0.02e6, `RIDNet has ${r.parameters} parameters (paper: about 1.5M)`);
  const m = await buildModel('unet', { preset: 'baby', width: 2 });
  // a transposed conv counts per input pixel: compare sizes 16 and 32 (FLOPs scale with area)
  assert.equal(countFlops(m, 32, 32), 4 * countFlops(m, 16, 16));
  m.dispose();
});

test('the same seed builds the same weights; another seed other weights', async () => {
  const a = await buildModel('dncnn', { depth: 3, width: 4, seed: 5 });
  const b = await buildModel('dncnn', { depth: 3, width: 4, seed: 5 });
  const c = await buildModel('dncnn', { depth: 3, width: 4, seed: 6 });
  const wa = a.getWeights()[0].dataSync();
  assert.deepEqual(wa, b.getWeights()[0].dataSync());
  assert.notDeepEqual(wa, c.getWeights()[0].dataSync());
  [a, b, c].forEach((m) => m.dispose());
});
