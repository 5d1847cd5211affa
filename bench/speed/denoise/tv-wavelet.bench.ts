/**
 * Speed of denoiseTvChambolle and denoiseWavelet against scikit-image 0.19 in the same
 * run, on the same float32 inputs (written as .npy and read by Python), with the same
 * parameters: a 2 MP grey image (2048 x 1024) and a 1 MP RGB image (1024 x 1024),
 * both a smooth scene with edges plus Gaussian noise sigma 0.1. hush is timed on one
 * thread (the sync core) and through the registry entry's async `denoise` on every
 * core; scikit-image (numpy, one thread for these functions) on float32 input, as a
 * user would call it and the arithmetic hush's SIMD path uses, and on float64 (what
 * img_as_float gives 8/16-bit images). Each timing is the second
 * of two back-to-back calls (warm code and memory, for both); reps alternate (hush, then
 * scikit-image) so both see the same machine load; the best of the reps is kept, and the
 * load average is printed before and after.
 *   npx tsc -p tsconfig.json && node dist/bench/speed/denoise/tv-wavelet.bench.js [--reps N] [--no-write]
 * Needs a Python with scikit-image (Debian's /usr/bin/python3); the product never does.
 */
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { createImage, type Channels, type Image } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';
import { defaultThreads } from '../../../src/core/pool.js';
import { decodeNpy, encodeNpy } from '../../../src/io/npy.js';
import { denoiseTvChambolle, TV_CHAMBOLLE_DENOISER } from '../../../src/denoise/tv-chambolle.js';
import { denoiseWavelet, WAVELET_DENOISER, type DenoiseWaveletOptions } from '../../../src/denoise/wavelet.js';

const args = process.argv.slice(2);
const repsAt = args.indexOf('--reps');
const REPS = repsAt >= 0 ? Number(args[repsAt + 1]) : 3;
const WRITE = !args.includes('--no-write');
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');

interface Case {
  name: string;
  input: 'grey' | 'rgb';
  method: 'tv' | 'wavelet';
  /** hush options */
  options: Record<string, unknown>;
  /** the same call in Python, `a` being the input array */
  python: string;
}

const CASES: Case[] = [
  { name: 'TV weight 0.1, grey 2 MP', input: 'grey', method: 'tv', options: { weight: 0.1 }, python: 'denoise_tv_chambolle(a, weight=0.1)' },
  { name: 'TV weight 0.1, RGB 1 MP', input: 'rgb', method: 'tv', options: { weight: 0.1 }, python: 'denoise_tv_chambolle(a, weight=0.1, channel_axis=-1)' },
  { name: 'wavelet defaults (db1, BayesShrink soft), grey 2 MP', input: 'grey', method: 'wavelet', options: {}, python: 'denoise_wavelet(a)' },
  {
    name: 'wavelet sym8 BayesShrink soft sigma 0.1, grey 2 MP',
    input: 'grey',
    method: 'wavelet',
    options: { wavelet: 'sym8', sigma: 0.1 },
    python: "denoise_wavelet(a, wavelet='sym8', sigma=0.1)",
  },
  {
    name: 'wavelet db2 VisuShrink hard sigma 0.1, grey 2 MP',
    input: 'grey',
    method: 'wavelet',
    options: { wavelet: 'db2', method: 'VisuShrink', mode: 'hard', sigma: 0.1 },
    python: "denoise_wavelet(a, wavelet='db2', method='VisuShrink', mode='hard', sigma=0.1)",
  },
  { name: 'wavelet defaults, RGB 1 MP', input: 'rgb', method: 'wavelet', options: {}, python: 'denoise_wavelet(a, channel_axis=-1)' },
  {
    name: 'wavelet db2 YCbCr, RGB 1 MP',
    input: 'rgb',
    method: 'wavelet',
    options: { wavelet: 'db2', colourSpace: 'ycbcr' },
    python: "denoise_wavelet(a, wavelet='db2', channel_axis=-1, convert2ycbcr=True)",
  },
];

function scene(width: number, height: number, channels: Channels, seed: number): Image {
  const rng = createRng(seed);
  const im = createImage(width, height, channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const v = 0.5 + 0.3 * Math.sin(x * 0.013 + c) * Math.cos(y * 0.017) + (((x >> 7) + (y >> 7)) % 2 ? 0.1 : -0.1);
        im.data[(y * width + x) * channels + c] = v + 0.1 * rng.normal();
      }
    }
  }
  return im;
}

function findPython(): string | undefined {
  for (const exe of ['/usr/bin/python3', 'python3']) {
    try {
      execFileSync(exe, ['-c', 'import skimage.restoration, pywt'], { stdio: 'ignore' });
      return exe;
    } catch {
      // not there, or no scikit-image: try the next
    }
  }
  return undefined;
}

