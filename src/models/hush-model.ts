/**
 * A hush model: a tfjs LayersModel plus the metadata that says how to use it
 * (architecture and options, channels, input normalisation, the noise and training
 * it was made for, validation metrics). The metadata travels inside model.json
 * (tfjs's userDefinedMetadata, under the key "hush"), so a saved model is one
 * standard tfjs layers model that hush can also check before using.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import { checkNormalization, type InputNormalization } from './normalization.js';
import { buildResolved, modelMultiple, resolveModelOptions, type BuildModelOptions, type ResolvedModelOptions } from './registry.js';
import type { ModelArchitecture, ModelChannels } from './types.js';
import { loadTfjs } from '../runtime/tfjs.js';

export const HUSH_MODEL_FORMAT = 'hush-model';
export const HUSH_MODEL_VERSION = 1;

export interface NoiseTrainedFor {
  /** a noise model id ('gaussian', 'poisson', ...) or 'real' */
  model: string;
  /** sigma (on the image's value scale) or the model's main level parameter */
  level?: number;
  params?: Record<string, unknown>;
}

export interface TrainingRecord {
  /** 'noise2true', 'noise2noise', 'noise2self', 'noise2void', 'noise2same', 'noise2same-pro', 'gan', ... */
  method?: string;
  /** what it was trained on, in words or a path */
  data?: string;
  steps?: number;
  batchSize?: number;
  patchSize?: number;
  loss?: string;
  [key: string]: unknown;
}

export interface HushModelMetadata {
  format: typeof HUSH_MODEL_FORMAT;
  version: typeof HUSH_MODEL_VERSION;
  architecture: ModelArchitecture;
  preset?: string;
  /** the resolved build options: the same options rebuild the same network */
  options: ResolvedModelOptions;
  channels: ModelChannels;
  /** height and width are padded to a multiple of this */
  multiple: number;
  normalization: InputNormalization;
  noise?: NoiseTrainedFor;
  training?: TrainingRecord;
  /** e.g. { psnr: 29.1, ssim: 0.83 } on the validation set */
  validation?: Record<string, number>;
  createdAt: string;
}

export interface HushModel {
  readonly model: LayersModel;
  metadata: HushModelMetadata;
  dispose(): void;
}

export interface CreateModelOptions extends BuildModelOptions {
  /** how pixel values are mapped before the network (default { kind: 'none' }) */
  normalization?: InputNormalization;
}

export function wrapModel(model: LayersModel, metadata: HushModelMetadata): HushModel {
  return { model, metadata, dispose: () => model.dispose() };
}

/** Builds a zoo model with its metadata, ready to train, run and save. */
export async function createModel(architecture: ModelArchitecture, options: CreateModelOptions = {}): Promise<HushModel> {
  const { normalization, ...buildOptions } = options;
  const resolved = resolveModelOptions(architecture, buildOptions, 'createModel');
  const norm = normalization === undefined ? { kind: 'none' as const } : checkNormalization('createModel', 'options.normalization', normalization);
  await loadTfjs();
  const model = buildResolved(resolved);
  return wrapModel(model, {
    format: HUSH_MODEL_FORMAT,
    version: HUSH_MODEL_VERSION,
    architecture: resolved.architecture,
    ...(resolved.preset === undefined ? {} : { preset: resolved.preset }),
    options: resolved,
    channels: resolved.channels,
    multiple: modelMultiple(resolved),
    normalization: norm,
    createdAt: new Date().toISOString(),
  });
}
