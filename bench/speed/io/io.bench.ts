/**
 * I/O throughput: read+write of a 24-megapixel 16-bit RGB TIFF and a 4096x4096
 * float FITS, with peak memory. Where Debian's python3 has tifffile / astropy,
 * the same files are timed there in the same run and the ratio printed.
 *   npm run build && node dist/bench/speed/io/io.bench.js
 */
import { cpus, totalmem, tmpdir } from 'node:os';
import { mkdtempSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { readImage, writeImage } from '../../../src/io/index.js';
import { createImage, type Image } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';

interface Row {
  case: string;
  mb: number;
  readS: number;
  writeS: number;
  readMBs: number;
  writeMBs: number;
  python?: { tool: string; readS: number; writeS: number };
}

let peakRss = 0;
const sampler = setInterval(() => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
}, 20);

function time<T>(f: () => Promise<T>): Promise<[T, number]> {
  const t0 = performance.now();
  return f().then((r) => [r, (performance.now() - t0) / 1000]);
}

function texture(width: number, height: number, channels: 1 | 3, scale: number, offset: number): Image {
  const im = createImage(width, height, channels);
  const rng = createRng(1);
  const d = im.data;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const base = 0.5 + 0.35 * Math.sin(x * 0.01) * Math.cos(y * 0.013);
      for (let c = 0; c < channels; c++) d[(y * width + x) * channels + c] = offset + scale * (base + 0.05 * (rng.next() - 0.5));
    }
  }
  return im;
}

function python(code: string): number | undefined {
  try {
    const out = execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const n = Number(out.trim().split('\n').pop());
    return Number.isFinite(n) ? n : undefined;
  } catch {
    return undefined;
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hush-io-bench-'));
  const rows: Row[] = [];
  try {
    // 24 MP 16-bit RGB TIFF (6000 x 4000)
    const tif = join(dir, 'big16.tif');
    const rgb = texture(6000, 4000, 3, 1, 0);
    const [, wt] = await time(() => writeImage(tif, rgb, { bitDepth: 16 }));
    const [back, rt] = await time(() => readImage(tif));
    if (back.width !== 6000 || back.source?.sampleFormat !== 'uint16') throw new Error('TIFF round trip failed');
    const tifMB = (6000 * 4000 * 3 * 2) / 1e6;
    const tifPyR = readPy(tif);
    const tifPyW = python(`import time,tifffile\na=tifffile.imread('${tif}')\nt=time.perf_counter();tifffile.imwrite('${tif}.py2.tif',a,compression='zlib',predictor=True);print(time.perf_counter()-t)`);
    rows.push({
      case: '6000x4000 RGB 16-bit TIFF (deflate)',
      mb: tifMB,
      readS: rt,
      writeS: wt,
      readMBs: tifMB / rt,
      writeMBs: tifMB / wt,
      python: Number.isFinite(tifPyR) && tifPyW !== undefined ? { tool: 'tifffile (zlib, predictor)', readS: tifPyR, writeS: tifPyW } : undefined,
    });
    // 4096 x 4096 float FITS
    const fits = join(dir, 'big.fits');
    const f = texture(4096, 4096, 1, 1000, 100);
    const [, fw] = await time(() => writeImage(fits, f, { bitpix: -32 }));
    const [fb, fr] = await time(() => readImage(fits));
    if (fb.width !== 4096 || fb.data[12345] !== f.data[12345]) throw new Error('FITS round trip failed');
    const fitsMB = statSync(fits).size / 1e6;
    const apR = python(`import time\nfrom astropy.io import fits\nt=time.perf_counter();d=fits.getdata('${fits}');d=d+0;print(time.perf_counter()-t)`);
    const apW = python(`import time\nfrom astropy.io import fits\nd=fits.getdata('${fits}')+0\nt=time.perf_counter();fits.writeto('${fits}.py.fits',d,overwrite=True);print(time.perf_counter()-t)`);
    rows.push({
      case: '4096x4096 float32 FITS',
      mb: fitsMB,
      readS: fr,
      writeS: fw,
      readMBs: fitsMB / fr,
      writeMBs: fitsMB / fw,
      python: apR !== undefined && apW !== undefined ? { tool: 'astropy.io.fits', readS: apR, writeS: apW } : undefined,
    });
  } finally {
    clearInterval(sampler);
    rmSync(dir, { recursive: true, force: true });
  }
  const machine = `${cpus()[0]?.model ?? 'unknown CPU'}, ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}`;
  console.log('command: npm run build && node dist/bench/speed/io/io.bench.js');
  console.log(`machine: ${machine}`);
  console.log('| case | MB | hush read | hush write | read MB/s | write MB/s | Python (same run) | read ratio | write ratio |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const py = r.python;
    console.log(
      `| ${r.case} | ${r.mb.toFixed(0)} | ${r.readS.toFixed(2)} s | ${r.writeS.toFixed(2)} s | ${r.readMBs.toFixed(0)} | ${r.writeMBs.toFixed(0)} | ${
        py ? `${py.tool}: read ${py.readS.toFixed(2)} s, write ${py.writeS.toFixed(2)} s` : 'not installed'
      } | ${py ? `${(py.readS / r.readS).toFixed(2)}x` : '-'} | ${py ? `${(py.writeS / r.writeS).toFixed(2)}x` : '-'} |`,
    );
  }
  console.log(`peak RSS: ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  console.log('ratio = Python time / hush time (above 1: hush is faster)');
  mkdirSync('bench/results', { recursive: true });
  writeFileSync('bench/results/io.json', JSON.stringify({ machine, rows, peakRssMiB: peakRss / 2 ** 20 }, null, 2));
}

function readPy(path: string): number {
  return python(`import time,tifffile\nt=time.perf_counter();a=tifffile.imread('${path}');print(time.perf_counter()-t)`) ?? Number.NaN;
}

await main();
