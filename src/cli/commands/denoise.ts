import type { CommandSpec, OptionTable, ParsedArgs } from '../args.js';
import { numberOption, parseCommandArgs, stringOption, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { READ_OPTIONS, WRITE_OPTIONS, readOptions, outputPath } from '../io-options.js';
import { createProgress } from '../progress.js';
import { readImage, writeImage } from '../../io/index.js';
import { HushError } from '../../core/errors.js';
import type { Image } from '../../core/image.js';
import type { ParamSpec } from '../../core/params.js';
import { checkOneOf } from '../../core/validate.js';
import { DENOISER_REGISTRY, DENOISERS, estimateImageSigma, type DenoiserInfo } from '../../denoise/index.js';
import { DEFAULT_AUTO_CANDIDATES, denoiseAuto } from '../../denoise/auto.js';
import { MODEL_FLAGS, MODEL_FLAG_NAMES, runWithModel } from './denoise-model.js';

/** `patchSize` -> `patch-size`: flags are kebab-case, option names camelCase. */
export function flagName(param: string): string {
  return param.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

function registered(): DenoiserInfo[] {
  return DENOISERS.map((id) => (DENOISER_REGISTRY as Record<string, DenoiserInfo>)[id]);
}

function describeParam(p: ParamSpec): string {
  const extra: string[] = [];
  if (p.type === 'enum') extra.push(p.choices.join('|'));
  if (p.default !== undefined) extra.push(`default ${String(p.default)}`);
  return `${p.description}${extra.length ? ` (${extra.join('; ')})` : ''}`;
}

/**
 * Flags of `hush denoise` and `hush calibrate` themselves: a denoiser parameter whose flag
 * would be one of these gets its method's id as a prefix (wavelet's `method` is
 * `--wavelet-method`), so both commands spell every parameter the same way.
 */
export const COMMAND_FLAGS = [
  'output', 'method', 'sigma', 'sigma255', 'threads', 'json', 'candidates', 'budget', 'force', 'help', 'verbose',
  'grid', 'reference', 'plot', 'stride', 'loss', 'interpolation', 'data-range',
  ...Object.keys(READ_OPTIONS),
];

/** The flag of a denoiser parameter: its ParamSpec's `cli`, else its kebab-case name, prefixed with the method's id when that is a command flag. */
export function paramFlag(info: Pick<DenoiserInfo, 'id'>, p: ParamSpec): string {
  if (p.cli) return p.cli;
  const f = flagName(p.name);
  return p.name !== 'sigma' && COMMAND_FLAGS.includes(f) ? `${info.id}-${f}` : f;
}

/**
 * Every parameter of every registered denoiser becomes a flag (which ones apply is checked
 * per method); a flag shared by several methods is one flag, described by the first.
 * `sigma` is left to the commands, which define it for every method.
 */
export function methodOptions(): OptionTable {
  const table: OptionTable = {};
  for (const info of registered()) {
    for (const p of info.params) {
      const flag = paramFlag(info, p);
      if (table[flag] || p.name === 'sigma') continue;
      const shared = registered().filter((i) => i.params.some((q) => paramFlag(i, q) === flag)).map((i) => i.id);
      const also = ` [${shared.join(', ')}]`;
      // booleans take a value, so one whose default is true can be turned off (--rescale-sigma false)
      table[flag] = { type: 'string', valueName: p.type === 'enum' ? 'CHOICE' : p.type === 'boolean' ? 'true|false' : 'X', description: describeParam(p) + also };
    }
  }
  return table;
}

export function methodHelp(): string {
  const list = registered();
  if (list.length === 0) return '  (no denoiser is registered in this build)';
  return list
    .map((info) => `  ${info.id.padEnd(16)}${info.summary}\n  ${''.padEnd(16)}flags: ${info.params.map((p) => `--${paramFlag(info, p)}`).join(' ')}`)
    .join('\n');
}

/** The method's options from its flags: numbers parsed (text kept when it is not one, so the message shows it). */
export function collectMethodOptions(values: ParsedArgs['values'], info: DenoiserInfo): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const p of info.params) {
    if (p.name === 'sigma') continue; // --sigma / --sigma255, read by sigmaFromFlags
    const raw = values[paramFlag(info, p)];
    if (raw === undefined) continue;
    if (p.type === 'number') {
      const s = String(raw).trim();
      const n = s === '' ? Number.NaN : Number(s);
      out[p.name] = Number.isFinite(n) ? n : s;
    } else if (p.type === 'boolean' && typeof raw === 'string') out[p.name] = raw === 'true' ? true : raw === 'false' ? false : raw;
    else out[p.name] = raw;
  }
  return out;
}

