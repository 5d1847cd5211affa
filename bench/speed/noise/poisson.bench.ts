/**
 * Speed of Poisson and Poisson-Gaussian noise on a 24 MP image, against numpy's
 * Generator.poisson in the same run, as a ratio. The image is a ramp from 0 to 1, so
 * the means span both samplers (inversion below 10, PTRS above). One thread; the
 * best wall-clock time of 3 runs after a warm-up, for both (the machine may be
 * shared). Prints a table, merges its entry into
 * bench/results/noise.json and re-renders docs/noise.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/speed/noise/poisson.bench.js
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createImage } from '../../../src/core/image.js';
import { NOISE_DOCS_PATH, readNoiseResults, renderNoiseDocs } from '../../../scripts/gen-noise-docs.js';
import { addPoissonNoise } from '../../../src/noise/poisson.js';
import { addPoissonGaussianNoise } from '../../../src/noise/poisson-gaussian.js';

const COMMAND = 'node dist/bench/speed/noise/poisson.bench.js';
const RESULTS = fileURLToPath(new URL('../../../../bench/results/noise.json', import.meta.url));
const WIDTH = 6000;
const HEIGHT = 4000;
const RUNS = 3;
const TIMING = `best wall-clock time of ${RUNS} runs after a warm-up, the same for numpy`;
const PEAKS = [10, 100, 10000];

interface Row {
  what: string;
  samples: number;
  samplesPerSecond: number;
  note?: string;
}

function seconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

function time(fn: () => void): number {
  fn();
  const secs: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = seconds();
    fn();
    secs.push(seconds() - t0);
  }
  // the best run: on a shared machine the others measure the neighbours (timeit's advice too)
  return Math.min(...secs);
}

const NUMPY = `
import json, time
import numpy as np
W, H, RUNS = ${WIDTH}, ${HEIGHT}, ${RUNS}
def t(f):
    f(); s = []
    for _ in range(RUNS):
        t0 = time.perf_counter(); f(); s.append(time.perf_counter() - t0)
    return min(s)
rng = np.random.default_rng(0)
x = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
out = {'version': np.__version__}
for peak in ${JSON.stringify(PEAKS)}:
    out[str(peak)] = x.size / t(lambda: (rng.poisson(x * peak) / peak).astype(np.float32))
print(json.dumps(out))
`;

function runNumpy(): Record<string, number | string> | string {
  try {
    const text = execFileSync('python3', ['-c', NUMPY], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 600_000 });
    return JSON.parse(text) as Record<string, number | string>;
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr ?? String(e);
    return /No module named 'numpy'/.test(msg) ? 'python3 has no numpy' : `python3 -c failed: ${msg.trim().split('\n').pop()}`;
  }
}

function main(): void {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} logical CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB), ${os.platform()} ${os.arch()}`;
  console.log(`$ ${COMMAND}`);
  console.log(`machine: ${machine}, node ${process.version}`);
  const loadBefore = os.loadavg()[0];
  const n = WIDTH * HEIGHT;
  const ramp = new Float32Array(n);
  for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) ramp[y * WIDTH + x] = x / (WIDTH - 1);
  const image = createImage(WIDTH, HEIGHT, 1, ramp);
  const rows: Row[] = [];
  for (const peak of PEAKS) {
    rows.push({
      what: `addPoissonNoise, peak ${peak}`,
      samples: n,
      samplesPerSecond: n / time(() => addPoissonNoise(image, { peak, seed: 1 })),
      note: `means 0..${peak} across the ramp`,
    });
  }
  // a sky in e-/s: 0.01..10 e-/s over 300 s, simulating a 4x shorter exposure
  const sky = createImage(WIDTH, HEIGHT, 1, ramp.map((v) => 0.01 + 10 * v));
  rows.push({
    what: 'addPoissonGaussianNoise, 0..10 e-/s, t 300 s, r 4',
    samples: n,
    samplesPerSecond: n / time(() => addPoissonGaussianNoise(sky, { exposureTime: 300, ratio: 4, seed: 1 })),
    note: 'one Poisson and one normal deviate per pixel',
  });

  const np = runNumpy();
  const comparisons: { what: string; ratio: number; note: string }[] = [];
  let skipped: string | undefined;
  if (typeof np === 'string') skipped = `numpy comparison (${np})`;
  else {
    PEAKS.forEach((peak, k) => {
      const numpyRate = np[String(peak)] as number;
      rows.push({ what: `numpy ${String(np.version)} poisson(x * ${peak}) / ${peak}`, samples: n, samplesPerSecond: numpyRate });
      comparisons.push({
        what: `addPoissonNoise vs numpy, peak ${peak}`,
        ratio: rows[k].samplesPerSecond / numpyRate,
        note: 'hush / numpy samples per second, above 1 means hush is faster',
      });
    });
  }

  console.log('');
  console.log(`${'what'.padEnd(52)} ${'samples'.padStart(11)} ${'M samples/s'.padStart(12)}`);
  for (const r of rows) console.log(`${r.what.padEnd(52)} ${String(r.samples).padStart(11)} ${(r.samplesPerSecond / 1e6).toFixed(1).padStart(12)}`);
  for (const c of comparisons) console.log(`${c.what}: ${c.ratio.toFixed(2)}x`);
  if (skipped) console.log(`skipped: ${skipped}`);
  console.log(`1-minute load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after, on ${os.cpus().length} CPUs`);

  const all = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  all.poisson = { command: COMMAND, machine, node: process.version, date: new Date().toISOString(), timing: TIMING, load: [loadBefore, os.loadavg()[0]], rows, comparisons, ...(skipped ? { skipped } : {}) };
  mkdirSync(fileURLToPath(new URL('.', `file://${RESULTS}`)), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`wrote ${RESULTS}`);
  writeFileSync(NOISE_DOCS_PATH, renderNoiseDocs(readNoiseResults(RESULTS)));
  console.log(`wrote ${NOISE_DOCS_PATH}`);
}

main();
