/**
 * Automatic mode against the classical reference: `denoiseAuto` with the noise level
 * unknown (estimated) against BM3D given the true sigma, on Set12 at sigma 15, 25 and 50.
 * Target: within 0.5 dB of BM3D-with-known-sigma, in at most 15 s per megapixel on 2 cores.
 *
 *   npx tsc -p tsconfig.json && node dist/bench/quality/denoise/auto.bench.js \
 *     [--sigmas 15,25,50] [--images 01,02,...] [--threads N] [--budget S] [--candidates-detail] [--no-write]
 *
 * Noisy inputs: sigma 25 and 50 are the stored shared/benchmarks/set12 .npy files
 * (numpy-seeded). Sigma 15 is not stored (see shared/benchmarks/README.md), so it is
 * made here with hush's seeded addGaussianNoise (seed 15000 + index, no clipping, float):
 * the same protocol, but hush's generator, not numpy's, so not the published inputs.
 * Candidates: DEFAULT_AUTO_CANDIDATES, taken from the registry, or from their files
 * while they are not registered yet. Writes bench/results/auto.json.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../../src/io/index.js';
import { psnr } from '../../../src/metrics/index.js';
import { addGaussianNoise } from '../../../src/noise/index.js';
import type { Image } from '../../../src/core/image.js';
import { DENOISER_REGISTRY, DENOISERS, type DenoiserInfo } from '../../../src/denoise/index.js';
import { AUTO_SECONDS_PER_MEGAPIXEL, DEFAULT_AUTO_CANDIDATES, denoiseAuto } from '../../../src/denoise/auto.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SHARED = process.env.HUSH_SHARED ?? join(ROOT, '..', 'shared');
const SET12 = ['01', '02', '03', '04', '05', '06', '07', '08', '09', '10', '11', '12'];
const TARGET_DB = 0.5;

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : undefined;
}

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

interface Row {
  sigma255: number;
  image: string;
  megapixels: number;
  bm3dKnownSigmaPsnr: number;
  bm3dSeconds: number;
  autoPsnr: number;
  gapDb: number;
  chosen: string;
  params: Record<string, unknown>;
  sigmaEstimated255: number;
  autoSeconds: number;
  calibrationSeconds: number;
  secondsPerMegapixel: number;
  budget: number;
  candidatesTried: number;
  /** per candidate: best loss on the calibration crop and settings tried (NaN and 0 when skipped) */
  candidates: { method: string; loss: number; settings: number; params: Record<string, unknown> }[];
  reason: string;
  load: string;
}

