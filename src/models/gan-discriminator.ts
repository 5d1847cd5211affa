/**
 * The discriminator of ImageDenoisingGAN: five conv-BN-LeakyReLU layers with 4x4
 * kernels, the first three at stride 2 and the last two at stride 1, from K2 = 48
 * channels doubling to 8*K2, then one conv to a single channel and a sigmoid: a
 * map of real/fake probabilities over patches (as in PatchGAN, Isola et al. 2017).
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import { conv } from './blocks.js';
import type { ArchitectureInfo } from './types.js';

export interface GanDiscriminatorOptions {
  channels: 1 | 3;
  /** K2, channels of the first layer (48) */
  width: number;
  alpha: number;
}

export function buildGanDiscriminator(o: GanDiscriminatorOptions): LayersModel {
  const input = tf.input({ shape: [null, null, o.channels], name: 'image' });
  let x: SymbolicTensor = input;
  const factors = [1, 2, 4, 8, 8];
  const strides = [2, 2, 2, 1, 1];
  for (let i = 0; i < 5; i++) x = conv(x, { filters: o.width * factors[i], kernel: 4, strides: strides[i], batchNorm: true, activation: 'leaky-relu', alpha: o.alpha });
  const output = conv(x, { filters: 1, kernel: 4, activation: 'sigmoid' });
  return tf.model({ inputs: input, outputs: output, name: 'gan_discriminator' });
}

export const GAN_DISCRIMINATOR: ArchitectureInfo = {
  id: 'gan-discriminator',
  summary: 'ImageDenoisingGAN discriminator: five 4x4 conv-BN-LeakyReLU (three at stride 2), conv to 1, sigmoid',
  reference: 'manumathewthomas/ImageDenoisingGAN',
  role: 'discriminator',
  params: [
    { name: 'width', type: 'number', integer: true, min: 1, max: 256, default: 48, description: 'K2, channels of the first layer' },
    { name: 'alpha', type: 'number', min: 0, max: 1, default: 0.2, description: 'LeakyReLU slope' },
  ],
  presets: { paper: { width: 48, alpha: 0.2 } },
  defaultPreset: 'paper',
  multiple: () => 8,
  build: (o) => buildGanDiscriminator(o as unknown as GanDiscriminatorOptions),
};
