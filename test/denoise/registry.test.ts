import test from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DENOISER_REGISTRY, DENOISERS, denoise, estimateImageSigma, getDenoiser, type DenoiserInfo } from '../../src/denoise/index.js';
import { checkGrid } from '../../src/denoise/calibrate.js';
import { spec as denoiseSpec, paramFlag } from '../../src/cli/commands/denoise.js';
import { spec as calibrateSpec } from '../../src/cli/commands/calibrate.js';
import { createImage } from '../../src/core/image.js';
import { testPattern } from '../helpers/images.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/**
 * Files of src/denoise that are not denoisers: the registry and its machinery, and helpers
 * shared by or private to denoisers. A new file must be registered or listed here.
 */
const NOT_DENOISERS = [
  'index', // the registry
  'types', // DenoiserInfo
  'invariant', // J-invariant wrapper
  'calibrate', // self-supervised calibration
  'auto', // automatic mode
  'anscombe', // variance-stabilising transforms around a denoiser
  'filters', // local-filter plumbing shared by gaussian, median, bilateral
  'wavelet-transform', // the DWT behind wavelet
  'wavelet-simd', // its WebAssembly SIMD kernels
  'tv-simd', // TV Chambolle's WebAssembly SIMD kernels
  'bm3d-fill', // BM3D internals
  'bm3d-match',
  'bm3d-stages',
  'bm3d-transforms',
  'bm3d-simd',
];

const registry = DENOISER_REGISTRY as Record<string, DenoiserInfo>;

test('every denoiser file in src/denoise is registered, and every registered id has its file', () => {
  const files = readdirSync(join(root, 'src', 'denoise')).filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts')).map((f) => f.slice(0, -3));
  const unregistered = files.filter((f) => !NOT_DENOISERS.includes(f) && !(DENOISERS as readonly string[]).includes(f));
  assert.deepEqual(unregistered, [], 'register these in src/denoise/index.ts, or list them in NOT_DENOISERS if they are helpers');
  for (const id of DENOISERS) assert.ok(files.includes(id), `src/denoise/${id}.ts`);
  for (const helper of NOT_DENOISERS) assert.ok(!(DENOISERS as readonly string[]).includes(helper), `${helper} is listed as a helper`);
  assert.equal(new Set(DENOISERS).size, DENOISERS.length, 'ids are unique');
});

test('each entry is its file\'s <ID>_DENOISER, with id, summary, documented params and a valid calibration grid', async () => {
  for (const id of DENOISERS) {
    const info = registry[id];
    assert.equal(info.id, id);
    const mod = (await import(pathToFileURL(join(root, 'dist', 'src', 'denoise', `${id}.js`)).href)) as Record<string, unknown>;
    assert.equal(mod[`${id.toUpperCase().replace(/-/g, '_')}_DENOISER`], info, `${id}.ts exports the registered entry`);
    assert.ok(info.summary.length > 10 && !info.summary.includes('\n'), `${id}: one-line summary`);
    const names = info.params.map((p) => p.name);
    assert.equal(new Set(names).size, names.length, `${id}: param names unique`);
    for (const p of info.params) assert.ok(p.description.trim().length > 10, `${id}.${p.name} has a description`);
    assert.equal(typeof info.usesSigma, 'boolean');
    if (info.usesSigma) assert.ok(names.includes('sigma'), `${id} uses sigma, so it takes a sigma option`);
    for (const sigma of [0.02, 0.1, 0.3]) checkGrid(`${id}.calibrationGrid(${sigma})`, info, info.calibrationGrid(sigma));
    assert.equal(getDenoiser(id), info);
  }
});

test('every registered id is a --method choice and every parameter a flag of hush denoise and hush calibrate', () => {
  for (const spec of [denoiseSpec, calibrateSpec]) {
    for (const id of DENOISERS) {
      assert.match(spec.options.method.description ?? '', new RegExp(`\\b${id}\\b`), `${spec.name} --method lists ${id}`);
      assert.match(spec.details ?? '', new RegExp(`\\n  ${id} +\\S`), `${spec.name} --help describes ${id}`);
      for (const p of registry[id].params) {
        const flag = paramFlag(registry[id], p);
        assert.ok(spec.options[flag], `${spec.name}: --${flag} for ${id}.${p.name}`);
      }
    }
  }
});

test('denoise(): any registered method by id; sigma estimated where used; unknown ids rejected', async () => {
  await assert.rejects(denoise(testPattern(8, 8, 1), { method: 'nlmeans' }), { code: 'ERR_INVALID_PARAMETER', message: /^denoise: expected one of .* for options\.method but received 'nlmeans' \(string\)/ });
  const id = (DENOISERS as readonly string[]).find((d) => d === 'wavelet' || d === 'gaussian') ?? DENOISERS[0];
  if (id === undefined) return;
  const im = testPattern(24, 24, 1);
  const out = await denoise(im, { method: id }, { threads: 1 });
  assert.equal(out.data.length, im.data.length);
  assert.ok(Number.isFinite(estimateImageSigma(im)));
  // the mean over colour channels, alpha left out
  const rgba = createImage(8, 8, 4);
  for (let i = 0; i < rgba.data.length; i++) rgba.data[i] = i % 4 === 3 ? 1 : ((i * 7919) % 101) / 100;
  assert.ok(estimateImageSigma(rgba) > 0);
});
