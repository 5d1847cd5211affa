/**
 * Noise2SamePro: Noise2Same for the first steps - last steps, then the invariance
 * weight lambda = 2 sqrt(reconstruction MSE) of the current batch (loss = rec +
 * 2 sqrt(rec) sqrt(inv)) for the last `last` steps.
 */
import { HushError } from '../../core/errors.js';
import { N2SAME_PARAMS, noise2SameBatch } from './n2same.js';
import type { TrainingMethodInfo } from './types.js';

export const N2SAME_PRO: TrainingMethodInfo = {
  id: 'n2same-pro',
  name: 'Noise2SamePro',
  summary: 'Noise2Same, then lambda = 2 sqrt(rec) from the batch for the last steps',
  reference: 'SPEC section 5 (Noise2SamePro: T = 8000, a = 500 in the example)',
  accepts: ['clean', 'noisy', 'noisy-clean', 'noisy-noisy'],
  params: [
    ...N2SAME_PARAMS,
    { name: 'last', type: 'number', min: 0, max: 1, default: 0.0625, description: 'fraction a/T of the steps, at the end, trained with the batch lambda (500/8000)' },
  ],
  batch(ctx, o) {
    const pro = ctx.step >= proStart(ctx.steps, o);
    const lambda = (o.lambda as number | undefined) ?? (ctx.sigma === undefined ? undefined : 2 * ctx.sigma);
    if (!pro && lambda === undefined) throw new HushError('ERR_INVALID_PARAMETER', 'n2same-pro: give lambda or a noise sigma (lambda defaults to 2 sigma)');
    return { ...noise2SameBatch(ctx, o), loss: pro ? { kind: 'noise2same', variant: 'noise2same-pro' } : { kind: 'noise2same', variant: 'noise2same', lambda } };
  },
  // before the pro phase every batch and loss is n2same's with the same options
  continues(given, resolved, steps) {
    const { last: _last, ...rest } = given;
    return { method: 'n2same', methodOptions: rest, partsAt: proStart(steps, resolved) };
  },
};

/** the first (0-based) step of the pro phase */
function proStart(steps: number, o: Readonly<Record<string, unknown>>): number {
  return Math.round(steps * (1 - (o.last as number)));
}
