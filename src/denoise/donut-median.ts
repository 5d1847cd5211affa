/**
 * Donut median: the median over a disk of `radius` pixels without its centre
 * (Batson & Royer, "Noise2Self: Blind Denoising by Self-Supervision", ICML 2019).
 * The output at a pixel never reads that pixel, so the filter is J-invariant for the
 * partition into single pixels by construction, and its self-supervised loss
 * ||f(x) - x||^2 ranks radii as the true error does, with no clean image. Borders
 * repeat the edge samples ('nearest', as skimage.filters.median), except that a
 * repeated sample that is the pixel itself is left out, so J-invariance holds at the
 * borders too. It equals scipy.ndimage.median_filter(footprint=donut,
 * mode='nearest'), the sample of rank floor(n/2) (the upper median, n being even),
 * everywhere except at border pixels where scipy's clamped footprint reads the pixel
 * itself.
 */
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { applyToColour, diskOffsets, perPlane, runLocalDenoiser } from './filters.js';
import { medianPlane } from './median.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';

const FN = 'denoiseDonutMedian';

export interface DenoiseDonutMedianOptions {
  /** radius of the disk footprint in pixels, centre left out (default 3) */
  radius?: number;
}

export const DONUT_MEDIAN_PARAMS: readonly ParamSpec[] = [
  {
    name: 'radius',
    type: 'number',
    integer: true,
    min: 1,
    max: 50,
    default: 3,
    description: 'radius of the disk footprint in pixels; the centre pixel is left out, so the filter is J-invariant',
  },
];

interface DonutParams {
  radius: number;
}

function params(options: unknown): DonutParams {
  return resolveParams(FN, DONUT_MEDIAN_PARAMS, checkObject(FN, 'options', options)) as unknown as DonutParams;
}

/** Median over a disk without its centre in each colour channel; alpha and missing samples carried through. */
export function denoiseDonutMedian(image: Image, options: DenoiseDonutMedianOptions = {}): Image {
  const im = checkImage(FN, image);
  const { radius } = params(options);
  const offsets = diskOffsets(radius, true);
  return applyToColour(im, (colour, width, height, nc) => perPlane(colour, width, height, nc, (plane) => medianPlane(plane, width, height, offsets, true)));
}

export const DONUT_MEDIAN_DENOISER: DenoiserInfo = {
  id: 'donut-median',
  summary: 'median over a disk without its centre: J-invariant by construction (Noise2Self)',
  params: DONUT_MEDIAN_PARAMS,
  usesSigma: false,
  calibrationGrid: () => ({ radius: [1, 2, 3, 4, 5, 6] }),
  async denoise(image: Image, options: Record<string, unknown>, context?: DenoiseContext): Promise<Image> {
    const im = checkImage(FN, image);
    const p = params(options);
    const work = im.width * im.height * colourChannels(im) * 4 * (diskOffsets(p.radius).length / 2);
    return runLocalDenoiser(im, { moduleUrl: import.meta.url, exportName: 'denoiseDonutMedian', options: { ...p } }, p.radius, context, work);
  },
};