async function main(): Promise<void> {
  const sigmas = (arg('sigmas') ?? '15,25,50').split(',').map(Number);
  const images = (arg('images') ?? SET12.join(',')).split(',');
  const threads = arg('threads') === undefined ? 2 : Number(arg('threads'));
  const budgetArg = arg('budget') === undefined ? undefined : Number(arg('budget'));
  const command = `node dist/bench/quality/denoise/auto.bench.js ${process.argv.slice(2).join(' ')}`.trim();
  console.log(`# ${command}`);
  console.log(`# ${machine()}; node ${process.version}; threads ${threads}; load average at start ${load()}`);
  const bm3d = await loadDenoiser('bm3d');
  if (!bm3d) throw new Error('bm3d is not available: nothing to compare with');
  const candidates: DenoiserInfo[] = [];
  for (const id of DEFAULT_AUTO_CANDIDATES) {
    const found = await loadDenoiser(id);
    if (found) candidates.push(found.info);
  }
  const registeredAll = DEFAULT_AUTO_CANDIDATES.filter((id) => (DENOISERS as readonly string[]).includes(id));
  console.log(`# candidates: ${candidates.map((c) => c.id).join(', ')}${registeredAll.length < candidates.length ? ` (registered: ${registeredAll.join(', ') || 'none'}; the rest loaded from their files)` : ''}`);
  const rows: Row[] = [];
  for (const sigma255 of sigmas) {
    console.log(`\n## Set12 sigma ${sigma255}${sigma255 === 15 ? ' (inputs made with hush addGaussianNoise, seed 15000 + index)' : ' (stored numpy inputs)'}`);
    console.log('image  BM3D known sigma  auto      gap   chosen (sigma^ estimated)                 seconds  s/MP   load');
    for (const name of images) {
      const clean = await readImage(join(SHARED, 'datasets', 'Set12', `${name}.png`));
      const noisy: Image =
        sigma255 === 15
          ? addGaussianNoise(clean, { sigma: 15 / 255, seed: 15000 + SET12.indexOf(name) })
          : await readImage(join(SHARED, 'benchmarks', 'set12', `sigma${sigma255}`, `${name}.npy`));
      const t0 = performance.now();
      const ref = await bm3d.info.denoise(noisy, { sigma: sigma255 / 255 }, { threads });
      const bm3dSeconds = (performance.now() - t0) / 1000;
      const refPsnr = psnr(clean, ref, { dataRange: 1 });
      const t1 = performance.now();
      const r = await denoiseAuto(noisy, { candidates, budget: budgetArg, context: { threads } });
      const autoSeconds = (performance.now() - t1) / 1000;
      const autoPsnr = psnr(clean, r.image, { dataRange: 1 });
      const mp = (clean.width * clean.height) / 1e6;
      const row: Row = {
        sigma255,
        image: name,
        megapixels: mp,
        bm3dKnownSigmaPsnr: refPsnr,
        bm3dSeconds,
        autoPsnr,
        gapDb: refPsnr - autoPsnr,
        chosen: r.chosen.method,
        params: r.chosen.params,
        sigmaEstimated255: r.sigma * 255,
        autoSeconds,
        calibrationSeconds: r.calibrationSeconds,
        secondsPerMegapixel: autoSeconds / mp,
        budget: r.budget,
        candidatesTried: r.table.filter((t) => !t.skipped).length,
        candidates: r.table.map((t) => ({ method: t.method, loss: t.loss, settings: t.settings.length, params: t.params })),
        reason: r.reason,
        load: load(),
      };
      rows.push(row);
      const losses = r.table.map((t) => `${t.method} ${t.skipped ? '-' : `${t.loss.toPrecision(4)} (${t.settings.length})`}`).join(', ');
      if (process.argv.includes('--candidates-detail')) console.log(`       losses on the ${r.region.width}x${r.region.height} crop (settings tried): ${losses}`);
      console.log(
        `${name.padEnd(5)}  ${refPsnr.toFixed(2).padStart(16)}  ${autoPsnr.toFixed(2).padStart(5)}  ${row.gapDb.toFixed(2).padStart(6)}   ${`${row.chosen} (${row.sigmaEstimated255.toFixed(1)})`.padEnd(40)} ${autoSeconds.toFixed(1).padStart(7)}  ${row.secondsPerMegapixel.toFixed(0).padStart(4)}   ${row.load.split(' ')[0]}`,
      );
    }
    const these = rows.filter((r) => r.sigma255 === sigma255);
    const mean = (f: (r: Row) => number): number => these.reduce((s, r) => s + f(r), 0) / these.length;
    console.log(
      `mean   ${mean((r) => r.bm3dKnownSigmaPsnr).toFixed(2).padStart(16)}  ${mean((r) => r.autoPsnr).toFixed(2).padStart(5)}  ${mean((r) => r.gapDb).toFixed(2).padStart(6)}   worst gap ${Math.max(...these.map((r) => r.gapDb)).toFixed(2)} dB; ` +
        `${these.filter((r) => r.gapDb <= TARGET_DB).length}/${these.length} within ${TARGET_DB} dB; mean ${mean((r) => r.secondsPerMegapixel).toFixed(0)} s/MP (budget ${AUTO_SECONDS_PER_MEGAPIXEL} s/MP, at least 1 s)`,
    );
  }
  const summary = sigmas.map((s) => {
    const these = rows.filter((r) => r.sigma255 === s);
    const mean = (f: (r: Row) => number): number => these.reduce((a, r) => a + f(r), 0) / these.length;
    return {
      sigma255: s,
      meanBm3dKnownSigma: mean((r) => r.bm3dKnownSigmaPsnr),
      meanAuto: mean((r) => r.autoPsnr),
      meanGapDb: mean((r) => r.gapDb),
      worstGapDb: Math.max(...these.map((r) => r.gapDb)),
      withinTarget: these.filter((r) => r.gapDb <= TARGET_DB).length,
      images: these.length,
      meanSecondsPerMegapixel: mean((r) => r.secondsPerMegapixel),
      meanBm3dSecondsPerMegapixel: mean((r) => r.bm3dSeconds / r.megapixels),
      chosen: Object.fromEntries([...new Set(these.map((r) => r.chosen))].map((m) => [m, these.filter((r) => r.chosen === m).length])),
    };
  });
  if (!process.argv.includes('--no-write')) {
    const out = join(ROOT, 'bench', 'results', budgetArg === undefined ? 'auto.json' : `auto-budget${budgetArg}.json`);
    await mkdir(dirname(out), { recursive: true });
    await writeFile(out, `${JSON.stringify({ command, machine: machine(), node: process.version, threads, date: new Date().toISOString(), loadAtEnd: load(), targetDb: TARGET_DB, summary, rows }, null, 1)}\n`);
    console.log(`\nwrote ${out}`);
  }
}

await main();
