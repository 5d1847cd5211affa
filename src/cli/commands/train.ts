import type { CommandSpec, OptionTable, ParsedArgs } from '../args.js';
import { numberOption, parseCommandArgs, stringOption, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { createProgress, formatDuration } from '../progress.js';
import { flagName } from './noise.js';
import { PALETTE, writeLineChartPng } from '../plot.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { HushError } from '../../core/errors.js';
import { createImage } from '../../core/image.js';
import { checkOneOf } from '../../core/validate.js';
import { NOISE_MODELS, NOISE_REGISTRY, addNoise, type AddNoiseOptions } from '../../noise/index.js';
import { listImageFiles, loadTrainingImages, type TrainImage } from '../../training/data.js';
import { LR_SCHEDULES, TRAINING_ENGINES, fit, type LrSchedule, type OnTheFlyNoise, type ValidationItem } from '../../training/fit.js';
import { METHOD_REGISTRY, TRAINING_METHODS, type DataKind, type TrainingMethod } from '../../training/methods/index.js';
import { MODEL_ARCHITECTURES } from '../../models/types.js';

function methodOptionTable(): OptionTable {
  const table: OptionTable = {};
  for (const id of TRAINING_METHODS) {
    for (const p of METHOD_REGISTRY[id].params) {
      const flag = flagName(p.name);
      if (table[flag]) continue;
      const extra = p.type === 'enum' ? ` (${p.choices.join('|')})` : '';
      table[flag] = { type: 'string', valueName: 'X', description: `${id}...: ${p.description}${extra}` };
    }
  }
  return table;
}

export const spec: CommandSpec = {
  name: 'train',
  summary:
    'Train a denoising network: supervised (n2true), from noisy pairs (n2n), from noisy images alone (n2self, n2v, n2same, n2same-pro; r2r with the noise sigma), or adversarially (gan). Shows a progress bar with loss, validation PSNR, steps/s and ETA; writes metrics.jsonl, checkpoints (resume with --resume after a kill) and the best model to OUT/best.',
  usage: 'hush train --method METHOD --model ARCH[:PRESET] --data DIR|GLOB [--noise gaussian --sigma255 25] --steps N --out DIR [--resume]',
  options: {
    method: { type: 'string', short: 'm', valueName: 'METHOD', description: `training method: ${TRAINING_METHODS.join(', ')}` },
    model: { type: 'string', valueName: 'ARCH[:PRESET]', description: `architecture and preset, e.g. dncnn, unet:noise2same (${MODEL_ARCHITECTURES.filter((a) => a !== 'gan-discriminator').join(', ')})` },
    'model-options': { type: 'string', valueName: 'K=V,...', description: "architecture options, e.g. 'depth=12,width=48'" },
    channels: { type: 'string', valueName: '1|3', description: 'grey (1, default) or RGB (3) model' },
    data: { type: 'string', valueName: 'SPEC', description: 'clean training images: a folder, a glob or a comma list (noise is drawn on the fly)' },
    noisy: { type: 'string', valueName: 'SPEC', description: 'noisy training images (alone for self-supervised methods, or with --clean / --noisy2)' },
    clean: { type: 'string', valueName: 'SPEC', description: 'clean images paired with --noisy (same order and sizes)' },
    noisy2: { type: 'string', valueName: 'SPEC', description: 'second noisy realisations paired with --noisy (Noise2Noise)' },
    noise: { type: 'string', valueName: 'MODEL', description: `noise drawn on the fly on --data: ${NOISE_MODELS.join(', ')}` },
    'noise-options': { type: 'string', valueName: 'K=V,...', description: "the noise model's parameters, e.g. 'peak=30'" },
    sigma255: { type: 'string', valueName: 'S', description: 'Gaussian sigma in 8-bit units (sigma = S/255)' },
    sigma: { type: 'string', valueName: 'S', description: "noise sigma on the data's scale (for Gaussian noise, and n2same's lambda = 2 sigma)" },
    val: { type: 'string', valueName: 'SPEC', description: 'clean validation images (noisy versions drawn once, seeded); default: a split of --data' },
    'val-split': { type: 'string', valueName: 'F', description: 'fraction of clean training images held out for validation when --val is absent (default 0.02, at least 1 image)' },
    steps: { type: 'string', valueName: 'N', description: 'optimizer steps (default 10000)' },
    batch: { type: 'string', valueName: 'N', description: 'patches per step (default 16)' },
    patch: { type: 'string', valueName: 'N', description: 'patch side in pixels (default 64; a multiple of the network\'s)' },
    lr: { type: 'string', valueName: 'LR', description: 'Adam learning rate (default 0.001)' },
    schedule: { type: 'string', valueName: 'S', description: `learning-rate schedule: ${LR_SCHEDULES.join('|')} (default cosine)` },
    augment: { type: 'string', valueName: 'A', description: "'dihedral' (flips and 90-degree rotations, default) or 'none'" },
    zoom: { type: 'string', valueName: 'A,B', description: 'random zoom factors in [A, B] (default none)' },
    seed: { type: 'string', valueName: 'N', description: 'seed of weights, patches, noise and masks (default 1)' },
    threads: { type: 'string', valueName: 'N', description: 'threads (default: all cores, or HUSH_THREADS)' },
    engine: { type: 'string', valueName: 'E', description: "where steps run: 'auto' (default: onnxruntime for networks of convolutions, batch norms, activations and additions, such as dncnn, gan-generator and the GAN without a feature loss; tfjs otherwise), 'onnx' or 'tfjs'" },
    'validate-every': { type: 'string', valueName: 'N', description: 'steps between validations (default 250)' },
    'checkpoint-every': { type: 'string', valueName: 'N', description: 'steps between checkpoints (default 100)' },
    budget: { type: 'string', valueName: 'T', description: "stop (after a checkpoint) after this long: '90s', '20m', '2h' (resume continues)" },
    out: { type: 'string', short: 'o', valueName: 'DIR', description: 'run folder: checkpoint/, best/, metrics.jsonl' },
    resume: { type: 'boolean', description: 'continue from OUT/checkpoint (same settings required)' },
    'resume-from': { type: 'string', valueName: 'RUN', description: "start from another run folder's checkpoint, copied into OUT (same settings, or n2same's for n2same-pro up to its last phase); with --resume, OUT's own checkpoint wins" },
    'stop-after': { type: 'string', valueName: 'N', description: 'stop (after a checkpoint) once N steps are done; --resume continues' },
    json: { type: 'boolean', description: 'print the result as JSON' },
    vgg: { type: 'string', valueName: 'FILE', description: "gan: VGG16 features as a tfjs layers model (Keras VGG16 without top, converted); nothing is downloaded" },
    'gan-preset': { type: 'string', valueName: 'P', description: "gan: loss weights 'readme' (0.5 adversarial, 1 pixel, 1 feature, 0.0001 smooth; default) or 'public-code' (smooth 1, lr 0.002)" },
    'feature-weight': { type: 'string', valueName: 'W', description: 'gan: weight of the VGG feature loss (0: no --vgg needed)' },
    ...methodOptionTable(),
  },
  details:
    'Data: --data gives clean images and --noise draws noise on them at every step; --noisy with --clean or --noisy2 gives pairs; --noisy alone trains the self-supervised methods.\n\nMethods:\n' +
    TRAINING_METHODS.map((id) => `  ${id.padEnd(12)}${METHOD_REGISTRY[id].summary}; flags: ${METHOD_REGISTRY[id].params.map((p) => `--${flagName(p.name)}`).join(' ')}`).join('\n'),
  examples: [
    'hush train --method n2true --model dncnn --model-options depth=12,width=48 --data ../shared/datasets/Train400 --noise gaussian --sigma255 25 --steps 6000 --out runs/dncnn',
    'hush train --method n2same --model unet:noise2same --data ../shared/datasets/Train400 --noise gaussian --sigma255 25 --steps 20000 --out runs/n2same',
    'hush train --method n2v --model unet:baby --noisy my-noisy-stack/ --steps 3000 --out runs/n2v',
    'hush train --method gan --channels 3 --data ../shared/datasets/CBSD432 --noise gaussian --sigma255 25 --vgg vgg16/model.json --steps 10000 --out runs/gan',
  ],
};

/** 'a=1,b=x' -> { a: 1, b: 'x' } (numbers and booleans parsed). */
export function parseKeyValues(spec: CommandSpec, flag: string, text: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (text === undefined) return out;
  for (const part of text.split(/[,;]/).map((s) => s.trim()).filter((s) => s !== '')) {
    const eq = part.indexOf('=');
    if (eq < 1) throw usageError(spec, `expected key=value pairs for --${flag} but received '${part}'`);
    const key = part.slice(0, eq).trim().replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
    const raw = part.slice(eq + 1).trim();
    const n = Number(raw);
    out[key] = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(n) ? n : raw;
  }
  return out;
}

/** '90s' | '20m' | '2h' | '120' (seconds) -> seconds. */
export function parseDuration(spec: CommandSpec, flag: string, text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(s|m|min|h)?\s*$/.exec(text);
  if (!m) throw usageError(spec, `expected a duration like 90s, 20m or 2h for --${flag} but received '${text}'`);
  const v = Number(m[1]);
  const unit = m[2] ?? 's';
  return unit === 'h' ? v * 3600 : unit === 's' ? v : v * 60;
}

function intOption(spec: CommandSpec, values: ParsedArgs['values'], name: string, min = 1): number | undefined {
  const v = numberOption(spec, values, name);
  if (v !== undefined && (!Number.isInteger(v) || v < min)) throw usageError(spec, `expected a whole number of at least ${min} for --${name} but received ${v}`);
  return v;
}

async function load(spec: CommandSpec, flag: string, text: string, channels: 1 | 3, patch: number, onProgress: (d: number, t: number) => void): Promise<TrainImage[]> {
  const files = await listImageFiles(text, `hush ${spec.name} --${flag}`);
  return loadTrainingImages(files, { channels, minSide: patch, onProgress });
}

function pairUp(spec: CommandSpec, a: TrainImage[], b: TrainImage[], flagB: string): TrainImage[][] {
  if (a.length !== b.length) throw usageError(spec, `--noisy has ${a.length} images but --${flagB} has ${b.length}; pairs must match one to one (sorted by path)`);
  return a.map((x, i) => {
    const y = b[i];
    if (x.width !== y.width || x.height !== y.height) {
      throw new HushError('ERR_INVALID_PARAMETER', `hush train: '${x.file}' is ${x.width}x${x.height} but its pair '${y.file}' is ${y.width}x${y.height}`);
    }
    return [x, y];
  });
}

/** Loss and validation PSNR against the step, from OUT/metrics.jsonl, as OUT/curves.png. */
export async function drawCurves(out: string): Promise<string> {
  const rows = (await readFile(join(out, 'metrics.jsonl'), 'utf8'))
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as { step: number; loss: number; valPsnr?: number; event: string });
  // a resumed run appends: keep the last row of each step
  const byStep = new Map(rows.map((r) => [r.step, r]));
  const sorted = [...byStep.values()].sort((a, b) => a.step - b.step);
  const val = sorted.filter((r) => (r.event === 'validation' || r.event === 'done') && r.valPsnr !== undefined);
  const path = join(out, 'curves.png');
  await writeLineChartPng(
    path,
    [
      { name: 'training loss', x: sorted.map((r) => r.step), y: sorted.map((r) => r.loss), colour: PALETTE[0] },
      ...(val.length > 0 ? [{ name: 'validation PSNR (dB)', x: val.map((r) => r.step), y: val.map((r) => r.valPsnr as number), axis: 'right' as const, colour: PALETTE[1] }] : []),
    ],
    { title: 'training', xLabel: 'step', yLabel: 'loss', y2Label: 'PSNR (dB)' },
    { ifExists: 'overwrite' },
  );
  return path;
}

