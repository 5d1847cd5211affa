/**
 * Single-image self-supervised denoising (denoiseSelfSupervised, `hush denoise
 * --self-supervised`) on the fixed noisy inputs of ../shared/benchmarks: each image is
 * denoised from itself alone within the budget; mean PSNR/SSIM against the clean
 * image, steps taken, seconds per image.
 *
 *   npm run build && node dist/bench/quality/training/self-supervised.bench.js [--set set12] [--sigma 25] [--method n2self] [--network dncnn|unet-baby] [--budget 120] [--limit N] [--threads N] [--out results.json]
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createImage } from '../../../src/core/image.js';
import { readImage } from '../../../src/io/index.js';
import { decodeNpy } from '../../../src/io/npy.js';
import { psnr, ssim } from '../../../src/metrics/index.js';
import { denoiseSelfSupervised, type SelfSupervisedMethod, type SelfSupervisedNetwork } from '../../../src/training/self-supervised.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SHARED = join(ROOT, '..', 'shared');
const { values } = parseArgs({
  options: {
    set: { type: 'string', default: 'set12' },
    sigma: { type: 'string', default: '25' },
    method: { type: 'string', default: 'n2fast' },
    network: { type: 'string', default: 'dncnn' },
    budget: { type: 'string', default: '120' },
    patch: { type: 'string' },
    batch: { type: 'string' },
    lr: { type: 'string' },
    alpha: { type: 'string' },
    passes: { type: 'string' },
    depth: { type: 'string' },
    width: { type: 'string' },
    only: { type: 'string' },
    limit: { type: 'string' },
    threads: { type: 'string' },
    out: { type: 'string' },
  },
});
const index = JSON.parse(await readFile(join(SHARED, 'benchmarks', values.set as string, 'index.json'), 'utf8')) as { items: { name: string; sigma: number; clean: string; noisy: string }[] };
const items = index.items.filter((i) => i.sigma === Number(values.sigma) && (values.only === undefined || values.only.split(',').includes(i.name))).slice(0, values.limit === undefined ? undefined : Number(values.limit));
const command = `node dist/bench/quality/training/self-supervised.bench.js ${process.argv.slice(2).join(' ')}`.trim();
console.log(`command: ${command}`);
console.log(`machine: ${cpus().length} x ${cpus()[0].model}, Node ${process.version}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const rows: Record<string, number | string>[] = [];
for (const it of items) {
  const clean = await readImage(join(SHARED, it.clean));
  const npy = decodeNpy(new Uint8Array(await readFile(join(SHARED, it.noisy))), { file: it.noisy });
  const noisy = createImage(clean.width, clean.height, 1, npy.data);
  const r = await denoiseSelfSupervised(noisy, {
    method: values.method as SelfSupervisedMethod,
    network: values.network as SelfSupervisedNetwork,
    budgetSeconds: Number(values.budget),
    patchSize: values.patch === undefined ? undefined : Number(values.patch),
    batchSize: values.batch === undefined ? undefined : Number(values.batch),
    ...Object.fromEntries((['lr', 'alpha', 'passes', 'depth', 'width'] as const).filter((k) => values[k] !== undefined).map((k) => [k, Number(values[k])])),
    threads: values.threads === undefined ? undefined : Number(values.threads),
    seed: 1,
  });
  const row = { name: it.name, noisyPsnr: psnr(clean, noisy, { dataRange: 1 }), psnr: psnr(clean, r.image, { dataRange: 1 }), ssim: ssim(clean, r.image, { dataRange: 1 }), steps: r.steps, seconds: r.seconds, settings: JSON.stringify(r.settings) };
  rows.push(row);
  console.log(`${it.name.padEnd(8)} noisy ${row.noisyPsnr.toFixed(2)} -> ${row.psnr.toFixed(3)} dB  SSIM ${row.ssim.toFixed(4)}  ${row.steps} steps  ${row.seconds.toFixed(1)} s  load ${loadavg()[0].toFixed(2)}`);
}
const mean = (k: string) => rows.reduce((a, r) => a + (r[k] as number), 0) / rows.length;
console.log(`mean over ${rows.length}: PSNR ${mean('psnr').toFixed(3)} dB, SSIM ${mean('ssim').toFixed(4)}, ${mean('seconds').toFixed(1)} s per image`);
if (values.out) {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, `${JSON.stringify({ bench: 'self-supervised', command, date: new Date().toISOString(), machine: `${cpus().length} x ${cpus()[0].model}`, rows, mean: { psnr: mean('psnr'), ssim: mean('ssim'), seconds: mean('seconds') } }, null, 1)}\n`);
}
