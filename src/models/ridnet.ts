/**
 * RIDNet (Anwar & Barnes 2019, "Real Image Denoising with Feature Attention", ICCV):
 * one conv extracts features; Enhancement Attention Modules (EAM) follow, each
 * - merge-and-run: two branches of dilated conv3x3+ReLU (dilations 1,2 and 3,4),
 *   concatenated, merged by a conv3x3+ReLU, plus the module input;
 * - a residual block: conv+ReLU, conv, plus input, ReLU;
 * - an enhanced residual block: conv+ReLU, conv+ReLU, conv1x1, plus input, ReLU;
 * - feature attention: global average pool -> conv1x1 down (C/r) -> ReLU -> conv1x1
 *   up -> sigmoid -> channel scaling;
 * residual-on-residual: local skips inside each module and a long skip from the
 * input to the output; one conv reconstructs the image.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import { activate, add, concat, conv, sym } from './blocks.js';
import type { ArchitectureInfo } from './types.js';

export interface RidnetOptions {
  channels: 1 | 3;
  /** EAM modules (4 in the paper) */
  modules: number;
  /** feature channels (64 in the paper) */
  width: number;
  /** channel reduction of the attention (16 in the paper) */
  reduction: number;
}

function eam(x: SymbolicTensor, o: RidnetOptions): SymbolicTensor {
  const w = o.width;
  let b1 = conv(x, { filters: w, dilation: 1, activation: 'relu' });
  b1 = conv(b1, { filters: w, dilation: 2, activation: 'relu' });
  let b2 = conv(x, { filters: w, dilation: 3, activation: 'relu' });
  b2 = conv(b2, { filters: w, dilation: 4, activation: 'relu' });
  const merged = add([conv(concat([b1, b2]), { filters: w, activation: 'relu' }), x]);

  let r = conv(merged, { filters: w, activation: 'relu' });
  r = conv(r, { filters: w });
  r = activate(add([r, merged]), 'relu');

  let e = conv(r, { filters: w, activation: 'relu' });
  e = conv(e, { filters: w, activation: 'relu' });
  e = conv(e, { filters: w, kernel: 1 });
  e = activate(add([e, r]), 'relu');

  const pooled = sym(tf.layers.globalAveragePooling2d({}).apply(e));
  let a = sym(tf.layers.reshape({ targetShape: [1, 1, w] }).apply(pooled));
  a = conv(a, { filters: Math.max(1, Math.floor(w / o.reduction)), kernel: 1, activation: 'relu' });
  a = conv(a, { filters: w, kernel: 1, activation: 'sigmoid' });
  return sym(tf.layers.multiply().apply([e, a]));
}

export function buildRidnet(o: RidnetOptions): LayersModel {
  const input = tf.input({ shape: [null, null, o.channels], name: 'image' });
  let x = conv(input, { filters: o.width });
  for (let i = 0; i < o.modules; i++) x = eam(x, o);
  const y = conv(x, { filters: o.channels });
  return tf.model({ inputs: input, outputs: add([y, input]), name: 'ridnet' });
}

export const RIDNET: ArchitectureInfo = {
  id: 'ridnet',
  summary: 'RIDNet: dilated merge-and-run, residual blocks and channel attention, with a long skip',
  reference: 'Anwar & Barnes 2019, ICCV',
  role: 'denoiser',
  params: [
    { name: 'modules', type: 'number', integer: true, min: 1, max: 16, default: 4, description: 'Enhancement Attention Modules' },
    { name: 'width', type: 'number', integer: true, min: 1, max: 512, default: 64, description: 'feature channels' },
    { name: 'reduction', type: 'number', integer: true, min: 1, max: 64, default: 16, description: 'channel reduction in the feature attention' },
  ],
  presets: { paper: { modules: 4, width: 64, reduction: 16 } },
  defaultPreset: 'paper',
  multiple: () => 1,
  build: (o) => buildRidnet(o as unknown as RidnetOptions),
};
