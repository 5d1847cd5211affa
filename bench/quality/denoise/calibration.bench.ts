/**
 * Calibration quality on real images: the parameters chosen by the self-supervised
 * J-invariant loss (no clean image) against the oracle, the best PSNR over the same grid
 * using the clean image. Bar: within 0.3 dB on Set12 sigma 25 for nl-means,
 * tv-chambolle and wavelet. Also reported per image: whether the loss curve and the
 * true-error curve have their minimum at the same or a neighbouring setting; the
 * Noise2Self shrinkage lambda f + (1 - lambda) x (lambda = sigma^2 / loss) on the
 * J-invariant output, against the plain and J-invariant outputs; and the SPEC's
 * donut-median claim (loss lowest at radius 3 on the camera image with sigma 0.1).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/quality/denoise/calibration.bench.js \
 *     [--methods nl-means,tv-chambolle,wavelet] [--images 01,02,...] [--sigma 25|50] [--loss adaptive|approximate|full]
 *     [--max-masks N] [--finalists N] [--no-refine] [--suffix TEXT]
 *     [--interpolation renoised|four-neighbour|donut] [--set set12|bsd68]
 *     [--threads N] [--shrinkage 01,02,03] [--skip-donut] [--no-write]
 *
 * Noisy inputs: the stored shared/benchmarks/set12 (or bsd68) .npy files (numpy-seeded). The donut
 * check makes its sigma-0.1 input with hush's addGaussianNoise (seed 0), as Set12 has no
 * stored sigma-0.1 input; Set12 01.png is the cameraman. Writes bench/results/calibration.json
 * (calibration-<fill>.json for a fill other than the default).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../../src/io/index.js';
import { mse, psnr } from '../../../src/metrics/index.js';
import { addGaussianNoise } from '../../../src/noise/index.js';
import type { Image } from '../../../src/core/image.js';
import { DENOISER_REGISTRY, DENOISERS, estimateImageSigma, type DenoiserInfo } from '../../../src/denoise/index.js';
import { calibrateDenoiser, DEFAULT_CALIBRATION_INTERPOLATION, DEFAULT_CALIBRATION_LOSS, shrink, shrinkageWeight, type CalibrateDenoiserResult, type CalibrationLoss } from '../../../src/denoise/calibrate.js';
import { denoiseInvariant, type Interpolation } from '../../../src/denoise/invariant.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SHARED = process.env.HUSH_SHARED ?? join(ROOT, '..', 'shared');
const SET12 = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
const BAR_DB = 0.3;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

/** The registered denoiser, or the `<ID>_DENOISER` export of src/denoise/<id>.js while it is not registered yet. */
async function loadDenoiser(id: string): Promise<{ info: DenoiserInfo; registered: boolean } | undefined> {
  if ((DENOISERS as readonly string[]).includes(id)) return { info: (DENOISER_REGISTRY as Record<string, DenoiserInfo>)[id], registered: true };
  try {
    const mod = (await import(`../../../src/denoise/${id}.js`)) as Record<string, unknown>;
    const key = Object.keys(mod).find((k) => k.endsWith('_DENOISER'));
    return key ? { info: mod[key] as DenoiserInfo, registered: false } : undefined;
  } catch {
    return undefined;
  }
}

function machine(): string {
  const c = cpus();
  return `${c[0]?.model.trim() ?? 'unknown CPU'} (${c.length} logical CPUs, ${Math.round(totalmem() / 2 ** 30)} GiB), ${platform()} ${release()}`;
}

const load = (): string => loadavg().map((v) => v.toFixed(2)).join(' ');

/** Grid coordinates of each table row, for "same or neighbouring setting" (a refined row: its fractional position between the two grid values around it). */
function coordinates(r: CalibrateDenoiserResult): number[][] {
  const axes = new Map<string, (number | string)[]>();
  for (const e of r.table) if (!e.refined) for (const [k, v] of Object.entries(e.params)) if (!(axes.get(k) ?? axes.set(k, []).get(k)!).includes(v)) axes.get(k)!.push(v);
  const position = (vals: (number | string)[], v: number | string): number => {
    const i = vals.indexOf(v);
    if (i >= 0 || typeof v !== 'number') return i;
    const sorted = (vals as number[]).slice().sort((a, b) => a - b);
    const j = sorted.findIndex((x) => x > v);
    return vals.indexOf(sorted[j - 1]) + (v - sorted[j - 1]) / (sorted[j] - sorted[j - 1]);
  };
  return r.table.map((e) => [...axes.entries()].map(([k, vals]) => position(vals, e.params[k])));
}

