/**
 * Quality of a trained network on the fixed-noise benchmarks of ../shared/benchmarks
 * (Set12 sigma 25/50, BSD68 sigma 25): mean PSNR and SSIM (Wang) on the float output
 * and on the uint8-rounded output papers report, image by image, plus the time per
 * image. The model runs through the product path (openModel + denoiseWithModel,
 * onnxruntime by default).
 *
 *   npm run build && node dist/bench/quality/models/evaluate.bench.js --model runs/x/best [--set bsd68] [--sigma 25] [--runtime onnx] [--inference auto|single|j-invariant] [--limit N] [--out results.json]
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createImage, withData, type Image } from '../../../src/core/image.js';
import { readImage } from '../../../src/io/index.js';
import { decodeNpy } from '../../../src/io/npy.js';
import { psnr, ssim } from '../../../src/metrics/index.js';
import { denoiseWithModel, openModel, type ModelRuntime } from '../../../src/runtime/denoise-model.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..');
const SHARED = join(ROOT, '..', 'shared');

const { values } = parseArgs({
  options: {
    model: { type: 'string' },
    set: { type: 'string', default: 'bsd68' },
    sigma: { type: 'string', default: '25' },
    runtime: { type: 'string', default: 'onnx' },
    limit: { type: 'string' },
    out: { type: 'string' },
    label: { type: 'string' },
    inference: { type: 'string', default: 'auto' },
  },
});
if (!values.model) throw new Error('--model is required');

export interface EvaluationSummary {
  set: string;
  sigma: number;
  images: number;
  psnr: number;
  psnrUint8: number;
  ssim: number;
  ssimUint8: number;
  secondsPerImage: number;
}

const roundUint8 = (im: Image) => withData(im, im.data.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

const index = JSON.parse(await readFile(join(SHARED, 'benchmarks', values.set as string, 'index.json'), 'utf8')) as {
  items: { name: string; sigma: number; clean: string; noisy: string }[];
};
const sigma = Number(values.sigma);
const items = index.items.filter((i) => i.sigma === sigma).slice(0, values.limit === undefined ? undefined : Number(values.limit));
if (items.length === 0) throw new Error(`no ${values.set} items at sigma ${sigma}`);
const command = `node dist/bench/quality/models/evaluate.bench.js ${process.argv.slice(2).join(' ')}`;
console.log(`command: ${command}`);
console.log(`machine: ${cpus().length} x ${cpus()[0].model}, Node ${process.version}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const model = await openModel(values.model, { runtime: values.runtime as ModelRuntime });
console.log(`model: ${values.model} (${model.runtime}), trained: ${JSON.stringify(model.metadata?.training ?? {})}`);
const rows: { name: string; psnr: number; psnrUint8: number; ssim: number; ssimUint8: number; seconds: number }[] = [];
for (const it of items) {
  const clean = await readImage(join(SHARED, it.clean));
  const npy = decodeNpy(new Uint8Array(await readFile(join(SHARED, it.noisy))), { file: it.noisy });
  const noisy = createImage(clean.width, clean.height, 1, npy.data);
  const t = performance.now();
  const out = await denoiseWithModel(noisy, model, { jInvariant: values.inference === 'auto' ? undefined : values.inference === 'j-invariant' });
  const seconds = (performance.now() - t) / 1000;
  const r = {
    name: it.name,
    psnr: psnr(clean, out, { dataRange: 1 }),
    psnrUint8: psnr(clean, roundUint8(out), { dataRange: 1 }),
    ssim: ssim(clean, out, { dataRange: 1 }),
    ssimUint8: ssim(clean, roundUint8(out), { dataRange: 1 }),
    seconds,
  };
  rows.push(r);
  console.log(`${it.name.padEnd(8)} PSNR ${r.psnr.toFixed(3)} (uint8 ${r.psnrUint8.toFixed(3)})  SSIM ${r.ssim.toFixed(4)}  ${seconds.toFixed(2)} s`);
}
await model.dispose();
const summary: EvaluationSummary = {
  set: values.set as string,
  sigma,
  images: rows.length,
  psnr: mean(rows.map((r) => r.psnr)),
  psnrUint8: mean(rows.map((r) => r.psnrUint8)),
  ssim: mean(rows.map((r) => r.ssim)),
  ssimUint8: mean(rows.map((r) => r.ssimUint8)),
  secondsPerImage: mean(rows.map((r) => r.seconds)),
};
console.log(`mean over ${rows.length}: PSNR ${summary.psnr.toFixed(3)} dB (uint8 ${summary.psnrUint8.toFixed(3)}), SSIM ${summary.ssim.toFixed(4)} (uint8 ${summary.ssimUint8.toFixed(4)}), ${summary.secondsPerImage.toFixed(2)} s/image`);
if (values.out) {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, JSON.stringify({ bench: 'evaluate', label: values.label, command, date: new Date().toISOString(), model: values.model, training: model.metadata?.training, inference: values.inference, summary, rows }, null, 2));
  console.log(`wrote ${values.out}`);
}
