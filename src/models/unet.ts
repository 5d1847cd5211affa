/**
 * U-Net (Ronneberger, Fischer & Brox 2015, "U-Net: Convolutional Networks for
 * Biomedical Image Segmentation"): an encoder that halves the resolution level by
 * level, a decoder that doubles it back, and skips that concatenate encoder features
 * into the decoder. Three published denoising variants are presets:
 * - astro: the Astro U-net (Vojtekova et al. 2021, "Learning to denoise astronomical
 *   images with U-nets", MNRAS 503): 5 levels 32..512, two conv3x3 per level,
 *   LeakyReLU(0.2), 2x2 max-pool, 2x2 transposed-conv up, linear 1x1 output, and the
 *   exposure-time ratio as a constant extra channel at the bottom of the U;
 * - baby: Noise2Self's BabyUnet (Batson & Royer 2019): width 16, two down-samplings,
 *   blocks of 2x(conv-BN-LeakyReLU) with a residual add, bilinear up-sampling;
 * - noise2same: the Noise2Same U-Net (Xie, Wang & Ji 2020): 3 levels 96-192-384,
 *   pre-activation residual blocks, strided-conv down, transposed-conv up.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel, SymbolicTensor } from '@tensorflow/tfjs';
import { activate, add, concat, conv, convTranspose, sym, upsample, type Activation } from './blocks.js';
import { AppendConstantChannel, Subtract } from './layers/index.js';
import type { ArchitectureInfo } from './types.js';

export const UNET_BLOCKS = ['double-conv', 'residual', 'preact-residual'] as const;
export const UNET_DOWN = ['max-pool', 'avg-pool', 'strided-conv'] as const;
export const UNET_UP = ['transposed-conv', 'bilinear'] as const;

export interface UnetOptions {
  channels: 1 | 3;
  /** resolutions, the full one included (astro 5, baby 3, noise2same 3) */
  levels: number;
  /** feature channels at full resolution; doubled per level up to maxWidth */
  width: number;
  maxWidth: number;
  block: (typeof UNET_BLOCKS)[number];
  down: (typeof UNET_DOWN)[number];
  up: (typeof UNET_UP)[number];
  featureNorm: 'batch' | 'none';
  /** LeakyReLU slope; 0 is ReLU */
  alpha: number;
  /** 'exposure-ratio': a second input (one number per image) joins the bottom as a constant channel */
  conditioning: 'none' | 'exposure-ratio';
  output: 'direct' | 'residual';
}

function block(x: SymbolicTensor, filters: number, o: UnetOptions): SymbolicTensor {
  const bn = o.featureNorm === 'batch';
  const act: Activation = o.alpha === 0 ? 'relu' : 'leaky-relu';
  const inC = x.shape[3];
  if (o.block === 'double-conv') {
    const y = conv(x, { filters, batchNorm: bn, activation: act, alpha: o.alpha });
    return conv(y, { filters, batchNorm: bn, activation: act, alpha: o.alpha });
  }
  const shortcut = inC === filters ? x : conv(x, { filters, kernel: 1 });
  if (o.block === 'residual') {
    let y = conv(x, { filters, batchNorm: bn, activation: act, alpha: o.alpha });
    y = conv(y, { filters, batchNorm: bn, activation: act, alpha: o.alpha });
    return add([y, shortcut]);
  }
  // pre-activation (He et al. 2016, "Identity Mappings in Deep Residual Networks"): BN-act-conv twice
  let y = x;
  for (let i = 0; i < 2; i++) {
    if (bn) y = sym(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(y));
    y = activate(y, act, o.alpha);
    y = conv(y, { filters });
  }
  return add([y, shortcut]);
}

function down(x: SymbolicTensor, filters: number, o: UnetOptions): SymbolicTensor {
  if (o.down === 'max-pool') return sym(tf.layers.maxPooling2d({ poolSize: 2, strides: 2 }).apply(x));
  if (o.down === 'avg-pool') return sym(tf.layers.averagePooling2d({ poolSize: 2, strides: 2 }).apply(x));
  return conv(x, { filters, strides: 2 });
}

