/**
 * BM3D speed on a synthetic 1.2-megapixel grey image (1280 x 960, smooth shading,
 * edges and fine texture, Gaussian noise sigma 25/255), with all cores (worker
 * threads) and optionally one. Prints seconds per megapixel, threads, the machine
 * and its load average (the machine is shared: compare runs only at similar load).
 * Checks for the alternatives a user of Debian's Python would reach for: the
 * python3 `bm3d` package and OpenCV's cv2.xphoto.bm3dDenoising (contrib); where one
 * is usable it is timed on the same noisy image in the same run.
 *   npx tsc -p tsconfig.json && node dist/bench/speed/denoise/bm3d.bench.js [--single] [--reps N] [--width W --height H]
 */
import { cpus, loadavg, platform, release, tmpdir } from 'node:os';
import { execFileSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage, type Image } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';
import { defaultThreads, disposePool } from '../../../src/core/pool.js';
import { encodeNpy } from '../../../src/io/npy.js';
import { psnr } from '../../../src/metrics/index.js';
import { denoiseBm3d, denoiseBm3dParallel } from '../../../src/denoise/bm3d.js';

const argv = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const i = argv.indexOf(name);
  return i >= 0 ? Number(argv[i + 1]) : fallback;
};
const WIDTH = arg('--width', 1280);
const HEIGHT = arg('--height', 960);
const REPS = arg('--reps', 1);
const SINGLE = argv.includes('--single');
const SIGMA = 25 / 255;

function scene(): { clean: Image; noisy: Image } {
  const rng = createRng(77);
  const clean = createImage(WIDTH, HEIGHT, 1);
  const noisy = createImage(WIDTH, HEIGHT, 1);
  for (let y = 0; y < HEIGHT; y++) {
    for (let x = 0; x < WIDTH; x++) {
      let v = 0.45 + 0.25 * Math.sin(x * 0.011) * Math.cos(y * 0.014);
      if (((x >> 6) + (y >> 6)) % 3 === 0) v += 0.15;
      if ((x - 640) ** 2 + (y - 480) ** 2 < 200 ** 2) v += 0.08 * Math.sin(x * 0.9) * Math.sin(y * 0.7);
      const i = y * WIDTH + x;
      clean.data[i] = v;
      noisy.data[i] = v + SIGMA * rng.normal();
    }
  }
  return { clean, noisy };
}

interface Timing {
  wallS: number;
  cpuS: number;
  psnr: number;
  /** wall time of each repetition, the first one included (it starts the worker pool) */
  allWallS: number[];
}

async function time(f: () => Promise<Image> | Image, clean: Image): Promise<Timing> {
  let best: Timing | undefined;
  const allWallS: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const out = await f();
    const wallS = (performance.now() - t0) / 1000;
    allWallS.push(wallS);
    const c = process.cpuUsage(c0);
    const t = { wallS, cpuS: (c.user + c.system) / 1e6, psnr: psnr(clean, out, { dataRange: 1 }), allWallS };
    if (!best || t.wallS < best.wallS) best = t;
  }
  return best as Timing;
}

/**
 * How much two threads get done compared with one on this machine: the same fixed
 * CPU-bound loop, once alone and then twice at the same time on two worker threads.
 * 2 means two independent cores; about 1 means the two "cores" share one (or the host
 * is busy), and no parallel code can do better than that.
 */
async function threadScaling(): Promise<{ oneS: number; twoS: number; throughput: number }> {
  const code = `
    const { parentPort } = require('node:worker_threads');
    const a = new Float64Array(1 << 16);
    let x = 0;
    const t = performance.now();
    for (let r = 0; r < 1500; r++) for (let i = 0; i < a.length; i++) { a[i] = a[i] * 0.999 + i * 1e-9; x += a[i]; }
    parentPort.postMessage({ s: (performance.now() - t) / 1000, x });
  `;
  const run = (): Promise<number> =>
    new Promise((resolve, reject) => {
      const w = new Worker(code, { eval: true });
      w.once('message', (m: { s: number }) => {
        resolve(m.s);
        void w.terminate();
      });
      w.once('error', reject);
    });
  const oneS = await run();
  const t0 = performance.now();
  await Promise.all([run(), run()]);
  const twoS = (performance.now() - t0) / 1000;
  return { oneS, twoS, throughput: (2 * oneS) / twoS };
}

function python(code: string, timeoutMs = 600_000): string {
  return execFileSync('/usr/bin/python3', ['-c', code], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs }).trim();
}

function firstLine(e: unknown): string {
  const err = e as { stderr?: string; message?: string };
  const text = (err.stderr || err.message || String(e)).trim().split('\n');
  return text[text.length - 1];
}

