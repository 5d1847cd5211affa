/**
 * Registers hush's kernels and gradients with tfjs, once. On wasm: a fast
 * Conv2DBackpropInput (also the forward pass of conv2dTranspose) and the missing
 * Conv2DBackpropFilter, both as XNNPACK forward convolutions, and a correct
 * MaxPoolGrad. On cpu (the fallback): a correct ResizeNearestNeighborGrad. For every backend: a
 * Conv2D gradient that accepts dilation, and dilated fused convolutions routed to it.
 */
import * as tf from '@tensorflow/tfjs';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dGradConfig, patchFusedConv2d } from './conv2d-grad.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { resizeNearestNeighborGradCpuConfig } from './resize-nearest-neighbor-grad.js';

/** What registerHushKernels installs, for docs and `hush models --engine`. */
export const HUSH_KERNELS = [
  { kernel: 'Conv2DBackpropInput', backend: 'wasm', kind: 'kernel', why: 'built-in is a scalar loop, ~10x slower than a forward conv; also the forward of conv2dTranspose' },
  { kernel: 'Conv2DBackpropFilter', backend: 'wasm', kind: 'kernel', why: 'not registered on wasm: no conv net could train' },
  { kernel: 'MaxPoolGrad', backend: 'wasm', kind: 'kernel', why: 'built-in drops the gradient of windows whose values are all negative' },
  { kernel: 'ResizeNearestNeighborGrad', backend: 'cpu', kind: 'kernel', why: 'built-in cpu kernel is wrong for every image after the first of a batch (wasm\'s is right)' },
  { kernel: 'Conv2D', backend: 'all', kind: 'gradient', why: 'built-in gradient refuses dilation > 1 (RIDNet)' },
  { kernel: 'FusedConv2D', backend: 'all', kind: 'op patch', why: 'dilated fused convs go unfused so their gradient exists' },
] as const;

let registered = false;

export function registerHushKernels(): void {
  if (registered) return;
  const builtin = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if (builtin) tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
  tf.registerKernel(conv2dBackpropInputConfig(builtin?.kernelFunc));
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm')) tf.unregisterKernel('Conv2DBackpropFilter', 'wasm');
  tf.registerKernel(conv2dBackpropFilterConfig());
  for (const config of [maxPoolGradConfig(), resizeNearestNeighborGradCpuConfig()]) {
    if (tf.getKernel(config.kernelName, config.backendName)) tf.unregisterKernel(config.kernelName, config.backendName);
    tf.registerKernel(config);
  }
  tf.registerGradient(conv2dGradConfig);
  patchFusedConv2d();
  registered = true;
}
