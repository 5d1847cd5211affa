/**
 * Recorrupted-to-Recorrupted (Pang et al., CVPR 2021): for Gaussian noise of known
 * sigma, a noisy image y gives a pair y + alpha z (input) and y - z / alpha (target),
 * z drawn from N(0, sigma^2). The two noises, n + alpha z and n - z / alpha, are
 * uncorrelated, hence independent for Gaussian noise, so the loss has the expectation
 * of a supervised loss plus a constant: Noise2Noise from one noisy image, with no
 * blind spot and no shift. The network denoises inputs of sigma * sqrt(1 + alpha^2),
 * so inference averages it over recorruptions y + alpha z (see self-supervised.ts).
 */
import { HushError } from '../../core/errors.js';
import type { TrainingMethodInfo } from './types.js';

export const R2R: TrainingMethodInfo = {
  id: 'r2r',
  name: 'Recorrupted-to-Recorrupted',
  summary: 'self-supervised, Gaussian noise of known sigma: y + alpha z in, y - z / alpha as target',
  reference: 'Pang, Zheng, Quan & Ji, "Recorrupted-to-Recorrupted: Unsupervised Deep Learning for Image Denoising", CVPR 2021',
  accepts: ['clean', 'noisy'],
  params: [{ name: 'alpha', type: 'number', default: 0.5, above: 0, max: 10, description: 'recorruption strength: the input gets alpha z, the target -z / alpha' }],
  batch(ctx, o) {
    const sigma = ctx.sigma;
    if (sigma === undefined || !(sigma > 0)) throw new HushError('ERR_INVALID_PARAMETER', 'r2r needs the Gaussian noise sigma of the data (give --sigma255 or --sigma)');
    const alpha = o.alpha as number;
    const input = new Float32Array(ctx.noisy.length);
    const target = new Float32Array(ctx.noisy.length);
    for (let i = 0; i < input.length; i++) {
      const z = sigma * ctx.rng.normal();
      input[i] = ctx.noisy[i] + alpha * z;
      target[i] = ctx.noisy[i] - z / alpha;
    }
    return { inputs: [input], target, loss: { kind: 'l2' } };
  },
};
