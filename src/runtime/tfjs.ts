/**
 * The one place hush starts TensorFlow.js. In Node the wasm backend (XNNPACK,
 * SIMD) runs convolutions about 10x faster than the pure-JS cpu backend; tfjs-node
 * is not used because installing it downloads libtensorflow. The wasm binaries are
 * found next to the installed @tensorflow/tfjs-backend-wasm package (createRequire,
 * so it works from dist/ and from a packed install) and handed to setWasmPaths. If
 * wasm cannot start, hush falls back to the cpu backend and says why.
 *
 * tfjs is imported lazily: nothing reaches it unless a neural feature is used.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { checkOneOf } from '../core/validate.js';

export const TFJS_BACKENDS = ['wasm', 'cpu'] as const;
export type TfjsBackend = (typeof TFJS_BACKENDS)[number];

export type Tfjs = typeof import('@tensorflow/tfjs');

export interface LoadTfjsOptions {
  /** 'wasm' (default, or HUSH_TFJS_BACKEND) or 'cpu' (pure JavaScript, slow, always available) */
  backend?: TfjsBackend;
}

export interface TfjsRuntime {
  tf: Tfjs;
  /** the backend in use */
  backend: TfjsBackend;
  /** why wasm was asked for but cpu is in use */
  fallbackReason?: string;
}

/** Folder holding the tfjs-backend-wasm .wasm binaries, with a trailing separator. */
export function wasmBinaryDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm')), '/');
}

let tfPromise: Promise<Tfjs> | undefined;
let wasmPathsSet = false;
let wasmFailure: string | undefined;
let current: TfjsRuntime | undefined;

async function importTfjs(): Promise<Tfjs> {
  tfPromise ??= (async () => {
    const tf = await import('@tensorflow/tfjs');
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    if (!wasmPathsSet) {
      wasm.setWasmPaths(wasmBinaryDir());
      wasmPathsSet = true;
    }
    const { registerHushKernels } = await import('./kernels/index.js');
    registerHushKernels();
    return tf;
  })();
  return tfPromise;
}

function defaultBackend(): TfjsBackend {
  const env = process.env.HUSH_TFJS_BACKEND;
  return env === undefined || env === '' ? 'wasm' : checkOneOf('loadTfjs', 'HUSH_TFJS_BACKEND', env, TFJS_BACKENDS);
}

/**
 * Loads tfjs, registers hush's kernels and selects a backend. Safe to call often;
 * switching backend is allowed (tensors made on the other backend move on use).
 */
export async function loadTfjs(options: LoadTfjsOptions = {}): Promise<TfjsRuntime> {
  const wanted = options.backend === undefined ? defaultBackend() : checkOneOf('loadTfjs', 'options.backend', options.backend, TFJS_BACKENDS);
  const tf = await importTfjs();
  if (current?.backend === wanted && tf.getBackend() === wanted) return current;
  if (wanted === 'wasm' && wasmFailure === undefined) {
    try {
      if (await tf.setBackend('wasm')) return (current = { tf, backend: 'wasm' });
      wasmFailure = 'the wasm backend did not initialise';
    } catch (e) {
      wasmFailure = (e as Error)?.message ?? String(e);
    }
  }
  await tf.setBackend('cpu');
  // The cpu backend prints a banner advising tfjs-node on first use; hush cannot use tfjs-node (it downloads libtensorflow).
  (tf.backend() as { firstUse?: boolean }).firstUse = false;
  current =
    wanted === 'wasm' ? { tf, backend: 'cpu', fallbackReason: `wasm unavailable (${wasmFailure}); using the slow cpu backend` } : { tf, backend: 'cpu' };
  return current;
}

/** The runtime loaded by the last loadTfjs call; throws if none. */
export function currentTfjs(): TfjsRuntime {
  if (!current) throw new Error('hush: call loadTfjs() before using a neural model');
  return current;
}