/** --method gan: ImageDenoisingGAN's generator against its discriminator (src/training/gan.ts). */
async function runGan(values: ParsedArgs['values'], io: CliIO): Promise<number> {
  const { GAN_PRESETS, fitGan } = await import('../../training/gan.js');
  const { createModel } = await import('../../models/hush-model.js');
  const out = stringOption(values, 'out');
  if (out === undefined) throw usageError(spec, 'missing --out DIR (the run folder)');
  for (const k of ['noisy', 'clean', 'noisy2', 'val', 'resume-from', ...Object.keys(methodOptionTable())]) if (values[k] !== undefined) throw usageError(spec, `--${k} does not apply to --method gan (it trains from clean --data with --noise)`);
  const dataSpec = stringOption(values, 'data');
  if (dataSpec === undefined || values.noise === undefined) throw usageError(spec, '--method gan trains from clean images: give --data DIR and --noise MODEL (e.g. --noise gaussian --sigma255 25)');
  const channelsRaw = numberOption(spec, values, 'channels') ?? 3;
  if (channelsRaw !== 1 && channelsRaw !== 3) throw usageError(spec, `expected 1 or 3 for --channels but received ${channelsRaw}`);
  const channels = channelsRaw;
  const preset = checkOneOf('hush train', '--gan-preset', values['gan-preset'] ?? 'readme', Object.keys(GAN_PRESETS) as (keyof typeof GAN_PRESETS)[]);
  const featureWeight = numberOption(spec, values, 'feature-weight');
  const vggPath = stringOption(values, 'vgg');
  if (vggPath === undefined && featureWeight !== 0) throw usageError(spec, '--method gan needs --vgg FILE for its feature loss (VGG16 features in tfjs format), or --feature-weight 0');
  const noiseModel = checkOneOf('hush train', '--noise', values.noise, NOISE_MODELS);
  const params = parseKeyValues(spec, 'noise-options', stringOption(values, 'noise-options'));
  const sigma255 = numberOption(spec, values, 'sigma255');
  const sigma = sigma255 !== undefined ? sigma255 / 255 : numberOption(spec, values, 'sigma');
  if (NOISE_REGISTRY[noiseModel].params.some((p) => p.name === 'sigma') && sigma !== undefined && params.sigma === undefined) params.sigma = sigma;
  const noise = { model: noiseModel, ...params } as OnTheFlyNoise;
  addNoise(createImage(1, 1, 1), { ...(noise as AddNoiseOptions), seed: 1 } as AddNoiseOptions);
  const patch = intOption(spec, values, 'patch', 8) ?? 64;
  const images = await load(spec, 'data', dataSpec, channels, patch, () => {});
  const seed = intOption(spec, values, 'seed', 0) ?? 1;
  const g = await createModel('gan-generator', { channels, seed, ...parseKeyValues(spec, 'model-options', stringOption(values, 'model-options')) });
  const d = await createModel('gan-discriminator', { channels, seed: seed + 1 });
  const vgg = vggPath === undefined ? undefined : await (await import('../../training/losses.js')).loadVgg16Features(vggPath);
  const steps = intOption(spec, values, 'steps') ?? 10000;
  io.stderr(`hush train: gan (${preset}) on ${images.length} clean image(s), generator ${g.model.countParams()} / discriminator ${d.model.countParams()} parameters, ${steps} steps -> ${out}\n`);
  const progress = createProgress({ label: 'train gan', write: io.stderr, isTTY: io.isTTY, delaySeconds: 0, etaFromFirstUpdate: true });
  const r = await fitGan(g, d, {
    sets: images.map((i) => [i]),
    noise,
    vgg,
    preset,
    weights: featureWeight === undefined ? undefined : { feature: featureWeight },
    steps,
    batchSize: intOption(spec, values, 'batch'),
    patchSize: patch,
    lr: numberOption(spec, values, 'lr'),
    seed,
    checkpointEvery: intOption(spec, values, 'checkpoint-every'),
    out,
    resume: Boolean(values.resume),
    budgetSeconds: values.budget === undefined ? undefined : parseDuration(spec, 'budget', String(values.budget)),
    stopAfter: intOption(spec, values, 'stop-after'),
    dataDescription: dataSpec,
    engine: values.engine === undefined ? undefined : checkOneOf('hush train', '--engine', String(values.engine), TRAINING_ENGINES),
    threads: intOption(spec, values, 'threads'),
    onProgress: (p) => progress.update(p.step / p.steps, `step ${p.step}/${p.steps} G ${p.loss.toExponential(3)} D ${p.discriminatorLoss.toExponential(3)} ${p.stepsPerSecond.toFixed(2)} steps/s`),
  });
  progress.done();
  g.dispose();
  d.dispose();
  vgg?.dispose();
  const curves = await drawCurves(out);
  const summary = { method: 'gan', preset, engine: r.engine, steps: r.steps, stopped: r.stopped, finalLoss: r.finalLoss, seconds: r.elapsed, out, best: `${out}/best`, curves };
  io.stdout(values.json ? `${JSON.stringify(summary, null, 2)}\n` : `trained gan-generator (${preset}, ${r.engine} engine): ${r.steps}/${steps} steps in ${formatDuration(r.elapsed)}; generator loss ${r.finalLoss.toExponential(3)}\nbest model: ${out}/best (model.json, model.onnx); curves: ${curves}\n`);
  return 0;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (positionals.length > 0) throw usageError(spec, `unexpected argument '${positionals[0]}' (training data goes in --data or --noisy)`);
  if (values.method === undefined) throw usageError(spec, `missing --method (one of ${[...TRAINING_METHODS, 'gan'].join(', ')})`);
  if (values.method === 'gan') return runGan(values, io);
  for (const k of ['vgg', 'gan-preset', 'feature-weight']) if (values[k] !== undefined) throw usageError(spec, `--${k} is for --method gan`);
  const method = checkOneOf('hush train', '--method', values.method, [...TRAINING_METHODS, 'gan']) as TrainingMethod;
  const info = METHOD_REGISTRY[method];
  const out = stringOption(values, 'out');
  if (out === undefined) throw usageError(spec, 'missing --out DIR (the run folder)');
  const methodFlags = new Set(info.params.map((p) => flagName(p.name)));
  for (const id of TRAINING_METHODS) {
    for (const p of METHOD_REGISTRY[id].params) {
      const f = flagName(p.name);
      if (values[f] !== undefined && !methodFlags.has(f)) throw usageError(spec, `--${f} does not apply to --method ${method} (its flags: ${[...methodFlags].map((x) => `--${x}`).join(' ') || 'none'})`);
    }
  }
  const methodOptions: Record<string, unknown> = {};
  for (const p of info.params) {
    const raw = values[flagName(p.name)];
    if (raw === undefined) continue;
    const n = Number(raw);
    methodOptions[p.name] = p.type === 'number' && String(raw).trim() !== '' && Number.isFinite(n) ? n : raw;
  }

  const [arch, preset] = (stringOption(values, 'model') ?? 'dncnn').split(':');
  checkOneOf('hush train', '--model', arch, MODEL_ARCHITECTURES.filter((a) => a !== 'gan-discriminator'));
  const channelsRaw = numberOption(spec, values, 'channels') ?? 1;
  if (channelsRaw !== 1 && channelsRaw !== 3) throw usageError(spec, `expected 1 or 3 for --channels but received ${channelsRaw}`);
  const channels = channelsRaw;
  const modelOptions = parseKeyValues(spec, 'model-options', stringOption(values, 'model-options'));

  const steps = intOption(spec, values, 'steps') ?? 10000;
  const batchSize = intOption(spec, values, 'batch') ?? 16;
  const patch = intOption(spec, values, 'patch', 4) ?? 64;
  const lr = numberOption(spec, values, 'lr');
  const schedule = values.schedule === undefined ? undefined : (checkOneOf('hush train', '--schedule', values.schedule, LR_SCHEDULES) as LrSchedule);
  const seed = intOption(spec, values, 'seed', 0) ?? 1;
  const threads = intOption(spec, values, 'threads');
  const budget = values.budget === undefined ? undefined : parseDuration(spec, 'budget', String(values.budget));
  const augment = checkOneOf('hush train', '--augment', values.augment ?? 'dihedral', ['dihedral', 'none']);
  let zoom: [number, number] | undefined;
  if (values.zoom !== undefined) {
    const z = String(values.zoom).split(',').map(Number);
    if (z.length !== 2 || !z.every((v) => Number.isFinite(v) && v > 0) || z[0] > z[1]) throw usageError(spec, `expected two factors A,B with 0 < A <= B for --zoom but received '${String(values.zoom)}'`);
    zoom = [z[0], z[1]];
  }

  // noise on the fly
  const sigma255 = numberOption(spec, values, 'sigma255');
  let sigma = numberOption(spec, values, 'sigma');
  if (sigma255 !== undefined) {
    if (sigma !== undefined) throw usageError(spec, 'give --sigma or --sigma255, not both');
    sigma = sigma255 / 255;
  }
  let noise: OnTheFlyNoise | undefined;
  if (values.noise !== undefined) {
    const model = checkOneOf('hush train', '--noise', values.noise, NOISE_MODELS);
    const params = parseKeyValues(spec, 'noise-options', stringOption(values, 'noise-options'));
    if ('seed' in params) throw usageError(spec, '--noise-options takes no seed: the noise of each step is seeded from --seed');
    if (NOISE_REGISTRY[model].params.some((p) => p.name === 'sigma') && sigma !== undefined && params.sigma === undefined) params.sigma = sigma;
    noise = { model, ...params } as OnTheFlyNoise;
    // validate now, on a 1-pixel image, so a bad option fails before loading data
    addNoise(createImage(1, 1, 1), { ...(noise as AddNoiseOptions), seed: 1 } as AddNoiseOptions);
  }

  if (method === 'r2r' && sigma === undefined) throw usageError(spec, '--method r2r recorrupts with Gaussian noise of the data\'s sigma: give --sigma255 S or --sigma S');
  // the kind of data, from the flags alone, so a method that cannot use it fails before any loading
  const kindFromFlags: DataKind | undefined =
    values.data !== undefined ? 'clean' : values.noisy === undefined ? undefined : values.clean !== undefined ? 'noisy-clean' : values.noisy2 !== undefined ? 'noisy-noisy' : 'noisy';
  if (kindFromFlags !== undefined && !info.accepts.includes(kindFromFlags)) {
    throw usageError(spec, `--method ${method} cannot train from ${kindFromFlags} data (it takes: ${info.accepts.join(', ')})`);
  }
  const progressLoad = createProgress({ label: 'loading data', write: io.stderr, isTTY: io.isTTY });
  const onLoad = (d: number, t: number) => progressLoad.update(d / t);
  let dataKind: DataKind;
  let sets: TrainImage[][];
  let valClean: TrainImage[] = [];
  let description: string;
  const dataSpec = stringOption(values, 'data');
  const noisySpec = stringOption(values, 'noisy');
  if (dataSpec !== undefined) {
    if (noisySpec !== undefined) throw usageError(spec, 'give --data (clean images) or --noisy, not both');
    if (!noise) throw usageError(spec, '--data holds clean images: give --noise MODEL (and its level, e.g. --sigma255 25) to draw noise on them');
    dataKind = 'clean';
    let clean = await load(spec, 'data', dataSpec, channels, patch, onLoad);
    description = dataSpec;
    if (values.val === undefined) {
      const split = numberOption(spec, values, 'val-split') ?? 0.02;
      if (!(split >= 0 && split < 1)) throw usageError(spec, `expected a fraction in [0, 1) for --val-split but received ${split}`);
      const every = split === 0 ? 0 : Math.max(2, Math.round(1 / split));
      if (every > 0) {
        valClean = clean.filter((_, i) => i % every === 0);
        clean = clean.filter((_, i) => i % every !== 0);
        description += ` (every ${every}th image held out for validation)`;
      }
    }
    sets = clean.map((c) => [c]);
  } else if (noisySpec !== undefined) {
    if (noise) throw usageError(spec, '--noise draws noise on clean --data; --noisy images already hold their noise');
    const noisy = await load(spec, 'noisy', noisySpec, channels, patch, onLoad);
    const cleanSpec = stringOption(values, 'clean');
    const noisy2Spec = stringOption(values, 'noisy2');
    if (cleanSpec !== undefined && noisy2Spec !== undefined) throw usageError(spec, 'give --clean or --noisy2 with --noisy, not both');
    if (cleanSpec !== undefined) {
      dataKind = 'noisy-clean';
      sets = pairUp(spec, noisy, await load(spec, 'clean', cleanSpec, channels, patch, onLoad), 'clean');
    } else if (noisy2Spec !== undefined) {
      dataKind = 'noisy-noisy';
      sets = pairUp(spec, noisy, await load(spec, 'noisy2', noisy2Spec, channels, patch, onLoad), 'noisy2');
    } else {
      dataKind = 'noisy';
      sets = noisy.map((x) => [x]);
    }
    description = [noisySpec, cleanSpec, noisy2Spec].filter((s) => s !== undefined).join(' + ');
  } else {
    throw usageError(spec, 'missing training data: --data DIR (clean, with --noise) or --noisy DIR');
  }
  progressLoad.done();
  if (!info.accepts.includes(dataKind)) {
    throw usageError(spec, `--method ${method} cannot train from ${dataKind} data (it takes: ${info.accepts.join(', ')})`);
  }
  if (values.val !== undefined) valClean = await load(spec, 'val', String(values.val), channels, 1, () => {});
  let validation: ValidationItem[] | undefined;
  if (valClean.length > 0) {
    if (!noise) throw usageError(spec, '--val needs --noise to make the noisy validation images');
    validation = valClean.map((clean, i) => {
      const hwc = new Float32Array(clean.data.length);
      const plane = clean.width * clean.height;
      for (let p = 0; p < plane; p++) for (let k = 0; k < channels; k++) hwc[p * channels + k] = clean.data[k * plane + p];
      const n = addNoise(createImage(clean.width, clean.height, channels, hwc), { ...(noise as AddNoiseOptions), seed: 900000 + i } as AddNoiseOptions).data;
      const planar = new Float32Array(n.length);
      for (let p = 0; p < plane; p++) for (let k = 0; k < channels; k++) planar[k * plane + p] = n[p * channels + k];
      return { clean, noisy: { ...clean, data: planar } };
    });
  }

  const { createModel } = await import('../../models/hush-model.js');
  const model = await createModel(arch as (typeof MODEL_ARCHITECTURES)[number], { channels, ...(preset ? { preset } : {}), ...modelOptions, seed });
  io.stderr(`hush train: ${method} on ${sets.length} ${dataKind} item(s), ${arch}${preset ? `:${preset}` : ''} with ${model.model.countParams()} parameters, ${steps} steps of ${batchSize}x${patch}x${patch}${validation ? `, validating on ${validation.length}` : ''} -> ${out}\n`);
  const progress = createProgress({ label: `train ${method}`, write: io.stderr, isTTY: io.isTTY, delaySeconds: 0, etaFromFirstUpdate: true });
  let last: { loss: number; valPsnr?: number; stepsPerSecond: number } | undefined;
  const result = await fit(model, {
    method,
    methodOptions,
    dataKind,
    sets,
    noise,
    sigma,
    steps,
    batchSize,
    patchSize: patch,
    augmentation: { dihedral: augment === 'dihedral', zoom },
    lr,
    schedule,
    seed,
    threads,
    engine: values.engine === undefined ? undefined : checkOneOf('hush train', '--engine', String(values.engine), TRAINING_ENGINES),
    validation,
    validateEvery: intOption(spec, values, 'validate-every'),
    checkpointEvery: intOption(spec, values, 'checkpoint-every'),
    out,
    resume: Boolean(values.resume),
    resumeFrom: stringOption(values, 'resume-from'),
    stopAfter: intOption(spec, values, 'stop-after'),
    budgetSeconds: budget,
    dataDescription: description,
    onProgress: (p) => {
      last = p;
      progress.update(p.step / p.steps, `step ${p.step}/${p.steps} loss ${p.loss.toExponential(3)}${p.valPsnr === undefined ? '' : ` val ${p.valPsnr.toFixed(2)} dB`} ${p.stepsPerSecond.toFixed(2)} steps/s`);
    },
  });
  progress.done();
  model.dispose();
  const curves = await drawCurves(out);
  const summary = {
    method,
    model: `${arch}${preset ? `:${preset}` : ''}`,
    steps: result.steps,
    stopped: result.stopped,
    engine: result.engine,
    bestPsnr: result.bestPsnr,
    finalLoss: result.finalLoss,
    seconds: result.elapsed,
    out,
    best: `${out}/best`,
    curves,
  };
  if (values.json) io.stdout(`${JSON.stringify(summary, null, 2)}\n`);
  else {
    const why = result.stopped === 'budget' ? ' (budget reached; --resume continues)' : result.stopped === 'stopAfter' ? ' (--stop-after reached; --resume continues)' : '';
    io.stdout(
      `trained ${summary.model} with ${method} (${result.engine} engine): ${result.steps}/${steps} steps in ${formatDuration(result.elapsed)}${why}; loss ${result.finalLoss.toExponential(3)}${result.bestPsnr === undefined ? '' : `, best validation PSNR ${result.bestPsnr.toFixed(2)} dB`}${last ? `, ${last.stepsPerSecond.toFixed(2)} steps/s` : ''}\nbest model: ${out}/best (model.json, model.onnx); curves: ${curves}\n`,
    );
  }
  return 0;
}
