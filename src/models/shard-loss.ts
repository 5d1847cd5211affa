/**
 * The per-shard training losses that data-parallel workers can compute by name
 * (a function cannot cross a thread boundary): mean absolute or squared error to the
 * target, optionally over a mask only (Noise2Self / blind-spot training).
 */
import type { Scalar, Tensor } from '@tensorflow/tfjs';
import type { Tfjs } from '../runtime/tfjs.js';

export interface ShardLossSpec {
  kind: 'l1' | 'l2';
}

export function shardLoss(tf: Tfjs, y: Tensor, target: Tensor, mask: Tensor | undefined, spec: ShardLossSpec): Scalar {
  return tf.tidy(() => {
    const d = tf.sub(y, target);
    const e = spec.kind === 'l1' ? tf.abs(d) : tf.square(d);
    if (!mask) return tf.mean(e) as Scalar;
    return tf.div(tf.sum(tf.mul(e, mask)), tf.maximum(tf.sum(mask), 1)) as Scalar;
  });
}