/** The setting, showing only the parameters the grid varies (`vary`), or all when not given. */
function settingText(p: Record<string, number | string>, vary?: ReadonlySet<string>): string {
  return Object.entries(p).filter(([k]) => !vary || vary.has(k)).map(([k, v]) => `${k}=${typeof v === 'number' ? Number(v.toPrecision(3)) : v}`).join(' ');
}

function varying(r: CalibrateDenoiserResult): Set<string> {
  const seen = new Map<string, Set<number | string>>();
  for (const e of r.table) for (const [k, v] of Object.entries(e.params)) (seen.get(k) ?? seen.set(k, new Set()).get(k)!).add(v);
  return new Set([...seen].filter(([, v]) => v.size > 1).map(([k]) => k));
}

interface Row {
  image: string;
  sigmaEstimated255: number;
  calibrated: Record<string, number | string>;
  oracle: Record<string, number | string>;
  calibratedPsnr: number;
  /** the best PSNR over every setting tried (the grid and any refined setting) */
  oraclePsnr: number;
  /** the best PSNR over the grid alone (the pre-refinement definition of the oracle) */
  gridOraclePsnr: number;
  gapDb: number;
  /** denoiser calls spent on the loss (reference runs not counted) */
  calls: number;
  refined: Record<string, number | string>[];
  /** Chebyshev distance between the loss minimum and the true-error minimum on the grid */
  settingsApart: number;
  seconds: number;
  table: { params: Record<string, number | string>; loss: number; masks: number; refined: boolean; psnr: number; invariantMse: number }[];
}