/** --sigma255 S as sigma = S/255, refused for float images (whose scale is not 0..1). */
export function sigmaFromFlags(spec: CommandSpec, values: ParsedArgs['values'], image: Image, inPath: string): number | undefined {
  const sigma255 = numberOption(spec, values, 'sigma255');
  const sigmaRaw = values.sigma;
  if (sigma255 === undefined) {
    if (sigmaRaw === undefined) return undefined;
    const s = numberOption(spec, values, 'sigma') as number;
    if (s < 0) throw usageError(spec, `expected a number of at least 0 for --sigma but received ${s}`);
    return s;
  }
  if (sigmaRaw !== undefined) throw usageError(spec, 'give --sigma or --sigma255, not both');
  if (sigma255 < 0) throw usageError(spec, `expected a number of at least 0 for --sigma255 but received ${sigma255}`);
  if (image.source?.scale === 'physical') {
    throw new HushError('ERR_INVALID_PARAMETER', `hush ${spec.name}: '${inPath}' holds float values, so --sigma255 has no meaning; give --sigma in the image's own units`, { param: '--sigma255' });
  }
  return sigma255 / 255;
}

export function threadsFromFlags(spec: CommandSpec, values: ParsedArgs['values']): number | undefined {
  const t = numberOption(spec, values, 'threads');
  if (t !== undefined && (!Number.isInteger(t) || t < 1)) throw usageError(spec, `expected a whole number of at least 1 for --threads but received ${t}`);
  return t;
}

/** Refuses a result with non-finite samples where the input had data: a denoiser must not spread NaN. */
export function checkFinite(method: string, input: Image, output: Image): void {
  let bad = 0;
  for (let i = 0; i < output.data.length; i++) {
    if (Number.isFinite(output.data[i])) continue;
    if ((input.mask && input.mask[i]) || !Number.isFinite(input.data[i])) continue;
    bad++;
  }
  if (bad > 0) throw new Error(`${method} returned ${bad} non-finite sample(s) where the input has data`);
}

/** 0.0123456 -> '0.0123', 7 -> '7' (3 significant digits unless told) */
export function short(v: unknown, digits = 3): string {
  return typeof v === 'number' ? String(Number(v.toPrecision(digits))) : String(v);
}

export const spec: CommandSpec = {
  name: 'denoise',
  summary:
    'Denoise IN and write OUT. Without --method, hush chooses: it estimates the noise, calibrates the candidate methods on the image itself (self-supervised J-invariant loss, Noise2Self) and uses the one with the lowest loss.',
  usage: 'hush denoise IN -o OUT [--method METHOD [method flags]] [--sigma S | --sigma255 S] [--threads N] [--json] [--force]\n       hush denoise IN... -o OUT --model NAME|PATH [--runtime onnx|tfjs] [--tile 512 --overlap 32] [--threads N]',
  options: {
    output: { type: 'string', short: 'o', valueName: 'OUT', description: 'where to write the denoised image' },
    method: { type: 'string', short: 'm', valueName: 'METHOD', description: `denoiser: ${DENOISERS.join(', ') || '(none registered)'} (default: chosen automatically)` },
    sigma255: { type: 'string', valueName: 'S', description: 'noise sigma in 8-bit units (sigma = S/255), for images on [0,1]' },
    sigma: { type: 'string', valueName: 'S', description: "noise standard deviation on the image's scale, for methods that use it (default: estimated)" },
    threads: { type: 'string', valueName: 'N', description: 'worker threads (default: all cores, or HUSH_THREADS)' },
    candidates: { type: 'string', valueName: 'LIST', description: `automatic mode: methods to choose from, comma-separated (default: ${DEFAULT_AUTO_CANDIDATES.join(',')}, where available)` },
    budget: { type: 'string', valueName: 'SECONDS', description: 'automatic mode: time for calibration and denoising (default 15 s per megapixel, at least 1 s)' },
    json: { type: 'boolean', description: 'print the result as JSON (in automatic mode: every candidate and setting tried)' },
    ...MODEL_FLAGS,
    'self-supervised': { type: 'boolean', description: 'fit a small network on IN itself (no clean data), then denoise it; --method r2r|n2fast|n2self|n2same|n2same-pro (default r2r: Gaussian noise; n2fast, n2self, n2same make no assumption on the noise), --budget (default 120s)' },
    seed: { type: 'string', valueName: 'N', description: 'with --self-supervised: seed of the network and its training (default 1)' },
    ...methodOptions(),
    ...WRITE_OPTIONS,
    ...READ_OPTIONS,
  },
  details: `With --model, IN may be several files, a folder or a glob; -o is then a folder, and a file that fails is reported at the end (exit status 1) without stopping the rest.\n\nMethods:\n${methodHelp()}\n\nA method that uses sigma gets it estimated from the image (Donoho-Johnstone wavelet MAD) unless --sigma or --sigma255 is given. No-data samples (FITS BLANK/NaN) are left as they are. Progress goes to stderr.`,
  examples: [
    'hush denoise noisy.png -o clean.png',
    'hush denoise noisy.png -o clean.png --json',
    'hush denoise noisy.png -o clean.png --method bm3d --sigma255 25',
    'hush denoise noisy.npy -o clean.npy --method nl-means --h 0.06 --patch-size 7',
    'hush denoise sky.fits -o sky-denoised.fits --threads 2',
    'hush denoise noisy.png -o clean.png --model dncnn-grey-s25',
    "hush denoise 'shots/*.tif' -o denoised/ --model runs/n2v/best --tile 256",
    'hush denoise noisy.png -o clean.png --self-supervised --method n2same --budget 120s',
  ],
};

