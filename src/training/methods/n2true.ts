/** Noise2True: supervised training on clean targets (noise drawn on the fly or given pairs). */
import { HushError } from '../../core/errors.js';
import { LOSS_PARAM, type TrainingMethodInfo } from './types.js';

export const N2TRUE: TrainingMethodInfo = {
  id: 'n2true',
  name: 'Noise2True',
  summary: 'supervised: noisy input, clean target',
  reference: 'Zhang et al., "Beyond a Gaussian Denoiser" (DnCNN), IEEE TIP 2017',
  accepts: ['clean', 'noisy-clean'],
  params: [LOSS_PARAM],
  batch(ctx, o) {
    if (!ctx.clean) throw new HushError('ERR_INVALID_PARAMETER', 'n2true needs clean images or noisy/clean pairs');
    return { inputs: [ctx.noisy], target: ctx.clean, loss: { kind: o.loss as 'l1' | 'l2' } };
  },
};
