/**
 * Speed of Poisson and Poisson-Gaussian noise on a 24 MP image, against numpy's
 * Generator.poisson in the same run, as a ratio. The image is a ramp from 0 to 1, so
 * the means span both samplers (inversion below 10, PTRS above). One thread. hush and
 * numpy are timed in alternating rounds (each case once per round, after a warm-up) and
 * each case keeps its best round, so both sides see the same load on a shared machine.
 * Prints a table, merges its entry into bench/results/noise.json and re-renders
 * docs/noise.md.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/speed/noise/poisson.bench.js
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createImage } from '../../../src/core/image.js';
import { addPoissonNoise } from '../../../src/noise/poisson.js';
import { addPoissonGaussianNoise } from '../../../src/noise/poisson-gaussian.js';
import { hugePageNote, runNumpy, seconds, type Row } from './harness.js';
import { NOISE_DOCS_PATH, readNoiseResults, renderNoiseDocs } from '../../../scripts/gen-noise-docs.js';

const COMMAND = 'node dist/bench/speed/noise/poisson.bench.js';
const RESULTS = fileURLToPath(new URL('../../../../bench/results/noise.json', import.meta.url));
const WIDTH = 6000;
const HEIGHT = 4000;
const ROUNDS = 5;
const PEAKS = [10, 100, 10000];
const TIMING = `best of ${ROUNDS} rounds, hush and numpy alternating, each case timed once per round after a warm-up`;

/** One round of numpy timings: seconds per peak, each after its own warm-up call. */
const NUMPY = `
import json, time
import numpy as np
W, H = ${WIDTH}, ${HEIGHT}
rng = np.random.default_rng(0)
x = np.tile(np.linspace(0, 1, W, dtype=np.float32), (H, 1))
out = {'version': np.__version__}
for peak in ${JSON.stringify(PEAKS)}:
    f = lambda: (rng.poisson(x * peak) / peak).astype(np.float32)
    f()
    t0 = time.perf_counter(); f(); out[str(peak)] = time.perf_counter() - t0
print(json.dumps(out))
`;

function main(): void {
  const machine = `${os.cpus()[0]?.model ?? 'unknown CPU'} (${os.cpus().length} logical CPUs, ${Math.round(os.totalmem() / 2 ** 30)} GiB), ${os.platform()} ${os.arch()}`;
  console.log(`$ ${COMMAND}`);
  console.log(`machine: ${machine}, node ${process.version}`);
  const loadBefore = os.loadavg()[0];
  const n = WIDTH * HEIGHT;
  const ramp = new Float32Array(n);
  for (let y = 0; y < HEIGHT; y++) for (let x = 0; x < WIDTH; x++) ramp[y * WIDTH + x] = x / (WIDTH - 1);
  const image = createImage(WIDTH, HEIGHT, 1, ramp);
  // a sky in e-/s: 0.01..10 e-/s over 300 s, simulating a 4x shorter exposure
  const sky = createImage(WIDTH, HEIGHT, 1, ramp.map((v) => 0.01 + 10 * v));
  const cases: { what: string; note: string; run: () => void }[] = [
    ...PEAKS.map((peak) => ({
      what: `addPoissonNoise, peak ${peak}`,
      note: `means 0..${peak} across the ramp`,
      run: () => void addPoissonNoise(image, { peak, seed: 1 }),
    })),
    {
      what: 'addPoissonGaussianNoise, 0..10 e-/s, t 300 s, r 4',
      note: 'one Poisson and one normal deviate per pixel',
      run: () => void addPoissonGaussianNoise(sky, { exposureTime: 300, ratio: 4, seed: 1 }),
    },
  ];
  for (const c of cases) c.run();
  const best = cases.map(() => Infinity);
  const numpyBest = PEAKS.map(() => Infinity);
  let skipped: string | undefined;
  let numpyVersion = '';
  for (let round = 0; round < ROUNDS; round++) {
    cases.forEach((c, k) => {
      const t0 = seconds();
      c.run();
      best[k] = Math.min(best[k], seconds() - t0);
    });
    if (skipped) continue;
    const np = runNumpy(NUMPY);
    if (typeof np === 'string') {
      skipped = `numpy comparison (${np})`;
      continue;
    }
    numpyVersion = String(np.version);
    PEAKS.forEach((peak, k) => (numpyBest[k] = Math.min(numpyBest[k], np[String(peak)] as number)));
    process.stdout.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  const rows: Row[] = cases.map((c, k) => ({ what: c.what, samples: n, samplesPerSecond: n / best[k], note: c.note }));
  const comparisons: { what: string; ratio: number; note: string }[] = [];
  if (!skipped) {
    PEAKS.forEach((peak, k) => {
      rows.push({ what: `numpy ${numpyVersion} poisson(x * ${peak}) / ${peak}`, samples: n, samplesPerSecond: n / numpyBest[k] });
      comparisons.push({
        what: `addPoissonNoise vs numpy, peak ${peak}`,
        ratio: numpyBest[k] / best[k],
        note: 'hush / numpy samples per second, above 1 means hush is faster',
      });
    });
  }

  console.log('');
  console.log(`${'what'.padEnd(52)} ${'samples'.padStart(11)} ${'M samples/s'.padStart(12)}`);
  for (const r of rows) console.log(`${r.what.padEnd(52)} ${String(r.samples).padStart(11)} ${(r.samplesPerSecond / 1e6).toFixed(1).padStart(12)}`);
  for (const c of comparisons) console.log(`${c.what}: ${c.ratio.toFixed(2)}x`);
  if (skipped) console.log(`skipped: ${skipped}`);
  const loadAfter = os.loadavg()[0];
  console.log(`1-minute load average ${loadBefore.toFixed(1)} before, ${loadAfter.toFixed(1)} after, on ${os.cpus().length} CPUs`);

  const all = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, unknown>) : {};
  all.poisson = {
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
