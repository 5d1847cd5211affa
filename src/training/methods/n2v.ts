/**
 * Noise2Void: blind spots, one random pixel per box x box cell (box 14: about 0.5 %),
 * each replaced by a random neighbour of its 5x5 window; loss on the blind spots.
 */
import { applyMask, blindSpotMask } from '../masking.js';
import type { TrainingMethodInfo } from './types.js';

export const N2V: TrainingMethodInfo = {
  id: 'n2v',
  name: 'Noise2Void',
  summary: 'self-supervised: blind spots replaced by a random neighbour',
  reference: 'Krull, Buchholz & Jug, "Noise2Void - Learning Denoising from Single Noisy Images", CVPR 2019',
  accepts: ['clean', 'noisy', 'noisy-clean', 'noisy-noisy'],
  params: [{ name: 'box', type: 'number', default: 14, integer: true, min: 2, max: 64, description: 'one blind spot per box x box cell' }],
  batch(ctx, o) {
    const mask = blindSpotMask(ctx.shape, o.box as number, ctx.rng);
    const input = applyMask(ctx.noisy, mask, ctx.shape, 'neighbour', ctx.rng);
    return { inputs: [input], target: ctx.noisy, mask, loss: { kind: 'l2' } };
  },
};
