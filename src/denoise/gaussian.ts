/**
 * Gaussian smoothing, the linear baseline of the classical denoisers: each colour
 * channel is convolved with a sampled Gaussian of standard deviation `sigmaSpatial`
 * pixels, truncated at 4 standard deviations, separably (rows, then columns) with
 * scipy.ndimage's 'reflect' border (d c b a | a b c d | d c b a). It reproduces
 * scipy.ndimage.gaussian_filter(image, sigma, mode='reflect', truncate=4.0) on float32
 * input (float64 sums, a float32 intermediate between the two passes, as scipy).
 * The parameter is `sigmaSpatial`, not `sigma`, because `sigma` in hush always means
 * the noise level.
 */
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { applyToColour, gaussianFilterPlane, gaussianRadius, perPlane, runLocalDenoiser } from './filters.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';

const FN = 'denoiseGaussian';

/** scipy's truncate: the kernel reaches round(4 sigmaSpatial) pixels. */
export const GAUSSIAN_TRUNCATE = 4;

export interface DenoiseGaussianOptions {
  /** standard deviation of the Gaussian kernel, in pixels (default 1) */
  sigmaSpatial?: number;
}

export const GAUSSIAN_PARAMS: readonly ParamSpec[] = [
  {
    name: 'sigmaSpatial',
    type: 'number',
    above: 0,
    max: 100,
    default: 1,
    description: 'standard deviation of the Gaussian kernel in pixels; the kernel is truncated at 4 standard deviations',
  },
];

interface GaussianParams {
  sigmaSpatial: number;
}

function params(options: unknown): GaussianParams {
  return resolveParams(FN, GAUSSIAN_PARAMS, checkObject(FN, 'options', options)) as unknown as GaussianParams;
}

/** Pixels of context a tile needs: the kernel radius. */
export function gaussianReach(sigmaSpatial: number): number {
  return gaussianRadius(sigmaSpatial, GAUSSIAN_TRUNCATE);
}

/** Gaussian smoothing of the colour channels; alpha and missing samples carried through. */
export function denoiseGaussian(image: Image, options: DenoiseGaussianOptions = {}): Image {
  const im = checkImage(FN, image);
  const { sigmaSpatial } = params(options);
  return applyToColour(im, (colour, width, height, nc) =>
    perPlane(colour, width, height, nc, (plane) => gaussianFilterPlane(plane, width, height, sigmaSpatial, GAUSSIAN_TRUNCATE)),
  );
}

export const GAUSSIAN_DENOISER: DenoiserInfo = {
  id: 'gaussian',
  summary: 'Gaussian smoothing (scipy.ndimage.gaussian_filter, reflect borders, truncated at 4 sigma)',
  params: GAUSSIAN_PARAMS,
  usesSigma: false,
  calibrationGrid: () => ({ sigmaSpatial: [0.5, 0.75, 1, 1.25, 1.5, 2, 2.5, 3] }),
  async denoise(image: Image, options: Record<string, unknown>, context?: DenoiseContext): Promise<Image> {
    const im = checkImage(FN, image);
    const p = params(options);
    const reach = gaussianReach(p.sigmaSpatial);
    const work = im.width * im.height * colourChannels(im) * 2 * (reach + 1);
    return runLocalDenoiser(im, { moduleUrl: import.meta.url, exportName: 'denoiseGaussian', options: { ...p } }, reach, context, work);
  },
};
