import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { checkFinite, paramFlag } from '../../src/cli/commands/denoise.js';
import { createProgress, formatDuration } from '../../src/cli/progress.js';
import { readImage, writeImage } from '../../src/io/index.js';
import { psnr } from '../../src/metrics/index.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { createImage } from '../../src/core/image.js';
import { testPattern, tempDir } from '../helpers/images.js';

/** A 48x48 grey scene with sigma-0.1 noise, as PNG (clean) and NPY (noisy, float). */
async function fixture(dir: string): Promise<{ clean: string; noisy: string; noisyPng: string }> {
  const clean = testPattern(48, 48, 1);
  const noisy = addGaussianNoise(clean, { sigma: 0.1, seed: 11 });
  const paths = { clean: join(dir, 'clean.png'), noisy: join(dir, 'noisy.npy'), noisyPng: join(dir, 'noisy.png') };
  await writeImage(paths.clean, clean);
  await writeImage(paths.noisy, noisy);
  await writeImage(paths.noisyPng, noisy);
  return paths;
}

test('hush denoise --help lists the methods with their flags', async () => {
  const h = await cli(['denoise', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.out, /^Usage: hush denoise IN -o OUT/);
  assert.match(h.out, /\n {2}tv-chambolle {4}Total-variation/);
  assert.match(h.out, /flags: --weight --eps --max-iterations/);
  // wavelet's own `method` parameter cannot be --method, which picks the denoiser
  assert.match(h.out, /--wavelet-method CHOICE/);
  assert.match(h.out, /--rescale-sigma true\|false/);
});

test('--method: the chosen denoiser with its flags; one line on stdout; --force', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = await fixture(dir);
    const out = join(dir, 'tv.npy');
    const r = await cli(['denoise', p.noisy, '-o', out, '--method', 'tv-chambolle', '--weight', '0.08', '--threads', '1']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^denoised with tv-chambolle \(weight 0\.08\); \d+\.\d s -> .*tv\.npy\n$/);
    assert.equal(r.err, '', 'quick work shows no progress');
    const clean = await readImage(p.clean);
    assert.ok(psnr(clean, await readImage(out), { dataRange: 1 }) > psnr(clean, await readImage(p.noisy), { dataRange: 1 }) + 3);
    const again = await cli(['denoise', p.noisy, '-o', out, '--method', 'tv-chambolle', '--weight', '0.08']);
    assert.equal(again.code, 2);
    assert.match(again.err, /refusing to overwrite .*tv\.npy': it exists \(use --force to replace it\)/);
    assert.equal((await cli(['denoise', p.noisy, '-o', out, '--method', 'tv-chambolle', '--weight', '0.08', '--force'])).code, 0);
    // a method that uses sigma gets it estimated, or as given (--sigma255 on an 8-bit image)
    const w = await cli(['denoise', p.noisyPng, '-o', join(dir, 'w.png'), '--method', 'wavelet', '--mode', 'hard', '--wavelet-method', 'VisuShrink']);
    assert.equal(w.code, 0, w.err);
    assert.match(w.out, /^denoised with wavelet \(mode hard, method VisuShrink, sigma 0\.\d+ estimated\); /);
    const w2 = await cli(['denoise', p.noisyPng, '-o', join(dir, 'w2.png'), '--method', 'wavelet', '--sigma255', '25.5', '--json']);
    assert.equal(w2.code, 0, w2.err);
    const j = JSON.parse(w2.out) as { method: string; sigma: number; sigmaSource: string; params: Record<string, unknown> };
    assert.equal(j.method, 'wavelet');
    assert.equal(j.sigma, 0.1);
    assert.equal(j.sigmaSource, 'given');
  } finally {
    cleanup();
  }
});

test('automatic mode: one line saying what was chosen and why; --json has every candidate', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = await fixture(dir);
    const out = join(dir, 'auto.npy');
    const r = await cli(['denoise', p.noisy, '-o', out, '--candidates', 'tv-chambolle,wavelet', '--budget', '30']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /^chose (tv-chambolle|wavelet) \(sigma 0\.\d+ estimated\) — lowest self-supervised loss \d\.\d+(e-\d+)? of 2 candidates; \d+\.\d s -> .*auto\.npy\n$/);
    const clean = await readImage(p.clean);
    assert.ok(psnr(clean, await readImage(out), { dataRange: 1 }) > psnr(clean, await readImage(p.noisy), { dataRange: 1 }) + 3);
    const js = await cli(['denoise', p.noisy, '-o', join(dir, 'auto2.npy'), '--candidates', 'tv-chambolle,wavelet', '--sigma', '0.1', '--json']);
    assert.equal(js.code, 0, js.err);
    const j = JSON.parse(js.out) as { method: string; sigma: number; sigmaSource: string; reason: string; candidates: { method: string; loss: number; settings: { params: object; loss: number }[] }[] };
    assert.equal(j.sigma, 0.1);
    assert.equal(j.sigmaSource, 'given');
    assert.deepEqual(j.candidates.map((c) => c.method), ['tv-chambolle', 'wavelet']);
    const best = j.candidates.reduce((a, b) => (b.loss < a.loss ? b : a));
    assert.equal(j.method, best.method, 'the lowest loss wins');
    for (const c of j.candidates) assert.ok(c.settings.length >= 1 && c.settings.every((s) => typeof s.loss === 'number'));
    // the default candidates (those registered) also work
    const d = await cli(['denoise', p.noisy, '-o', join(dir, 'auto3.npy')]);
    assert.equal(d.code, 0, d.err);
    assert.match(d.out, /^chose \S+ \(sigma 0\.\d+ estimated\) — lowest self-supervised loss /);
  } finally {
    cleanup();
  }
});