async function runSelfSupervised(values: ParsedArgs['values'], positionals: string[], io: CliIO): Promise<number> {
  const { SELF_SUPERVISED_METHODS, denoiseSelfSupervised } = await import('../../training/self-supervised.js');
  const { parseDuration } = await import('./train.js');
  if (positionals.length !== 1) throw usageError(spec, `expected one input image, got ${positionals.length}`);
  const allowed = new Set(['output', 'self-supervised', 'method', 'budget', 'seed', 'threads', 'json', 'force', 'help', 'verbose', ...Object.keys(READ_OPTIONS)]);
  for (const k of Object.keys(values)) if (values[k] !== undefined && !allowed.has(k)) throw usageError(spec, `--${k} does not apply with --self-supervised`);
  const inPath = positionals[0];
  const out = outputPath(spec, values);
  const method = checkOneOf('hush denoise --self-supervised', '--method', values.method ?? 'r2r', SELF_SUPERVISED_METHODS);
  const budget = values.budget === undefined ? 120 : parseDuration(spec, 'budget', String(values.budget));
  const seed = numberOption(spec, values, 'seed');
  const threads = threadsFromFlags(spec, values);
  const image = await readImage(inPath, readOptions(spec, values));
  const progress = createProgress({ label: `denoise self-supervised ${method}`, write: io.stderr, isTTY: io.isTTY });
  let r;
  try {
    r = await denoiseSelfSupervised(image, { method, budgetSeconds: budget, seed, threads, onProgress: (f, d) => progress.update(f, d) });
  } finally {
    progress.done();
  }
  checkFinite(method, image, r.image);
  await writeImage(out, r.image, { ifExists: values.force ? 'overwrite' : 'error', protect: [inPath], history: [`hush denoise --self-supervised --method ${method}`] });
  const report = { input: inPath, output: out, method, steps: r.steps, sigma: r.sigma, seconds: r.seconds };
  io.stdout(values.json ? `${JSON.stringify(report, null, 2)}\n` : `denoised with a network fitted on the image itself (${method}, ${r.steps} steps, sigma ${short(r.sigma)} estimated); ${r.seconds.toFixed(1)} s -> ${out}\n`);
  return 0;
}

