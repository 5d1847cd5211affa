/**
 * Speed of Gaussian noise: the ziggurat's fillNormal and addGaussianNoise on a 24 MP
 * image, against numpy's Generator.standard_normal (the alternative a Python user would
 * pick) in the same run, as a ratio. One thread; the best wall-clock time of 5 runs
 * after a warm-up, for both (the machine may be shared). Prints a
 * table, merges its entry into bench/results/noise.json and re-renders docs/noise.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/speed/noise/gaussian.bench.js
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { createImage } from '../../../src/core/image.js';
import { NOISE_DOCS_PATH, readNoiseResults, renderNoiseDocs } from '../../../scripts/gen-noise-docs.js';
import { createRng } from '../../../src/core/rng.js';
import { addGaussianNoise } from '../../../src/noise/gaussian.js';

const COMMAND = 'node dist/bench/speed/noise/gaussian.bench.js';
const RESULTS = fileURLToPath(new URL('../../../../bench/results/noise.json', import.meta.url));
const WIDTH = 6000;
const HEIGHT = 4000;
const RUNS = 5;
const TIMING = `best wall-clock time of ${RUNS} runs after a warm-up, the same for numpy`;

interface Row {
  what: string;
  samples: number;
  samplesPerSecond: number;
  note?: string;
}

function seconds(): number {
  return Number(process.hrtime.bigint()) / 1e9;
}

/** best wall-clock seconds of RUNS timed calls after one warm-up */
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
import json, sys, time
import numpy as np
W, H, RUNS = ${WIDTH}, ${HEIGHT}, ${RUNS}
def t(f):
    f(); s = []
    for _ in range(RUNS):
        t0 = time.perf_counter(); f(); s.append(time.perf_counter() - t0)
    return min(s)
rng = np.random.default_rng(0)
n = W * H
grey = np.full((H, W), 0.5, dtype=np.float32)
rgb = np.full((H, W, 3), 0.5, dtype=np.float32)
out = {
  'version': np.__version__,
  'standard_normal_f32': n / t(lambda: rng.standard_normal(n, dtype=np.float32)),
  'standard_normal_f64': n / t(lambda: rng.standard_normal(n)),
  'add_grey_f32': n / t(lambda: grey + np.float32(0.1) * rng.standard_normal(grey.shape, dtype=np.float32)),
  'add_rgb_f32': 3 * n / t(lambda: rgb + np.float32(0.1) * rng.standard_normal(rgb.shape, dtype=np.float32)),
}
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
  const rows: Row[] = [];
  const rng = createRng(1);
  const buf = new Float32Array(n);
  rows.push({ what: 'fillNormal (ziggurat, float32)', samples: n, samplesPerSecond: n / time(() => rng.fillNormal(buf)) });
  rows.push({
    what: 'fillNormal, mean 0.5 sd 0.1',
    samples: n,
    samplesPerSecond: n / time(() => rng.fillNormal(buf, 0.5, 0.1)),
  });
  const normalBuf = new Float64Array(n / 4);
  rows.push({
    what: 'normal() one at a time',
    samples: n / 4,
    samplesPerSecond: n / 4 / time(() => {
      for (let i = 0; i < normalBuf.length; i++) normalBuf[i] = rng.normal();
    }),
  });
  const reused = new Float32Array(n);
  const base = new Float32Array(n).fill(0.5);
  rows.push({
    what: 'addNormal into a reused buffer',
    samples: n,
    samplesPerSecond: n / time(() => rng.addNormal(reused, base, 0.1)),
    note: 'the sampling itself, no allocation',
  });
  rows.push({
    what: 'Float32Array.slice of a 24 MP grey image',
    samples: n,
    samplesPerSecond: n / time(() => base.slice()),
    note: 'floor: first touch of a new output buffer',
  });
  const grey = createImage(WIDTH, HEIGHT, 1, new Float32Array(n).fill(0.5));
  rows.push({
    what: 'addGaussianNoise, 6000x4000 grey',
    samples: n,
    samplesPerSecond: n / time(() => addGaussianNoise(grey, { sigma: 0.1, seed: 1 })),
    note: 'new output image each call',
  });
  const rgb = createImage(WIDTH, HEIGHT, 3, new Float32Array(3 * n).fill(0.5));
  const rgbRow: Row = {
    what: 'addGaussianNoise, 6000x4000 RGB',
    samples: 3 * n,
    samplesPerSecond: (3 * n) / time(() => addGaussianNoise(rgb, { sigma: 0.1, seed: 1 })),
    note: 'new output image each call',
  };
  rows.push(rgbRow);

  const np = runNumpy();
  const comparisons: { what: string; ratio: number; note: string }[] = [];
  let skipped: string | undefined;
  if (typeof np === 'string') {
    skipped = `numpy comparison (${np})`;
  } else {
    const v = String(np.version);
    rows.push({ what: `numpy ${v} standard_normal(n, dtype=float32)`, samples: n, samplesPerSecond: np.standard_normal_f32 as number });
    rows.push({ what: `numpy ${v} standard_normal(n) (float64)`, samples: n, samplesPerSecond: np.standard_normal_f64 as number });
    rows.push({ what: `numpy ${v} x + 0.1 * standard_normal(x.shape, float32), grey`, samples: n, samplesPerSecond: np.add_grey_f32 as number });
    rows.push({ what: `numpy ${v} x + 0.1 * standard_normal(x.shape, float32), RGB`, samples: 3 * n, samplesPerSecond: np.add_rgb_f32 as number });
    comparisons.push({
      what: 'fillNormal vs numpy standard_normal(float32)',
      ratio: rows[0].samplesPerSecond / (np.standard_normal_f32 as number),
      note: 'hush / numpy samples per second, above 1 means hush is faster',
    });
    comparisons.push({
      what: 'addGaussianNoise vs numpy x + sigma * standard_normal (float32), RGB 24 MP',
      ratio: rgbRow.samplesPerSecond / (np.add_rgb_f32 as number),
      note: 'hush / numpy samples per second',
    });
  }

  console.log('');
  console.log(`${'what'.padEnd(66)} ${'samples'.padStart(11)} ${'M samples/s'.padStart(12)}`);
  for (const r of rows) console.log(`${r.what.padEnd(66)} ${String(r.samples).padStart(11)} ${(r.samplesPerSecond / 1e6).toFixed(1).padStart(12)}`);
  for (const c of comparisons) console.log(`${c.what}: ${c.ratio.toFixed(2)}x`);
  if (skipped) console.log(`skipped: ${skipped}`);
  console.log(`1-minute load average ${loadBefore.toFixed(1)} before, ${os.loadavg()[0].toFixed(1)} after, on ${os.cpus().length} CPUs`);
  console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);

  const all = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  all.gaussian = { command: COMMAND, machine, node: process.version, date: new Date().toISOString(), timing: TIMING, load: [loadBefore, os.loadavg()[0]], rows, comparisons, ...(skipped ? { skipped } : {}) };
  mkdirSync(fileURLToPath(new URL('.', `file://${RESULTS}`)), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`wrote ${RESULTS}`);
  writeFileSync(NOISE_DOCS_PATH, renderNoiseDocs(readNoiseResults(RESULTS)));
  console.log(`wrote ${NOISE_DOCS_PATH}`);
}

main();
