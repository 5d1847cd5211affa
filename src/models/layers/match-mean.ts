/**
 * MatchMean: [y, ref] -> y - mean(y) + mean(ref), the means taken over height and
 * width, per image and channel: y with the per-channel mean of ref. A denoiser that
 * ends in MatchMean([output, input]) cannot shift colours: with zero-mean noise the
 * noisy input's channel means are the clean image's to within sigma / sqrt(pixels)
 * (0.06/255 for sigma 25/255 on a 481x321 image), and the output keeps them. The GAN's
 * generator uses it (option meanMatch) because an adversarially trained generator left
 * casts of up to 14.5/255 after 3,500 steps (docs/results.md); SPEC section 3 reports
 * colour shifts of the public code too.
 */
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import { SameShapeMerge } from './same-shape-merge.js';

export class MatchMean extends SameShapeMerge {
  static className = 'HushMatchMean';

  override call(inputs: Tensor | Tensor[]): Tensor {
    return tf.tidy(() => {
      const [y, ref] = inputs as Tensor[];
      return tf.add(tf.sub(y, tf.mean(y, [1, 2], true)), tf.mean(ref, [1, 2], true));
    });
  }
}
