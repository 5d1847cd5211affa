/**
 * NL-means speed. hush's 'fast' mode (WebAssembly SIMD kernels; by default both cores
 * through worker threads where the job is large enough to pay for starting them, and
 * also with two workers forced) against scikit-image 0.19's fast mode with the same parameters, and against
 * OpenCV's cv2.fastNlMeansDenoising at comparable PSNR, in the same run on the same
 * noisy inputs: Set12 at sigma 25 (shared/benchmarks/set12/sigma25/NN.npy, the
 * 512x512 images by default). hush and Python are timed in alternating rounds (each
 * round: every hush case, then one Python process timing every Python case), each
 * case keeping its best round, so both sides see the same load on a shared machine.
 * OpenCV works on uint8, so its input is the noisy image rounded and clipped to
 * 0..255; its h is the best of a grid (by mean PSNR, not timed). PSNR of every output
 * against the clean image (uint8 / 255), dataRange 1, no clipping, same code for all.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/speed/denoise/nl-means.bench.js [--rounds N] [--images 08,09] [--no-write]
 *
 * Needs shared/ (HUSH_SHARED to point elsewhere) and Debian's python3 with
 * python3-skimage and python3-opencv. Writes bench/results/nl-means-speed.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, type Image } from '../../../src/core/image.js';
import { readImage } from '../../../src/io/index.js';
import { decodeNpy } from '../../../src/io/npy.js';
import { psnr } from '../../../src/metrics/index.js';
import { denoiseNlMeans, NL_MEANS_DENOISER, type DenoiseNlMeansOptions } from '../../../src/denoise/nl-means.js';
import { MIN_WORK_FOR_THREADS } from '../../../src/denoise/filters.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SHARED = process.env.HUSH_SHARED ?? join(ROOT, '..', 'shared');
const args = process.argv.slice(2);
const opt = (name: string): string | undefined => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
const ROUNDS = Number(opt('--rounds') ?? 3);
const IMAGES = (opt('--images') ?? '08,09,10,11,12').split(',');
const WRITE = !args.includes('--no-write');
const SIGMA = 25 / 255;
const PYTHON = '/usr/bin/python3';

/** Cases timed against scikit-image with the same parameters; the last is also the one set against OpenCV. */
const CASES: { name: string; options: DenoiseNlMeansOptions }[] = [
  { name: 'patch 7, distance 11 (skimage defaults), h 0.8 sigma', options: { patchSize: 7, patchDistance: 11, h: 0.8 * SIGMA, sigma: SIGMA } },
  { name: 'patch 5, distance 6, h 0.8 sigma', options: { patchSize: 5, patchDistance: 6, h: 0.8 * SIGMA, sigma: SIGMA } },
  { name: 'patch 9, distance 2, h 0.8 sigma', options: { patchSize: 9, patchDistance: 2, h: 0.8 * SIGMA, sigma: SIGMA } },
];
/** OpenCV: its recommended 7x7 template with its default 21x21 search window, and smaller windows. */
const OPENCV = [
  { name: 'OpenCV template 7, search 21 (defaults)', template: 7, search: 21 },
  { name: 'OpenCV template 7, search 11', template: 7, search: 11 },
  { name: 'OpenCV template 7, search 7', template: 7, search: 7 },
];
const OPENCV_H = [15, 18, 20, 22, 24, 26, 28, 30];

/** [wall seconds, CPU seconds of the whole process, all threads] */
type Timing = [number, number];

interface PyRound {
  versions: { skimage: string; opencv: string; numpy: string };
  opencvThreads: number;
  /** [wall, CPU] seconds per case per image */
  skimage: Timing[][];
  opencv: Timing[][];
  opencvH: number[];
}

