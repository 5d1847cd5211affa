/**
 * Convolutional denoising autoencoder (in the line of Vincent et al. 2008 and
 * Gondara 2016, "Medical image denoising using convolutional denoising
 * autoencoders"): an encoder of conv3x3+ReLU and 2x2 max-pool per level, a decoder
 * of conv3x3+ReLU and 2x nearest up-sampling per level, and a linear conv3x3 output.
 * No skips: everything passes through the bottleneck.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import { conv, sym, upsample } from './blocks.js';
import type { ArchitectureInfo } from './types.js';

export interface AutoencoderOptions {
  channels: 1 | 3;
  /** pool/up-sample steps */
  levels: number;
  /** channels of the first level, doubled per level */
  width: number;
}

export function buildAutoencoder(o: AutoencoderOptions): LayersModel {
  const input = tf.input({ shape: [null, null, o.channels], name: 'image' });
  let x: SymbolicTensor = input;
  for (let l = 0; l < o.levels; l++) {
    x = conv(x, { filters: o.width * 2 ** l, activation: 'relu' });
    x = sym(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x));
  }
  for (let l = o.levels - 1; l >= 0; l--) {
    x = conv(x, { filters: o.width * 2 ** l, activation: 'relu' });
    x = upsample(x, 'nearest');
  }
  return tf.model({ inputs: input, outputs: conv(x, { filters: o.channels }), name: 'autoencoder' });
}

export const AUTOENCODER: ArchitectureInfo = {
  id: 'autoencoder',
  summary: 'convolutional autoencoder: conv+max-pool encoder, conv+up-sample decoder, no skips',
  reference: 'Gondara 2016, ICDMW',
  role: 'denoiser',
  params: [
    { name: 'levels', type: 'number', integer: true, min: 1, max: 6, default: 2, description: 'pool / up-sample steps' },
    { name: 'width', type: 'number', integer: true, min: 1, max: 512, default: 32, description: 'channels of the first level, doubled per level' },
  ],
  presets: { small: { levels: 2, width: 32 } },
  defaultPreset: 'small',
  multiple: (o) => 2 ** (o.levels as number),
  build: (o) => buildAutoencoder(o as unknown as AutoencoderOptions),
};
