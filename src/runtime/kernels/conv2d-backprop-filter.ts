/**
 * Conv2DBackpropFilter for the wasm backend, which has none (training any conv net
 * fails with "Kernel 'Conv2DBackpropFilter' not registered for backend 'wasm'").
 * The filter gradient dw[a, b, c, o] = sum_{n,i,j} x[n, i*s + a - pt, j*s + b - pl, c]
 * dy[n, i, j, o] is a forward convolution in which the input channels c play the
 * batch, the batch n plays the input channels, and dy (as [Ho, Wo, N, Co]) is the
 * filter, dilated by the stride s (see conv-plan.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { planFilterGradAxis } from './conv-plan.js';
import { KernelScope, type WasmBackendLike } from './wasm-context.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/** dw of a convolution with the given strides and dilations, as one forward convolution on `scope`'s backend. */
export function filterGradAsConv(
  scope: KernelScope,
  x: TensorInfo,
  dy: TensorInfo,
  filterShape: [number, number, number, number],
  strides: number | [number, number],
  dilations: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TensorInfo {
  const xShape = x.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(xShape, filterShape, strides, dilations, pad, dimRoundingMode, false, 'channelsLast');
  const planH = planFilterGradAxis(info.filterHeight, info.strideHeight, info.dilationHeight, info.padInfo.top, xShape[1], info.outHeight);
  const planW = planFilterGradAxis(info.filterWidth, info.strideWidth, info.dilationWidth, info.padInfo.left, xShape[2], info.outWidth);
  const src = scope.padOrCrop(x, 0, Math.min(0, planH.padAfter), 0, Math.min(0, planW.padAfter));
  const xt = scope.run('Transpose', { x: src }, { perm: [3, 1, 2, 0] });
  const dyt = scope.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] });
  const explicit: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [planH.padBefore, Math.max(0, planH.padAfter)],
    [planW.padBefore, Math.max(0, planW.padAfter)],
    [0, 0],
  ];
  const g = scope.run(
    'Conv2D',
    { x: xt, filter: dyt },
    { strides: [planH.stride, planW.stride], pad: explicit, dataFormat: 'NHWC', dilations: [planH.dilation, planW.dilation] } as unknown as NamedAttrMap,
  );
  return scope.run('Transpose', { x: g }, { perm: [1, 2, 0, 3] });
}

export function conv2dBackpropFilterConfig(): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const a = (attrs ?? {}) as unknown as { strides: number | [number, number]; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; filterShape: [number, number, number, number] };
    if (a.dataFormat === 'NCHW') throw new Error('hush kernels: Conv2DBackpropFilter on wasm supports NHWC only');
    const scope = new KernelScope(backend as WasmBackendLike);
    try {
      return scope.keep(filterGradAsConv(scope, inputs.x as TensorInfo, inputs.dy as TensorInfo, a.filterShape, a.strides, 1, a.pad, a.dimRoundingMode));
    } finally {
      scope.dispose();
    }
  };
  return { kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc };
}