export function unetWidths(o: Pick<UnetOptions, 'levels' | 'width' | 'maxWidth'>): number[] {
  return Array.from({ length: o.levels }, (_, l) => Math.min(o.width * 2 ** l, o.maxWidth));
}

export function buildUnet(o: UnetOptions): LayersModel {
  const widths = unetWidths(o);
  const input = tf.input({ shape: [null, null, o.channels], name: 'image' });
  const ratio = o.conditioning === 'exposure-ratio' ? tf.input({ shape: [1], name: 'exposure_ratio' }) : undefined;
  let x: SymbolicTensor = input;
  if (o.block === 'preact-residual') x = conv(x, { filters: widths[0] });
  const skips: SymbolicTensor[] = [];
  for (let l = 0; l < o.levels; l++) {
    if (l > 0) x = down(x, widths[l], o);
    if (l === o.levels - 1 && ratio) x = sym(new AppendConstantChannel({ name: 'exposure_ratio_channel' }).apply([x, ratio]));
    x = block(x, widths[l], o);
    skips.push(x);
  }
  for (let l = o.levels - 2; l >= 0; l--) {
    x = o.up === 'transposed-conv' ? convTranspose(x, { filters: widths[l], kernel: 2, strides: 2 }) : upsample(x, 'bilinear');
    x = concat([x, skips[l]]);
    x = block(x, widths[l], o);
  }
  const y = conv(x, { filters: o.channels, kernel: 1 });
  const output = o.output === 'residual' ? sym(new Subtract({ name: 'residual' }).apply([input, y])) : y;
  return tf.model({ inputs: ratio ? [input, ratio] : input, outputs: output, name: 'unet' });
}

export const UNET: ArchitectureInfo = {
  id: 'unet',
  summary: 'U-Net with skips; presets astro (exposure-ratio input), baby (Noise2Self), noise2same',
  reference: 'Ronneberger et al. 2015; Vojtekova et al. 2021; Batson & Royer 2019; Xie et al. 2020',
  role: 'denoiser',
  params: [
    { name: 'levels', type: 'number', integer: true, min: 2, max: 7, default: 3, description: 'resolutions, the full one included' },
    { name: 'width', type: 'number', integer: true, min: 1, max: 512, default: 16, description: 'feature channels at full resolution, doubled per level' },
    { name: 'maxWidth', type: 'number', integer: true, min: 1, max: 2048, default: 1024, description: 'cap on the feature channels' },
    { name: 'block', type: 'enum', choices: UNET_BLOCKS, default: 'residual', description: 'the block at each level' },
    { name: 'down', type: 'enum', choices: UNET_DOWN, default: 'avg-pool', description: 'down-sampling' },
    { name: 'up', type: 'enum', choices: UNET_UP, default: 'bilinear', description: 'up-sampling' },
    { name: 'featureNorm', type: 'enum', choices: ['batch', 'none'], default: 'batch', description: 'batch normalisation in the blocks' },
    { name: 'alpha', type: 'number', min: 0, max: 1, default: 0.01, description: 'LeakyReLU slope (0: ReLU)' },
    { name: 'conditioning', type: 'enum', choices: ['none', 'exposure-ratio'], default: 'none', description: 'an extra per-image number fed at the bottom' },
    { name: 'output', type: 'enum', choices: ['direct', 'residual'], default: 'direct', description: "'residual': input minus the network's output" },
  ],
  presets: {
    astro: { levels: 5, width: 32, maxWidth: 512, block: 'double-conv', down: 'max-pool', up: 'transposed-conv', featureNorm: 'none', alpha: 0.2, conditioning: 'exposure-ratio' },
    baby: { levels: 3, width: 16, maxWidth: 32, block: 'residual', down: 'avg-pool', up: 'bilinear', featureNorm: 'batch', alpha: 0.01, conditioning: 'none' },
    noise2same: { levels: 3, width: 96, maxWidth: 384, block: 'preact-residual', down: 'strided-conv', up: 'transposed-conv', featureNorm: 'batch', alpha: 0, conditioning: 'none' },
  },
  defaultPreset: 'baby',
  multiple: (o) => 2 ** ((o.levels as number) - 1),
  build: (o) => buildUnet(o as unknown as UnetOptions),
};
