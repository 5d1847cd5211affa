/** Noise2Noise: the target is a second, independent noisy realisation of the same scene. */
import { HushError } from '../../core/errors.js';
import { LOSS_PARAM, type TrainingMethodInfo } from './types.js';

export const N2N: TrainingMethodInfo = {
  id: 'n2n',
  name: 'Noise2Noise',
  summary: 'noisy input, independent noisy target',
  reference: 'Lehtinen et al., "Noise2Noise: Learning Image Restoration without Clean Data", ICML 2018',
  accepts: ['clean', 'noisy-noisy'],
  params: [LOSS_PARAM],
  batch(ctx, o) {
    if (!ctx.noisy2) throw new HushError('ERR_INVALID_PARAMETER', 'n2n needs clean images (two noise draws) or noisy/noisy pairs');
    return { inputs: [ctx.noisy], target: ctx.noisy2, loss: { kind: o.loss as 'l1' | 'l2' } };
  },
};