async function main(): Promise<void> {
  const methods = (arg('methods') ?? 'nl-means,tv-chambolle,wavelet').split(',');
  const set = arg('set') ?? 'set12';
  if (set !== 'set12' && set !== 'bsd68') throw new Error(`--set: set12 or bsd68, not ${set}`);
  const all = set === 'set12' ? SET12 : Array.from({ length: 68 }, (_, i) => `test${String(i + 1).padStart(3, '0')}`);
  const images = (arg('images') ?? all.join(',')).split(',');
  const sigma255 = Number(arg('sigma') ?? 25);
  const loss = (arg('loss') ?? DEFAULT_CALIBRATION_LOSS) as CalibrationLoss;
  const maxMasks = arg('max-masks') === undefined ? undefined : Number(arg('max-masks'));
  const refine = process.argv.includes('--no-refine') ? false : undefined;
  const finalists = arg('finalists') === undefined ? undefined : Number(arg('finalists'));
  const interpolation = (arg('interpolation') ?? DEFAULT_CALIBRATION_INTERPOLATION) as Interpolation;
  const threads = arg('threads') === undefined ? undefined : Number(arg('threads'));
  const shrinkImages = (arg('shrinkage') ?? '01,02,03').split(',').filter((s) => s !== '');
  const command = `node dist/bench/quality/denoise/calibration.bench.js ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`# ${command}`);
  console.log(`# ${machine()}; node ${process.version}; load average at start ${load()}`);
  const pairs: { name: string; clean: Image; noisy: Image }[] = [];
  for (const name of images) {
    pairs.push({
      name,
      clean: await readImage(join(SHARED, 'datasets', set === 'set12' ? 'Set12' : 'BSD68', `${name}.png`)),
      noisy: await readImage(join(SHARED, 'benchmarks', set, `sigma${sigma255}`, `${name}.npy`)),
    });
  }
  const results: Record<string, unknown> = {};
  for (const id of methods) {
    const found = await loadDenoiser(id);
    if (!found) {
      console.log(`\n## ${id}: not available (no src/denoise/${id}.ts yet); skipped`);
      results[id] = { skipped: 'not available' };
      continue;
    }
    const { info, registered } = found;
    console.log(`\n## ${id}${registered ? '' : ' (not registered yet: loaded from its file)'}, ${set === 'set12' ? 'Set12' : 'BSD68'} sigma ${sigma255}, ${loss} loss, ${interpolation} fill, load ${load()}`);
    console.log('image  sigma^  calibrated setting                 oracle setting                     calib dB  oracle dB   gap  apart  calls  seconds');
    const rows: Row[] = [];
    for (const { name, clean, noisy } of pairs) {
      const t0 = performance.now();
      const r = await calibrateDenoiser(noisy, info, undefined, { reference: clean, loss, interpolation, maxMasks, refine, finalists, context: { threads } });
      const seconds = (performance.now() - t0) / 1000;
      let oracle = 0;
      for (let i = 1; i < r.table.length; i++) if ((r.table[i].psnr as number) > (r.table[oracle].psnr as number)) oracle = i;
      const gridOraclePsnr = Math.max(...r.table.filter((e) => !e.refined).map((e) => e.psnr as number));
      const coords = coordinates(r);
      const apart = Math.max(0, ...coords[r.bestIndex].map((c, d) => Math.abs(c - coords[oracle][d])));
      const row: Row = {
        image: name,
        sigmaEstimated255: r.sigma * 255,
        calibrated: r.table[r.bestIndex].params,
        oracle: r.table[oracle].params,
        calibratedPsnr: r.table[r.bestIndex].psnr as number,
        oraclePsnr: r.table[oracle].psnr as number,
        gridOraclePsnr,
        gapDb: (r.table[oracle].psnr as number) - (r.table[r.bestIndex].psnr as number),
        settingsApart: apart,
        seconds,
        calls: r.calls,
        refined: r.table.filter((e) => e.refined).map((e) => e.params),
        table: r.table.map((e) => ({ params: e.params, loss: e.loss, masks: e.masks as number, refined: e.refined === true, psnr: e.psnr as number, invariantMse: e.invariantMse as number })),
      };
      rows.push(row);
      const vary = varying(r);
      console.log(
        `${name.padEnd(5)}  ${row.sigmaEstimated255.toFixed(2).padStart(6)}  ${settingText(row.calibrated, vary).padEnd(33)}  ${settingText(row.oracle, vary).padEnd(33)}  ${row.calibratedPsnr.toFixed(2).padStart(8)}  ${row.oraclePsnr.toFixed(2).padStart(9)}  ${row.gapDb.toFixed(2).padStart(4)}  ${String(Number(apart.toFixed(2))).padStart(5)}  ${String(row.calls).padStart(5)}  ${seconds.toFixed(1).padStart(7)}`,
      );
    }
    const mean = (f: (r: Row) => number): number => rows.reduce((s, r) => s + f(r), 0) / rows.length;
    const worst = Math.max(...rows.map((r) => r.gapDb));
    const summary = {
      meanCalibratedPsnr: mean((r) => r.calibratedPsnr),
      meanOraclePsnr: mean((r) => r.oraclePsnr),
      meanGapDb: mean((r) => r.gapDb),
      worstGapDb: worst,
      imagesWithinBar: rows.filter((r) => r.gapDb <= BAR_DB).length,
      meanGridOracleGapDb: mean((r) => r.gridOraclePsnr - r.calibratedPsnr),
      meanCalls: mean((r) => r.calls),
      gridSize: rows[0]?.table.filter((t) => !t.refined).length,
      minimaSameOrNeighbour: rows.filter((r) => r.settingsApart <= 1 + 1e-9).length,
      passes: worst <= BAR_DB,
    };
    console.log(
      `mean   calibrated ${summary.meanCalibratedPsnr.toFixed(2)} dB, oracle ${summary.meanOraclePsnr.toFixed(2)} dB, mean gap ${summary.meanGapDb.toFixed(3)} dB, worst ${worst.toFixed(3)} dB; ` +
        `${summary.imagesWithinBar}/${rows.length} within ${BAR_DB} dB; ${summary.meanCalls.toFixed(1)} calls per image (grid ${summary.gridSize}); minima same or neighbouring on ${summary.minimaSameOrNeighbour}/${rows.length}: ${summary.passes ? 'PASS' : 'FAIL'}`,
    );

    // shrinkage on the J-invariant output (stride^2 more denoiser runs: a few images only)
    const shrinkRows: Record<string, unknown>[] = [];
    for (const { name, clean, noisy } of pairs.filter((p) => shrinkImages.includes(p.name))) {
      const rowFor = rows.find((r) => r.image === name) as Row;
      const best = { ...rowFor.calibrated };
      const sigma = estimateImageSigma(noisy);
      const opts = info.usesSigma && info.params.some((p) => p.name === 'sigma') ? { sigma, ...best } : best;
      const plain = await info.denoise(noisy, opts, { threads });
      const inv = await denoiseInvariant(noisy, (im) => info.denoise(im, opts, { threads }), { stride: 4 });
      const fullLoss = mse(noisy, inv);
      const lambdaApprox = shrinkageWeight(sigma, rowFor.table.find((t) => settingText(t.params) === settingText(rowFor.calibrated))?.loss ?? fullLoss);
      const lambdaFull = shrinkageWeight(sigma, fullLoss);
      const s = {
        image: name,
        lambdaApproximate: lambdaApprox,
        lambdaFull,
        plainPsnr: psnr(clean, plain, { dataRange: 1 }),
        invariantPsnr: psnr(clean, inv, { dataRange: 1 }),
        shrunkInvariantPsnr: psnr(clean, shrink(inv, noisy, lambdaFull), { dataRange: 1 }),
        shrunkInvariantApproxLambdaPsnr: psnr(clean, shrink(inv, noisy, lambdaApprox), { dataRange: 1 }),
        shrunkPlainPsnr: psnr(clean, shrink(plain, noisy, lambdaFull), { dataRange: 1 }),
      };
      shrinkRows.push(s);
      console.log(
        `shrinkage ${name} (${settingText(best, varying({ table: rowFor.table } as unknown as CalibrateDenoiserResult))}): lambda ${lambdaFull.toFixed(4)} (approx-loss lambda ${lambdaApprox.toFixed(4)}); plain ${s.plainPsnr.toFixed(2)} dB, J-invariant ${s.invariantPsnr.toFixed(2)} dB, ` +
          `shrunk J-invariant ${s.shrunkInvariantPsnr.toFixed(2)} dB (${(s.shrunkInvariantPsnr - s.invariantPsnr >= 0 ? '+' : '') + (s.shrunkInvariantPsnr - s.invariantPsnr).toFixed(2)}), shrunk plain (formula not valid there) ${s.shrunkPlainPsnr.toFixed(2)} dB`,
      );
    }
    results[id] = { registered, summary, rows, shrinkage: shrinkRows };
  }

  // the SPEC's donut-median claim
  if (!process.argv.includes('--skip-donut')) {
    const found = await loadDenoiser('donut-median');
    if (!found) {
      console.log('\n## donut-median: not available; claim not checked');
    } else {
      const clean = await readImage(join(SHARED, 'datasets', 'Set12', '01.png'));
      const noisy = addGaussianNoise(clean, { sigma: 0.1, seed: 0 });
      const radii = [1, 2, 3, 4, 5, 6];
      console.log(`\n## donut-median on Set12 01 (cameraman, 256x256), sigma 0.1 (hush addGaussianNoise, seed 0), load ${load()}`);
      console.log('radius  loss ||f(x)-x||^2  true MSE   PSNR   loss of the masked (J-invariant wrapper) version');
      const direct: { radius: number; loss: number; mse: number }[] = [];
      const wrapped = await calibrateDenoiser(noisy, found.info, { radius: radii }, { sigma: 0.1, interpolation, context: { threads } });
      for (const radius of radii) {
        const out = await found.info.denoise(noisy, { radius }, { threads });
        direct.push({ radius, loss: mse(noisy, out), mse: mse(clean, out) });
        const w = wrapped.table.find((e) => e.params.radius === radius)!;
        console.log(`${String(radius).padStart(6)}  ${direct.at(-1)!.loss.toFixed(6).padStart(16)}  ${direct.at(-1)!.mse.toFixed(6)}  ${psnr(clean, out, { dataRange: 1 }).toFixed(2)}  ${w.loss.toFixed(6)}`);
      }
      const argmin = (v: number[]): number => v.indexOf(Math.min(...v));
      const lossBest = radii[argmin(direct.map((d) => d.loss))];
      const trueBest = radii[argmin(direct.map((d) => d.mse))];
      console.log(`loss lowest at radius ${lossBest}, true error lowest at radius ${trueBest}; SPEC: both at 3 -> ${lossBest === 3 && trueBest === 3 ? 'reproduced' : 'NOT reproduced'}`);
      let python: unknown;
      let camera512: unknown;
      try {
        // the same check in hush on scikit-image's own 512x512 camera, written out by Python when it is there
        const tmp = join((await import('node:os')).tmpdir(), `hush-camera-${process.pid}.npy`);
        execFileSync('/usr/bin/python3', ['-c', `import numpy as np; from skimage import data; np.save('${tmp}', (data.camera() / 255.0).astype(np.float32))`], { timeout: 120000 });
        const cam = await readImage(tmp);
        (await import('node:fs')).rmSync(tmp, { force: true });
        const camNoisy = addGaussianNoise(cam, { sigma: 0.1, seed: 0 });
        const rows512: { radius: number; loss: number; mse: number }[] = [];
        for (const radius of radii) {
          const out = await found.info.denoise(camNoisy, { radius }, { threads });
          rows512.push({ radius, loss: mse(camNoisy, out), mse: mse(cam, out) });
        }
        const l512 = radii[argmin(rows512.map((d) => d.loss))];
        const t512 = radii[argmin(rows512.map((d) => d.mse))];
        camera512 = { rows: rows512, lossBest: l512, trueBest: t512 };
        console.log(`hush donut-median on scikit-image's camera (512x512, sigma 0.1, hush seed 0): loss lowest at radius ${l512}, true error at ${t512}; losses ${rows512.map((d) => d.loss.toFixed(5)).join(' ')}`);
      } catch (e) {
        camera512 = { error: (e as Error).message.split('\n')[0] };
      }
      try {
        // scikit-image's own camera (512x512) as in the Noise2Self notebook, for comparison; never needed by the product
        const out = execFileSync('/usr/bin/python3', ['-c', DONUT_PY], { encoding: 'utf8', timeout: 300000 });
        python = JSON.parse(out);
        console.log(`scikit-image camera (512x512), scipy median over the donut, numpy seed 0: ${out.trim()}`);
      } catch (e) {
        python = { error: (e as Error).message.split('\n')[0] };
      }
      results['donut-median'] = { direct, wrapped: wrapped.table, lossBest, trueBest, reproduced: lossBest === 3 && trueBest === 3, camera512, python };
    }
  }

  if (!process.argv.includes('--no-write')) {
    const suffix = [set === 'set12' ? '' : set, sigma255 === 25 ? '' : `sigma${sigma255}`, interpolation === DEFAULT_CALIBRATION_INTERPOLATION ? '' : interpolation, loss === DEFAULT_CALIBRATION_LOSS ? '' : loss, arg('suffix') ?? ''].filter((x) => x).join('-');
    const out = join(ROOT, 'bench', 'results', suffix ? `calibration-${suffix}.json` : 'calibration.json');
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify({ command, machine: machine(), node: process.version, date: new Date().toISOString(), loadAtEnd: load(), set, sigma255, loss, maxMasks, finalists, refine, interpolation, results }, null, 1)}\n`);
    console.log(`\nwrote ${out}`);
  }
}

const DONUT_PY = `
import json, numpy as np
from scipy import ndimage as ndi
from skimage import data, img_as_float
from skimage.morphology import disk
clean = img_as_float(data.camera())
noisy = clean + 0.1 * np.random.default_rng(0).standard_normal(clean.shape)
out = []
for r in range(1, 7):
    fp = disk(r).astype(bool); fp[r, r] = False
    f = ndi.median_filter(noisy, footprint=fp, mode='reflect')
    out.append({'radius': r, 'loss': float(np.mean((f - noisy) ** 2)), 'mse': float(np.mean((f - clean) ** 2))})
print(json.dumps({'lossBest': min(out, key=lambda d: d['loss'])['radius'], 'trueBest': min(out, key=lambda d: d['mse'])['radius'], 'rows': out}))
`;

await main();
