/**
 * Subtract: x - y for two tensors of one shape. tfjs-layers has add, multiply and
 * concatenate but no subtract, and residual denoisers (DnCNN, Zhang et al. 2017)
 * output the input minus the predicted noise.
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import { SameShapeMerge } from './same-shape-merge.js';

export class Subtract extends SameShapeMerge {
  static className = 'HushSubtract';

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [a, b] = inputs as Tensor[];
      return tf.sub(a, b);
    });
  }
}
