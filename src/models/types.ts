/**
 * The shape every architecture of the model zoo shares, so the registry, the CLI
 * (`hush models`), training and the docs treat them alike.
 */
import type { LayersModel } from '@tensorflow/tfjs';
import type { ParamSpec } from '../core/params.js';

export const MODEL_ARCHITECTURES = ['dncnn', 'unet', 'ridnet', 'autoencoder', 'gan-generator', 'gan-discriminator'] as const;
export type ModelArchitecture = (typeof MODEL_ARCHITECTURES)[number];

/** Colour channels a model is built for: grey or RGB (alpha is carried around the network). */
export const MODEL_CHANNELS = [1, 3] as const;
export type ModelChannels = (typeof MODEL_CHANNELS)[number];

export interface ArchitectureInfo {
  /** registry key = file name = CLI value */
  readonly id: ModelArchitecture;
  /** one line for `hush models` and the docs */
  readonly summary: string;
  /** the paper (or code) the architecture follows */
  readonly reference: string;
  /** 'denoiser': image in, image out; 'discriminator': image in, real/fake map out */
  readonly role: 'denoiser' | 'discriminator';
  /** options besides `channels` and `preset`, validated with resolveParams */
  readonly params: readonly ParamSpec[];
  /** named option sets; a preset fills defaults that explicit options override */
  readonly presets: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** the preset used when none is named (undefined: the params' own defaults) */
  readonly defaultPreset?: string;
  /** height and width must be multiples of this (runModel pads and crops) */
  multiple(options: Readonly<Record<string, unknown>>): number;
  /** builds the network from resolved options (channels included); tfjs must be loaded */
  build(options: Readonly<Record<string, unknown>>): LayersModel;
}
