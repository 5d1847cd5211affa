/**
 * TV (Chambolle) and wavelet shrinkage against scikit-image 0.19 on Set12 at sigma 25:
 * the stored noisy inputs (shared/benchmarks/set12/sigma25/NN.npy, float32) denoised by
 * hush and by scikit-image with the same parameters, scored against the clean image
 * (uint8 / 255) with the same PSNR code (dataRange 1, no clipping, the benchmark
 * protocol). scikit-image runs on the float32 arrays as stored (it then computes in
 * float32, as hush's SIMD kernels do) and on their float64 cast; max |hush - skimage| is
 * given for both.
 *   npx tsc -p tsconfig.json && node dist/bench/quality/denoise/tv-wavelet-parity.bench.js [--images 01,02,...] [--no-write]
 * Needs shared/ (HUSH_SHARED to point elsewhere) and a Python with scikit-image.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Image } from '../../../src/core/image.js';
import { readImage } from '../../../src/io/index.js';
import { decodeNpy } from '../../../src/io/npy.js';
import { psnr } from '../../../src/metrics/index.js';
import { denoiseTvChambolle, denoiseTvChambolleTiled } from '../../../src/denoise/tv-chambolle.js';
import { denoiseWavelet } from '../../../src/denoise/wavelet.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SHARED = process.env.HUSH_SHARED ?? join(ROOT, '..', 'shared');
const args = process.argv.slice(2);
const at = args.indexOf('--images');
const IMAGES = at >= 0 ? args[at + 1].split(',') : ['01', '02', '03', '04', '05', '08'];
const WRITE = !args.includes('--no-write');
const SIGMA = 25 / 255;

interface Config {
  name: string;
  run: (im: Image) => Image;
  python: string;
}

const CONFIGS: Config[] = [
  { name: 'TV weight 0.1', run: (im) => denoiseTvChambolle(im, { weight: 0.1 }), python: 'denoise_tv_chambolle(a, weight=0.1)' },
  { name: 'TV weight 0.05', run: (im) => denoiseTvChambolle(im, { weight: 0.05 }), python: 'denoise_tv_chambolle(a, weight=0.05)' },
  { name: 'wavelet defaults (db1 BayesShrink soft, sigma estimated)', run: (im) => denoiseWavelet(im), python: 'denoise_wavelet(a)' },
  {
    name: 'wavelet sym8 BayesShrink soft, sigma 25/255',
    run: (im) => denoiseWavelet(im, { wavelet: 'sym8', sigma: SIGMA }),
    python: `denoise_wavelet(a, wavelet='sym8', sigma=${SIGMA})`,
  },
  {
    name: 'wavelet db4 BayesShrink hard, 4 levels, sigma estimated',
    run: (im) => denoiseWavelet(im, { wavelet: 'db4', mode: 'hard', waveletLevels: 4 }),
    python: "denoise_wavelet(a, wavelet='db4', mode='hard', wavelet_levels=4)",
  },
  {
    name: 'wavelet db2 VisuShrink soft, sigma 25/255',
    run: (im) => denoiseWavelet(im, { wavelet: 'db2', method: 'VisuShrink', sigma: SIGMA }),
    python: `denoise_wavelet(a, wavelet='db2', method='VisuShrink', sigma=${SIGMA})`,
  },
];

function findPython(): string {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(exe, ['-c', 'import skimage.restoration'], { stdio: 'ignore' });
      return exe;
    } catch {
      // try the next
    }
  }
  throw new Error('needs a Python with scikit-image (apt-get install python3-skimage)');
}

interface Row {
  image: string;
  config: string;
  psnrNoisy: number;
  psnrHush: number;
  psnrSkimageF32: number;
  psnrSkimageF64: number;
  maxAbsDiffF32: number;
  maxAbsDiffF64: number;
}

function maxAbsDiff(a: Float32Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

async function main(): Promise<void> {
  const command = `node ${process.argv.slice(1).map((s) => s.replace(process.cwd() + '/', '')).join(' ')}`;
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${platform()} ${release()}, Node ${process.version}`;
  console.log(`command: ${command}\nmachine: ${machine}\nload average: ${loadavg().map((l) => l.toFixed(2)).join(', ')}`);
  const noisyPath = (id: string): string => join(SHARED, 'benchmarks', 'set12', 'sigma25', `${id}.npy`);
  if (!existsSync(noisyPath(IMAGES[0]))) throw new Error(`no benchmark inputs at ${noisyPath(IMAGES[0])} (set HUSH_SHARED)`);
  const exe = findPython();
  const dir = mkdtempSync(join(tmpdir(), 'hush-tv-wavelet-parity-'));
  const rows: Row[] = [];
  try {
    // scikit-image first, every image and config, float32 and float64 inputs
    const code = `
import json, warnings, numpy as np
warnings.simplefilter('ignore')
from skimage.restoration import denoise_tv_chambolle, denoise_wavelet
images = ${JSON.stringify(IMAGES.map(noisyPath))}
configs = ${JSON.stringify(CONFIGS.map((c) => c.python))}
for i, path in enumerate(images):
    a32 = np.load(path)
    for k, call in enumerate(configs):
        for tag, a in (('f32', a32), ('f64', a32.astype(np.float64))):
            np.save('${dir}/%d_%d_%s.npy' % (i, k, tag), eval(call).astype(np.float64))
print('ok')
`;
    execFileSync(exe, ['-c', code], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
    for (const [i, id] of IMAGES.entries()) {
      const noisy = await readImage(noisyPath(id));
      const clean = await readImage(join(SHARED, 'datasets', 'Set12', `${id}.png`));
      const psnrNoisy = psnr(clean, noisy, { dataRange: 1 });
      for (const [k, c] of CONFIGS.entries()) {
        const ours = c.run(noisy);
        const load = (tag: string): Image => decodeNpy(readFileSync(join(dir, `${i}_${k}_${tag}.npy`)), { file: `${i}_${k}_${tag}.npy` });
        const s32 = load('f32');
        const s64 = load('f64');
        const row: Row = {
          image: id,
          config: c.name,
          psnrNoisy,
          psnrHush: psnr(clean, ours, { dataRange: 1 }),
          psnrSkimageF32: psnr(clean, s32, { dataRange: 1 }),
          psnrSkimageF64: psnr(clean, s64, { dataRange: 1 }),
          maxAbsDiffF32: maxAbsDiff(ours.data, s32.exact ?? Float64Array.from(s32.data)),
          maxAbsDiffF64: maxAbsDiff(ours.data, s64.exact ?? Float64Array.from(s64.data)),
        };
        rows.push(row);
        console.log(
          `${id} ${c.name}: hush ${row.psnrHush.toFixed(4)} dB, skimage f32 ${row.psnrSkimageF32.toFixed(4)}, f64 ${row.psnrSkimageF64.toFixed(4)}; ` +
            `max |diff| ${row.maxAbsDiffF32.toExponential(1)} / ${row.maxAbsDiffF64.toExponential(1)}`,
        );
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // TV on overlapping tiles (what denoise does above TV_EXACT_MAX_PIXELS) against the global iteration
  const tiles: { image: string; tileSize: number; overlap: number; maxAbsDiff: number; psnrGlobal: number; psnrTiled: number }[] = [];
  for (const id of IMAGES) {
    const noisy = await readImage(noisyPath(id));
    const clean = await readImage(join(SHARED, 'datasets', 'Set12', `${id}.png`));
    const whole = denoiseTvChambolle(noisy, { weight: 0.1 });
    for (const [tileSize, overlap] of [
      [128, 16],
      [128, 48],
      [256, 48],
    ]) {
      const tiled = await denoiseTvChambolleTiled(noisy, { weight: 0.1 }, { tileSize, overlap, threads: 1 });
      let m = 0;
      for (let i = 0; i < tiled.data.length; i++) m = Math.max(m, Math.abs(tiled.data[i] - whole.data[i]));
      tiles.push({ image: id, tileSize, overlap, maxAbsDiff: m, psnrGlobal: psnr(clean, whole, { dataRange: 1 }), psnrTiled: psnr(clean, tiled, { dataRange: 1 }) });
    }
  }
  console.log('');
  console.log('TV weight 0.1 on tiles vs the global iteration:');
  console.log('| tile | overlap | max abs diff (worst image) | mean PSNR change (dB) | worst PSNR change (dB) |');
  console.log('|---|---|---|---|---|');
  const tileSummary = [...new Set(tiles.map((t) => `${t.tileSize}/${t.overlap}`))].map((key) => {
    const r = tiles.filter((t) => `${t.tileSize}/${t.overlap}` === key);
    const d = r.map((t) => t.psnrTiled - t.psnrGlobal);
    const s = {
      tileSize: r[0].tileSize,
      overlap: r[0].overlap,
      maxAbsDiff: Math.max(...r.map((t) => t.maxAbsDiff)),
      meanPsnrChange: d.reduce((a, b) => a + b, 0) / d.length,
      worstPsnrChange: Math.min(...d),
    };
    console.log(`| ${s.tileSize} | ${s.overlap} | ${s.maxAbsDiff.toExponential(1)} | ${s.meanPsnrChange.toFixed(4)} | ${s.worstPsnrChange.toFixed(4)} |`);
    return s;
  });
  console.log('');
  console.log(`| config | mean PSNR noisy | mean PSNR hush | scikit-image f32 | scikit-image f64 | min (hush - f32) dB | max abs diff vs f32 | max abs diff vs f64 |`);
  console.log('|---|---|---|---|---|---|---|---|');
  const summary = CONFIGS.map((c) => {
    const r = rows.filter((x) => x.config === c.name);
    const mean = (f: (x: Row) => number): number => r.reduce((s, x) => s + f(x), 0) / r.length;
    const s = {
      config: c.name,
      python: c.python,
      images: r.length,
      meanPsnrNoisy: mean((x) => x.psnrNoisy),
      meanPsnrHush: mean((x) => x.psnrHush),
      meanPsnrSkimageF32: mean((x) => x.psnrSkimageF32),
      meanPsnrSkimageF64: mean((x) => x.psnrSkimageF64),
      minHushMinusF32: Math.min(...r.map((x) => x.psnrHush - x.psnrSkimageF32)),
      minHushMinusF64: Math.min(...r.map((x) => x.psnrHush - x.psnrSkimageF64)),
      maxAbsDiffF32: Math.max(...r.map((x) => x.maxAbsDiffF32)),
      maxAbsDiffF64: Math.max(...r.map((x) => x.maxAbsDiffF64)),
    };
    console.log(
      `| ${s.config} | ${s.meanPsnrNoisy.toFixed(2)} | ${s.meanPsnrHush.toFixed(4)} | ${s.meanPsnrSkimageF32.toFixed(4)} | ${s.meanPsnrSkimageF64.toFixed(4)} | ` +
        `${s.minHushMinusF32.toExponential(1)} | ${s.maxAbsDiffF32.toExponential(1)} | ${s.maxAbsDiffF64.toExponential(1)} |`,
    );
    return s;
  });
  if (WRITE) {
    const file = join(ROOT, 'bench', 'results', 'tv-wavelet-parity.json');
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, JSON.stringify({ command, machine, date: new Date().toISOString(), images: IMAGES, sigma255: 25, summary, tiles: tileSummary, rows, tileRows: tiles }, null, 2) + '\n');
    console.log(`wrote ${file.replace(ROOT + '/', '')}`);
  }
}

await main();
