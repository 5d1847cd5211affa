/**
 * Mean squared error between a reference image and a test image, accumulated in
 * float64 over the colour samples (alpha is not image content and is left out).
 * Samples masked in either image (`image.mask`: no data) are excluded.
 */
import { HushError } from '../core/errors.js';
import { checkImage, colourChannels, sameShape, type Image } from '../core/image.js';

function describeShape(im: Image): string {
  return `${im.width}x${im.height}x${im.channels}`;
}

/** Validates both images and that they have the same width, height and channels. */
export function checkImagePair(fn: string, reference: unknown, test: unknown): [Image, Image] {
  const ref = checkImage(fn, reference, 'reference');
  const tst = checkImage(fn, test, 'test');
  if (!sameShape(ref, tst)) {
    const expected = `an image the shape of reference, ${describeShape(ref)} (width x height x channels)`;
    throw new HushError('ERR_INVALID_PARAMETER', `${fn}: expected ${expected} for test but received ${describeShape(tst)}.`, {
      param: 'test',
      expected,
      received: describeShape(tst),
    });
  }
  return [ref, tst];
}

/** Sum of squared differences and the number of samples it covers. */
export function sumSquaredError(fn: string, ref: Image, tst: Image): { sum: number; count: number } {
  const { width, height, channels } = ref;
  const colours = colourChannels(ref);
  const a = ref.data;
  const b = tst.data;
  const ma = ref.mask;
  const mb = tst.mask;
  let sum = 0;
  let count = 0;
  const rowLength = width * channels;
  for (let y = 0; y < height; y++) {
    // Per-row partial sums keep the rounding error of a 24-megapixel sum near that of numpy's pairwise sum.
    let rowSum = 0;
    const end = (y + 1) * rowLength;
    if (!ma && !mb) {
      for (let c = 0; c < colours; c++) {
        for (let i = y * rowLength + c; i < end; i += channels) {
          const e = a[i] - b[i];
          rowSum += e * e;
        }
      }
      count += width * colours;
    } else {
      for (let c = 0; c < colours; c++) {
        for (let i = y * rowLength + c; i < end; i += channels) {
          if ((ma && ma[i]) || (mb && mb[i])) continue;
          const e = a[i] - b[i];
          rowSum += e * e;
          count++;
        }
      }
    }
    sum += rowSum;
  }
  if (count === 0) {
    throw new HushError('ERR_INVALID_PARAMETER', `${fn}: every colour sample is masked in reference or test; there is nothing to compare.`, {
      param: 'reference',
    });
  }
  return { sum, count };
}

/**
 * Mean of (reference - test)^2 over colour samples, in float64. Alpha (channel 2 of
 * 2, channel 4 of 4) is ignored; samples masked in either image are excluded.
 */
export function mse(reference: Image, test: Image): number {
  const [ref, tst] = checkImagePair('mse', reference, test);
  const { sum, count } = sumSquaredError('mse', ref, tst);
  return sum / count;
}
