/**
 * The gradient of Conv2D for every backend, with dilation. tfjs 4.22 refuses the
 * gradient of a dilated convolution ("dilation rates greater than 1 are not yet
 * supported in gradients"), which RIDNet's dilated branches need. For dilation 1 this
 * is the built-in gradient (Conv2DBackpropInput / Conv2DBackpropFilter kernels, ours on
 * wasm); for dilation d > 1 (stride 1, as tfjs requires) both derivatives are forward
 * convolutions: dx convolves dy with the flipped, transposed filter dilated by d, and dw
 * convolves the batch-transposed input with dy as the filter, at stride d.
 *
 * The fused convolution (what tfjs-layers' Conv2D calls) has its own gradient inside the
 * op with the same refusal; `patchFusedConv2d` routes dilated fused convolutions through
 * the plain ops so they reach this gradient.
 */
import * as tf from '@tensorflow/tfjs';
import type { GradConfig, NamedAttrMap, Tensor, Tensor4D } from '@tensorflow/tfjs';
import { planDilatedInputGradAxis, planFilterGradAxis } from './conv-plan.js';

type Pad = 'same' | 'valid' | number | tf.backend_util.ExplicitPadding;
interface Conv2DAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function pair(v: number | [number, number]): [number, number] {
  return typeof v === 'number' ? [v, v] : v;
}

/** dx of a stride-1 convolution with any dilation, from forward convolutions. */
export function dilatedInputGrad(dy: Tensor4D, filter: Tensor4D, xShape: [number, number, number, number], a: Conv2DAttrs): Tensor4D {
  return tf.tidy(() => {
    const f = filter.shape;
    const info = tf.backend_util.computeConv2DInfo(xShape, f, a.strides, a.dilations, a.pad, a.dimRoundingMode);
    const ph = planDilatedInputGradAxis(info.filterHeight, info.dilationHeight, info.padInfo.top, xShape[1], info.outHeight);
    const pw = planDilatedInputGradAxis(info.filterWidth, info.dilationWidth, info.padInfo.left, xShape[2], info.outWidth);
    const flipped = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as Tensor4D;
    return tf.conv2d(dy, flipped, 1, [[0, 0], [ph.padBefore, ph.padAfter], [pw.padBefore, pw.padAfter], [0, 0]], 'NHWC', [info.dilationHeight, info.dilationWidth]);
  });
}

/** dw of a convolution with any stride or dilation (not both above 1), from one forward convolution. */
export function filterGradByConv(x: Tensor4D, dy: Tensor4D, filterShape: [number, number, number, number], a: Conv2DAttrs): Tensor4D {
  return tf.tidy(() => {
    const info = tf.backend_util.computeConv2DInfo(x.shape, filterShape, a.strides, a.dilations, a.pad, a.dimRoundingMode);
    const ph = planFilterGradAxis(info.filterHeight, info.strideHeight, info.dilationHeight, info.padInfo.top, x.shape[1], info.outHeight);
    const pw = planFilterGradAxis(info.filterWidth, info.strideWidth, info.dilationWidth, info.padInfo.left, x.shape[2], info.outWidth);
    let src = x;
    if (ph.padAfter < 0 || pw.padAfter < 0) {
      src = tf.slice(x, [0, 0, 0, 0], [x.shape[0], x.shape[1] + Math.min(0, ph.padAfter), x.shape[2] + Math.min(0, pw.padAfter), x.shape[3]]);
    }
    const xt = tf.transpose(src, [3, 1, 2, 0]) as Tensor4D;
    const dyt = tf.transpose(dy, [1, 2, 0, 3]) as Tensor4D;
    const g = tf.conv2d(
      xt,
      dyt,
      [ph.stride, pw.stride],
      [[0, 0], [ph.padBefore, Math.max(0, ph.padAfter)], [pw.padBefore, Math.max(0, pw.padAfter)], [0, 0]],
      'NHWC',
      [ph.dilation, pw.dilation],
    );
    return tf.transpose(g, [1, 2, 0, 3]) as Tensor4D;
  });
}

export const conv2dGradConfig: GradConfig = {
  kernelName: 'Conv2D',
  inputsToSave: ['x', 'filter'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [x, filter] = saved as [Tensor4D, Tensor4D];
    const g = dy as Tensor4D;
    const a = attrs as unknown as Conv2DAttrs;
    const [dh, dw] = pair(a.dilations ?? 1);
    if (dh === 1 && dw === 1) {
      return {
        x: () => tf.engine().runKernel('Conv2DBackpropInput', { dy: g, filter }, { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode, inputShape: x.shape } as unknown as NamedAttrMap) as Tensor,
        filter: () => tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: g }, { strides: a.strides, pad: a.pad, dataFormat: a.dataFormat, dimRoundingMode: a.dimRoundingMode, filterShape: filter.shape } as unknown as NamedAttrMap) as Tensor,
      };
    }
    if (a.dataFormat === 'NCHW') throw new Error('hush: the gradient of a dilated conv2d supports NHWC only');
    return {
      x: () => dilatedInputGrad(g, filter, x.shape, a),
      filter: () => filterGradByConv(x, g, filter.shape, a),
    };
  },
};

type FusedConv2dArgs = Parameters<typeof tf.fused.conv2d>[0];

let fusedPatched = false;

/**
 * Dilated fused convolutions computed as conv2d + bias + activation, whose gradient is
 * `conv2dGradConfig`; undilated ones keep the fused kernel. Idempotent.
 */
export function patchFusedConv2d(): void {
  if (fusedPatched) return;
  const fused = tf.fused as { conv2d: typeof tf.fused.conv2d };
  const original = fused.conv2d;
  const patched = (args: FusedConv2dArgs) => {
    const [dh, dw] = pair(args.dilations ?? 1);
    if ((dh === 1 && dw === 1) || (args.dataFormat ?? 'NHWC') !== 'NHWC') return original(args);
    return tf.tidy(() => {
      let y: Tensor = tf.conv2d(args.x as Tensor4D, args.filter as Tensor4D, args.strides, args.pad, 'NHWC', args.dilations, args.dimRoundingMode);
      if (args.bias != null) y = tf.add(y, args.bias);
      switch (args.activation ?? 'linear') {
        case 'linear':
          return y;
        case 'relu':
          return tf.relu(y);
        case 'relu6':
          return tf.relu6(y);
        case 'elu':
          return tf.elu(y);
        case 'sigmoid':
          return tf.sigmoid(y);
        case 'leakyrelu':
          return tf.leakyRelu(y, args.leakyreluAlpha ?? 0.2);
        case 'prelu':
          return tf.prelu(y, args.preluActivationWeights as Tensor);
        default:
          return original(args);
      }
    });
  };
  fused.conv2d = patched as typeof tf.fused.conv2d;
  fusedPatched = true;
}
