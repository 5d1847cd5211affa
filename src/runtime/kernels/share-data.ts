/**
 * Identity, and Cast to the same dtype, on wasm without copying: the built-in
 * kernels copy the whole tensor, and tfjs calls them on every activation (moments
 * casts its input to float32, gradients clone). tfjs tensors are immutable
 * (variables change by swapping their data, never in place), so sharing the buffer
 * with a reference count is what the cpu backend and wasm's own Reshape do.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface RefCounting {
  incRef(dataId: object): void;
}

function shareConfig(kernelName: 'Identity' | 'Cast', builtinConfig: KernelConfig): KernelConfig {
  const builtin = builtinConfig.kernelFunc;
  const kernelFunc: KernelFunc = (args) => {
    const x = args.inputs.x as TensorInfo;
    const dtype = kernelName === 'Cast' ? (args.attrs as { dtype: string }).dtype : x.dtype;
    if (dtype !== x.dtype || x.dtype === 'string') return builtin(args);
    (args.backend as RefCounting).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape.slice(), dtype: x.dtype };
  };
  return { kernelName, backendName: 'wasm', kernelFunc, setupFunc: builtinConfig.setupFunc };
}

export function shareDataConfigs(): KernelConfig[] {
  return (['Identity', 'Cast'] as const).flatMap((name) => {
    const builtin = tf.getKernel(name, 'wasm');
    return builtin ? [shareConfig(name, builtin)] : [];
  });
}
