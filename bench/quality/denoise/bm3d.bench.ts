/**
 * BM3D / CBM3D quality on the standard test sets, against the published figures
 * (DnCNN paper, Zhang et al. TIP 2017, table II: BM3D BSD68 sigma 25 28.57 dB, Set12
 * sigma 25 29.97, sigma 50 26.72; FFDNet paper table: CBM3D CBSD68 sigma 25 30.71).
 * Grey noisy inputs are the stored .npy files of shared/benchmarks (numpy-seeded);
 * CBSD68 has none stored, so its noisy inputs are made here with hush's seeded
 * addGaussianNoise, seed 25000 + index in sorted file order (sigma 25, no clipping).
 *
 *   npx tsc -p tsconfig.json && node dist/bench/quality/denoise/bm3d.bench.js \
 *     [--set set12|bsd68|cbsd68|all] [--sigma 25|50] [--limit N] [--threads N] [--opt name=value ...]
 *     [--no-write | --out results.json]
 * (HUSH_SHARED=path points at the shared data folder when it is not ../shared.)
 *
 * PSNR and SSIM (Wang's config) are computed on the float output with dataRange 1
 * (no clipping, the benchmark protocol) and on the output rounded to uint8.
 */
import { readFile, readdir, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg, platform, release } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readImage } from '../../../src/io/index.js';
import { decodeNpy } from '../../../src/io/npy.js';
import { psnr, ssim } from '../../../src/metrics/index.js';
import { addGaussianNoise } from '../../../src/noise/gaussian.js';
import { withData, type Image } from '../../../src/core/image.js';
import { denoiseBm3dParallel, type DenoiseBm3dOptions } from '../../../src/denoise/bm3d.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SHARED = process.env.HUSH_SHARED ?? join(ROOT, '..', 'shared');

/** Published mean PSNR (dB) and the bar this implementation must reach. */
const PUBLISHED: Record<string, { published?: number; bar?: number }> = {
  'set12/25': { published: 29.97, bar: 29.9 },
  'set12/50': { published: 26.72 },
  'bsd68/25': { published: 28.57, bar: 28.5 },
  'cbsd68/25': { published: 30.71, bar: 30.6 },
};

interface Args {
  sets: string[];
  sigmas: number[];
  limit: number;
  threads?: number;
  opts: Record<string, number | string>;
  write: boolean;
  out?: string;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { sets: [], sigmas: [], limit: Infinity, opts: {}, write: true };
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    const v = argv[i + 1];
    if (k === '--set') {
      a.sets.push(...(v === 'all' ? ['set12', 'bsd68', 'cbsd68'] : [v]));
      i++;
    } else if (k === '--sigma') {
      a.sigmas.push(Number(v));
      i++;
    } else if (k === '--limit') {
      a.limit = Number(v);
      i++;
    } else if (k === '--threads') {
      a.threads = Number(v);
      i++;
    } else if (k === '--opt') {
      const [name, value] = v.split('=');
      a.opts[name] = Number.isNaN(Number(value)) ? value : Number(value);
      i++;
    } else if (k === '--out') {
      a.out = v;
      i++;
    } else if (k === '--no-write') a.write = false;
    else throw new Error(`unknown argument ${k}`);
  }
  if (a.sets.length === 0) a.sets = ['set12', 'bsd68', 'cbsd68'];
  return a;
}

interface Item {
  name: string;
  clean: string;
  noisy?: string;
  seed: number;
}

async function items(set: string, sigma: number): Promise<Item[]> {
  if (set === 'cbsd68') {
    const dir = join(SHARED, 'datasets', 'CBSD68');
    // Python sorted() order is byte-wise; plain JS sort of ASCII names is the same
    const names = (await readdir(dir)).filter((n) => n.endsWith('.png')).sort();
    return names.map((n, i) => ({ name: n.replace('.png', ''), clean: join(dir, n), seed: 1000 * sigma + i }));
  }
  const index = JSON.parse(await readFile(join(SHARED, 'benchmarks', set, 'index.json'), 'utf8')) as {
    items: { name: string; sigma: number; seed: number; clean: string; noisy: string }[];
  };
  return index.items
    .filter((it) => it.sigma === sigma)
    .map((it) => ({ name: it.name, clean: join(SHARED, it.clean), noisy: join(SHARED, it.noisy), seed: it.seed }));
}

function roundUint8(im: Image): Image {
  return withData(im, im.data.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255));
}

