/**
 * MaxPoolGrad for the wasm backend. The built-in wasm kernel (tfjs 4.22) drops
 * the gradient of some windows whose maximum is negative (found against the cpu
 * backend and a direct JS reference: on a 2x8x8x4 input with a 2x2 pool, 10 of 128
 * dy values went nowhere, each from a window with a negative maximum). Negative
 * windows are common after a LeakyReLU, and U-Net encoders train through max pooling. This one routes each dy to the first maximum of its
 * window in scan order, exactly as the cpu backend does, in a JS loop over the
 * wasm heap (memory-bound; a few ms for a 16x64x64x32 batch).
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasm-context.js';

export function maxPoolGradConfig(): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const be = backend as WasmBackendLike;
    const x = inputs.input as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    const a = attrs as unknown as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
    const info = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
    const out = be.makeOutput(x.shape, 'float32');
    // views after makeOutput: allocation may grow the heap and detach older views
    const dx = be.typedArrayFromHeap(out);
    const xv = be.typedArrayFromHeap(x);
    const dyv = be.typedArrayFromHeap(dy);
    dx.fill(0);
    const { batchSize, inHeight, inWidth, inChannels: ch, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
    const { top, left } = info.padInfo;
    for (let b = 0; b < batchSize; b++) {
      const xb = b * inHeight * inWidth * ch;
      for (let yr = 0; yr < outHeight; yr++) {
        const r0 = yr * strideHeight - top;
        const rMin = Math.max(0, r0);
        const rMax = Math.min(inHeight, r0 + filterHeight);
        for (let yc = 0; yc < outWidth; yc++) {
          const c0 = yc * strideWidth - left;
          const cMin = Math.max(0, c0);
          const cMax = Math.min(inWidth, c0 + filterWidth);
          const dyBase = ((b * outHeight + yr) * outWidth + yc) * ch;
          for (let d = 0; d < ch; d++) {
            let best = Number.NEGATIVE_INFINITY;
            let at = -1;
            for (let r = rMin; r < rMax; r++) {
              for (let c = cMin; c < cMax; c++) {
                const i = xb + (r * inWidth + c) * ch + d;
                if (xv[i] > best) {
                  best = xv[i];
                  at = i;
                }
              }
            }
            if (at >= 0) dx[at] += dyv[dyBase + d];
          }
        }
      }
    }
    return out;
  };
  return { kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc };
}
