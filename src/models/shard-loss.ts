/**
 * The per-shard training losses that data-parallel workers can compute by name
 * (a function cannot cross a thread boundary):
 * - 'l1' / 'l2': mean absolute or squared error of model(inputs) to the target,
 *   optionally over a mask only (Noise2Self / blind-spot training);
 * - 'noise2same': two passes of the model, on inputs[0] (the raw image, also the
 *   target) and inputs[1] (the masked image), and the Noise2Same loss
 *   (src/training/losses.ts) with its lambda or the Noise2SamePro weighting.
 */
import type { LayersModel, Scalar, Tensor } from '@tensorflow/tfjs';
import type { Tfjs } from '../runtime/tfjs.js';
import { noise2SameLoss } from '../training/losses.js';

export type ShardLossSpec = { kind: 'l1' | 'l2' } | { kind: 'noise2same'; variant: 'noise2same' | 'noise2same-pro'; lambda?: number };

export function shardLoss(tf: Tfjs, y: Tensor, target: Tensor, mask: Tensor | undefined, spec: { kind: 'l1' | 'l2' }): Scalar {
  return tf.tidy(() => {
    const d = tf.sub(y, target);
    const e = spec.kind === 'l1' ? tf.abs(d) : tf.square(d);
    if (!mask) return tf.mean(e) as Scalar;
    return tf.div(tf.sum(tf.mul(e, mask)), tf.maximum(tf.sum(mask), 1)) as Scalar;
  });
}

/** The loss of one shard: runs the model (training mode) on the inputs as `spec` says. */
export function modelShardLoss(tf: Tfjs, model: LayersModel, inputs: Tensor[], target: Tensor, mask: Tensor | undefined, spec: ShardLossSpec): Scalar {
  return tf.tidy(() => {
    if (spec.kind === 'noise2same') {
      const fx = model.apply(inputs[0], { training: true }) as Tensor;
      const fxMasked = model.apply(inputs[1], { training: true }) as Tensor;
      return noise2SameLoss(target, fx, fxMasked, mask as Tensor, { variant: spec.variant, lambda: spec.lambda });
    }
    const y = model.apply(inputs.length === 1 ? inputs[0] : inputs, { training: true }) as Tensor;
    return shardLoss(tf, y, target, mask, spec);
  });
}
