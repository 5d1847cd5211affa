/**
 * Renders docs/noise.md from the noise registry (src/noise/index.ts) and the speed
 * results in bench/results/noise.json, so the model and parameter tables come from
 * the same source of truth as validation and the CLI.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/gen-noise-docs.js           # write
 *   npx tsc -p tsconfig.json && node dist/scripts/gen-noise-docs.js --check   # exit 1 if stale
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NOISE_MODELS, NOISE_REGISTRY, type NoiseParamSpec } from '../src/noise/index.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const NOISE_DOCS_PATH = `${ROOT}docs/noise.md`;
export const NOISE_RESULTS_PATH = `${ROOT}bench/results/noise.json`;

const FUNCTIONS: Record<string, string> = {
  gaussian: 'addGaussianNoise',
  poisson: 'addPoissonNoise',
  'poisson-gaussian': 'addPoissonGaussianNoise',
  'salt-and-pepper': 'addSaltAndPepperNoise',
  partial: 'addPartialNoise',
  'pixel-modification': 'addPixelModificationNoise',
};

const NOTES: Record<string, string> = {
  gaussian:
    'Noise is drawn for every sample (alpha and masked samples are then restored), so the noise at a pixel does not depend on the alpha channel or the mask.',
  poisson:
    'Negative values count as 0 photons (output 0); NaN and infinite samples pass through. Deviates are exact: inversion below a mean of 10, PTRS (Hörmann 1993) above.',
  'poisson-gaussian':
    'All in electrons, for an image in e-/s: S = Pois(x t/r), D = N(0, sqrt(dk t / (3600 r))), R = N(0, ron), output (S + D + R) / (t/r). ' +
    'Samples that are exactly 0 in the source stay 0 (no data). A negative sample is clipped to 0 for the shot noise only and still gets dark and read noise, ' +
    'so sky-subtracted background keeps realistic noise (the spec says "negative source values are clipped to 0 first"; we read the zero test as applying to the source, not to the clipped value). ' +
    'D and R are drawn as one normal with variance dk t/(3600 r) + ron^2, which has the same distribution. ' +
    "Without `exposureTime` the image's FITS `EXPTIME` card is used; convert ADU to electrons (gain) before calling.",
  'salt-and-pepper':
    'Bernoulli per pixel (or per sample): the hit fraction is `amount` on average, not exactly. On physical-scale images (FITS, float TIFF) set `low` and `high` to the black and saturation levels.',
  partial:
    "Rectangles are placed one at a time, each centred on a random uncovered pixel; the last one is cut row by row, so the union covers `fraction` to within one rectangle row (`partialNoiseRegions(width, height, options)` returns them). The inner model runs with everything outside the rectangles masked and with partial's `seed`; its other options go alongside partial's (`{ model: 'partial', inner: 'gaussian', fraction: 0.3, sigma: 0.1 }`).",
  'pixel-modification':
    "Bernoulli per pixel (or per sample). Values are on the unit scale of 8- and 16-bit images; with `value: 'random'` each colour sample gets its own uniform value.",
};

function range(p: NoiseParamSpec): string {
  if (p.type === 'enum') return p.choices.map((c) => `\`'${c}'\``).join(', ');
  if (p.type === 'boolean') return 'true, false';
  const kind = p.integer ? 'integer' : 'number';
  const lo = p.above !== undefined ? `> ${p.above}` : p.min !== undefined ? `>= ${p.min}` : undefined;
  const hi = p.max !== undefined ? `<= ${p.max}` : undefined;
  return [kind, lo, hi].filter(Boolean).join(', ');
}

function defaultText(p: NoiseParamSpec): string {
  if (p.required) return '**required**';
  if (p.default === undefined) return '(see description)';
  return typeof p.default === 'string' ? `\`'${p.default}'\`` : `\`${String(p.default)}\``;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|');

interface SpeedEntry {
  command: string;
  machine: string;
  node: string;
  date: string;
  timing?: string;
  /** 1-minute load average before and after the run */
  load?: [number, number];
  /** what the reader needs to weigh the figures */
  notes?: string[];
  rows: { what: string; samples: number; samplesPerSecond: number; note?: string }[];
  comparisons?: { what: string; ratio: number; note: string }[];
  skipped?: string;
}

