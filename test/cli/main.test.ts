import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cli } from '../helpers/cli.js';
import { writeImage, readImage } from '../../src/io/index.js';
import { psnr } from '../../src/metrics/index.js';
import { testPattern, tempDir } from '../helpers/images.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

test('hush --help lists the commands; unknown command suggests one', async () => {
  const h = await cli(['--help']);
  assert.equal(h.code, 0);
  for (const c of ['noise', 'metrics', 'info', 'convert']) assert.match(h.out, new RegExp(`\\n  ${c} `));
  const u = await cli(['nosie']);
  assert.equal(u.code, 2);
  assert.equal(u.err, "hush: unknown command 'nosie'. Did you mean 'noise'? Run 'hush --help' for the list.\n");
});

test('every command has --help', async () => {
  for (const c of ['noise', 'metrics', 'info', 'convert']) {
    const r = await cli([c, '--help']);
    assert.equal(r.code, 0, c);
    assert.match(r.out, new RegExp(`^Usage: hush ${c} `), c);
  }
});

test('noise then metrics: seeded, measured, exit codes and --force', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clean = join(dir, 'clean.png');
    await writeImage(clean, testPattern(64, 48, 1, 255));
    const noisy = join(dir, 'noisy.npy');
    const r = await cli(['noise', clean, '-o', noisy, '--model', 'gaussian', '--sigma255', '25', '--seed', '7']);
    assert.equal(r.code, 0, r.err);
    const a = await readImage(noisy);
    const p = psnr(await readImage(clean), a, { dataRange: 1 });
    assert.ok(Math.abs(p - 20.17) < 0.5, `psnr ${p}`);
    // same seed, same noise
    const noisy2 = join(dir, 'noisy2.npy');
    assert.equal((await cli(['noise', clean, '-o', noisy2, '--model', 'gaussian', '--sigma255', '25', '--seed', '7'])).code, 0);
    assert.deepEqual((await readImage(noisy2)).data, a.data);
    // no overwrite without --force, and the file is untouched
    const before = readFileSync(noisy);
    const again = await cli(['noise', clean, '-o', noisy, '--model', 'gaussian', '--sigma255', '25', '--seed', '8']);
    assert.equal(again.code, 2);
    assert.match(again.err, /refusing to overwrite .*noisy\.npy': it exists \(use --force to replace it\)/);
    assert.deepEqual(readFileSync(noisy), before);
    assert.equal((await cli(['noise', clean, '-o', noisy, '--model', 'gaussian', '--sigma255', '25', '--seed', '8', '--force'])).code, 0);
    // never the input
    const self = await cli(['noise', clean, '-o', clean, '--model', 'gaussian', '--sigma255', '25', '--force']);
    assert.equal(self.code, 2);
    assert.match(self.err, /it is an input of this command/);
    // metrics, text and JSON
    const m = await cli(['metrics', clean, noisy2, '--json']);
    assert.equal(m.code, 0, m.err);
    const j = JSON.parse(m.out) as Record<string, number>;
    for (const k of ['mse', 'psnr', 'ssim', 'ssimUniform']) assert.equal(typeof j[k], 'number', k);
    assert.ok(Math.abs(j.psnr - p) < 1e-9);
    const t = await cli(['metrics', clean, noisy2]);
    assert.match(t.out, /^PSNR +\d+\.\d{4} dB/);
  } finally {
    cleanup();
  }
});

test('bad usage exits 2 with one line and a hint', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const clean = join(dir, 'c.png');
    await writeImage(clean, testPattern(8, 8, 1, 255));
    const cases: Array<[string[], RegExp]> = [
      [['noise', clean, '-o', join(dir, 'o.png'), '--model', 'gauss', '--sigma', '0.1'], /expected one of 'gaussian', .* for --model but received 'gauss' \(string\)\. Did you mean 'gaussian'\?/],
      [['noise', clean, '-o', join(dir, 'o.png'), '--model', 'gaussian', '--sigma', 'abc'], /expected a finite number of at least 0 for options\.sigma but received 'abc' \(string\)/],
      [['noise', clean, '-o', join(dir, 'o.png'), '--model', 'gaussian', '--peak', '3'], /--peak does not apply to --model gaussian/],
      [['noise', clean, '--model', 'gaussian', '--sigma', '0.1'], /missing -o OUT/],
      [['noise', clean, '-o', join(dir, 'o.png'), '--modle', 'gaussian'], /unknown option --modle\. Did you mean --model\?/],
      [['metrics', clean], /expected REFERENCE and TEST, got 1 path/],
      [['metrics', clean, join(dir, 'missing.png')], /readImage: cannot read '.*missing\.png': no such file/],
      [['convert', clean, join(dir, 'x.png'), '--stretch', 'log'], /expected one of 'none', 'linear', 'asinh', 'zscale' for --stretch but received 'log'/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re, args.join(' '));
      assert.ok(!/\n\s+at /.test(r.err), 'no stack trace');
    }
    assert.equal(existsSync(join(dir, 'o.png')), false);
  } finally {
    cleanup();
  }
});

test('info and convert: FITS to PNG needs a stretch; PNG to NPY to PNG is lossless', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const src = join(dir, 'a.png');
    const im = testPattern(20, 10, 3, 255);
    await writeImage(src, im);
    const npy = join(dir, 'a.npy');
    assert.equal((await cli(['convert', src, npy])).code, 0);
    const back = join(dir, 'b.png');
    assert.equal((await cli(['convert', npy, back])).code, 0);
    assert.deepEqual((await readImage(back)).data, (await readImage(src)).data);
    const fits = join(dir, 'a.fits');
    const big = testPattern(20, 10, 1);
    for (let i = 0; i < big.data.length; i++) big.data[i] = 1000 + 5000 * big.data[i];
    await writeImage(fits, big);
    const info = await cli(['info', fits]);
    assert.equal(info.code, 0, info.err);
    assert.match(info.out, /FITS 20x10, 1 channel, 32-bit float, physical values/);
    assert.match(info.out, /BITPIX {2}= +-32/);
    const noStretch = await cli(['convert', fits, join(dir, 'f.png')]);
    assert.equal(noStretch.code, 2);
    assert.match(noStretch.err, /choose a stretch/);
    const ok = await cli(['convert', fits, join(dir, 'f.png'), '--stretch', 'zscale', '--bit-depth', '16']);
    assert.equal(ok.code, 0, ok.err);
    const png = await readImage(join(dir, 'f.png'));
    assert.equal(png.source?.sampleFormat, 'uint16');
    const infoJson = JSON.parse((await cli(['info', fits, '--json'])).out) as { images: Array<{ width: number }> };
    assert.equal(infoJson.images[0].width, 20);
  } finally {
    cleanup();
  }
});

test('the real binary runs (smoke test)', () => {
  const bin = join(root, 'bin', 'hush.js');
  const help = execFileSync(process.execPath, [bin, '--help'], { encoding: 'utf8' });
  assert.match(help, /Usage: hush <command>/);
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'bad.fits'), 'SIMPLE  = T'.padEnd(80) + 'garbage');
    const r = spawnSync(process.execPath, [bin, 'info', join(dir, 'bad.fits')], { encoding: 'utf8' });
    assert.equal(r.status, 2);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr, /^readImage: cannot decode '.*bad\.fits': /);
  } finally {
    cleanup();
  }
});
