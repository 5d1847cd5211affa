/**
 * Subtract: x - y for two tensors of one shape. tfjs-layers has add, multiply and
 * concatenate but no subtract, and residual denoisers (DnCNN, Zhang et al. 2017)
 * output the input minus the predicted noise.
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';

type Shape = (number | null)[];

export class Subtract extends tf.layers.Layer {
  static className = 'HushSubtract';

  constructor(config: { name?: string; trainable?: boolean } = {}) {
    super(config);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [a, b] = inputs as Tensor[];
      return tf.sub(a, b);
    });
  }
}
