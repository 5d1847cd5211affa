/**
 * Running wasm kernels from inside our own kernels: a kernel gets the backend and
 * raw TensorInfos, calls other registered kernels by name, and must free every
 * intermediate it makes (the engine only tracks what a kernel returns).
 */
import * as tf from '@tensorflow/tfjs';
import type { NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

/** The slice of BackendWasm our kernels use. */
export interface WasmBackendLike {
  makeOutput(shape: number[], dtype: 'float32' | 'int32', memoryOffset?: number, values?: Float32Array | Int32Array): TensorInfo;
  disposeData(dataId: object): boolean;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

export class KernelScope {
  private readonly temps: TensorInfo[] = [];

  constructor(readonly backend: WasmBackendLike, readonly backendName = 'wasm') {}

  /** Runs a registered kernel of this backend; the result is freed by `dispose` unless kept. */
  run(kernelName: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap = {}): TensorInfo {
    const config = tf.getKernel(kernelName, this.backendName);
    if (!config) throw new Error(`hush kernels: '${kernelName}' is not registered for '${this.backendName}'`);
    const out = config.kernelFunc({ inputs, backend: this.backend, attrs }) as TensorInfo;
    this.temps.push(out);
    return out;
  }

  /** A new float32 tensor on the heap holding `values`. */
  constant(shape: number[], values: Float32Array): TensorInfo {
    const out = this.backend.makeOutput(shape, 'float32', undefined, values);
    this.temps.push(out);
    return out;
  }

  /** Removes `info` from the temporaries so the caller can return it. */
  keep(info: TensorInfo): TensorInfo {
    const i = this.temps.indexOf(info);
    if (i >= 0) this.temps.splice(i, 1);
    return info;
  }

  /** Frees every temporary not kept. */
  dispose(): void {
    for (const t of this.temps) this.backend.disposeData(t.dataId);
    this.temps.length = 0;
  }

  /** Crops (negative amounts) or zero-pads (positive) the two spatial axes of an NHWC tensor. */
  padOrCrop(x: TensorInfo, top: number, bottom: number, left: number, right: number): TensorInfo {
    let out = x;
    if (top < 0 || bottom < 0 || left < 0 || right < 0) {
      const [n, h, w, c] = out.shape;
      const t0 = Math.max(0, -top);
      const l0 = Math.max(0, -left);
      const size = [n, h - t0 - Math.max(0, -bottom), w - l0 - Math.max(0, -right), c];
      out = this.run('Slice', { x: out }, { begin: [0, t0, l0, 0], size });
    }
    if (top > 0 || bottom > 0 || left > 0 || right > 0) {
      const paddings = [
        [0, 0],
        [Math.max(0, top), Math.max(0, bottom)],
        [Math.max(0, left), Math.max(0, right)],
        [0, 0],
      ];
      out = this.run('PadV2', { x: out }, { paddings, constantValue: 0 });
    }
    return out;
  }
}
