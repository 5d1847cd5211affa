/**
 * Noise2Self: per batch one of the w^2 grid masks (or a random mask of density
 * 1/w^2), masked pixels replaced ('interpolate' or 'zero'), loss on the mask only.
 * The model is recorded to denoise J-invariantly by default (runtime/j-invariant.ts):
 * run in one pass, a network that only ever got a loss on masked pixels can stay
 * close to the identity on unmasked ones.
 */
import { applyMask, gridMask, randomMask } from '../masking.js';
import type { TrainingMethodInfo } from './types.js';

export const N2SELF: TrainingMethodInfo = {
  id: 'n2self',
  name: 'Noise2Self',
  summary: 'self-supervised: predict masked pixels from the rest (grid or random masks)',
  reference: 'Batson & Royer, "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019',
  accepts: ['clean', 'noisy', 'noisy-clean', 'noisy-noisy'],
  params: [
    { name: 'stride', type: 'number', default: 4, integer: true, min: 2, max: 16, description: 'grid mask stride w (w^2 masks)' },
    { name: 'masks', type: 'enum', choices: ['grid', 'random'], default: 'grid', description: 'grid masks or random masks of density 1/w^2' },
    { name: 'replacement', type: 'enum', choices: ['interpolate', 'zero'], default: 'interpolate', description: 'what masked pixels become' },
    {
      name: 'inference',
      type: 'enum',
      choices: ['j-invariant', 'single'],
      default: 'j-invariant',
      description: "how the trained model denoises (validation included): 'j-invariant' (stride^2 masked passes, each pixel from the pass that masked it) or one pass",
    },
  ],
  batch(ctx, o) {
    const stride = o.stride as number;
    const mask =
      o.masks === 'grid'
        ? gridMask(ctx.shape, stride, ctx.rng.int(stride), ctx.rng.int(stride))
        : randomMask(ctx.shape, 1 / (stride * stride), ctx.rng);
    const input = applyMask(ctx.noisy, mask, ctx.shape, o.replacement as 'interpolate' | 'zero', ctx.rng);
    return { inputs: [input], target: ctx.noisy, mask, loss: { kind: 'l2' } };
  },
};
