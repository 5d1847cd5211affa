/**
 * Median filter over a disk: each colour sample becomes the median of the samples
 * under skimage.morphology.disk(radius) centred on it, with scipy.ndimage's 'nearest'
 * border (edge samples repeated). It reproduces scikit-image 0.19's
 * skimage.filters.median(image, disk(radius)) (behavior='ndimage', mode='nearest'),
 * i.e. scipy.ndimage.median_filter with that footprint: exactly, since a median is a
 * selection. A robust, edge-preserving baseline, and the best classical choice for
 * impulse (salt-and-pepper) noise.
 */
import { selectKth } from '../core/select.js';
import { checkImage, colourChannels, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { applyToColour, diskOffsets, nearestIndex, perPlane, runLocalDenoiser } from './filters.js';
import type { DenoiseContext, DenoiserInfo } from './types.js';

const FN = 'denoiseMedian';

export interface DenoiseMedianOptions {
  /** radius of the disk footprint in pixels (default 2: 13 samples) */
  radius?: number;
}

export const MEDIAN_PARAMS: readonly ParamSpec[] = [
  { name: 'radius', type: 'number', integer: true, min: 1, max: 50, default: 2, description: 'radius of the disk footprint in pixels (skimage.morphology.disk)' },
];

/**
 * Rank filter of one plane: the sample of rank floor(n/2) (scipy's median, the upper
 * one for even n) among the footprint `offsets` (pairs dy, dx). Outside the image,
 * offsets are clamped to the edge ('nearest'); with `excludeSelf`, a clamped offset
 * that lands on the pixel itself is left out (so the output never reads its own
 * pixel). Where nothing is left (a 1x1 image with a donut), the sample is kept.
 */
export function medianPlane(src: Float32Array, width: number, height: number, offsets: Int32Array, excludeSelf: boolean): Float32Array {
  const m = offsets.length >> 1;
  let r = 0;
  for (let i = 0; i < offsets.length; i++) r = Math.max(r, Math.abs(offsets[i]));
  const rel = new Int32Array(m);
  for (let j = 0; j < m; j++) rel[j] = offsets[2 * j] * width + offsets[2 * j + 1];
  const buf = new Float64Array(m);
  const out = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    const inY = y >= r && y < height - r;
    for (let x = 0; x < width; x++) {
      const p = y * width + x;
      let n = 0;
      if (inY && x >= r && x < width - r) {
        for (let j = 0; j < m; j++) buf[j] = src[p + rel[j]];
        n = m;
      } else {
        for (let j = 0; j < m; j++) {
          const yy = nearestIndex(y + offsets[2 * j], height);
          const xx = nearestIndex(x + offsets[2 * j + 1], width);
          if (excludeSelf && yy === y && xx === x) continue;
          buf[n++] = src[yy * width + xx];
        }
      }
      out[p] = n === 0 ? src[p] : selectKth(buf, n, n >> 1);
    }
  }
  return out;
}

interface MedianParams {
  radius: number;
}

function params(options: unknown): MedianParams {
  return resolveParams(FN, MEDIAN_PARAMS, checkObject(FN, 'options', options)) as unknown as MedianParams;
}

/** Median over a disk of `radius` pixels in each colour channel; alpha and missing samples carried through. */
export function denoiseMedian(image: Image, options: DenoiseMedianOptions = {}): Image {
  const im = checkImage(FN, image);
  const { radius } = params(options);
  const offsets = diskOffsets(radius);
  return applyToColour(im, (colour, width, height, nc) => perPlane(colour, width, height, nc, (plane) => medianPlane(plane, width, height, offsets, false)));
}

export const MEDIAN_DENOISER: DenoiserInfo = {
  id: 'median',
  summary: 'median over a disk (skimage.filters.median with disk(radius), nearest borders)',
  params: MEDIAN_PARAMS,
  usesSigma: false,
  calibrationGrid: () => ({ radius: [1, 2, 3, 4, 5, 6] }),
  async denoise(image: Image, options: Record<string, unknown>, context?: DenoiseContext): Promise<Image> {
    const im = checkImage(FN, image);
    const p = params(options);
    const work = im.width * im.height * colourChannels(im) * 4 * (diskOffsets(p.radius).length / 2);
    return runLocalDenoiser(im, { moduleUrl: import.meta.url, exportName: 'denoiseMedian', options: { ...p } }, p.radius, context, work);
  },
};