export type NoiseResults = Record<string, SpeedEntry>;

export function readNoiseResults(path = NOISE_RESULTS_PATH): NoiseResults | undefined {
  return existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as NoiseResults) : undefined;
}

function renderSpeed(results: NoiseResults | undefined): string[] {
  const out = ['## Speed', ''];
  if (!results || Object.keys(results).length === 0) {
    out.push('No results yet: run the benchmarks below.', '');
    return out;
  }
  for (const [name, r] of Object.entries(results)) {
    out.push(`### ${name}`, '', `Command: \`${r.command}\`  `, `Machine: ${r.machine}, Node ${r.node}, ${r.date.slice(0, 10)}, one thread.  `);
    if (r.timing) out.push(`Timing: ${r.timing}.${r.load ? ` Load average ${r.load[0].toFixed(1)} before, ${r.load[1].toFixed(1)} after.` : ''}`);
    out.push('');
    out.push('| what | samples | samples/s | note |', '|---|---:|---:|---|');
    for (const row of r.rows) {
      out.push(`| ${cell(row.what)} | ${row.samples.toLocaleString('en-US')} | ${(row.samplesPerSecond / 1e6).toFixed(1)} M | ${cell(row.note ?? '')} |`);
    }
    out.push('');
    if (r.comparisons?.length) {
      for (const c of r.comparisons) out.push(`- ${c.what}: **${c.ratio.toFixed(2)}x** (${c.note})`);
      out.push('');
    }
    if (r.skipped) out.push(`Not measured: ${r.skipped}`, '');
    for (const note of r.notes ?? []) out.push(note, '');
  }
  return out;
}

