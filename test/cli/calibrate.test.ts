import test from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli } from '../helpers/cli.js';
import { mainParameter, plotSeries } from '../../src/cli/commands/calibrate.js';
import { formatTick, lineChartSvg, niceTicks } from '../../src/cli/plot.js';
import type { CalibrateDenoiserResult } from '../../src/denoise/calibrate.js';
import { readImage, writeImage } from '../../src/io/index.js';
import { addGaussianNoise } from '../../src/noise/index.js';
import { testPattern, tempDir } from '../helpers/images.js';

async function fixture(dir: string): Promise<{ clean: string; noisy: string }> {
  const clean = testPattern(48, 40, 1);
  const paths = { clean: join(dir, 'clean.png'), noisy: join(dir, 'noisy.npy') };
  await writeImage(paths.clean, clean);
  await writeImage(paths.noisy, addGaussianNoise(clean, { sigma: 0.1, seed: 21 }));
  return paths;
}

test('hush calibrate: the table, the best setting and the command to use it', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = await fixture(dir);
    const r = await cli(['calibrate', p.noisy, '--method', 'tv-chambolle', '--grid', 'weight=0.02,0.05,0.1,0.2']);
    assert.equal(r.code, 0, r.err);
    const lines = r.out.trimEnd().split('\n');
    assert.match(lines[0], /^calibrate tv-chambolle on .*noisy\.npy \(48x40, sigma 0\.\d+ estimated; adaptive loss: \d+ mask runs, \d+ settings, renoised fill; \d+\.\d s\)$/);
    assert.match(lines[1], /^ +# +weight +loss$/);
    assert.equal(lines.filter((l) => /^[* ][+ ] +\d+ +\d/.test(l)).length, 4, 'one row per setting');
    assert.equal(lines.filter((l) => l.startsWith('* ')).length, 1, 'one best');
    assert.match(r.out, /\nbest \(\*\): weight=0\.\d+ — loss \d\.\d+(e-\d+)?; shrinkage lambda 0\.\d{3} /);
    assert.match(r.out, /\ndenoise with: hush denoise .*noisy\.npy -o OUT --method tv-chambolle --weight 0\.\d+\n$/);
  } finally {
    cleanup();
  }
});

test('--reference adds the true error; --plot writes a PNG chart; --json has everything', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = await fixture(dir);
    const plot = join(dir, 'loss.png');
    const r = await cli(['calibrate', p.noisy, '--method', 'wavelet', '--grid', 'sigma=0.05,0.1,0.15;mode=soft,hard', '--reference', p.clean, '--plot', plot]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\n +# +sigma +mode +loss +true MSE +PSNR\n/);
    assert.match(r.out, /\ntrue best \(\+\): sigma=0\.\d+ mode=(soft|hard) — PSNR \d+\.\d\d dB; calibrated setting \d\.\d\d dB below it\n/);
    assert.match(r.out, /\nwrote .*loss\.png\n$/);
    const png = await readImage(plot);
    assert.equal(png.width, 800);
    assert.equal(png.height, 500);
    // an existing plot is kept without --force
    const again = await cli(['calibrate', p.noisy, '--method', 'wavelet', '--plot', plot]);
    assert.equal(again.code, 2);
    assert.match(again.err, /refusing to overwrite .*loss\.png'/);
    assert.equal((await cli(['calibrate', p.noisy, '--method', 'wavelet', '--plot', plot, '--force'])).code, 0);

    const js = await cli(['calibrate', p.noisy, '--method', 'tv-chambolle', '--grid', 'weight=0.05,0.1', '--reference', p.clean, '--loss', 'full', '--stride', '3', '--sigma', '0.1', '--json']);
    assert.equal(js.code, 0, js.err);
    const j = JSON.parse(js.out) as CalibrateDenoiserResult & { trueBestIndex: number };
    assert.equal(j.method, 'tv-chambolle');
    assert.equal(j.loss, 'full');
    assert.equal(j.stride, 3);
    assert.equal(j.sigma, 0.1);
    assert.equal(j.table.length, 2);
    for (const e of j.table) for (const k of ['loss', 'mse', 'psnr', 'invariantMse']) assert.equal(typeof (e as unknown as Record<string, unknown>)[k], 'number', k);
    assert.ok(j.trueBestIndex === 0 || j.trueBestIndex === 1);
    assert.ok(j.lambda > 0 && j.lambda <= 1);
  } finally {
    cleanup();
  }
});

