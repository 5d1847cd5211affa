/**
 * Speed of Gaussian noise: the ziggurat's fillNormal and addGaussianNoise on a 24 MP
 * image, against numpy's Generator.standard_normal (the alternative a Python user would
 * pick) in the same run, as a ratio. One thread. hush and numpy are timed in alternating
 * rounds (each case once per round, after a warm-up) and each case keeps its best round,
 * so both sides see the same load on a shared machine. Prints a table, merges its entry
 * into bench/results/noise.json and re-renders docs/noise.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/speed/noise/gaussian.bench.js
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage } from '../../../src/core/image.js';
import { createRng } from '../../../src/core/rng.js';
import { addGaussianNoise } from '../../../src/noise/gaussian.js';
import { hugePageNote, runNumpy, seconds, type Row } from './harness.js';
import { NOISE_DOCS_PATH, readNoiseResults, renderNoiseDocs } from '../../../scripts/gen-noise-docs.js';

const COMMAND = 'node dist/bench/speed/noise/gaussian.bench.js';
const RESULTS = fileURLToPath(new URL('../../../../bench/results/noise.json', import.meta.url));
const WIDTH = 6000;
const HEIGHT = 4000;
const ROUNDS = 7;
const TIMING = `best of ${ROUNDS} rounds, hush and numpy alternating, each case timed once per round after a warm-up`;

interface Case {
  what: string;
  samples: number;
  note?: string;
  run?: () => void;
  /** key in the numpy script's output */
  numpy?: string;
}

/** One round of numpy timings: seconds per case, each after its own warm-up call. */
const NUMPY = `
import json, time
import numpy as np
W, H = ${WIDTH}, ${HEIGHT}
rng = np.random.default_rng(0)
n = W * H
grey = np.full((H, W), 0.5, dtype=np.float32)
rgb = np.full((H, W, 3), 0.5, dtype=np.float32)
cases = {
  'standard_normal_f32': lambda: rng.standard_normal(n, dtype=np.float32),
  'standard_normal_f64': lambda: rng.standard_normal(n),
  'add_grey_f32': lambda: grey + np.float32(0.1) * rng.standard_normal(grey.shape, dtype=np.float32),
  'add_rgb_f32': lambda: rgb + np.float32(0.1) * rng.standard_normal(rgb.shape, dtype=np.float32),
}
out = {'version': np.__version__}
for k, f in cases.items():
    f()
    t0 = time.perf_counter(); f(); out[k] = time.perf_counter() - t0
print(json.dumps(out))
`;