export function renderNoiseDocs(results: NoiseResults | undefined): string {
  const out: string[] = [
    '# Noise models',
    '',
    '<!-- Generated by scripts/gen-noise-docs.ts from src/noise/index.ts and bench/results/noise.json; edit those, then run',
    '     npx tsc -p tsconfig.json && node dist/scripts/gen-noise-docs.js -->',
    '',
    'Every model is a function `(image, options) => Image` that returns a new image: the input is not modified,',
    'alpha channels and masked samples (`image.mask`) are carried through untouched, and every model is seeded',
    '(`seed`, default `0`: the same seed gives the same noise). `sigma` is always a standard deviation on the',
    "image's own value scale: 0..1 for 8- and 16-bit images, physical units for float TIFF, FITS and NPY.",
    'Options are validated against the tables below; an unknown or invalid option throws a `HushError`',
    '(`ERR_INVALID_PARAMETER`) that names the function, the option, what was expected and what was received.',
    '',
    '```ts',
    "import { addNoise, addGaussianNoise, estimateSigma } from 'hush'; // src/noise/index.ts",
    '',
    "const noisy = addGaussianNoise(clean, { sigma: 25 / 255, seed: 1 });      // DnCNN benchmark protocol",
    "const same = addNoise(clean, { model: 'gaussian', sigma: 25 / 255, seed: 1 });",
    "const patchy = addNoise(clean, { model: 'partial', inner: 'poisson', fraction: 0.3, peak: 20 });",
    'const [sigma] = estimateSigma(noisy);                                    // about 0.098',
    '```',
    '',
    '`NOISE_REGISTRY[id]` is `{ id, summary, params, add }` for each id in `NOISE_MODELS`; the CLI builds',
    '`hush noise --model <id>` and its flags from it. `noiseModelParams(model, inner)` lists every option a',
    'call accepts (for `partial`, its own followed by the inner model\'s).',
    '',
    '| model | function | what it does |',
    '|---|---|---|',
  ];
  for (const id of NOISE_MODELS) {
    if (!FUNCTIONS[id] || !NOTES[id]) throw new Error(`gen-noise-docs: no function name or notes for model '${id}'`);
    out.push(`| \`${id}\` | \`${FUNCTIONS[id]}\` | ${cell(NOISE_REGISTRY[id].summary)} |`);
  }
  out.push('');
  for (const id of NOISE_MODELS) {
    const info = NOISE_REGISTRY[id];
    out.push(`## \`${id}\``, '', `\`${FUNCTIONS[id]}(image, options)\`: ${info.summary}.`, '');
    out.push('| option | type | default | description |', '|---|---|---|---|');
    for (const p of info.params) out.push(`| \`${p.name}\` | ${cell(range(p))} | ${defaultText(p)} | ${cell(p.description)} |`);
    out.push('');
    out.push(NOTES[id], '');
  }
  out.push(
    '## Estimating sigma',
    '',
    '`estimateSigma(image): number[]` returns one noise standard deviation per colour channel (alpha excluded),',
    "on the image's value scale: Donoho and Johnstone's median absolute deviation of the finest diagonal",
    'coefficients of a one-level db2 wavelet transform, divided by 0.6745. It reproduces scikit-image\'s',
    '`restoration.estimate_sigma` (pywt `dwtn(image, "db2")`, mode `symmetric`, coefficients that are exactly 0',
    "left out), with pywt's order of summation, so it agrees with scikit-image 0.19 / PyWavelets 1.1 to the last",
    'bit on float64 input (the tests hold reference values). Differences: masked and non-finite samples are left',
    'out (every coefficient they touch is dropped), and a channel with no non-zero coefficient (all zeros) gives',
    '0 where scikit-image gives NaN. On float32 input scikit-image computes in float32; hush always in float64.',
    '',
    'The estimate is reliable for white Gaussian noise on images that are smooth at the finest scale; texture',
    'and edges raise it, and it says nothing about signal-dependent (Poisson) noise beyond an average level.',
    '',
    '## Random numbers',
    '',
    "All randomness goes through `createRng(seed)` in `src/core/rng.ts`: xoshiro128** (32-bit integer",
    'arithmetic), normals from a 256-layer ziggurat (Marsaglia and Tsang 2000, in the layout of Doornik 2005:',
    'layer index, sign and magnitude from disjoint bits of one 32-bit draw, 23 bits of magnitude, enough for',
    "float32 output), Poisson deviates by inversion below a mean of 10 and Hörmann's PTRS above. The tests check",
    'the normals on 1e6 samples (mean, variance, kurtosis, the fraction beyond 3 sigma and beyond the ziggurat',
    "tail edge, a 200-bin chi-square and the Kolmogorov-Smirnov statistic) and the Poisson deviates' moments",
    'and histogram against the exact pmf on both sides of the switch.',
    '',
  );
  out.push(...renderSpeed(results));
  out.push(
    'Reproduce (each prints its table, merges its figures into `bench/results/noise.json` and re-renders this page):',
    '',
    '```sh',
    'npx tsc -p tsconfig.json',
    'node dist/bench/speed/noise/gaussian.bench.js',
    'node dist/bench/speed/noise/poisson.bench.js',
    '```',
    '',
  );
  return out.join('\n');
}

function main(): void {
  const text = renderNoiseDocs(readNoiseResults());
  if (process.argv.includes('--check')) {
    const current = existsSync(NOISE_DOCS_PATH) ? readFileSync(NOISE_DOCS_PATH, 'utf8') : '';
    if (current !== text) {
      console.error('docs/noise.md is out of date: run node dist/scripts/gen-noise-docs.js');
      process.exit(1);
    }
    return;
  }
  writeFileSync(NOISE_DOCS_PATH, text);
  console.log(`wrote ${NOISE_DOCS_PATH}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
