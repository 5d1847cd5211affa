/**
 * ResizeNearestNeighborGrad for the cpu backend (hush's fallback). The built-in cpu
 * kernel (tfjs 4.22) is wrong for every image after the first of a batch (found
 * against a direct adjoint: for a 2x4x4x3 batch, all 48 values of the second image
 * differ; the wasm kernel is right), which would corrupt training of any model with
 * nearest-neighbour up-sampling (UpSampling2D's default) on the fallback backend.
 * This is the exact adjoint of the forward kernel: each output pixel's dy is added
 * to the source pixel the forward pass copied, with the forward's own index rule
 * (alignCorners, halfPixelCenters).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';

/** Source index of output index `i` in tfjs's nearest-neighbour resize. */
export function nearestSource(i: number, oldSize: number, newSize: number, alignCorners: boolean, halfPixelCenters: boolean): number {
  const ratio = alignCorners && newSize > 1 ? (oldSize - 1) / (newSize - 1) : oldSize / newSize;
  const frac = halfPixelCenters ? ratio * (i + 0.5) : ratio * i;
  let s = Math.min(oldSize - 1, alignCorners ? Math.round(frac) : Math.floor(frac));
  if (halfPixelCenters) s = Math.max(0, s);
  return s;
}

/** dx (shape of `images`) from dy by scattering with the forward's index rule. */
export function resizeNearestNeighborAdjoint(
  dy: Float32Array,
  imagesShape: number[],
  dyShape: number[],
  alignCorners: boolean,
  halfPixelCenters: boolean,
): Float32Array {
  const [batch, oldH, oldW, ch] = imagesShape;
  const [, newH, newW] = dyShape;
  const dx = new Float32Array(batch * oldH * oldW * ch);
  const rows = Int32Array.from({ length: newH }, (_, r) => nearestSource(r, oldH, newH, alignCorners, halfPixelCenters));
  const cols = Int32Array.from({ length: newW }, (_, c) => nearestSource(c, oldW, newW, alignCorners, halfPixelCenters));
  let k = 0;
  for (let b = 0; b < batch; b++) {
    for (let r = 0; r < newH; r++) {
      const rowBase = (b * oldH + rows[r]) * oldW;
      for (let c = 0; c < newW; c++) {
        const base = (rowBase + cols[c]) * ch;
        for (let d = 0; d < ch; d++) dx[base + d] += dy[k++];
      }
    }
  }
  return dx;
}

interface CpuBackendLike {
  readSync(dataId: object): Float32Array;
  makeTensorInfo(shape: number[], dtype: 'float32', values: Float32Array): TensorInfo;
}

export function resizeNearestNeighborGradCpuConfig(): KernelConfig {
  const kernelFunc: KernelFunc = ({ inputs, backend, attrs }) => {
    const be = backend as CpuBackendLike;
    const images = inputs.images as TensorInfo;
    const dy = inputs.dy as TensorInfo;
    const { alignCorners = false, halfPixelCenters = false } = (attrs ?? {}) as { alignCorners?: boolean; halfPixelCenters?: boolean };
    const dx = resizeNearestNeighborAdjoint(be.readSync(dy.dataId), images.shape, dy.shape, alignCorners, halfPixelCenters);
    return be.makeTensorInfo(images.shape, 'float32', dx);
  };
  return { kernelName: 'ResizeNearestNeighborGrad', backendName: 'cpu', kernelFunc };
}