/** The Python alternatives: availability, and timings where usable. */
function alternatives(noisy: Image): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  try {
    out.pythonBm3d = python('import bm3d; print(bm3d.__version__)');
  } catch (e) {
    out.pythonBm3d = `not available (${firstLine(e)}); Debian has no python3-bm3d package`;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hush-bm3d-bench-'));
  try {
    writeFileSync(join(dir, 'noisy.npy'), encodeNpy(noisy));
    // OpenCV's BM3D takes uint8 and h = sigma on 0..255; its defaults are not the paper's profile
    const code = `
import time, numpy as np, cv2
y = np.load('${dir}/noisy.npy')
u = np.clip(np.round(y * 255), 0, 255).astype(np.uint8)
t = time.perf_counter(); cv2.xphoto.bm3dDenoising(u, h=25.0); print(time.perf_counter() - t)
`;
    out.opencvBm3dSeconds = Number(python(code));
  } catch (e) {
    out.opencv = `cv2.xphoto.bm3dDenoising not usable: ${firstLine(e)}`;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return out;
}

async function main(): Promise<void> {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
  const command = `node ${process.argv.slice(1).map((s) => s.replace(`${root}/`, '')).join(' ')}`;
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${release()}, Node ${process.version}`;
  const mp = (WIDTH * HEIGHT) / 1e6;
  const threads = defaultThreads();
  console.log(`command: ${command}`);
  console.log(`machine: ${machine}`);
  console.log(`image:   ${WIDTH} x ${HEIGHT} grey (${mp.toFixed(2)} MP), sigma 25/255, BM3D default profile; best of ${REPS}`);
  const loadBefore = loadavg();
  console.log(`load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}`);
  const scaling = await threadScaling();
  console.log(
    `thread scaling probe: one loop ${scaling.oneS.toFixed(2)} s alone, two at once ${scaling.twoS.toFixed(2)} s: ` +
      `${scaling.throughput.toFixed(2)}x the throughput of one thread (2.00 = two free cores)`,
  );
  const { clean, noisy } = scene();
  const rows: Record<string, unknown>[] = [];
  // the worker pool persists between calls: the first repetition includes starting it
  const parallel = await time(() => denoiseBm3dParallel(noisy, { sigma: SIGMA }, { threads }), clean);
  await disposePool();
  rows.push({ run: `worker threads (${threads})`, threads, ...parallel, secondsPerMegapixel: parallel.wallS / mp });
  if (SINGLE) {
    const single = await time(() => denoiseBm3d(noisy, { sigma: SIGMA }), clean);
    rows.push({ run: 'calling thread', threads: 1, ...single, secondsPerMegapixel: single.wallS / mp });
  }
  const loadAfter = loadavg();
  console.log(`load average after:  ${loadAfter.map((l) => l.toFixed(2)).join(' ')}`);
  console.log('');
  console.log('| run | threads | wall (s), best | s/MP | each run (s; the first starts the worker pool) | CPU (s, all threads) | PSNR (dB) |');
  console.log('|---|---|---|---|---|---|---|');
  for (const r of rows) {
    const t = r as unknown as Timing & { run: string; threads: number; secondsPerMegapixel: number };
    console.log(
      `| ${t.run} | ${t.threads} | ${t.wallS.toFixed(2)} | ${t.secondsPerMegapixel.toFixed(2)} | ${t.allWallS.map((w) => w.toFixed(2)).join(', ')} | ${t.cpuS.toFixed(2)} | ${t.psnr.toFixed(2)} |`,
    );
  }
  const alt = alternatives(noisy);
  console.log('');
  for (const [k, v] of Object.entries(alt)) console.log(`${k}: ${typeof v === 'number' ? `${v.toFixed(2)} s (${(v / (rows[0] as unknown as Timing).wallS).toFixed(2)}x hush's time)` : v}`);
  const single = rows.find((r) => r.threads === 1) as { secondsPerMegapixel: number } | undefined;
  if (single) {
    console.log(
      `single thread ${single.secondsPerMegapixel.toFixed(2)} s/MP; with ${threads} free cores and ${threads} bands of ` +
        `46 context rows the parallel run would take about ${((single.secondsPerMegapixel * (HEIGHT + (threads - 1) * 2 * 46)) / HEIGHT / threads).toFixed(2)} s/MP`,
    );
  }
  const target = 3;
  const got = (rows[0] as { secondsPerMegapixel: number }).secondsPerMegapixel;
  console.log(`\ntarget <= ${target} s/MP with all cores: ${got <= target ? 'met' : 'NOT met'} (${got.toFixed(2)} s/MP at load ${loadBefore[0].toFixed(1)}-${loadAfter[0].toFixed(1)} on ${cpu.length} cores)`);
  const out = join(root, 'bench', 'results', 'bm3d-speed.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    `${JSON.stringify({ command, machine, date: new Date().toISOString(), image: { width: WIDTH, height: HEIGHT, channels: 1 }, loadBefore, loadAfter, threadScaling: scaling, rows, alternatives: alt }, null, 2)}\n`,
  );
  console.log(`wrote ${out}`);
}

await main();
