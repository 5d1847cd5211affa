/**
 * Trains hush's built-in grey Gaussian denoiser (models/dncnn-grey-s25 when done):
 * DnCNN, Noise2True on ../shared/datasets/Train400 with sigma 25/255 noise drawn on
 * the fly, validated on 8 held-out Train400 images. Resumable: run it again with the
 * same arguments and it continues from runs/<name>/checkpoint.
 *
 *   node dist/scripts/train-default-model.js [--steps N] [--depth D] [--width W] [--out runs/dncnn-s25] [--budget SECONDS]
 */
import { parseArgs } from 'node:util';
import { createModel } from '../src/models/hush-model.js';
import { listImageFiles, loadTrainingImages } from '../src/training/data.js';
import { fit } from '../src/training/fit.js';
import { addNoise } from '../src/noise/index.js';
import { createImage } from '../src/core/image.js';

const { values } = parseArgs({
  options: {
    steps: { type: 'string', default: '20000' },
    depth: { type: 'string', default: '12' },
    width: { type: 'string', default: '48' },
    batch: { type: 'string', default: '16' },
    patch: { type: 'string', default: '48' },
    lr: { type: 'string', default: '0.001' },
    out: { type: 'string', default: 'runs/dncnn-s25' },
    budget: { type: 'string' },
    data: { type: 'string', default: '../shared/datasets/Train400' },
    threads: { type: 'string' },
  },
});
const sigma = 25 / 255;
const files = await listImageFiles(values.data);
const images = await loadTrainingImages(files, { channels: 1 });
// hold out every 50th image for validation, noise seeded per image
const val = images.filter((_, i) => i % 50 === 0);
const train = images.filter((_, i) => i % 50 !== 0);
const validation = val.map((clean, i) => {
  const noisy = addNoise(createImage(clean.width, clean.height, 1, clean.data), { model: 'gaussian', sigma, seed: 9000 + i }).data;
  return { clean, noisy: { ...clean, data: noisy } };
});
const model = await createModel('dncnn', { channels: 1, depth: Number(values.depth), width: Number(values.width), seed: 1 });
console.log(`training dncnn depth ${values.depth} width ${values.width} on ${train.length} images, validating on ${val.length}; ${model.model.countParams()} parameters`);
const t0 = Date.now();
const r = await fit(model, {
  method: 'n2true',
  dataKind: 'clean',
  sets: train.map((t) => [t]),
  noise: { model: 'gaussian', sigma },
  sigma,
  steps: Number(values.steps),
  batchSize: Number(values.batch),
  patchSize: Number(values.patch),
  lr: Number(values.lr),
  schedule: 'cosine',
  seed: 1,
  threads: values.threads === undefined ? undefined : Number(values.threads),
  validation,
  validateEvery: 500,
  checkpointEvery: 100,
  out: values.out,
  resume: true,
  budgetSeconds: values.budget === undefined ? undefined : Number(values.budget),
  dataDescription: 'Train400 (392 images; every 50th held out), sigma 25/255 Gaussian on the fly',
  onProgress: (p) => {
    if (p.event !== 'step' || p.step % 20 === 0)
      console.log(`${new Date().toISOString()} step ${p.step}/${p.steps} loss ${p.loss.toExponential(3)} lr ${p.lr.toExponential(2)} ${p.stepsPerSecond.toFixed(2)} steps/s${p.valPsnr === undefined ? '' : ` val ${p.valPsnr.toFixed(2)} dB (best ${p.bestPsnr?.toFixed(2)})`} [${p.event}]`);
  },
});
console.log(`stopped: ${r.stopped} at step ${r.steps}, best val ${r.bestPsnr?.toFixed(3)} dB, ${((Date.now() - t0) / 1000).toFixed(0)} s this call`);
