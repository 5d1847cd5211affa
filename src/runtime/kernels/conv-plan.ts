/**
 * Index arithmetic for the convolution gradients, kept free of tfjs so it can be
 * checked on its own. Both gradients of a 2-D convolution are written as forward
 * convolutions, because forward convolution is the one kernel the wasm backend runs
 * fast (XNNPACK): the transposed ("input gradient") convolution with stride s splits
 * into s x s phases, each a small stride-1 convolution of dy with a sub-kernel of the
 * flipped filter (the "sub-pixel" decomposition, Shi et al. 2016, and the usual
 * derivation of the transposed convolution, Dumoulin & Visin 2016); all phases run
 * as one convolution with s*s*Ci output channels and are interleaved by
 * depth-to-space. The filter gradient is a convolution over the batch-transposed
 * input with dy as the filter, dilated by the stride.
 *
 * One axis at a time: forward y[i] = sum_a x[i*s + a*d - pt] w[a], i in [0, Ho).
 */

/** One spatial axis of the input gradient as a stride-1 convolution over dy. */
export interface InputGradAxisPlan {
  /** taps of the combined kernel along this axis */
  taps: number;
  /** phases (the stride) */
  phases: number;
  /** tapIndex[j * phases + r]: filter tap a feeding phase r from combined tap j, or -1 */
  tapIndex: Int32Array;
  /** dy rows to add before (negative: rows to drop) */
  padBefore: number;
  /** dy rows to add after (negative: rows to drop) */
  padAfter: number;
  /** rows of the phase outputs; phases * outRows >= inSize, the rest is cropped */
  outRows: number;
}

/**
 * Plans dx[p] = sum over (i, a) with i*s + a - pt = p of dy[i] w[a] (dilation 1) as
 * dx[s*u + r] = sum_j dyPadded[u + j] K[j, r], for every phase r at once.
 */
export function planInputGradAxis(kernel: number, stride: number, padTop: number, inSize: number, dySize: number): InputGradAxisPlan {
  const s = stride;
  const phases: { a0: number; c: number; count: number }[] = [];
  let lo = Infinity;
  let hi = -Infinity;
  for (let r = 0; r < s; r++) {
    const a0 = (((r + padTop) % s) + s) % s;
    const c = (r + padTop - a0) / s;
    const count = a0 < kernel ? Math.ceil((kernel - a0) / s) : 0;
    phases.push({ a0, c, count });
    if (count > 0) {
      lo = Math.min(lo, c - count + 1);
      hi = Math.max(hi, c);
    }
  }
  const taps = hi - lo + 1;
  const tapIndex = new Int32Array(taps * s).fill(-1);
  for (let j = 0; j < taps; j++) {
    for (let r = 0; r < s; r++) {
      const { a0, c, count } = phases[r];
      const t = c - (j + lo);
      if (t >= 0 && t < count) tapIndex[j * s + r] = a0 + s * t;
    }
  }
  const outRows = Math.ceil(inSize / s);
  return { taps, phases: s, tapIndex, padBefore: 0 - lo, padAfter: outRows + hi - dySize, outRows };
}

/** One spatial axis of the filter gradient: conv over x (padded/cropped) with dy as a filter dilated by the stride. */
export interface FilterGradAxisPlan {
  padBefore: number;
  /** negative: rows of x to drop at the end */
  padAfter: number;
  /** dilation of the dy "filter" (the forward stride) */
  dilation: number;
  /** stride of the convolution (the forward dilation) */
  stride: number;
}

/**
 * dw[a] = sum_i xPadded[i*s + a*d] dy[i]: a convolution over x whose filter is dy,
 * dilated by s, with stride d; x is padded by pt before and so that exactly `kernel`
 * outputs come out.
 */
export function planFilterGradAxis(
  kernel: number,
  stride: number,
  dilation: number,
  padTop: number,
  inSize: number,
  dySize: number,
): FilterGradAxisPlan {
  const needed = (kernel - 1) * dilation + (dySize - 1) * stride + 1;
  return { padBefore: padTop, padAfter: needed - inSize - padTop, dilation: stride, stride: dilation };
}

/** dx for stride 1 and any dilation: a stride-1 conv of dy (padded) with the flipped filter, dilated. */
export function planDilatedInputGradAxis(kernel: number, dilation: number, padTop: number, inSize: number, dySize: number): { padBefore: number; padAfter: number } {
  const padBefore = (kernel - 1) * dilation - padTop;
  return { padBefore, padAfter: inSize + (kernel - 1) * dilation - padBefore - dySize };
}
