import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createImage } from '../../src/core/image.js';
import {
  addGaussianNoise,
  addNoise,
  NOISE_MODELS,
  NOISE_REGISTRY,
  noiseModelParams,
  PARTIAL_INNER_MODELS,
  type NoiseModel,
} from '../../src/noise/index.js';
import { readNoiseResults, renderNoiseDocs } from '../../scripts/gen-noise-docs.js';

// tests run from dist/test/noise; the sources are at the repository root
const root = fileURLToPath(new URL('../../../', import.meta.url));

/** files in src/noise that are not noise models */
const SUPPORT_FILES = ['index.ts', 'estimate-sigma.ts', 'conventions.ts'];

/** the smallest options each model needs */
const MINIMAL: Record<NoiseModel, Record<string, unknown>> = {
  gaussian: { sigma: 0.1 },
  poisson: { peak: 20 },
  'poisson-gaussian': { exposureTime: 100 },
  'salt-and-pepper': {},
  partial: { inner: 'gaussian', fraction: 0.5, sigma: 0.1 },
  'pixel-modification': { fraction: 0.2 },
};

test('every model file in src/noise is registered under its file name, and nothing else is', () => {
  const files = readdirSync(`${root}src/noise`)
    .filter((f) => f.endsWith('.ts') && !SUPPORT_FILES.includes(f))
    .map((f) => f.slice(0, -3))
    .sort();
  assert.deepEqual(files, [...NOISE_MODELS].sort());
  assert.deepEqual(Object.keys(NOISE_REGISTRY), [...NOISE_MODELS]);
  for (const id of NOISE_MODELS) assert.equal(NOISE_REGISTRY[id].id, id);
});

test('every registered model has a summary and complete, consistent params', () => {
  for (const id of NOISE_MODELS) {
    const info = NOISE_REGISTRY[id];
    assert.ok(info.summary.length > 20, `${id}: summary`);
    const names = info.params.map((p) => p.name);
    assert.equal(new Set(names).size, names.length, `${id}: duplicate param names`);
    assert.ok(names.includes('seed'), `${id}: no seed param`);
    for (const p of info.params) {
      const where = `${id}.${p.name}`;
      assert.match(p.name, /^[a-z][a-zA-Z]*$/, where);
      assert.ok(p.description.length > 15, `${where}: description`);
      if (p.required) assert.equal(p.default, undefined, `${where}: required with a default`);
      if (p.type === 'enum') {
        assert.ok(p.choices.length >= 2, `${where}: choices`);
        if (p.default !== undefined) assert.ok(p.choices.includes(p.default), `${where}: default not a choice`);
      }
      if (p.type === 'number' && p.default !== undefined) {
        assert.ok(Number.isFinite(p.default), where);
        if (p.min !== undefined) assert.ok(p.default >= p.min, `${where}: default below min`);
        if (p.max !== undefined) assert.ok(p.default <= p.max, `${where}: default above max`);
        if (p.above !== undefined) assert.ok(p.default > p.above, `${where}: default not above bound`);
        if (p.integer) assert.ok(Number.isInteger(p.default), `${where}: default not an integer`);
      }
    }
  }
});

test('every model runs through addNoise and its registry entry, and leaves the input alone', () => {
  const d = new Float32Array(16 * 12 * 3);
  for (let i = 0; i < d.length; i++) d[i] = 0.2 + 0.6 * ((i * 37) % 101) / 100;
  const im = createImage(16, 12, 3, d.slice());
  for (const id of NOISE_MODELS) {
    const viaRegistry = NOISE_REGISTRY[id].add(im, { ...MINIMAL[id], seed: 9 });
    const viaAddNoise = addNoise(im, { model: id, ...MINIMAL[id], seed: 9 } as Parameters<typeof addNoise>[1]);
    assert.deepEqual(viaAddNoise.data, viaRegistry.data, id);
    assert.notDeepEqual(viaRegistry.data, d, `${id}: no noise added`);
    assert.deepEqual(im.data, d, `${id}: input modified`);
    for (const p of NOISE_REGISTRY[id].params) {
      if (p.required) assert.throws(() => NOISE_REGISTRY[id].add(im, { ...MINIMAL[id], [p.name]: undefined }), /received undefined/);
    }
  }
  assert.deepEqual(addNoise(im, { model: 'gaussian', sigma: 0.1, seed: 2 }).data, addGaussianNoise(im, { sigma: 0.1, seed: 2 }).data);
});

test('addNoise rejects an unknown model with a suggestion', () => {
  const im = createImage(2, 2, 1);
  assert.throws(() => addNoise(im, { model: 'gauss' } as unknown as Parameters<typeof addNoise>[1]), {
    code: 'ERR_INVALID_PARAMETER',
    message:
      "addNoise: expected one of 'gaussian', 'poisson', 'poisson-gaussian', 'salt-and-pepper', 'partial', 'pixel-modification' for options.model but received 'gauss' (string). Did you mean 'gaussian'?",
  });
  assert.throws(() => addNoise(im, {} as unknown as Parameters<typeof addNoise>[1]), {
    message:
      "addNoise: expected one of 'gaussian', 'poisson', 'poisson-gaussian', 'salt-and-pepper', 'partial', 'pixel-modification' for options.model but received undefined.",
  });
  assert.throws(() => addNoise(im, { model: 'gaussian', sigma: 0.1, peak: 3 } as unknown as Parameters<typeof addNoise>[1]), {
    message: "addGaussianNoise: expected only the options 'sigma', 'clip', 'seed' for options but received 'peak' (string).",
  });
});

test('partial takes every other model as inner, and its full option list includes the inner one', () => {
  assert.deepEqual([...PARTIAL_INNER_MODELS], NOISE_MODELS.filter((m) => m !== 'partial'));
  const names = noiseModelParams('partial', 'poisson-gaussian').map((p) => p.name);
  assert.deepEqual(names, ['inner', 'fraction', 'maxRectSize', 'seed', 'exposureTime', 'ratio', 'darkCurrent', 'readNoise']);
  assert.equal(noiseModelParams('gaussian'), NOISE_REGISTRY.gaussian.params);
  assert.throws(() => noiseModelParams('partial', 'partial'), {
    message:
      "noiseModelParams: expected one of 'gaussian', 'poisson', 'poisson-gaussian', 'salt-and-pepper', 'pixel-modification' for inner but received 'partial' (string).",
  });
});

test('docs/noise.md is rendered from the registry and documents every model and parameter', () => {
  const doc = readFileSync(`${root}docs/noise.md`, 'utf8');
  assert.equal(doc, renderNoiseDocs(readNoiseResults()), 'docs/noise.md is stale: run node dist/scripts/gen-noise-docs.js');
  for (const id of NOISE_MODELS) {
    assert.ok(doc.includes(`\`${id}\``), `docs/noise.md does not mention model ${id}`);
    for (const p of NOISE_REGISTRY[id].params) assert.ok(doc.includes(`\`${p.name}\``), `docs/noise.md lacks ${id}.${p.name}`);
  }
});
