/**
 * `hush denoise --model NAME_OR_PATH`: a trained network over one image or a batch
 * (several files, a folder or a glob, written into the folder -o names), in tiles on
 * onnxruntime (default) or tfjs. A batch goes on past a file that fails and lists
 * the failures at the end, with exit status 1.
 */
import { mkdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { CommandSpec, OptionTable, ParsedArgs } from '../args.js';
import { numberOption, stringOption, usageError } from '../args.js';
import type { CliIO } from '../main.js';
import { readOptions } from '../io-options.js';
import { createProgress } from '../progress.js';
import { readImage, writeImage } from '../../io/index.js';
import { isHushError } from '../../core/errors.js';
import { checkOneOf } from '../../core/validate.js';
import { listImageFiles } from '../../training/data.js';
import { BUILTIN_MODELS, MODEL_RUNTIMES, denoiseWithModel, openModel, type ModelRuntime } from '../../runtime/denoise-model.js';
import { DEFAULT_TILE_OVERLAP, DEFAULT_TILE_SIZE } from '../../runtime/tiled.js';
import { CHANNEL_MODES, type ChannelMode } from '../../models/run-model.js';

export const INFERENCE_MODES = ['auto', 'single', 'j-invariant'] as const;

export const MODEL_FLAGS: OptionTable = {
  model: { type: 'string', valueName: 'NAME|PATH', description: `denoise with a network: a built-in model (${BUILTIN_MODELS.map((m) => m.id).join(', ')}), an .onnx file or a hush model folder` },
  runtime: { type: 'string', valueName: 'R', description: `with --model: ${MODEL_RUNTIMES.join('|')} (default onnx)` },
  tile: { type: 'string', valueName: 'N', description: `with --model: tile side in pixels (default ${DEFAULT_TILE_SIZE})` },
  overlap: { type: 'string', valueName: 'N', description: `with --model: tile overlap in pixels (default ${DEFAULT_TILE_OVERLAP})` },
  'exposure-ratio': { type: 'string', valueName: 'R', description: 'with --model: the exposure-time ratio, for models conditioned on it (unet astro)' },
  'channel-mode': { type: 'string', valueName: 'M', description: `with --model: ${CHANNEL_MODES.join('|')} (per-channel: a grey model on each channel of an RGB image)` },
  inference: { type: 'string', valueName: 'I', description: `with --model: ${INFERENCE_MODES.join('|')} (j-invariant: stride^2 masked passes, the default for Noise2Self models)` },
};

export const MODEL_FLAG_NAMES = Object.keys(MODEL_FLAGS);

function isPattern(s: string): boolean {
  return /[*?[\]{}]/.test(s);
}

function isDir(s: string): boolean {
  try {
    return statSync(s).isDirectory();
  } catch {
    return false;
  }
}

export async function runWithModel(spec: CommandSpec, values: ParsedArgs['values'], positionals: string[], io: CliIO, threads: number | undefined): Promise<number> {
  const name = stringOption(values, 'model') as string;
  const runtime = checkOneOf('hush denoise', '--runtime', values.runtime ?? 'onnx', MODEL_RUNTIMES) as ModelRuntime;
  const tileSize = numberOption(spec, values, 'tile');
  const tileOverlap = numberOption(spec, values, 'overlap');
  const exposureRatio = numberOption(spec, values, 'exposure-ratio');
  const channelMode = values['channel-mode'] === undefined ? undefined : (checkOneOf('hush denoise', '--channel-mode', values['channel-mode'], CHANNEL_MODES) as ChannelMode);
  const inference = checkOneOf('hush denoise', '--inference', values.inference ?? 'auto', INFERENCE_MODES);
  const jInvariant = inference === 'auto' ? undefined : inference === 'j-invariant';
  const out = stringOption(values, 'output');
  if (!out) throw usageError(spec, 'missing -o OUT (a file, or a folder for several inputs)');
  if (positionals.length === 0) throw usageError(spec, 'expected an input image, a folder or a glob');
  const batch = positionals.length > 1 || positionals.some((p) => isDir(p) || isPattern(p));
  const inputs = batch ? await listImageFiles(positionals, 'hush denoise') : positionals;
  if (batch) {
    if (!isDir(out)) {
      try {
        mkdirSync(out, { recursive: true });
      } catch (e) {
        throw usageError(spec, `-o must be a folder for several inputs; cannot create '${out}' (${(e as Error).message})`);
      }
    }
    const names = new Map<string, string>();
    for (const f of inputs) {
      const b = basename(f);
      if (names.has(b)) throw usageError(spec, `two inputs have the same name '${b}' ('${names.get(b)}' and '${f}'); their outputs would collide in '${out}'`);
      names.set(b, f);
    }
  }
  const model = await openModel(name, { runtime, threads });
  const failures: { file: string; message: string }[] = [];
  const reports: Record<string, unknown>[] = [];
  const t0 = performance.now();
  const progress = createProgress({ label: batch ? `denoise ${inputs.length} files` : `denoise ${name}`, write: io.stderr, isTTY: io.isTTY });
  try {
    for (let i = 0; i < inputs.length; i++) {
      const file = inputs[i];
      const dest = batch ? join(out, basename(file)) : out;
      const t1 = performance.now();
      try {
        const image = await readImage(file, readOptions(spec, values));
        const result = await denoiseWithModel(image, model, {
          tileSize,
          tileOverlap,
          exposureRatio,
          channelMode,
          jInvariant,
          onProgress: (f) => progress.update((i + f) / inputs.length, batch ? `${i + 1}/${inputs.length} ${basename(file)}` : undefined),
        });
        await writeImage(dest, result, { ifExists: values.force ? 'overwrite' : 'error', protect: [file], history: [`hush denoise --model ${name}`] });
        const seconds = (performance.now() - t1) / 1000;
        reports.push({ input: file, output: dest, seconds, megapixelsPerSecond: (image.width * image.height) / 1e6 / seconds });
      } catch (e) {
        if (!batch) throw e;
        failures.push({ file, message: isHushError(e) ? e.message : (e as Error).message });
      }
      progress.update((i + 1) / inputs.length);
    }
  } finally {
    progress.done();
    await model.dispose();
  }
  const seconds = (performance.now() - t0) / 1000;
  const info = { model: name, runtime: model.runtime, threads: runtime === 'onnx' ? (model as unknown as { threads: number }).threads : 1, trainedFor: model.metadata?.noise, files: reports, failures, seconds };
  if (values.json) io.stdout(`${JSON.stringify(info, null, 2)}\n`);
  else if (!batch) io.stdout(`denoised with ${name} (${model.runtime}); ${seconds.toFixed(1)} s -> ${out}\n`);
  else io.stdout(`denoised ${reports.length} of ${inputs.length} files with ${name} (${model.runtime}) into ${out}; ${seconds.toFixed(1)} s\n`);
  if (failures.length > 0) {
    io.stderr(`${failures.length} file(s) failed:\n${failures.map((f) => `  ${f.file}: ${f.message}`).join('\n')}\n`);
    return 1;
  }
  return 0;
}
