/**
 * Sum and Mean over the leading axes on wasm (the reductions of every bias and
 * batch-norm gradient and of batch-norm's moments: NHWC reduced to C). The built-in
 * kernels transpose the whole tensor so the reduced axes come last, then loop; here
 * one pass over the heap adds each row into float64 accumulators (also more exact).
 * (A ones-vector matmul looked faster in isolation but XNNPACK re-packs the
 * "weights" operand for every new tensor, which made it slower in training.) Other
 * reductions go to the built-in kernels.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { WasmBackendLike } from './wasm-context.js';

/** The number of leading axes `axes` covers, or -1 if it is not exactly 0..k-1 (k < rank). */
export function leadingAxes(axes: number[], rank: number): number {
  const sorted = [...new Set(axes)].sort((a, b) => a - b);
  if (sorted.length === 0 || sorted.length > rank) return -1;
  return sorted.every((a, i) => a === i) ? sorted.length : -1;
}

function reduceConfig(kernelName: 'Sum' | 'Mean', builtinConfig: KernelConfig): KernelConfig {
  const builtin = builtinConfig.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    const { axis, keepDims } = args.attrs as unknown as { axis: number | number[]; keepDims: boolean };
    const axes = tf.util.parseAxisParam(axis, x.shape);
    const k = leadingAxes(axes, x.shape.length);
    if (x.dtype !== 'float32' || k < 1) return builtin(args);
    const m = x.shape.slice(0, k).reduce((a, b) => a * b, 1);
    const c = x.shape.slice(k).reduce((a, b) => a * b, 1);
    if (m < 2) return builtin(args);
    const be = args.backend as WasmBackendLike;
    const outShape = keepDims ? [...x.shape.slice(0, k).map(() => 1), ...x.shape.slice(k)] : x.shape.slice(k);
    const out = be.makeOutput(outShape, 'float32');
    // views after makeOutput: an allocation may grow the heap and detach older views
    const src = be.typedArrayFromHeap(x);
    const acc = new Float64Array(c);
    for (let i = 0, j = 0; i < m; i++) for (let q = 0; q < c; q++, j++) acc[q] += src[j];
    const dst = be.typedArrayFromHeap(out);
    const f = kernelName === 'Mean' ? 1 / m : 1;
    for (let q = 0; q < c; q++) dst[q] = acc[q] * f;
    return out;
  };
  // the built-in's setup (binding its wasm function) must still run: it is the fallback
  return { kernelName, backendName: 'wasm', kernelFunc, setupFunc: builtinConfig.setupFunc };
}

export function reduceLeadingConfigs(): KernelConfig[] {
  return (['Sum', 'Mean'] as const).flatMap((name) => {
    const builtin = tf.getKernel(name, 'wasm');
    return builtin ? [reduceConfig(name, builtin)] : [];
  });
}