export async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs(spec, argv);
  if (values.model !== undefined) {
    if (values.method !== undefined) throw usageError(spec, 'give --method (a classical denoiser) or --model (a network), not both');
    const allowedWithModel = new Set(['output', 'model', 'threads', 'json', 'force', 'help', 'verbose', ...MODEL_FLAG_NAMES, ...Object.keys(READ_OPTIONS)]);
    for (const k of Object.keys(values)) if (values[k] !== undefined && !allowedWithModel.has(k)) throw usageError(spec, `--${k} does not apply with --model`);
    return runWithModel(spec, values, positionals, io, threadsFromFlags(spec, values));
  }
  if (values['self-supervised']) return runSelfSupervised(values, positionals, io);
  if (values.seed !== undefined) throw usageError(spec, '--seed needs --self-supervised');
  for (const k of MODEL_FLAG_NAMES) if (values[k] !== undefined) throw usageError(spec, `--${k} needs --model`);
  if (positionals.length !== 1) throw usageError(spec, `expected one input image, got ${positionals.length} (several inputs, folders and globs work with --model)`);
  const inPath = positionals[0];
  const out = outputPath(spec, values);
  const method = values.method === undefined ? undefined : checkOneOf('hush denoise', '--method', values.method, DENOISERS as readonly string[]);
  const info = method === undefined ? undefined : (DENOISER_REGISTRY as Record<string, DenoiserInfo>)[method];
  const common = ['output', 'method', 'sigma255', 'sigma', 'threads', 'json', 'force', 'help', 'verbose', ...Object.keys(READ_OPTIONS)];
  const allowed = new Set(info ? [...common, ...info.params.map((p) => paramFlag(info, p))] : [...common, 'candidates', 'budget']);
  for (const k of Object.keys(values)) {
    if (values[k] === undefined || allowed.has(k)) continue;
    if (!info) throw usageError(spec, `--${k} needs --method (automatic mode chooses the method and its parameters)`);
    if (k === 'candidates' || k === 'budget') throw usageError(spec, `--${k} is for automatic mode, without --method`);
    throw usageError(spec, `--${k} does not apply to --method ${info.id} (its flags: ${info.params.map((p) => `--${paramFlag(info, p)}`).join(' ')})`);
  }
  const threads = threadsFromFlags(spec, values);
  const budget = numberOption(spec, values, 'budget');
  if (budget !== undefined && !(budget > 0)) throw usageError(spec, `expected a number above 0 for --budget but received ${budget}`);
  const candidates = stringOption(values, 'candidates')?.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (candidates !== undefined) for (const c of candidates) checkOneOf('hush denoise', '--candidates', c, DENOISERS as readonly string[]);

  const image = await readImage(inPath, readOptions(spec, values));
  const sigma = sigmaFromFlags(spec, values, image, inPath);
  const progress = createProgress({ label: method ? `denoise ${method}` : 'denoise (automatic)', write: io.stderr, isTTY: io.isTTY });
  const t0 = performance.now();
  let result: Image;
  let report: Record<string, unknown>;
  let line: string;
  try {
    if (!info) {
      const r = await denoiseAuto(image, { sigma, candidates, budget, context: { threads, onProgress: (f) => progress.update(f) } });
      result = r.image;
      const seconds = (performance.now() - t0) / 1000;
      line = `chose ${r.chosen.method} (sigma ${short(r.sigma)} ${r.sigmaSource}) — ${r.reason}; ${seconds.toFixed(1)} s`;
      report = {
        input: inPath,
        output: out,
        method: r.chosen.method,
        params: r.chosen.params,
        sigma: r.sigma,
        sigmaSource: r.sigmaSource,
        reason: r.reason,
        seconds,
        calibrationSeconds: r.calibrationSeconds,
        budget: r.budget,
        region: r.region,
        candidates: r.table,
      };
    } else {
      const options = collectMethodOptions(values, info);
      let sigmaSource: 'given' | 'estimated' | undefined;
      if (sigma !== undefined) {
        if (!info.params.some((p) => p.name === 'sigma')) throw usageError(spec, `--method ${info.id} takes no sigma`);
        options.sigma = sigma;
        sigmaSource = 'given';
      } else if (info.usesSigma && info.params.some((p) => p.name === 'sigma')) {
        options.sigma = estimateImageSigma(image);
        sigmaSource = 'estimated';
      }
      result = await info.denoise(image, options, { threads, onProgress: (f) => progress.update(f) });
      const seconds = (performance.now() - t0) / 1000;
      const shown = Object.entries(options).filter(([k]) => k !== 'sigma').map(([k, v]) => `${k} ${short(v)}`);
      if (options.sigma !== undefined) shown.push(`sigma ${short(options.sigma)}${sigmaSource === 'estimated' ? ' estimated' : ''}`);
      line = `denoised with ${info.id}${shown.length ? ` (${shown.join(', ')})` : ''}; ${seconds.toFixed(1)} s`;
      report = { input: inPath, output: out, method: info.id, params: options, sigma: options.sigma, sigmaSource, seconds };
    }
  } finally {
    progress.done();
  }
  checkFinite(String(report.method), image, result);
  await writeImage(out, result, { ifExists: values.force ? 'overwrite' : 'error', protect: [inPath], history: [`hush denoise --method ${String(report.method)}`] });
  io.stdout(values.json ? `${JSON.stringify(report, (_k, v) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v), 2)}\n` : `${line} -> ${out}\n`);
  return 0;
}
