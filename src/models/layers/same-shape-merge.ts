/**
 * Base of hush's layers that combine two tensors into one of the first one's shape
 * (Subtract, MatchMean): the constructor and computeOutputShape they share.
 */
import * as tf from '@tensorflow/tfjs';

type Shape = (number | null)[];

export abstract class SameShapeMerge extends tf.layers.Layer {
  constructor(config: { name?: string; trainable?: boolean } = {}) {
    super(config);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    return (inputShape as Shape[])[0];
  }
}
