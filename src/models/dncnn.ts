/**
 * DnCNN (Zhang, Zuo, Chen, Meng & Zhang 2017, "Beyond a Gaussian Denoiser: Residual
 * Learning of Deep CNN for Image Denoising", IEEE TIP): conv3x3+ReLU, (depth-2) x
 * [conv3x3+BN+ReLU], conv3x3; the network predicts the noise and the output is the
 * input minus it (residual learning). The paper's grey model has depth 17, width 64.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel } from '@tensorflow/tfjs';
import { conv, sym } from './blocks.js';
import { Subtract } from './layers/index.js';
import type { ArchitectureInfo } from './types.js';

export interface DncnnOptions {
  channels: 1 | 3;
  /** convolution layers (17 in the paper) */
  depth: number;
  /** feature channels (64 in the paper) */
  width: number;
  featureNorm: 'batch' | 'none';
  /** 'residual': output = input - predicted noise; 'direct': the last conv is the output */
  output: 'residual' | 'direct';
}

export function buildDncnn(o: DncnnOptions): LayersModel {
  const input = tf.input({ shape: [null, null, o.channels], name: 'image' });
  let x = conv(input, { filters: o.width, activation: 'relu' });
  for (let i = 0; i < o.depth - 2; i++) x = conv(x, { filters: o.width, batchNorm: o.featureNorm === 'batch', activation: 'relu' });
  const noise = conv(x, { filters: o.channels, activation: 'linear' });
  const output = o.output === 'residual' ? sym(new Subtract({ name: 'residual' }).apply([input, noise])) : noise;
  return tf.model({ inputs: input, outputs: output, name: 'dncnn' });
}

export const DNCNN: ArchitectureInfo = {
  id: 'dncnn',
  summary: 'DnCNN: a plain stack of conv-BN-ReLU that predicts the noise (residual learning)',
  reference: 'Zhang et al. 2017, IEEE TIP 26(7)',
  role: 'denoiser',
  params: [
    { name: 'depth', type: 'number', integer: true, min: 3, max: 64, default: 17, description: 'convolution layers' },
    { name: 'width', type: 'number', integer: true, min: 1, max: 512, default: 64, description: 'feature channels' },
    { name: 'featureNorm', type: 'enum', choices: ['batch', 'none'], default: 'batch', description: 'batch normalisation in the middle layers' },
    { name: 'output', type: 'enum', choices: ['residual', 'direct'], default: 'residual', description: "'residual': input minus the predicted noise" },
  ],
  presets: {
    paper: { depth: 17, width: 64 },
    blind: { depth: 20, width: 64 },
    small: { depth: 8, width: 32 },
  },
  defaultPreset: 'paper',
  multiple: () => 1,
  build: (o) => buildDncnn(o as unknown as DncnnOptions),
};