test('FITS with NaN no-data pixels: NaN stays where it was and nowhere else (method and automatic)', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const im = addGaussianNoise(testPattern(40, 32, 1), { sigma: 0.1, seed: 12 });
    for (let i = 0; i < im.data.length; i++) im.data[i] = 1000 + 500 * im.data[i];
    const holes = [0, 41, 77, 600, 1279];
    for (const i of holes) im.data[i] = NaN;
    const src = join(dir, 'sky.fits');
    await writeImage(src, im);
    const read = await readImage(src);
    assert.ok(read.mask, 'the reader marks NaN as no-data');
    for (const args of [['--method', 'tv-chambolle', '--weight', '40'], ['--method', 'wavelet'], ['--candidates', 'tv-chambolle,wavelet']]) {
      const out = join(dir, `out-${args[1]}.fits`);
      const r = await cli(['denoise', src, '-o', out, ...args, '--force']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      const o = await readImage(out);
      for (let i = 0; i < o.data.length; i++) assert.equal(Number.isNaN(o.data[i]), holes.includes(i), `${args.join(' ')}: sample ${i}`);
    }
    // --sigma255 has no meaning for float data
    const s = await cli(['denoise', src, '-o', join(dir, 'x.fits'), '--method', 'wavelet', '--sigma255', '25']);
    assert.equal(s.code, 2);
    assert.match(s.err, /^hush denoise: '.*sky\.fits' holds float values, so --sigma255 has no meaning; give --sigma in the image's own units\n/);
  } finally {
    cleanup();
  }
});

test('bad usage exits 2 with one line and a hint; nothing is written', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = await fixture(dir);
    const o = join(dir, 'o.npy');
    const cases: Array<[string[], RegExp]> = [
      [['denoise', p.noisy, '-o', o, '--weight', '0.1'], /^hush denoise: --weight needs --method \(automatic mode chooses the method and its parameters\)\nhint: see 'hush denoise --help'\n$/],
      [['denoise', p.noisy, '-o', o, '--method', 'tv-chambolle', '--mode', 'soft'], /--mode does not apply to --method tv-chambolle \(its flags: --weight --eps --max-iterations\)/],
      [['denoise', p.noisy, '-o', o, '--method', 'tv-chambolle', '--budget', '3'], /--budget is for automatic mode, without --method/],
      [['denoise', p.noisy, '-o', o, '--method', 'tv-chambole'], /^hush denoise: expected one of .* for --method but received 'tv-chambole' \(string\)\. Did you mean 'tv-chambolle'\?/],
      [['denoise', p.noisy, '-o', o, '--method', 'tv-chambolle', '--weight', 'abc'], /expected a finite number .* for options\.weight but received 'abc' \(string\)/],
      [['denoise', p.noisy, '-o', o, '--method', 'wavelet', '--mode', 'medium'], /expected one of 'soft', 'hard' for options\.mode but received 'medium' \(string\)/],
      [['denoise', p.noisy, '-o', o, '--method', 'wavelet', '--rescale-sigma', 'maybe'], /expected a boolean for options\.rescaleSigma but received 'maybe' \(string\)/],
      [['denoise', p.noisy, '-o', o, '--threads', '0'], /expected a whole number of at least 1 for --threads but received 0/],
      [['denoise', p.noisy, '-o', o, '--budget', '0'], /expected a number above 0 for --budget but received 0/],
      [['denoise', p.noisy, '-o', o, '--candidates', 'tv-chambolle,wavelt'], /expected one of .* for --candidates but received 'wavelt' \(string\)\. Did you mean 'wavelet'\?/],
      [['denoise', p.noisy, '-o', o, '--sigma', '0.1', '--sigma255', '25'], /give --sigma or --sigma255, not both/],
      [['denoise', p.noisy, '-o', o, '--method', 'tv-chambolle', '--sigma', '0.1'], /--method tv-chambolle takes no sigma/],
      [['denoise', p.noisy], /missing -o OUT/],
      [['denoise', '-o', o], /expected one input image, got 0/],
      [['denoise', join(dir, 'missing.png'), '-o', o], /readImage: cannot read '.*missing\.png': no such file/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re, args.join(' '));
      assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
    }
    assert.equal(existsSync(o), false);
  } finally {
    cleanup();
  }
});

