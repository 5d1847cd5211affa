/**
 * Denoising with a trained network, by name or path, on either runtime:
 * - openModel('dncnn-grey-s25') opens a built-in model shipped in the package's
 *   models/ folder; openModel('path/model.onnx') an exported ONNX model;
 *   openModel('path/run/best') a hush tfjs model folder (or its model.json);
 * - runtime 'onnx' (default, onnxruntime-node: the fast path) or 'tfjs' (the wasm
 *   backend); a tfjs model opened with runtime 'onnx' is exported to ONNX in memory;
 * - denoiseWithModel runs it over an image of any size in tiles (inferTiled), with
 *   the model's normalisation applied and undone, NaN/no-data carried through.
 */
import { existsSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { extname, join } from 'node:path';
import { HushError, invalidParameter } from '../core/errors.js';
import { colourChannels, type Image } from '../core/image.js';
import { checkObject, checkOneOf } from '../core/validate.js';
import type { HushModelMetadata } from '../models/hush-model.js';
import { loadOnnxModel } from './onnx.js';
import { jInvariantDenoise, jInvariantFromMetadata, type JInvariantReplacement } from './j-invariant.js';
import { recorruptedDenoise, recorruptionFromMetadata } from './recorrupted.js';
import { estimateSigma } from '../noise/estimate-sigma.js';
import { inferTiled, type InferTiledOptions, type TileRunner } from './tiled.js';

export const MODEL_RUNTIMES = ['onnx', 'tfjs'] as const;
export type ModelRuntime = (typeof MODEL_RUNTIMES)[number];

export interface BuiltinModel {
  readonly id: string;
  readonly summary: string;
  /** folder name under models/ (tfjs model.json + weights.bin, and <id>.onnx beside it) */
  readonly dir: string;
}

/** Models that ship with hush (installed by scripts/install-default-model.ts; how each was trained: docs/models.md). */
export const BUILTIN_MODELS: readonly BuiltinModel[] = [
  { id: 'dncnn-grey-s25', summary: 'DnCNN (depth 12, width 48), grey, Gaussian noise sigma 25/255, Noise2True on Train400 for 20,000 steps; BSD68 sigma 25: 28.83 dB', dir: 'dncnn-grey-s25' },
];

/** The package's models/ folder. */
export function builtinModelsDir(): string {
  return fileURLToPath(new URL('../../../models/', import.meta.url));
}

export interface OpenModelOptions {
  runtime?: ModelRuntime;
  /** threads of the onnxruntime session (default: all cores, or HUSH_THREADS) */
  threads?: number;
}

/** A model ready to run: a TileRunner with its metadata, to dispose when done. */
export interface OpenedModel extends TileRunner {
  readonly name: string;
  readonly runtime: ModelRuntime;
  readonly metadata?: HushModelMetadata;
  dispose(): Promise<void>;
}

/** Where a model name or path points: an .onnx file or a tfjs model folder/model.json. */
export function resolveModelPath(nameOrPath: string, runtime: ModelRuntime): { kind: 'onnx' | 'tfjs'; path: string } {
  const builtin = BUILTIN_MODELS.find((m) => m.id === nameOrPath);
  if (builtin) {
    const dir = join(builtinModelsDir(), builtin.dir);
    const onnx = join(dir, `${builtin.id}.onnx`);
    if (runtime === 'onnx' && existsSync(onnx)) return { kind: 'onnx', path: onnx };
    return { kind: 'tfjs', path: dir };
  }
  if (!existsSync(nameOrPath)) {
    const names = BUILTIN_MODELS.map((m) => m.id).join(', ');
    throw new HushError('ERR_INVALID_PARAMETER', `openModel: '${nameOrPath}' is neither a built-in model (${names}) nor an existing file or folder`, { param: 'model' });
  }
  if (extname(nameOrPath).toLowerCase() === '.onnx') return { kind: 'onnx', path: nameOrPath };
  if (statSync(nameOrPath).isDirectory() || extname(nameOrPath).toLowerCase() === '.json') return { kind: 'tfjs', path: nameOrPath };
  throw new HushError('ERR_INVALID_PARAMETER', `openModel: '${nameOrPath}' is not a model: give an .onnx file, a hush model folder (model.json + weights.bin) or a built-in name`, { param: 'model' });
}

/** Opens a built-in model by name, an .onnx file or a hush tfjs model, on the chosen runtime. */
export async function openModel(nameOrPath: string, options: OpenModelOptions = {}): Promise<OpenedModel> {
  const fn = 'openModel';
  if (typeof nameOrPath !== 'string' || nameOrPath === '') throw invalidParameter(fn, 'nameOrPath', 'a built-in model name, an .onnx file or a model folder', nameOrPath);
  const o = checkObject(fn, 'options', options) as OpenModelOptions;
  const runtime = checkOneOf(fn, 'options.runtime', o.runtime ?? 'onnx', MODEL_RUNTIMES);
  const where = resolveModelPath(nameOrPath, runtime);
  if (where.kind === 'onnx' && runtime === 'tfjs') {
    throw new HushError('ERR_INVALID_PARAMETER', `${fn}: '${nameOrPath}' is an ONNX model; run it with runtime 'onnx' (tfjs runs hush model folders)`, { param: 'options.runtime' });
  }
  if (where.kind === 'onnx') {
    const m = await loadOnnxModel(where.path, { threads: o.threads });
    return Object.assign(m, { name: nameOrPath, runtime: 'onnx' as const });
  }
  const { loadModel } = await import('../models/io.js');
  const hush = await loadModel(where.path);
  if (runtime === 'onnx') {
    const { exportOnnx } = await import('../onnx/export.js');
    const bytes = exportOnnx(hush);
    hush.dispose();
    const m = await loadOnnxModel(bytes, { threads: o.threads });
    return Object.assign(m, { name: nameOrPath, runtime: 'onnx' as const });
  }
  const { tfjsTileRunner } = await import('./tfjs-tile-runner.js');
  const runner = tfjsTileRunner(hush);
  return {
    ...runner,
    run: runner.run.bind(runner),
    name: nameOrPath,
    runtime: 'tfjs',
    metadata: hush.metadata,
    dispose: async () => hush.dispose(),
  };
}

export interface DenoiseWithModelOptions extends InferTiledOptions {
  /**
   * J-invariant inference (stride^2 masked passes, see j-invariant.ts): true uses the
   * stride and replacement the model was trained with (else 4, and 'neighbour' for
   * Noise2Void models, 'interpolate' for others), false a
   * single pass. Default: what the model's metadata asks for (Noise2Self models
   * trained with inference 'j-invariant'), else a single pass.
   */
  jInvariant?: boolean | { stride?: number; replacement?: JInvariantReplacement };
}

/**
 * Moves each colour channel of `out` (in place) so that its mean equals the same
 * channel's mean in `input`, over the samples that are finite and unmasked in both.
 * The whole-image form of a network's mean match (models/layers/match-mean.ts): in
 * tiled inference the layer sees each tile with its mirrored context, whose mean is
 * not the image's (0.2-1/255 off on CBSD68), so the image-level match is done here.
 */
export function matchChannelMeans(out: Image, input: Image): void {
  const nc = colourChannels(input);
  const { channels } = input;
  for (let c = 0; c < nc; c++) {
    let si = 0;
    let so = 0;
    let n = 0;
    for (let i = c; i < input.data.length; i += channels) {
      const a = input.data[i];
      const b = out.data[i];
      if (input.mask?.[i] || a - a !== 0 || b - b !== 0) continue;
      si += a;
      so += b;
      n++;
    }
    if (n === 0) continue;
    const d = (si - so) / n;
    for (let i = c; i < out.data.length; i += channels) if (!input.mask?.[i] && out.data[i] - out.data[i] === 0) out.data[i] += d;
  }
}

/** Denoises `image` with an opened model, in tiles; returns a new Image. */
export async function denoiseWithModel(image: Image, model: OpenedModel, options: DenoiseWithModelOptions = {}): Promise<Image> {
  const out = await denoiseTiles(image, model, options);
  // a network that ends in a mean match (the GAN generator's default) keeps the input's channel means over the whole image
  if (model.metadata?.options.meanMatch === true) matchChannelMeans(out, image);
  return out;
}

async function denoiseTiles(image: Image, model: OpenedModel, options: DenoiseWithModelOptions): Promise<Image> {
  const { jInvariant, ...tiled } = options;
  const fromModel = jInvariantFromMetadata(model.metadata);
  const ji =
    jInvariant === undefined ? fromModel
    : jInvariant === false ? undefined
    : { stride: fromModel?.stride ?? 4, replacement: fromModel?.replacement ?? (model.metadata?.training?.method === 'n2v' ? ('neighbour' as const) : ('interpolate' as const)), ...(jInvariant === true ? {} : (checkObject('denoiseWithModel', 'options.jInvariant', jInvariant) as { stride?: number; replacement?: JInvariantReplacement })) };
  const rc = jInvariant === undefined ? recorruptionFromMetadata(model.metadata) : undefined;
  if (rc) {
    // a Recorrupted-to-Recorrupted network: averaged over recorruptions y + alpha z (recorrupted.ts)
    const nc = colourChannels(image);
    const sigma = rc.sigma ?? estimateSigma(image).slice(0, nc).reduce((a, b) => a + b, 0) / nc;
    const passes = 16;
    let pass = 0;
    return recorruptedDenoise(
      image,
      async (y) => {
        const res = await inferTiled(y, model, { ...tiled, onProgress: tiled.onProgress && ((f, t) => tiled.onProgress?.((pass + f) / passes, t)) });
        pass++;
        return res;
      },
      { alpha: rc.alpha, sigma, passes, signal: tiled.signal },
    );
  }
  if (!ji) return inferTiled(image, model, tiled);
  const passes = (ji.stride ?? 4) ** 2;
  let pass = 0;
  return jInvariantDenoise(
    image,
    async (masked) => {
      const res = await inferTiled(masked, model, {
        ...tiled,
        onProgress: tiled.onProgress && ((f, t) => tiled.onProgress?.((pass + f) / passes, t)),
      });
      pass++;
      return res;
    },
    { ...ji, signal: tiled.signal },
  );
}
