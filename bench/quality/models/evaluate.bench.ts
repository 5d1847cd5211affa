/**
 * Quality of a trained network on the fixed-noise benchmarks of ../shared/benchmarks
 * (Set12 sigma 25/50, BSD68 sigma 25) and on CBSD68 (noise made with hush's seeded
 * generator, as the BM3D bench does), with the per-channel mean shift (colour shift): mean PSNR and SSIM (Wang) on the float output
 * and on the uint8-rounded output papers report, image by image, plus the time per
 * image. The model runs through the product path (openModel + denoiseWithModel,
 * onnxruntime by default).
 *
 *   npm run build && node dist/bench/quality/models/evaluate.bench.js --model runs/x/best [--set bsd68] [--sigma 25] [--runtime onnx] [--inference auto|single|j-invariant] [--limit N] [--out results.json]
 */
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createImage, withData, type Image } from '../../../src/core/image.js';
import { readImage } from '../../../src/io/index.js';
import { decodeNpy } from '../../../src/io/npy.js';
import { addGaussianNoise } from '../../../src/noise/gaussian.js';
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
  /** the largest per-channel mean shift of an output against its clean image, in 1/255 units, and how many images stay within 1/255 */
  maxChannelMeanShift255: number;
  /** the mean over images of each channel's signed shift (output - clean), in 1/255 units */
  meanChannelShifts255: number[];
  /** the largest difference between the shifts of one image's channels: a colour cast, as opposed to a brightness offset */
  maxChannelSpread255: number;
  imagesWithinOne255: number;
}

const roundUint8 = (im: Image) => withData(im, im.data.map((v) => Math.round(Math.min(1, Math.max(0, v)) * 255) / 255));
const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / a.length;

const sigma = Number(values.sigma);
// CBSD68 has no stored noisy inputs: they are made as the BM3D bench makes them, with
// hush's seeded addGaussianNoise, seed 1000 * sigma + index in sorted file order, no clipping
const allItems: { name: string; sigma: number; clean: string; noisy?: string; seed?: number }[] =
  values.set === 'cbsd68'
    ? (await readdir(join(SHARED, 'datasets', 'CBSD68')))
        .filter((n) => n.endsWith('.png'))
        .sort()
        .map((n, i) => ({ name: n.replace('.png', ''), sigma, clean: join('datasets', 'CBSD68', n), seed: 1000 * sigma + i }))
    : (JSON.parse(await readFile(join(SHARED, 'benchmarks', values.set as string, 'index.json'), 'utf8')) as { items: { name: string; sigma: number; clean: string; noisy: string }[] }).items;
const items = allItems.filter((i) => i.sigma === sigma).slice(0, values.limit === undefined ? undefined : Number(values.limit));
if (items.length === 0) throw new Error(`no ${values.set} items at sigma ${sigma}`);
const command = `node dist/bench/quality/models/evaluate.bench.js ${process.argv.slice(2).join(' ')}`;
console.log(`command: ${command}`);
console.log(`machine: ${cpus().length} x ${cpus()[0].model}, Node ${process.version}; load ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
const model = await openModel(values.model, { runtime: values.runtime as ModelRuntime });
console.log(`model: ${values.model} (${model.runtime}), trained: ${JSON.stringify(model.metadata?.training ?? {})}`);
const rows: { name: string; psnr: number; psnrUint8: number; ssim: number; ssimUint8: number; seconds: number; channelMeanShift255: number; channelMeanShifts255: number[] }[] = [];
function channelMean(im: Image, k: number): number {
  let s = 0;
  for (let i = k; i < im.data.length; i += im.channels) s += im.data[i];
  return s / (im.data.length / im.channels);
}
for (const it of items) {
  const clean = await readImage(join(SHARED, it.clean));
  const noisy =
    it.noisy === undefined
      ? addGaussianNoise(clean, { sigma: sigma / 255, seed: it.seed as number })
      : createImage(clean.width, clean.height, 1, decodeNpy(new Uint8Array(await readFile(join(SHARED, it.noisy))), { file: it.noisy }).data);
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
    // colour shift: the largest |mean of an output channel - mean of the clean channel|, in 1/255 units
    channelMeanShift255: 0,
    // each channel's signed shift (output - clean), in 1/255 units: a brightness offset moves them together, a colour cast apart
    channelMeanShifts255: Array.from({ length: clean.channels }, (_, k) => (channelMean(out, k) - channelMean(clean, k)) * 255),
  };
  r.channelMeanShift255 = Math.max(...r.channelMeanShifts255.map(Math.abs));
  rows.push(r);
  console.log(`${it.name.padEnd(8)} PSNR ${r.psnr.toFixed(3)} (uint8 ${r.psnrUint8.toFixed(3)})  SSIM ${r.ssim.toFixed(4)}  mean shift ${r.channelMeanShift255.toFixed(3)}/255  ${seconds.toFixed(2)} s`);
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
  maxChannelMeanShift255: Math.max(...rows.map((r) => r.channelMeanShift255)),
  imagesWithinOne255: rows.filter((r) => r.channelMeanShift255 <= 1).length,
  meanChannelShifts255: Array.from({ length: rows[0]?.channelMeanShifts255.length ?? 0 }, (_, k) => mean(rows.map((r) => r.channelMeanShifts255[k]))),
  maxChannelSpread255: Math.max(...rows.map((r) => Math.max(...r.channelMeanShifts255) - Math.min(...r.channelMeanShifts255))),
};
console.log(`mean over ${rows.length}: PSNR ${summary.psnr.toFixed(3)} dB (uint8 ${summary.psnrUint8.toFixed(3)}), SSIM ${summary.ssim.toFixed(4)} (uint8 ${summary.ssimUint8.toFixed(4)}), ${summary.secondsPerImage.toFixed(2)} s/image`);
console.log(`per-channel mean shift: at most ${summary.maxChannelMeanShift255.toFixed(3)}/255; ${summary.imagesWithinOne255}/${rows.length} images within 1/255; mean signed shift per channel ${summary.meanChannelShifts255.map((v) => v.toFixed(2)).join(' / ')} (/255); largest spread between one image's channels ${summary.maxChannelSpread255.toFixed(2)}/255`);
if (values.out) {
  await mkdir(dirname(values.out), { recursive: true });
  await writeFile(values.out, JSON.stringify({ bench: 'evaluate', label: values.label, command, date: new Date().toISOString(), model: values.model, training: model.metadata?.training, inference: values.inference, summary, rows }, null, 2));
  console.log(`wrote ${values.out}`);
}
