/**
 * The generator of ImageDenoisingGAN (the public TensorFlow code
 * manumathewthomas/ImageDenoisingGAN, after the conditional-GAN de-raining network of
 * Zhang, Sindagi & Patel 2017): conv-BN-LeakyReLU blocks, the first with a 9x9
 * kernel and K = 32 channels, then 2K and 4K; three residual blocks of two
 * conv-BN-LeakyReLU each with a skip; up-sampling by resize then conv (rather than
 * transposed convolution, which leaves checkerboards; Odena et al. 2016) with
 * symmetric skips to the encoder blocks; a 9x9 conv and a sigmoid output in [0, 1].
 * With downsampling 'none' (the public code) every block keeps full resolution and
 * the resize is the identity; 'strided' halves the resolution in blocks 2 and 3.
 * With meanMatch (hush's default preset; off in 'paper') the sigmoid output gets the
 * per-channel mean of the noisy input (layers/match-mean.ts), so the generator cannot
 * shift colours whatever the adversary pushes it to.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import { add, conv, upsample } from './blocks.js';
import { MatchMean } from './layers/match-mean.js';
import type { ArchitectureInfo } from './types.js';

export interface GanGeneratorOptions {
  channels: 1 | 3;
  /** K, the channels of the first block (32) */
  width: number;
  residualBlocks: number;
  downsampling: 'none' | 'strided';
  /** LeakyReLU slope */
  alpha: number;
  /** end in MatchMean([output, input]): the output keeps the input's per-channel means */
  meanMatch?: boolean;
}

export function buildGanGenerator(o: GanGeneratorOptions): LayersModel {
  const k = o.width;
  const s = o.downsampling === 'strided' ? 2 : 1;
  const block = (x: SymbolicTensor, filters: number, kernel = 3, strides = 1) =>
    conv(x, { filters, kernel, strides, batchNorm: true, activation: 'leaky-relu', alpha: o.alpha });
  const input = tf.input({ shape: [null, null, o.channels], name: 'image' });
  const e1 = block(input, k, 9);
  const e2 = block(e1, 2 * k, 3, s);
  const e3 = block(e2, 4 * k, 3, s);
  let x = e3;
  for (let i = 0; i < o.residualBlocks; i++) x = add([x, block(block(x, 4 * k), 4 * k)]);
  if (s > 1) x = upsample(x, 'nearest');
  x = add([block(x, 2 * k), e2]);
  if (s > 1) x = upsample(x, 'nearest');
  x = add([block(x, k), e1]);
  let output = conv(x, { filters: o.channels, kernel: 9, activation: 'sigmoid' });
  if (o.meanMatch) output = new MatchMean({ name: 'match_mean' }).apply([output, input]) as SymbolicTensor;
  return tf.model({ inputs: input, outputs: output, name: 'gan_generator' });
}

export const GAN_GENERATOR: ArchitectureInfo = {
  id: 'gan-generator',
  summary: 'ImageDenoisingGAN generator: 9x9 conv-BN-LeakyReLU, 3 residual blocks, resize+conv up with skips, sigmoid; the input\'s channel means kept',
  reference: 'manumathewthomas/ImageDenoisingGAN; Zhang, Sindagi & Patel 2017',
  role: 'denoiser',
  params: [
    { name: 'width', type: 'number', integer: true, min: 1, max: 256, default: 32, description: 'K, channels of the first block' },
    { name: 'residualBlocks', type: 'number', integer: true, min: 0, max: 16, default: 3, description: 'residual blocks in the middle' },
    { name: 'downsampling', type: 'enum', choices: ['none', 'strided'], default: 'none', description: "'strided': blocks 2 and 3 halve the resolution" },
    { name: 'alpha', type: 'number', min: 0, max: 1, default: 0.2, description: 'LeakyReLU slope' },
    { name: 'meanMatch', type: 'boolean', default: true, description: "the output keeps the noisy input's per-channel means (no colour shift); off in 'paper'" },
  ],
  presets: {
    hush: { width: 32, residualBlocks: 3, downsampling: 'none', alpha: 0.2, meanMatch: true },
    paper: { width: 32, residualBlocks: 3, downsampling: 'none', alpha: 0.2, meanMatch: false },
  },
  defaultPreset: 'hush',
  multiple: (o) => (o.downsampling === 'strided' ? 4 : 1),
  build: (o) => buildGanGenerator(o as unknown as GanGeneratorOptions),
};