test('hush calibrate: bad usage exits 2 with one line and a hint', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const p = await fixture(dir);
    writeFileSync(join(dir, 'small.png'), readFileSync(p.clean));
    await writeImage(join(dir, 'other.png'), testPattern(20, 20, 1), { ifExists: 'overwrite' });
    const cases: Array<[string[], RegExp]> = [
      [['calibrate', p.noisy], /^hush calibrate: missing --method \(one of .*tv-chambolle.*\)\nhint: see 'hush calibrate --help'\n$/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--grid', 'weight'], /hush calibrate: expected 'name=v1,v2;name2=v3,...' for --grid but received 'weight' \(string\)/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--grid', 'wieght=0.1'], /calibrateDenoiser: expected one of 'weight', 'eps', 'max-iterations'|calibrateDenoiser: expected one of 'weight', 'eps', 'maxIterations' for parameterGrid keys but received 'wieght' \(string\)\. Did you mean 'weight'\?/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--grid', 'weight=0.1,-1'], /expected a finite number above 0 for options\.weight but received -1 \(number\)/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--plot', join(dir, 'x.svg')], /expected a path ending in \.png for --plot but received '.*x\.svg' \(string\)/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--reference', join(dir, 'other.png')], /expected an image of 48x40x1 like IN for --reference but received '20x20x1' \(string\)/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--loss', 'exact'], /expected one of 'adaptive', 'approximate', 'full' for --loss but received 'exact'/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--stride', '1'], /calibrateDenoiser: expected an integer from 2 to 64 for options\.stride but received 1 \(number\)/],
      [['calibrate', p.noisy, '--method', 'tv-chambolle', '--mode', 'soft'], /--mode does not apply to --method tv-chambolle/],
    ];
    for (const [args, re] of cases) {
      const r = await cli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
      assert.match(r.err, re, args.join(' '));
    }
    assert.equal(existsSync(join(dir, 'x.svg')), false);
  } finally {
    cleanup();
  }
});

test('chart: main parameter, one curve per other value, ticks, SVG text', () => {
  assert.equal(mainParameter({ h: [0.02, 0.04, 0.06], patchSize: [5, 7], sigma: [0.1] }), 'h');
  assert.equal(mainParameter({ mode: ['soft', 'hard'] }), undefined);
  assert.deepEqual(niceTicks(0.0123, 0.0187, 5), [0.012, 0.014, 0.016, 0.018, 0.02], 'the ticks cover the data');
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.equal(formatTick(0.0125), '0.0125');
  assert.equal(formatTick(1.5e-7), '1.5e-7');
  const table = [0.02, 0.04].flatMap((h, i) =>
    [5, 7].map((patchSize, j) => ({ params: { h, patchSize }, loss: 0.012 - 0.001 * i + 0.0001 * j, mse: 0.002 - 0.0005 * i + 0.0001 * j, seconds: 0 })),
  );
  const r = { table, bestIndex: 2 } as unknown as CalibrateDenoiserResult;
  const p = plotSeries(r, { h: [0.02, 0.04], patchSize: [5, 7] });
  assert.equal(p.xLabel, 'h');
  assert.deepEqual(p.series.map((s) => s.name), ['self-supervised loss (patchSize=5)', 'true MSE (patchSize=5)', 'self-supervised loss (patchSize=7)', 'true MSE (patchSize=7)']);
  assert.deepEqual(p.series[0].x, [0.02, 0.04]);
  assert.deepEqual(p.series[1].axis, 'right');
  assert.deepEqual(p.markers.map((m) => [m.x, m.label]), [[0.04, 'calibrated'], [0.04, 'true best']]);
  const svg = lineChartSvg(p.series, { title: 'nl-means <test>', xLabel: 'h', yLabel: 'loss', y2Label: 'true MSE', markers: p.markers });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="800" height="500"/);
  assert.match(svg, />nl-means &lt;test&gt;<\/text>/);
  assert.equal((svg.match(/<polyline /g) ?? []).length, 4);
  assert.match(svg, /stroke-dasharray/);
  assert.match(svg, />true MSE<\/text>/);
  // too many curves: against the setting number instead
  const many = Array.from({ length: 12 }, (_, i) => ({ params: { a: i % 2, b: Math.floor(i / 2) % 6 }, loss: i, seconds: 0 }));
  const q = plotSeries({ table: many, bestIndex: 0 } as unknown as CalibrateDenoiserResult, { a: [0, 1], b: [0, 1, 2, 3, 4, 5] });
  assert.equal(q.xLabel, 'b');
  const byIndex = plotSeries({ table: many.map((e) => ({ ...e, params: { ...e.params, c: 1 } })), bestIndex: 0 } as unknown as CalibrateDenoiserResult, { a: [0, 1], b: [0, 1, 2, 3, 4, 5], c: [1] });
  assert.equal(byIndex.xLabel, 'b');
  const six = [0, 1, 2, 3, 4, 5];
  const square = Array.from({ length: 36 }, (_, i) => ({ params: { a: i % 6, b: Math.floor(i / 6) }, loss: i, seconds: 0 }));
  const indexed = plotSeries({ table: square, bestIndex: 0 } as unknown as CalibrateDenoiserResult, { a: six, b: six });
  assert.equal(indexed.xLabel, 'setting', 'six curves would be unreadable: one curve against the setting number');
  assert.equal(indexed.series.length, 1);
  assert.equal(indexed.xTickLabels?.length, 36);
});
