/**
 * The registry of architectures and the functions that resolve options (preset,
 * then explicit options, then the params' defaults) and build models.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import { invalidParameter } from '../core/errors.js';
import { resolveParams } from '../core/params.js';
import { checkObject, checkOneOf, optionalNumber } from '../core/validate.js';
import { loadTfjs } from '../runtime/tfjs.js';
import { withSeed } from './blocks.js';
import { countFlops } from './flops.js';
import { DNCNN } from './dncnn.js';
import { UNET } from './unet.js';
import { RIDNET } from './ridnet.js';
import { AUTOENCODER } from './autoencoder.js';
import { GAN_GENERATOR } from './gan-generator.js';
import { GAN_DISCRIMINATOR } from './gan-discriminator.js';
import { MODEL_ARCHITECTURES, MODEL_CHANNELS, type ArchitectureInfo, type ModelArchitecture, type ModelChannels } from './types.js';
import './layers/index.js';

export const MODEL_REGISTRY: { readonly [K in ModelArchitecture]: ArchitectureInfo } = {
  dncnn: DNCNN,
  unet: UNET,
  ridnet: RIDNET,
  autoencoder: AUTOENCODER,
  'gan-generator': GAN_GENERATOR,
  'gan-discriminator': GAN_DISCRIMINATOR,
};

export interface BuildModelOptions {
  /** 1 (grey, default) or 3 (RGB) */
  channels?: ModelChannels;
  /** a named option set of the architecture (see MODEL_REGISTRY[id].presets) */
  preset?: string;
  /** seed of the initial weights (default 1): the same options give the same model */
  seed?: number;
  /** the architecture's own options (MODEL_REGISTRY[id].params) */
  [option: string]: unknown;
}

/** Validated, complete options: the preset's values under the explicit ones, defaults filled. */
export interface ResolvedModelOptions {
  architecture: ModelArchitecture;
  channels: ModelChannels;
  preset?: string;
  seed: number;
  [option: string]: unknown;
}

export function resolveModelOptions(architecture: unknown, options: unknown = {}, fn = 'buildModel'): ResolvedModelOptions {
  const id = checkOneOf(fn, 'architecture', architecture, MODEL_ARCHITECTURES);
  const info = MODEL_REGISTRY[id];
  const { channels = 1, preset, seed, ...rest } = checkObject(fn, 'options', options);
  if (!(MODEL_CHANNELS as readonly unknown[]).includes(channels)) throw invalidParameter(fn, 'options.channels', 'one of 1, 3', channels);
  const presetName = preset === undefined ? info.defaultPreset : checkOneOf(fn, 'options.preset', preset, Object.keys(info.presets));
  const base = presetName === undefined ? {} : info.presets[presetName];
  const resolved = resolveParams(fn, info.params, { ...base, ...rest });
  return {
    ...resolved,
    architecture: id,
    channels: channels as ModelChannels,
    ...(presetName === undefined ? {} : { preset: presetName }),
    seed: optionalNumber(fn, 'options.seed', seed, 1, { integer: true, min: 0 }),
  };
}

/** Builds a model of the zoo (loading tfjs first); the same options and seed give the same weights. */
export async function buildModel(architecture: ModelArchitecture, options: BuildModelOptions = {}): Promise<LayersModel> {
  const resolved = resolveModelOptions(architecture, options);
  await loadTfjs();
  return buildResolved(resolved);
}

/** Builds from resolved options; tfjs must already be loaded (loadTfjs). */
export function buildResolved(resolved: ResolvedModelOptions): LayersModel {
  return withSeed(resolved.seed, () => MODEL_REGISTRY[resolved.architecture].build(resolved));
}

/** The multiple that height and width must have for this configuration. */
export function modelMultiple(resolved: ResolvedModelOptions): number {
  return MODEL_REGISTRY[resolved.architecture].multiple(resolved);
}

export interface ModelStats {
  parameters: number;
  /** FLOPs of one forward pass per input pixel (convolutions and dense layers) */
  flopsPerPixel: number;
  multiple: number;
}

/** Parameter count and FLOPs per pixel of a configuration (builds it once, then frees it). */
export async function modelStats(architecture: ModelArchitecture, options: BuildModelOptions = {}): Promise<ModelStats> {
  const resolved = resolveModelOptions(architecture, options, 'modelStats');
  await loadTfjs();
  const model = buildResolved(resolved);
  try {
    const multiple = modelMultiple(resolved);
    const side = multiple * Math.max(1, Math.ceil(64 / multiple));
    return { parameters: model.countParams(), flopsPerPixel: countFlops(model, side, side) / (side * side), multiple };
  } finally {
    model.dispose();
  }
}
