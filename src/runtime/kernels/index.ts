/**
 * Registers hush's kernels and gradients with tfjs, once. On wasm: a fast
 * Conv2DBackpropInput (also the forward pass of conv2dTranspose) and the missing
 * Conv2DBackpropFilter, both as XNNPACK forward convolutions, and a correct
 * MaxPoolGrad. On cpu (the fallback): a correct ResizeNearestNeighborGrad. For every backend: a
 * Conv2D gradient that accepts dilation, and dilated fused convolutions routed to it.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, KernelConfig } from '@tensorflow/tfjs';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dGradConfig, patchFusedConv2d } from './conv2d-grad.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { resizeNearestNeighborGradCpuConfig } from './resize-nearest-neighbor-grad.js';
import { reduceLeadingConfigs } from './reduce-leading.js';
import { shareDataConfigs } from './share-data.js';
import { fusedBatchNormGradConfig } from './batch-norm-grad.js';

/** What registerHushKernels installs, for docs and `hush models --engine`. */
export const HUSH_KERNELS = [
  { kernel: 'Conv2DBackpropInput', backend: 'wasm', kind: 'kernel', why: 'built-in is a scalar loop, ~10x slower than a forward conv; also the forward of conv2dTranspose' },
  { kernel: 'Conv2DBackpropFilter', backend: 'wasm', kind: 'kernel', why: 'not registered on wasm: no conv net could train' },
  { kernel: 'MaxPoolGrad', backend: 'wasm', kind: 'kernel', why: 'built-in drops the gradient of windows whose values are all negative' },
  { kernel: 'ResizeNearestNeighborGrad', backend: 'cpu', kind: 'kernel', why: 'built-in cpu kernel is wrong for every image after the first of a batch (wasm\'s is right)' },
  { kernel: 'Sum, Mean', backend: 'wasm', kind: 'kernel', why: 'reductions over the leading axes (bias, batch-norm) as a ones-vector matmul instead of transpose + loop' },
  { kernel: 'Identity, Cast', backend: 'wasm', kind: 'kernel', why: 'share the buffer instead of copying every activation' },
  { kernel: 'FusedBatchNorm', backend: 'all', kind: 'gradient', why: 'built-in gradient tiles to the full activation shape; wasm Tile is slow' },
  { kernel: 'Conv2D', backend: 'all', kind: 'gradient', why: 'built-in gradient refuses dilation > 1 (RIDNet)' },
  { kernel: 'FusedConv2D', backend: 'all', kind: 'op patch', why: 'dilated fused convs go unfused so their gradient exists' },
] as const;

let registered = false;

/** The gradients tfjs shipped for the kernels we override, for tests that compare against them. */
export const BUILTIN_GRADIENTS = new Map<string, GradConfig>();

/** tfjs's own wasm kernels that ours replace, for benchmarks that compare against them. */
export const BUILTIN_KERNELS = new Map<string, KernelConfig>();

export function registerHushKernels(): void {
  if (registered) return;
  const builtin = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (builtin) {
    BUILTIN_KERNELS.set('Conv2DBackpropInput', builtin);
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  }
  tf.registerKernel(conv2dBackpropInputConfig(builtin));
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.registerKernel(conv2dBackpropFilterConfig());
  for (const config of [maxPoolGradConfig(), resizeNearestNeighborGradCpuConfig(), ...reduceLeadingConfigs(), ...shareDataConfigs()]) {
    const existing = tf.getKernel(config.kernelName, config.backendName);
    if (existing) {
      if (config.backendName === 'wasm') BUILTIN_KERNELS.set(config.kernelName, existing);
      tf.unregisterKernel(config.kernelName, config.backendName);
    }
    tf.registerKernel(config);
  }
  for (const config of [conv2dGradConfig, fusedBatchNormGradConfig]) {
    const builtinGrad = tf.getGradient(config.kernelName);
    if (builtinGrad) BUILTIN_GRADIENTS.set(config.kernelName, builtinGrad);
    tf.registerGradient(config);
  }
  patchFusedConv2d();
  registered = true;
}
