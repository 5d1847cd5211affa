/**
 * AppendConstantChannel: [features (B,H,W,C), value (B,1)] -> (B,H,W,C+1), the
 * per-image scalar spread over the map as one more channel. The Astro U-net
 * (Sweere et al. 2022, "Deep learning-based super-resolution and de-noising for
 * XMM-newton images"; exposure-ratio conditioning as in Chen et al. 2018, "Learning
 * to See in the Dark") gives the network the exposure-time ratio this way, at the
 * bottom of the U.
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';

type Shape = (number | null)[];

export class AppendConstantChannel extends tf.layers.Layer {
  static className = 'HushAppendConstantChannel';

  constructor(config: { name?: string; trainable?: boolean } = {}) {
    super(config);
  }

  override computeOutputShape(inputShape: Shape | Shape[]): Shape {
    const [features] = inputShape as Shape[];
    const c = features[3];
    return [features[0], features[1], features[2], c === null ? null : c + 1];
  }

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [features, value] = inputs as Tensor[];
      const [b, h, w] = features.shape;
      const plane = tf.mul(tf.ones([b, h, w, 1]), tf.reshape(value, [b, 1, 1, 1]));
      return tf.concat([features, plane], 3);
    });
  }
}
