/**
 * Building blocks shared by the architectures: convolution with optional batch
 * normalisation and activation, in the orders the papers use.
 */
import * as tf from '@tensorflow/tfjs';
import type { SymbolicTensor } from '@tensorflow/tfjs';

export const ACTIVATIONS = ['relu', 'leaky-relu', 'linear', 'sigmoid', 'tanh'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface ConvOptions {
  filters: number;
  kernel?: number;
  strides?: number;
  dilation?: number;
  /** batch normalisation between the convolution and the activation */
  batchNorm?: boolean;
  activation?: Activation;
  /** LeakyReLU slope (default 0.2) */
  alpha?: number;
  useBias?: boolean;
  name?: string;
}

let seedState: number | undefined;

/**
 * Runs `build` with seeded kernel initialisers (seed, seed+1, ... in layer order), so
 * the same options give the same initial weights.
 */
export function withSeed<T>(seed: number, build: () => T): T {
  const previous = seedState;
  seedState = seed;
  try {
    return build();
  } finally {
    seedState = previous;
  }
}

/** He-normal initialiser (He et al. 2015), the usual one for ReLU-family networks. */
export function kernelInitializer() {
  return tf.initializers.heNormal(seedState === undefined ? {} : { seed: seedState++ });
}

export function sym(t: unknown): SymbolicTensor {
  return t as SymbolicTensor;
}

export function activate(x: SymbolicTensor, activation: Activation, alpha = 0.2, name?: string): SymbolicTensor {
  if (activation === 'linear') return x;
  if (activation === 'leaky-relu') return sym(tf.layers.leakyReLU({ alpha, name }).apply(x));
  return sym(tf.layers.activation({ activation, name }).apply(x));
}

/** conv -> [BN] -> activation. ReLU without BN is fused into the convolution. */
export function conv(x: SymbolicTensor, o: ConvOptions): SymbolicTensor {
  const activation = o.activation ?? 'linear';
  const fuse = !o.batchNorm && (activation === 'relu' || activation === 'linear' || activation === 'sigmoid' || activation === 'tanh');
  let y = sym(
    tf.layers
      .conv2d({
        filters: o.filters,
        kernelSize: o.kernel ?? 3,
        strides: o.strides ?? 1,
        dilationRate: o.dilation ?? 1,
        padding: 'same',
        useBias: o.useBias ?? !o.batchNorm,
        activation: fuse ? activation : 'linear',
        kernelInitializer: kernelInitializer(),
        name: o.name,
      })
      .apply(x),
  );
  if (o.batchNorm) y = sym(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(y));
  return fuse ? y : activate(y, activation, o.alpha);
}

/** Transposed convolution (kernel k, stride s) with optional BN and activation. */
export function convTranspose(x: SymbolicTensor, o: ConvOptions): SymbolicTensor {
  const activation = o.activation ?? 'linear';
  let y = sym(
    tf.layers
      .conv2dTranspose({
        filters: o.filters,
        kernelSize: o.kernel ?? 2,
        strides: o.strides ?? 2,
        padding: 'same',
        useBias: o.useBias ?? !o.batchNorm,
        kernelInitializer: kernelInitializer(),
        name: o.name,
      })
      .apply(x),
  );
  if (o.batchNorm) y = sym(tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5 }).apply(y));
  return activate(y, activation, o.alpha);
}

export function add(xs: SymbolicTensor[]): SymbolicTensor {
  return sym(tf.layers.add().apply(xs));
}

export function concat(xs: SymbolicTensor[]): SymbolicTensor {
  return sym(tf.layers.concatenate({ axis: -1 }).apply(xs));
}

export function upsample(x: SymbolicTensor, interpolation: 'bilinear' | 'nearest'): SymbolicTensor {
  return sym(tf.layers.upSampling2d({ size: [2, 2], interpolation }).apply(x));
}
