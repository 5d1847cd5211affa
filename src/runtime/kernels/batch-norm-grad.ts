/**
 * The gradient of FusedBatchNorm for every backend, without tfjs 4.22's Tile: the
 * built-in gradient tiles 1/sqrt(variance) to the full activation shape before a
 * multiply that broadcasting does anyway, and wasm's Tile is slow (a profiled DnCNN
 * training step spent about a fifth of its time there). The two channel reductions
 * (sum of dy, sum of dy * (x - mean)) are computed once and shared by the five
 * derivatives.
 *
 *   y = (x - m) * g / sqrt(v + eps) + b
 *   dy/dx = g r,  dL/dm = -r g sum(dy),  dL/dv = -0.5 g r^3 sum(dy (x - m)),
 *   dL/dg = r sum(dy (x - m)),  dL/db = sum(dy),  r = 1 / sqrt(v + eps)
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';

export const fusedBatchNormGradConfig: GradConfig = {
  kernelName: 'FusedBatchNorm',
  inputsToSave: ['x', 'mean', 'variance', 'scale'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const g = dy as Tensor;
    const [x, mean, variance, scale] = saved;
    const eps = (attrs as { varianceEpsilon: number }).varianceEpsilon;
    const axes = tf.backend_util.getReductionAxes(mean.shape, x.shape);
    const reduce = (t: Tensor) => (axes.length > 0 ? tf.reshape(tf.sum(t, axes), mean.shape) : tf.reshape(t, mean.shape));
    // computed once here (released with the rest of the backward pass) and shared by the closures
    const r = tf.rsqrt(tf.add(variance, eps));
    const gr = scale === undefined || scale === null ? r : tf.mul(scale, r);
    const sumDy = reduce(g);
    const sumDyXm = reduce(tf.mul(g, tf.sub(x, mean)));
    return {
      x: () => tf.mul(g, gr),
      mean: () => tf.neg(tf.mul(gr, sumDy)),
      variance: () => tf.mul(tf.mul(tf.mul(gr, tf.square(r)), -0.5), sumDyXm),
      scale: () => tf.mul(r, sumDyXm),
      offset: () => tf.clone(sumDy),
    };
  },
};