interface Row {
  set: string;
  sigma: number;
  name: string;
  width: number;
  height: number;
  psnrNoisy: number;
  psnr: number;
  psnrUint8: number;
  ssim: number;
  ssimUint8: number;
  seconds: number;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const command = `node ${process.argv.slice(1).map((s) => s.replace(`${ROOT}/`, '')).join(' ')}`;
  const cpu = cpus();
  const machine = `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${platform()} ${release()}, Node ${process.version}`;
  console.log(`command: ${command}`);
  const loadStart = loadavg();
  console.log(`machine: ${machine}; load average at start ${loadStart.map((l) => l.toFixed(2)).join(' ')}`);
  console.log(`options: ${JSON.stringify(args.opts)}; threads ${args.threads ?? 'all cores'}`);
  const rows: Row[] = [];
  const summaries: Record<string, unknown>[] = [];
  for (const set of args.sets) {
    const sigmas = args.sigmas.length ? args.sigmas : set === 'set12' ? [25, 50] : [25];
    for (const sigma of sigmas) {
      if (set !== 'set12' && sigma !== 25) continue;
      const list = (await items(set, sigma)).slice(0, args.limit);
      if (list.length === 0) continue;
      console.log(`\n${set} sigma ${sigma}: ${list.length} images`);
      console.log('| image | size | noisy PSNR | PSNR | PSNR uint8 | SSIM | SSIM uint8 | s |');
      console.log('|---|---|---|---|---|---|---|---|');
      const setRows: Row[] = [];
      for (const it of list) {
        const clean = await readImage(it.clean);
        const noisy = it.noisy
          ? decodeNpy(new Uint8Array(await readFile(it.noisy)), { file: it.noisy })
          : addGaussianNoise(clean, { sigma: sigma / 255, seed: it.seed });
        const t0 = performance.now();
        const out = await denoiseBm3dParallel(noisy, { sigma: sigma / 255, ...args.opts } as DenoiseBm3dOptions, { threads: args.threads });
        const seconds = (performance.now() - t0) / 1000;
        const r8 = roundUint8(out);
        const row: Row = {
          set,
          sigma,
          name: it.name,
          width: clean.width,
          height: clean.height,
          psnrNoisy: psnr(clean, noisy, { dataRange: 1 }),
          psnr: psnr(clean, out, { dataRange: 1 }),
          psnrUint8: psnr(clean, r8, { dataRange: 1 }),
          ssim: ssim(clean, out, { dataRange: 1 }),
          ssimUint8: ssim(clean, r8, { dataRange: 1 }),
          seconds,
        };
        setRows.push(row);
        console.log(
          `| ${it.name} | ${clean.width}x${clean.height} | ${row.psnrNoisy.toFixed(2)} | ${row.psnr.toFixed(2)} | ${row.psnrUint8.toFixed(2)} | ` +
            `${row.ssim.toFixed(4)} | ${row.ssimUint8.toFixed(4)} | ${seconds.toFixed(2)} |`,
        );
      }
      const mean = (f: (r: Row) => number): number => setRows.reduce((s, r) => s + f(r), 0) / setRows.length;
      const ref = PUBLISHED[`${set}/${sigma}`] ?? {};
      const summary = {
        set,
        sigma,
        images: setRows.length,
        complete: setRows.length === (await items(set, sigma)).length,
        psnr: mean((r) => r.psnr),
        psnrUint8: mean((r) => r.psnrUint8),
        ssim: mean((r) => r.ssim),
        ssimUint8: mean((r) => r.ssimUint8),
        secondsPerMegapixel: setRows.reduce((s, r) => s + r.seconds, 0) / setRows.reduce((s, r) => s + (r.width * r.height) / 1e6, 0),
        published: ref.published ?? null,
        bar: ref.bar ?? null,
        passes: ref.bar === undefined ? null : mean((r) => r.psnr) >= ref.bar,
      };
      summaries.push(summary);
      console.log(
        `| **mean** | | ${mean((r) => r.psnrNoisy).toFixed(2)} | **${summary.psnr.toFixed(2)}** | ${summary.psnrUint8.toFixed(2)} | ` +
          `${summary.ssim.toFixed(4)} | ${summary.ssimUint8.toFixed(4)} | ${summary.secondsPerMegapixel.toFixed(2)} s/MP |`,
      );
      if (ref.published !== undefined) {
        console.log(`published ${ref.published.toFixed(2)} dB${ref.bar !== undefined ? `, bar ${ref.bar.toFixed(2)}: ${summary.passes ? 'met' : 'NOT met'}` : ''}${summary.complete ? '' : ' (subset)'}`);
      }
      rows.push(...setRows);
    }
  }
  const loadEnd = loadavg();
  console.log(`\nload average at end ${loadEnd.map((l) => l.toFixed(2)).join(' ')}`);
  if (!args.write) return;
  // results accumulate per (set, sigma): a run replaces the entries it measured and keeps the others
  const out = args.out ?? join(ROOT, 'bench', 'results', 'bm3d-quality.json');
  await mkdir(dirname(out), { recursive: true });
  let previous: { summaries: Record<string, unknown>[]; rows: Row[] } = { summaries: [], rows: [] };
  try {
    previous = JSON.parse(await readFile(out, 'utf8')) as typeof previous;
  } catch {
    // first run
  }
  const run = { command, machine, date: new Date().toISOString(), options: args.opts, threads: args.threads ?? null, loadStart, loadEnd };
  const measured = new Set(summaries.map((x) => `${String(x.set)}/${String(x.sigma)}`));
  const keep = <T extends { set?: unknown; sigma?: unknown }>(list: T[]): T[] => list.filter((x) => !measured.has(`${String(x.set)}/${String(x.sigma)}`));
  const result = {
    note: 'one entry per (set, sigma), each with the run that produced it',
    summaries: [...keep(previous.summaries), ...summaries.map((x) => ({ ...x, run }))],
    rows: [...keep(previous.rows), ...rows],
  };
  await writeFile(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`wrote ${out}`);
}

await main();
