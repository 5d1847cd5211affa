/**
 * Conv2DBackpropInput for the wasm backend as one forward convolution. This kernel
 * is both the input gradient of every convolution and the forward pass of every
 * transposed convolution (conv2dTranspose). The built-in wasm kernel is a scalar
 * loop, about 10x slower than XNNPACK's forward convolution; here the s x s phases
 * of the strided transposed convolution run as a single stride-1 convolution of dy
 * with a combined kernel of s*s*Ci outputs, then depth-to-space interleaves them
 * (sub-pixel decomposition; see conv-plan.ts).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { planInputGradAxis } from './conv-plan.js';
import { KernelScope, type WasmBackendLike } from './wasm-context.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;

/**
 * Combined kernel K[jh, jw, o, (rh * sw + rw) * ci + c] = w[ah, aw, c, o] where
 * (ah, aw) is the filter tap that combined tap (jh, jw) feeds into phase (rh, rw).
 */
export function combinedInputGradFilter(
  w: Float32Array,
  shape: [number, number, number, number],
  planH: ReturnType<typeof planInputGradAxis>,
  planW: ReturnType<typeof planInputGradAxis>,
): { values: Float32Array; shape: [number, number, number, number] } {
  const [, kw, ci, co] = shape;
  const sh = planH.phases;
  const sw = planW.phases;
  const outC = sh * sw * ci;
  const lh = planH.taps;
  const lw = planW.taps;
  const k = new Float32Array(lh * lw * co * outC);
  for (let jh = 0; jh < lh; jh++) {
    for (let rh = 0; rh < sh; rh++) {
      const ah = planH.tapIndex[jh * sh + rh];
      if (ah < 0) continue;
      for (let jw = 0; jw < lw; jw++) {
        for (let rw = 0; rw < sw; rw++) {
          const aw = planW.tapIndex[jw * sw + rw];
          if (aw < 0) continue;
          const src = (ah * kw + aw) * ci * co;
          const dst = (jh * lw + jw) * co * outC + (rh * sw + rw) * ci;
          for (let c = 0; c < ci; c++) {
            const s = src + c * co;
            for (let o = 0; o < co; o++) k[dst + o * outC + c] = w[s + o];
          }
        }
      }
    }
  }
  return { values: k, shape: [lh, lw, co, outC] };
}

/** dx of a dilation-1 convolution, from dy and the filter, as forward convolutions on `scope`'s backend. */
export function inputGradAsConv(
  scope: KernelScope,
  dy: TensorInfo,
  filter: TensorInfo,
  inShape: [number, number, number, number],
  strides: number | [number, number],
  pad: Pad,
  dimRoundingMode?: 'floor' | 'round' | 'ceil',
): TensorInfo {
  const fShape = filter.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(inShape, fShape, strides, 1, pad, dimRoundingMode, false, 'channelsLast');
  const [n, h, w, ci] = inShape;
  const planH = planInputGradAxis(info.filterHeight, info.strideHeight, info.padInfo.top, h, info.outHeight);
  const planW = planInputGradAxis(info.filterWidth, info.strideWidth, info.padInfo.left, w, info.outWidth);
  const k = combinedInputGradFilter(scope.backend.typedArrayFromHeap(filter), fShape, planH, planW);
  const kernel = scope.constant(k.shape, k.values);
  // Negative padding means dy rows that reach no dx row: crop them; positive padding goes to the conv.
  const src = scope.padOrCrop(dy, Math.min(0, planH.padBefore), Math.min(0, planH.padAfter), Math.min(0, planW.padBefore), Math.min(0, planW.padAfter));
  const explicit: tf.backend_util.ExplicitPadding = [
    [0, 0],
    [Math.max(0, planH.padBefore), Math.max(0, planH.padAfter)],
    [Math.max(0, planW.padBefore), Math.max(0, planW.padAfter)],
    [0, 0],
  ];
  let out = scope.run('Conv2D', { x: src, filter: kernel }, { strides: [1, 1], pad: explicit, dataFormat: 'NHWC', dilations: [1, 1] } as unknown as NamedAttrMap);
  const sh = planH.phases;
  const sw = planW.phases;
  if (sh > 1 || sw > 1) {
    if (sh === sw) {
      out = scope.run('DepthToSpace', { x: out }, { blockSize: sh, dataFormat: 'NHWC' });
    } else {
      const u = planH.outRows;
      const v = planW.outRows;
      out = scope.run('Reshape', { x: out }, { shape: [n, u, v, sh, sw, ci] });
      out = scope.run('Transpose', { x: out }, { perm: [0, 1, 3, 2, 4, 5] });
      out = scope.run('Reshape', { x: out }, { shape: [n, u * sh, v * sw, ci] });
    }
  }
  if (out.shape[1] !== h || out.shape[2] !== w) {
    out = scope.run('Slice', { x: out }, { begin: [0, 0, 0, 0], size: [n, h, w, ci] });
  }
  return out;
}

export function conv2dBackpropInputConfig(builtinConfig: KernelConfig | undefined): KernelConfig {
  const builtin = builtinConfig?.kernelFunc;
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const a = (attrs ?? {}) as unknown as { strides: number | [number, number]; pad: Pad; dataFormat: 'NHWC' | 'NCHW'; dimRoundingMode?: 'floor' | 'round' | 'ceil'; inputShape: [number, number, number, number] };
    if (a.dataFormat === 'NCHW') {
      if (!builtin) throw new Error('hush kernels: Conv2DBackpropInput supports NHWC only');
      return builtin({ inputs, backend, attrs });
    }
    const scope = new KernelScope(backend as WasmBackendLike);
    try {
      const out = inputGradAsConv(scope, inputs.dy as TensorInfo, inputs.filter as TensorInfo, a.inputShape, a.strides, a.pad, a.dimRoundingMode);
      return scope.keep(out);
    } finally {
      scope.dispose();
    }
  };
  // the built-in's setup binds its wasm function, still used for NCHW
  return { kernelName: 'Conv2DBackpropInput', backendName: 'wasm', kernelFunc, setupFunc: builtinConfig?.setupFunc };
}