const PY_CODE = `
import json, sys, time, numpy as np, cv2, skimage
from skimage.restoration import denoise_nl_means
from skimage.io import imread
cfg = json.loads(sys.argv[1])
out = cfg['out']
noisy = [np.load(p) for p in cfg['noisy']]
clean = [imread(p).astype(np.float64) / 255 for p in cfg['clean']]
u8 = [np.clip(np.round(x.astype(np.float64) * 255), 0, 255).astype(np.uint8) for x in noisy]
def psnr(a, b): return 10 * np.log10(1 / np.mean((a - b) ** 2))
res = dict(versions=dict(skimage=skimage.__version__, opencv=cv2.__version__, numpy=np.__version__), opencvThreads=cv2.getNumThreads(), skimage=[], opencv=[], opencvH=[])
for k, c in enumerate(cfg['cases']):
    ts = []
    for i, x in enumerate(noisy):
        c0 = time.process_time(); t = time.perf_counter()
        y = denoise_nl_means(x, patch_size=c['patchSize'], patch_distance=c['patchDistance'], h=c['h'], sigma=c['sigma'], fast_mode=True)
        ts.append([time.perf_counter() - t, time.process_time() - c0])
        if cfg['save']: np.save(f'{out}/sk{k}_{i}.npy', y)
    res['skimage'].append(ts)
for k, c in enumerate(cfg['opencv']):
    h = cfg['opencvH'][k] if cfg['opencvH'] else max(cfg['hGrid'], key=lambda h: np.mean([psnr(cv2.fastNlMeansDenoising(u, None, h=h, templateWindowSize=c['template'], searchWindowSize=c['search']) / 255, g) for u, g in zip(u8, clean)]))
    res['opencvH'].append(h)
    ts = []
    for i, u in enumerate(u8):
        c0 = time.process_time(); t = time.perf_counter()
        y = cv2.fastNlMeansDenoising(u, None, h=h, templateWindowSize=c['template'], searchWindowSize=c['search'])
        ts.append([time.perf_counter() - t, time.process_time() - c0])
        if cfg['save']: np.save(f'{out}/cv{k}_{i}.npy', y.astype(np.float32) / 255)
    res['opencv'].append(ts)
print(json.dumps(res))
`;