test('a denoiser that spreads NaN is a runtime failure, not a silent output', () => {
  const input = createImage(2, 2, 1, Float32Array.from([0, NaN, 0.5, 1]), { mask: Uint8Array.from([0, 1, 0, 0]) });
  checkFinite('x', input, { ...input, data: Float32Array.from([0.1, NaN, 0.4, 0.9]) });
  assert.throws(() => checkFinite('bad-method', input, { ...input, data: Float32Array.from([NaN, NaN, 0.4, Infinity]) }), {
    message: 'bad-method returned 2 non-finite sample(s) where the input has data',
  });
  assert.equal(paramFlag({ id: 'wavelet' }, { name: 'method', type: 'enum', choices: ['a'], description: '' }), 'wavelet-method');
  assert.equal(paramFlag({ id: 'nl-means' }, { name: 'patchSize', type: 'number', description: '' }), 'patch-size');
  assert.equal(paramFlag({ id: 'x' }, { name: 'sigma', type: 'number', description: '' }), 'sigma');
  assert.equal(paramFlag({ id: 'x' }, { name: 'k', type: 'number', description: '', cli: 'kay' }), 'kay');
});

test('progress: a bar with ETA on a terminal, plain lines otherwise, nothing for quick work', () => {
  let t = 0;
  let out = '';
  const tty = createProgress({ label: 'denoise', isTTY: true, write: (s) => (out += s), now: () => t, width: 10 });
  tty.update(0.1); // before the delay: nothing
  assert.equal(out, '');
  t = 2000;
  tty.update(0.25);
  assert.equal(out, '\rdenoise [###-------]  25% ETA 6 s\x1b[K');
  t = 2050;
  tty.update(0.3); // redraws at most every 100 ms
  assert.equal((out as string).split('\r').length, 2);
  t = 4000;
  tty.update(0.2); // never goes back: still 30%
  assert.ok((out as string).endsWith('\rdenoise [###-------]  30% ETA 9 s\x1b[K'), JSON.stringify(out));
  tty.done();
  assert.ok((out as string).endsWith('\rdenoise [##########] 100% in 4 s\x1b[K\n'), JSON.stringify(out));

  out = '';
  t = 0;
  const plain = createProgress({ label: 'calibrate', isTTY: false, write: (s) => (out += s), now: () => t, intervalSeconds: 10 });
  t = 1500;
  plain.update(0.5);
  t = 5000;
  plain.update(0.6); // within the interval: no new line
  t = 12000;
  plain.update(0.75);
  plain.done();
  assert.equal(out, 'calibrate: 50% done, 2 s elapsed, ETA 2 s\ncalibrate: 75% done, 12 s elapsed, ETA 4 s\ncalibrate: done in 12 s\n');

  // a resumed run (etaFromFirstUpdate): 35 % was done before; 5 % more in 10 s leaves 120 s
  out = '';
  t = 0;
  const resumed = createProgress({ label: 'train', isTTY: false, write: (s) => (out += s), now: () => t, delaySeconds: 0, etaFromFirstUpdate: true });
  t = 1000;
  resumed.update(0.35);
  t = 11000;
  resumed.update(0.4);
  assert.equal(out, 'train: 35% done, 1 s elapsed, ETA ?\ntrain: 40% done, 11 s elapsed, ETA 2 min 0 s\n');

  out = '';
  const quick = createProgress({ label: 'q', isTTY: true, write: (s) => (out += s), now: () => 0 });
  quick.update(1);
  quick.done();
  assert.equal(out, '');
  assert.equal(formatDuration(125), '2 min 5 s');
  assert.equal(formatDuration(3725), '1 h 2 min');
});

test('stderr is untouched by --json, stdout holds only the JSON', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = await fixture(dir);
    const r = await cli(['denoise', p.noisy, '-o', join(dir, 'j.npy'), '--method', 'tv-chambolle', '--weight', '0.1', '--json']);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, '');
    const j = JSON.parse(r.out) as { params: { weight?: number }; input: string };
    assert.equal(j.input, p.noisy);
    assert.deepEqual(j.params, { weight: 0.1 });
    assert.ok(readFileSync(join(dir, 'j.npy')).length > 0);
  } finally {
    cleanup();
  }
});