function main(): void {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} logical CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB), ${os.platform()} ${os.arch()}`;
  console.log(`$ ${COMMAND}`);
  console.log(`machine: ${machine}, node ${process.version}`);
  const loadBefore = os.loadavg()[0];
  const n = WIDTH * HEIGHT;
  const rng = createRng(1);
  const buf = new Float32Array(n);
  const base = new Float32Array(n).fill(0.5);
  const normals = new Float64Array(n / 4);
  const grey = createImage(WIDTH, HEIGHT, 1, new Float32Array(n).fill(0.5));
  const rgb = createImage(WIDTH, HEIGHT, 3, new Float32Array(3 * n).fill(0.5));
  const cases: Case[] = [
    { what: 'fillNormal (ziggurat, float32)', samples: n, run: () => rng.fillNormal(buf) },
    { what: 'fillNormal, mean 0.5 sd 0.1', samples: n, run: () => rng.fillNormal(buf, 0.5, 0.1) },
    {
      what: 'normal() one at a time',
      samples: n / 4,
      run: () => {
        for (let i = 0; i < normals.length; i++) normals[i] = rng.normal();
      },
    },
    { what: 'addNormal into a reused buffer', samples: n, note: 'the sampling itself, no allocation', run: () => rng.addNormal(buf, base, 0.1) },
    { what: 'Float32Array.slice of a 24 MP grey image', samples: n, note: 'floor: first touch of a new output buffer', run: () => base.slice() },
    { what: 'addGaussianNoise, 6000x4000 grey', samples: n, note: 'new output image each call', run: () => addGaussianNoise(grey, { sigma: 0.1, seed: 1 }) },
    { what: 'addGaussianNoise, 6000x4000 RGB', samples: 3 * n, note: 'new output image each call', run: () => addGaussianNoise(rgb, { sigma: 0.1, seed: 1 }) },
    { what: 'numpy standard_normal(n, dtype=float32)', samples: n, numpy: 'standard_normal_f32' },
    { what: 'numpy standard_normal(n) (float64)', samples: n, numpy: 'standard_normal_f64' },
    { what: 'numpy x + 0.1 * standard_normal(x.shape, float32), grey', samples: n, numpy: 'add_grey_f32' },
    { what: 'numpy x + 0.1 * standard_normal(x.shape, float32), RGB', samples: 3 * n, numpy: 'add_rgb_f32' },
  ];
  const best = new Map<Case, number>();
  for (const c of cases) c.run?.();
  let skipped: string | undefined;
  let numpyVersion = '';
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) {
      if (!c.run) continue;
      const t0 = seconds();
      c.run();
      const dt = seconds() - t0;
      best.set(c, Math.min(best.get(c) ?? Infinity, dt));
    }
    if (skipped) continue;
    const np = runNumpy(NUMPY);
    if (typeof np === 'string') {
      skipped = `numpy comparison (${np})`;
      continue;
    }
    numpyVersion = String(np.version);
    for (const c of cases) if (c.numpy) best.set(c, Math.min(best.get(c) ?? Infinity, np[c.numpy] as number));
    process.stdout.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  const rows: Row[] = cases
    .filter((c) => best.has(c))
    .map((c) => ({
      what: c.numpy ? c.what.replace('numpy', `numpy ${numpyVersion}`) : c.what,
      samples: c.samples,
      samplesPerSecond: c.samples / (best.get(c) as number),
      ...(c.note ? { note: c.note } : {}),
    }));
  const rate = (what: string): number | undefined => rows.find((r) => r.what.replace(/^numpy [^ ]+ /, 'numpy ') === what)?.samplesPerSecond;
  const comparisons: { what: string; ratio: number; note: string }[] = [];
  const pairs: [string, string, string][] = [
    ['fillNormal vs numpy standard_normal(float32)', 'fillNormal (ziggurat, float32)', 'numpy standard_normal(n, dtype=float32)'],
    ['addGaussianNoise vs numpy x + 0.1 * standard_normal (float32), grey 24 MP', 'addGaussianNoise, 6000x4000 grey', 'numpy x + 0.1 * standard_normal(x.shape, float32), grey'],
    ['addGaussianNoise vs numpy x + 0.1 * standard_normal (float32), RGB 24 MP', 'addGaussianNoise, 6000x4000 RGB', 'numpy x + 0.1 * standard_normal(x.shape, float32), RGB'],
  ];
  for (const [what, ours, theirs] of pairs) {
    const a = rate(ours);
    const b = rate(theirs);
    if (a !== undefined && b !== undefined) comparisons.push({ what, ratio: a / b, note: 'hush / numpy samples per second, above 1 means hush is faster' });
  }

  console.log('');
  console.log(`${'what'.padEnd(66)} ${'samples'.padStart(11)} ${'M samples/s'.padStart(12)}`);
  for (const r of rows) console.log(`${r.what.padEnd(66)} ${String(r.samples).padStart(11)} ${(r.samplesPerSecond / 1e6).toFixed(1).padStart(12)}`);
  for (const c of comparisons) console.log(`${c.what}: ${c.ratio.toFixed(2)}x`);
  if (skipped) console.log(`skipped: ${skipped}`);
  const loadAfter = os.loadavg()[0];
  console.log(`1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs`);
  console.log(`peak RSS ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB`);

  const all = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  all.gaussian = {
    command: COMMAND,
    machine,
    node: process.version,
    date: new Date().toISOString(),
    timing: TIMING,
    load: [loadBefore, loadAfter],
    rows,
    comparisons,
    ...(skipped ? { skipped } : {}),
    notes: hugePageNote(),
  };
  mkdirSync(dirname(RESULTS), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(all, null, 2)}\n`);
  console.log(`wrote ${RESULTS}`);
  writeFileSync(NOISE_DOCS_PATH, renderNoiseDocs(readNoiseResults(RESULTS)));
  console.log(`wrote ${NOISE_DOCS_PATH}`);
}

main();
