/**
 * SSIM speed on a 24-megapixel greyscale image (6000 x 4000), both configs, with
 * mse/psnr for scale. Where a Python with scikit-image is found (Debian's
 * python3-skimage), the same arrays are timed there in the same run and the ratio
 * printed; the product never depends on Python.
 *   npx tsc -p tsconfig.json && node dist/bench/speed/metrics/ssim.bench.js [--reps N]
 */
import { cpus, tmpdir, platform, release } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { ssim, psnr, mse, SSIM_CONFIGS, type SsimConfig } from '../../../src/metrics/index.js';
import { encodeNpy } from '../../../src/io/npy.js';
import { createImage, type Image } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';

const WIDTH = 6000;
const HEIGHT = 4000;
const repsArg = process.argv.indexOf('--reps');
const REPS = repsArg > 0 ? Number(process.argv[repsArg + 1]) : 5;

interface Timing {
  /** seconds, wall clock */
  best: number;
  median: number;
  /** CPU seconds of the best run (user + system) */
  cpu: number;
  value: number;
}

function time(f: () => number): Timing {
  const runs: { wall: number; cpu: number; value: number }[] = [];
  for (let i = 0; i < REPS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const value = f();
    const wall = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    runs.push({ wall, cpu: (c.user + c.system) / 1e6, value });
  }
  runs.sort((x, y) => x.wall - y.wall);
  return { best: runs[0].wall, median: runs[Math.floor(runs.length / 2)].wall, cpu: runs[0].cpu, value: runs[0].value };
}

/** Smooth structure with edges, plus Gaussian noise sigma 0.1: a denoising-benchmark-like pair. */
function testPair(): [Image, Image] {
  const rng = createRng(2024);
  const a = createImage(WIDTH, HEIGHT, 1);
  const b = createImage(WIDTH, HEIGHT, 1);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      const i = y * WIDTH + x;
      const v = 0.5 + 0.3 * Math.sin(x * 0.013) * Math.cos(y * 0.017) + (((x >> 7) + (y >> 7)) % 2 ? 0.1 : -0.1);
      a.data[i] = v;
      b.data[i] = v + 0.1 * rng.normal();
    }
  }
  return [a, b];
}

function findSkimagePython(): string | undefined {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(exe, ['-c', 'import skimage.metrics'], { stdio: 'ignore' });
      return exe;
    } catch {
      // not there, or no scikit-image: try the next
    }
  }
  return undefined;
}

interface PyResult {
  version: string;
  wang: number;
  skimage: number;
  wang_value: number;
  skimage_value: number;
  wang_float32: number;
}

function timeSkimage(exe: string, a: Image, b: Image): PyResult | undefined {
  const dir = mkdtempSync(join(tmpdir(), 'hush-ssim-bench-'));
  try {
    writeFileSync(join(dir, 'a.npy'), encodeNpy(a));
    writeFileSync(join(dir, 'b.npy'), encodeNpy(b));
    // float64 casts as in the reference fixtures (skimage computes in float64 then); best of REPS
    const code = `
import json, time, numpy as np, skimage
from skimage.metrics import structural_similarity as S
a32 = np.load('${dir}/a.npy'); b32 = np.load('${dir}/b.npy')
a = a32.astype(np.float64); b = b32.astype(np.float64)
def best(f):
    ts = []
    for _ in range(${REPS}):
        t = time.perf_counter(); v = f(); ts.append(time.perf_counter() - t)
    return min(ts), v
tw, vw = best(lambda: S(a, b, data_range=1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False))
ts, vs = best(lambda: S(a, b, data_range=1, win_size=7, gaussian_weights=False, use_sample_covariance=True))
tw32, _ = best(lambda: S(a32, b32, data_range=1, gaussian_weights=True, sigma=1.5, use_sample_covariance=False))
print(json.dumps(dict(version=skimage.__version__, wang=tw, skimage=ts, wang_value=float(vw), skimage_value=float(vs), wang_float32=tw32)))
`;
    const out = execFileSync(exe, ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
    return JSON.parse(out.trim().split('\n').pop() ?? '') as PyResult;
  } catch (e) {
    console.log(`scikit-image comparison skipped: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
    return undefined;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function main(): void {
  const command = `node ${process.argv.slice(1).map((s) => s.replace(process.cwd() + '/', '')).join(' ')}`;
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${release()}, Node ${process.version}`;
  console.log(`command: ${command}`);
  console.log(`machine: ${machine}`);
  console.log(`image:   ${WIDTH} x ${HEIGHT} grey (${((WIDTH * HEIGHT) / 1e6).toFixed(0)} MP), float32 samples, float64 arithmetic; best of ${REPS}`);

  const [a, b] = testPair();
  const results: Record<string, Timing> = {};
  for (const config of SSIM_CONFIGS) results[`ssim ${config}`] = time(() => ssim(a, b, { dataRange: 1, config }));
  results.mse = time(() => mse(a, b));
  results.psnr = time(() => psnr(a, b, { dataRange: 1 }));

  const exe = findSkimagePython();
  const py = exe ? timeSkimage(exe, a, b) : undefined;
  if (!exe) console.log('scikit-image not found (apt-get install python3-skimage); comparison skipped');

  console.log('');
  console.log('| metric | hush best (s) | median (s) | CPU (s) | MP/s | scikit-image (s) | speed-up | value |');
  console.log('|---|---|---|---|---|---|---|---|');
  const rows = Object.entries(results).map(([name, t]) => {
    const config = name.startsWith('ssim ') ? (name.slice(5) as SsimConfig) : undefined;
    const pyT = py && config ? py[config] : undefined;
    const pyV = py && config ? py[`${config}_value`] : undefined;
    const row = {
      metric: name,
      bestS: t.best,
      medianS: t.median,
      cpuS: t.cpu,
      megapixelsPerS: (WIDTH * HEIGHT) / 1e6 / t.best,
      value: t.value,
      ...(pyT !== undefined ? { skimageS: pyT, speedup: pyT / t.best, skimageValue: pyV, relDiff: Math.abs(t.value - (pyV ?? NaN)) / Math.abs(pyV ?? NaN) } : {}),
    };
    console.log(
      `| ${name} | ${t.best.toFixed(3)} | ${t.median.toFixed(3)} | ${t.cpu.toFixed(3)} | ${row.megapixelsPerS.toFixed(1)} | ` +
        `${pyT !== undefined ? pyT.toFixed(3) : '-'} | ${pyT !== undefined ? `${(pyT / t.best).toFixed(1)}x` : '-'} | ${t.value.toPrecision(12)} |`,
    );
    return row;
  });
  if (py) {
    console.log(`\nscikit-image ${py.version} (${exe}), float64 inputs; 'wang' on float32 inputs: ${py.wang_float32.toFixed(3)} s`);
    for (const r of rows) if ('relDiff' in r) console.log(`${r.metric}: hush ${r.value} vs scikit-image ${r.skimageValue} (rel ${r.relDiff?.toExponential(1)})`);
  }
  const limitOk = results['ssim wang'].best < 2 && results['ssim skimage'].best < 2;
  console.log(`\nSSIM under 2 s on 24 MP: ${limitOk ? 'yes' : 'NO'}`);

  const out = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'bench', 'results', 'ssim.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify(
      {
        command,
        machine,
        date: new Date().toISOString(),
        image: { width: WIDTH, height: HEIGHT, channels: 1 },
        reps: REPS,
        results: rows,
        skimage: py ? { python: exe, version: py.version, wangFloat32S: py.wang_float32 } : null,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`wrote ${out}`);
}

main();