interface PyTiming {
  f32: number;
  f64: number;
  cpu32: number;
  cpu64: number;
}

/** Times every case once in Python (float32 and float64 input) and leaves the float64 outputs in dir. */
function pythonRep(exe: string, dir: string, withOutputs: boolean): PyTiming[] {
  const code = `
import json, time, warnings, numpy as np
warnings.simplefilter('ignore')
from skimage.restoration import denoise_tv_chambolle, denoise_wavelet
inputs = {k: np.load('${dir}/' + k + '.npy') for k in ('grey', 'rgb')}
cases = json.loads(${JSON.stringify(JSON.stringify(CASES.map((c) => ({ input: c.input, python: c.python }))))})
out = []
for i, c in enumerate(cases):
    a = inputs[c['input']]
    eval(c['python'])
    t = time.perf_counter(); p = time.process_time(); r32 = eval(c['python']); t32 = time.perf_counter() - t; c32 = time.process_time() - p
    a = a.astype(np.float64)
    eval(c['python'])
    t = time.perf_counter(); p = time.process_time(); r = eval(c['python']); t64 = time.perf_counter() - t; c64 = time.process_time() - p
    if ${withOutputs ? 'True' : 'False'}:
        np.save('${dir}/sk%d.npy' % i, r.astype(np.float64))
        np.save('${dir}/sk32_%d.npy' % i, r32.astype(np.float64))
    out.append(dict(f32=t32, f64=t64, cpu32=c32, cpu64=c64))
print(json.dumps(out))
`;
  const res = execFileSync(exe, ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 20 });
  return JSON.parse(res.trim().split('\n').pop() ?? '[]') as PyTiming[];
}

/** The float64 samples of a decoded .npy (`exact` is absent when float32 holds them all). */
const exactOf = (im: Image): Float64Array => im.exact ?? Float64Array.from(im.data);

function maxAbsDiff(ours: Float32Array, ref: Float64Array): number {
  let m = 0;
  for (let i = 0; i < ours.length; i++) m = Math.max(m, Math.abs(ours[i] - ref[i]));
  return m;
}

interface Row {
  case: string;
  /** best wall time of the sync core, and the CPU time (user + system) of that run */
  hushSingleS: number;
  hushCpuS: number;
  /** best wall time of the registry entry's async denoise on every core */
  hushThreadedS: number;
  skimageF32S?: number;
  skimageF32CpuS?: number;
  skimageF64S?: number;
  skimageF64CpuS?: number;
  /** scikit-image (float32 input) wall over hush wall */
  speedupSingle?: number;
  speedupThreaded?: number;
  /** the same on CPU time, less sensitive to the machine's load */
  cpuSpeedupVsF32?: number;
  speedupSingleVsF64?: number;
  cpuSpeedupVsF64?: number;
  maxAbsDiffVsSkimageF64?: number;
  maxAbsDiffVsSkimageF32?: number;
}

