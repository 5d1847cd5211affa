/**
 * Noise2Same: two passes of the network, on the noisy image and on a masked copy
 * (blind spots replaced by N(0, 0.2^2) on standardised data, or the donut mean);
 * loss = mean((f(x) - x)^2) + lambda * sqrt(mean over the mask of (f(x) - f(x_masked))^2).
 * lambda defaults to 2 sigma (the paper), sigma on the data's scale.
 */
import { HushError } from '../../core/errors.js';
import { applyMask, blindSpotMask } from '../masking.js';
import type { MethodContext, TrainingMethodInfo } from './types.js';

export const N2SAME_PARAMS = [
  { name: 'box', type: 'number', default: 14, integer: true, min: 2, max: 64, description: 'one masked pixel per box x box cell' },
  { name: 'replacement', type: 'enum', choices: ['gaussian', 'donut'], default: 'gaussian', description: "masked pixels: N(0, 0.2^2) on standardised data ('gaussian') or the donut mean" },
  { name: 'lambda', type: 'number', min: 0, description: 'weight of the invariance term (default 2 sigma)' },
] as const;

export function noise2SameBatch(ctx: MethodContext, o: Readonly<Record<string, unknown>>) {
  const mask = blindSpotMask(ctx.shape, o.box as number, ctx.rng);
  const masked = applyMask(ctx.noisy, mask, ctx.shape, o.replacement as 'gaussian' | 'donut', ctx.rng);
  return { inputs: [ctx.noisy, masked], target: ctx.noisy, mask };
}

export const N2SAME: TrainingMethodInfo = {
  id: 'n2same',
  name: 'Noise2Same',
  summary: 'self-supervised: reconstruction + invariance on the mask (two passes)',
  reference: 'Xie, Wang & Ji, "Noise2Same: Optimizing A Self-Supervised Bound for Image Denoising", NeurIPS 2020',
  accepts: ['clean', 'noisy', 'noisy-clean', 'noisy-noisy'],
  params: N2SAME_PARAMS,
  batch(ctx, o) {
    const lambda = (o.lambda as number | undefined) ?? (ctx.sigma === undefined ? undefined : 2 * ctx.sigma);
    if (lambda === undefined) throw new HushError('ERR_INVALID_PARAMETER', 'n2same: give lambda or a noise sigma (lambda defaults to 2 sigma)');
    return { ...noise2SameBatch(ctx, o), loss: { kind: 'noise2same', variant: 'noise2same', lambda } };
  },
};