function load(dir: string, name: string): Image {
  return decodeNpy(readFileSync(join(dir, name)), { file: name });
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const mean = (v: number[]): number => v.reduce((s, x) => s + x, 0) / v.length;
const sum = (v: number[]): number => v.reduce((s, x) => s + x, 0);
/** per image, the round with the least wall time; summed over images: [wall, CPU] */
function best(rounds: Timing[][]): Timing {
  const picks = rounds[0].map((_, i) => rounds.map((r) => r[i]).reduce((a, b) => (b[0] < a[0] ? b : a)));
  return [sum(picks.map((t) => t[0])), sum(picks.map((t) => t[1]))];
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  const command = `node dist/bench/speed/denoise/nl-means.bench.js ${args.join(' ')}`.trim();
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${release()}, Node ${process.version}`;
  const loadBefore = loadavg();
  console.log(`command: ${command}`);
  console.log(`machine: ${machine}`);
  console.log(`load average before: ${loadBefore.map((v) => v.toFixed(2)).join(' ')}`);
  console.log(`inputs:  Set12 sigma 25, images ${IMAGES.join(', ')}; best of ${ROUNDS} alternating rounds`);

  const noisyPaths = IMAGES.map((n) => join(SHARED, 'benchmarks', 'set12', 'sigma25', `${n}.npy`));
  const cleanPaths = IMAGES.map((n) => join(SHARED, 'datasets', 'Set12', `${n}.png`));
  const noisy = noisyPaths.map((p) => decodeNpy(readFileSync(p), { file: p }));
  const clean = await Promise.all(cleanPaths.map((p) => readImage(p)));
  const cleanGrey = clean.map((c) => (c.channels === 1 ? c : createImage(c.width, c.height, 1, c.data.filter((_, i) => i % c.channels === 0))));

  const tmp = mkdtempSync(join(tmpdir(), 'hush-nlm-bench-'));
  const hush2: Timing[][][] = CASES.map(() => []);
  const hush1: Timing[][][] = CASES.map(() => []); // two workers forced
  const outputs: Image[][] = CASES.map(() => []);
  const pyRounds: PyRound[] = [];
  try {
    for (let round = 0; round < ROUNDS; round++) {
      for (let k = 0; k < CASES.length; k++) {
        const t2: Timing[] = [];
        const t1: Timing[] = [];
        for (let i = 0; i < noisy.length; i++) {
          let c = process.cpuUsage();
          let t = performance.now();
          const out = await NL_MEANS_DENOISER.denoise(noisy[i], { ...CASES[k].options });
          t2.push([(performance.now() - t) / 1000, cpuSeconds(c)]);
          c = process.cpuUsage();
          t = performance.now();
          const forced = await NL_MEANS_DENOISER.denoise(noisy[i], { ...CASES[k].options }, { threads: 2 });
          t1.push([(performance.now() - t) / 1000, cpuSeconds(c)]);
          if (round === 0) {
            if (maxAbsDiff(out.data, forced.data) !== 0 || maxAbsDiff(out.data, denoiseNlMeans(noisy[i], CASES[k].options).data) !== 0) throw new Error('tiled and untiled results differ');
            outputs[k].push(out);
          }
        }
        hush2[k].push(t2);
        hush1[k].push(t1);
      }
      const cfg = {
        out: tmp,
        save: round === 0,
        noisy: noisyPaths,
        clean: cleanPaths,
        cases: CASES.map((c) => c.options),
        opencv: OPENCV,
        opencvH: round === 0 ? null : pyRounds[0].opencvH,
        hGrid: OPENCV_H,
      };
      const text = execFileSync(PYTHON, ['-c', PY_CODE, JSON.stringify(cfg)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      pyRounds.push(JSON.parse(text.trim().split('\n').pop() ?? '') as PyRound);
      console.log(`round ${round + 1}/${ROUNDS} done (load ${loadavg()[0].toFixed(2)})`);
    }

    const py = pyRounds[0];
    const rows: Record<string, unknown>[] = [];
    console.log('');
    console.log('Wall and CPU seconds summed over the images; CPU counts every thread of the process.');
    console.log('| method | hush, default threads: wall (CPU) | hush, 2 worker threads forced: wall (CPU) | scikit-image: wall (CPU) | speed-up, wall (CPU) | PSNR hush (dB) | PSNR skimage (dB) | max abs diff |');
    console.log('|---|---|---|---|---|---|---|---|');
    const psnrOf = (outs: Image[]): number[] => outs.map((o, i) => psnr(cleanGrey[i], o, { dataRange: 1 }));
    for (let k = 0; k < CASES.length; k++) {
      const sk = IMAGES.map((_, i) => load(tmp, `sk${k}_${i}.npy`));
      const h2 = best(hush2[k]);
      const h1 = best(hush1[k]);
      const skT = best(pyRounds.map((r) => r.skimage[k]));
      const pH = mean(psnrOf(outputs[k]));
      const pS = mean(psnrOf(sk));
      const diff = Math.max(...sk.map((s, i) => maxAbsDiff(s.data, outputs[k][i].data)));
      rows.push({
        method: `hush nl-means fast, ${CASES[k].name}`,
        options: CASES[k].options,
        hushSeconds: h2[0],
        hushCpuSeconds: h2[1],
        hushTwoWorkersSeconds: h1[0],
        hushTwoWorkersCpuSeconds: h1[1],
        skimageSeconds: skT[0],
        skimageCpuSeconds: skT[1],
        speedup: skT[0] / h2[0],
        speedupCpu: skT[1] / h2[1],
        psnrHush: pH,
        psnrSkimage: pS,
        maxAbsDiff: diff,
      });
      const f = (t: Timing): string => `${t[0].toFixed(3)} (${t[1].toFixed(3)})`;
      console.log(`| ${CASES[k].name} | ${f(h2)} | ${f(h1)} | ${f(skT)} | ${(skT[0] / h2[0]).toFixed(2)}x (${(skT[1] / h2[1]).toFixed(2)}x) | ${pH.toFixed(3)} | ${pS.toFixed(3)} | ${diff.toExponential(2)} |`);
    }
    const ours = rows[rows.length - 1] as { hushSeconds: number; hushCpuSeconds: number; psnrHush: number };
    console.log('');
    console.log(`hush, ${CASES[CASES.length - 1].name}: ${ours.hushSeconds.toFixed(3)} s wall (${ours.hushCpuSeconds.toFixed(3)} s CPU), ${ours.psnrHush.toFixed(3)} dB`);
    console.log(`| OpenCV ${py.versions.opencv} (${py.opencvThreads} threads), uint8 input | h | wall (CPU) s | PSNR (dB) | hush faster by, wall (CPU) | hush PSNR minus OpenCV |`);
    console.log('|---|---|---|---|---|---|');
    const opencvRows: Record<string, unknown>[] = [];
    for (let k = 0; k < OPENCV.length; k++) {
      const cv = IMAGES.map((_, i) => load(tmp, `cv${k}_${i}.npy`));
      const t = best(pyRounds.map((r) => r.opencv[k]));
      const p = mean(psnrOf(cv));
      opencvRows.push({ method: OPENCV[k].name, h: py.opencvH[k], seconds: t[0], cpuSeconds: t[1], psnr: p, hushOverOpencvTime: ours.hushSeconds / t[0], hushOverOpencvCpu: ours.hushCpuSeconds / t[1], hushMinusOpencvPsnr: ours.psnrHush - p });
      console.log(`| ${OPENCV[k].name} | ${py.opencvH[k]} | ${t[0].toFixed(3)} (${t[1].toFixed(3)}) | ${p.toFixed(3)} | ${(t[0] / ours.hushSeconds).toFixed(2)}x (${(t[1] / ours.hushCpuSeconds).toFixed(2)}x) | ${(ours.psnrHush - p >= 0 ? '+' : '') + (ours.psnrHush - p).toFixed(3)} dB |`);
    }
    const loadAfter = loadavg();
    console.log(`\nscikit-image ${py.versions.skimage}, numpy ${py.versions.numpy}, OpenCV ${py.versions.opencv} with ${py.opencvThreads} threads (${PYTHON}); times are sums over the ${IMAGES.length} images`);
    console.log(`load average after: ${loadAfter.map((v) => v.toFixed(2)).join(' ')}`);
    const speedOk = rows.every((r) => (r as { speedup: number }).speedup >= 3);
    const speedCpuOk = rows.every((r) => (r as { speedupCpu: number }).speedupCpu >= 3);
    const cvOk = opencvRows.every((r) => (r as { hushOverOpencvTime: number; hushMinusOpencvPsnr: number }).hushOverOpencvTime <= 1 && (r as { hushMinusOpencvPsnr: number }).hushMinusOpencvPsnr >= 0);
    console.log(`at least 3x scikit-image's fast mode in every case, wall: ${speedOk ? 'yes' : 'NO'}; CPU: ${speedCpuOk ? 'yes' : 'NO'}`);
    console.log(`at least as fast as OpenCV at equal or better PSNR: ${cvOk ? 'yes' : 'NO'}`);

    if (WRITE) {
      const file = join(ROOT, 'bench', 'results', 'nl-means-speed.json');
      mkdirSync(dirname(file), { recursive: true });
      const json = {
        command,
        machine,
        date: new Date().toISOString(),
        loadAverage: { before: loadBefore, after: loadAfter },
        inputs: { set: 'Set12', sigma: 25, images: IMAGES },
        rounds: ROUNDS,
        threads: `default: worker threads on all ${cpu.length} cores for jobs over ${MIN_WORK_FOR_THREADS} inner-loop iterations, else the calling thread`,
        python: { exe: PYTHON, ...py.versions, opencvThreads: py.opencvThreads },
        skimage: rows,
        opencv: opencvRows,
        bars: { atLeast3xSkimageWall: speedOk, atLeast3xSkimageCpu: speedCpuOk, atLeastOpencvSpeedAndPsnr: cvOk },
      };
      writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
      console.log(`wrote ${file}`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