async function main(): Promise<void> {
  const command = `node ${process.argv.slice(1).map((s) => s.replace(process.cwd() + '/', '')).join(' ')}`;
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${release()}, Node ${process.version}`;
  const threads = defaultThreads();
  const loadBefore = loadavg();
  console.log(`command: ${command}`);
  console.log(`machine: ${machine}; hush threads for async denoise: ${threads}`);
  console.log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(', ')}`);
  console.log(`inputs:  2048 x 1024 grey and 1024 x 1024 RGB, float32; best of ${REPS} alternating reps`);

  const inputs = { grey: scene(2048, 1024, 1, 1), rgb: scene(1024, 1024, 3, 2) };
  const dir = mkdtempSync(join(tmpdir(), 'hush-tv-wavelet-bench-'));
  const exe = findPython();
  if (!exe) console.log('scikit-image not found (apt-get install python3-skimage); comparison skipped');
  try {
    writeFileSync(join(dir, 'grey.npy'), encodeNpy(inputs.grey));
    writeFileSync(join(dir, 'rgb.npy'), encodeNpy(inputs.rgb));
    const single: number[][] = CASES.map(() => []);
    const cpuS: number[][] = CASES.map(() => []);
    const threaded: number[][] = CASES.map(() => []);
    const py: PyTiming[][] = [];
    const outputs: Float32Array[] = [];
    for (let rep = 0; rep < REPS; rep++) {
      for (const [k, c] of CASES.entries()) {
        const im = inputs[c.input];
        const run = (): Image => (c.method === 'tv' ? denoiseTvChambolle(im, c.options as { weight: number }) : denoiseWavelet(im, c.options as DenoiseWaveletOptions));
        // each timing is the second of two back-to-back runs (warm code and memory), in Python too
        const r = run();
        if (rep === 0) outputs[k] = r.data;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        run();
        single[k].push((performance.now() - t0) / 1000);
        const cu = process.cpuUsage(c0);
        cpuS[k].push((cu.user + cu.system) / 1e6);
        const info = c.method === 'tv' ? TV_CHAMBOLLE_DENOISER : WAVELET_DENOISER;
        await info.denoise(im, c.options, { threads });
        const t1 = performance.now();
        await info.denoise(im, c.options, { threads });
        threaded[k].push((performance.now() - t1) / 1000);
      }
      if (exe) py.push(pythonRep(exe, dir, rep === 0));
      console.log(`rep ${rep + 1}/${REPS} done, load ${loadavg()[0].toFixed(2)}`);
    }
    const best = (a: number[]): number => Math.min(...a);
    const rows: Row[] = CASES.map((c, k) => {
      const row: Row = { case: c.name, hushSingleS: best(single[k]), hushCpuS: cpuS[k][single[k].indexOf(best(single[k]))], hushThreadedS: best(threaded[k]) };
      if (py.length) {
        row.skimageF32S = best(py.map((p) => p[k].f32));
        row.skimageF32CpuS = Math.min(...py.map((p) => p[k].cpu32));
        row.skimageF64S = best(py.map((p) => p[k].f64));
        row.skimageF64CpuS = Math.min(...py.map((p) => p[k].cpu64));
        row.speedupSingle = row.skimageF32S / row.hushSingleS;
        row.speedupThreaded = row.skimageF32S / row.hushThreadedS;
        row.cpuSpeedupVsF32 = row.skimageF32CpuS / Math.min(...cpuS[k]);
        row.speedupSingleVsF64 = row.skimageF64S / row.hushSingleS;
        row.cpuSpeedupVsF64 = row.skimageF64CpuS / Math.min(...cpuS[k]);
        row.maxAbsDiffVsSkimageF64 = maxAbsDiff(outputs[k], exactOf(decodeNpy(readFileSync(join(dir, `sk${k}.npy`)), { file: `sk${k}.npy` })));
        row.maxAbsDiffVsSkimageF32 = maxAbsDiff(outputs[k], exactOf(decodeNpy(readFileSync(join(dir, `sk32_${k}.npy`)), { file: `sk32_${k}.npy` })));
      }
      return row;
    });
    const loadAfter = loadavg();
    console.log('');
    const x = (v: number | undefined): string => (v === undefined ? '-' : `${v.toFixed(1)}x`);
    const f = (v: number | undefined, d = 3): string => (v === undefined ? '-' : v.toFixed(d));
    console.log('Wall clock, best of the reps (s), and scikit-image time over hush time:');
    console.log(`| case | hush 1 thread | hush ${threads} threads | scikit-image f32 | scikit-image f64 | vs f32, 1 thread | vs f32, ${threads} threads | vs f64, 1 thread |`);
    console.log('|---|---|---|---|---|---|---|---|');
    for (const r of rows) {
      console.log(
        `| ${r.case} | ${f(r.hushSingleS)} | ${f(r.hushThreadedS)} | ${f(r.skimageF32S)} | ${f(r.skimageF64S)} | ${x(r.speedupSingle)} | ${x(r.speedupThreaded)} | ${x(r.speedupSingleVsF64)} |`,
      );
    }
    console.log('');
    console.log('CPU time (user + system, least of the reps, s), one thread each, and the ratio; max |hush - scikit-image| on float32 and float64 input:');
    console.log('| case | hush | scikit-image f32 | scikit-image f64 | vs f32 | vs f64 | max abs diff vs f32 | vs f64 |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const [k, r] of rows.entries()) {
      console.log(
        `| ${r.case} | ${f(Math.min(...cpuS[k]))} | ${f(r.skimageF32CpuS)} | ${f(r.skimageF64CpuS)} | ${x(r.cpuSpeedupVsF32)} | ${x(r.cpuSpeedupVsF64)} | ` +
          `${r.maxAbsDiffVsSkimageF32 === undefined ? '-' : r.maxAbsDiffVsSkimageF32.toExponential(1)} | ` +
          `${r.maxAbsDiffVsSkimageF64 === undefined ? '-' : r.maxAbsDiffVsSkimageF64.toExponential(1)} |`,
      );
    }
    console.log(`load average after: ${loadAfter.map((l) => l.toFixed(2)).join(', ')}`);
    if (WRITE) {
      const file = join(ROOT, 'bench', 'results', 'tv-wavelet-speed.json');
      mkdirSync(dirname(file), { recursive: true });
      const json = { command, machine, date: new Date().toISOString(), threads, reps: REPS, loadBefore, loadAfter, skimage: exe ? '0.19 (Debian python3-skimage)' : undefined, results: rows };
      writeFileSync(file, JSON.stringify(json, null, 2) + '\n');
      console.log(`wrote ${file.replace(ROOT + '/', '')}`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
