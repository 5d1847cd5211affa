/**
 * The one image type of hush: Float32Array samples, HWC interleaved.
 * Integer sources are mapped to [0,1] (16-bit keeps full precision: float32 holds
 * every uint16/65535 exactly enough to round back); float sources (float TIFF, FITS,
 * NPY) keep their physical values. `source` records where the values came from so
 * writing back can restore the stored representation.
 */
import { invalidParameter, HushError } from './errors.js';

export const IMAGE_FORMATS = ['png', 'jpeg', 'webp', 'tiff', 'fits', 'npy'] as const;
export type ImageFormat = (typeof IMAGE_FORMATS)[number];

export const SAMPLE_FORMATS = ['uint8', 'uint16', 'int16', 'int32', 'float32', 'float64'] as const;
export type SampleFormat = (typeof SAMPLE_FORMATS)[number];

export type Channels = 1 | 2 | 3 | 4;

export interface ImageSource {
  format: ImageFormat;
  /** how samples were stored in the file */
  sampleFormat: SampleFormat;
  /** 'unit': integer samples divided by their maximum, data in [0,1]; 'physical': values as stored (after BSCALE/BZERO for FITS) */
  scale: 'unit' | 'physical';
}

export interface FitsMeta {
  /** every header card of the image HDU, 80 characters each, END excluded */
  cards: string[];
  bitpix: 8 | 16 | 32 | 64 | -32 | -64;
  bscale: number;
  bzero: number;
  blank?: number;
  /** index of the HDU the image came from */
  hdu: number;
}

export interface Image {
  data: Float32Array;
  width: number;
  height: number;
  /** 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA; alpha is carried through untouched */
  channels: Channels;
  source?: ImageSource;
  /** 1 where a sample has no data (FITS BLANK or NaN); same length as data */
  mask?: Uint8Array;
  fits?: FitsMeta;
  /**
   * The values as read, in float64, present only when float32 cannot hold them (FITS BITPIX
   * 32/64/-64 or scaled, NPY float64). Writers of such formats use exact[i] wherever data[i]
   * still equals Math.fround(exact[i]), so samples the caller did not change round-trip
   * bit-exactly and changed samples are written from data.
   */
  exact?: Float64Array;
}

/** Default pixel limit, the same as sharp's `limitInputPixels` (0x3FFF squared). */
export const DEFAULT_PIXEL_LIMIT = 0x3fff * 0x3fff;

export function isChannels(n: unknown): n is Channels {
  return n === 1 || n === 2 || n === 3 || n === 4;
}

export function hasAlpha(image: Pick<Image, 'channels'>): boolean {
  return image.channels === 2 || image.channels === 4;
}

/** Number of colour (non-alpha) channels. */
export function colourChannels(image: Pick<Image, 'channels'>): 1 | 3 {
  return image.channels <= 2 ? 1 : 3;
}

export function createImage(
  width: number,
  height: number,
  channels: Channels,
  data?: Float32Array,
  extra: Pick<Image, 'source' | 'mask' | 'fits' | 'exact'> = {},
): Image {
  if (!Number.isInteger(width) || width < 1) throw invalidParameter('createImage', 'width', 'a positive integer', width);
  if (!Number.isInteger(height) || height < 1) throw invalidParameter('createImage', 'height', 'a positive integer', height);
  if (!isChannels(channels)) throw invalidParameter('createImage', 'channels', 'one of 1, 2, 3, 4', channels);
  const n = width * height * channels;
  const d = data ?? new Float32Array(n);
  if (d.length !== n) {
    throw invalidParameter('createImage', 'data', `a Float32Array of length ${n} (${width}x${height}x${channels})`, d);
  }
  return { data: d, width, height, channels, ...extra };
}

/** Same geometry and metadata, new samples. */
export function withData(image: Image, data: Float32Array): Image {
  if (data.length !== image.data.length) {
    throw invalidParameter('withData', 'data', `a Float32Array of length ${image.data.length}`, data);
  }
  return { ...image, data };
}

export function cloneImage(image: Image): Image {
  return {
    ...image,
    data: image.data.slice(),
    mask: image.mask?.slice(),
    exact: image.exact?.slice(),
    fits: image.fits ? { ...image.fits, cards: image.fits.cards.slice() } : undefined,
  };
}

/** Throws a clear error unless `image` is a well-formed Image. */
export function checkImage(fn: string, image: unknown, param = 'image'): Image {
  const im = image as Partial<Image> | null;
  if (im === null || typeof im !== 'object') throw invalidParameter(fn, param, 'an Image object', image);
  if (!(im.data instanceof Float32Array)) throw invalidParameter(fn, `${param}.data`, 'a Float32Array', im.data);
  if (!Number.isInteger(im.width) || (im.width as number) < 1) throw invalidParameter(fn, `${param}.width`, 'a positive integer', im.width);
  if (!Number.isInteger(im.height) || (im.height as number) < 1) throw invalidParameter(fn, `${param}.height`, 'a positive integer', im.height);
  if (!isChannels(im.channels)) throw invalidParameter(fn, `${param}.channels`, 'one of 1, 2, 3, 4', im.channels);
  const n = (im.width as number) * (im.height as number) * im.channels;
  if (im.data.length !== n) {
    throw invalidParameter(fn, `${param}.data`, `length ${n} (width x height x channels)`, im.data);
  }
  if (im.mask !== undefined && (!(im.mask instanceof Uint8Array) || im.mask.length !== n)) {
    throw invalidParameter(fn, `${param}.mask`, `a Uint8Array of length ${n}`, im.mask);
  }
  if (im.exact !== undefined && (!(im.exact instanceof Float64Array) || im.exact.length !== n)) {
    throw invalidParameter(fn, `${param}.exact`, `a Float64Array of length ${n}`, im.exact);
  }
  return im as Image;
}

export function checkPixelLimit(fn: string, width: number, height: number, limit: number, file?: string): void {
  if (limit > 0 && width * height > limit) {
    const where = file ? ` '${file}'` : '';
    throw new HushError(
      'ERR_TOO_LARGE',
      `${fn}: image${where} has ${width}x${height} = ${width * height} pixels, over the limit of ${limit}. ` +
        'Raise it with the maxPixels option (CLI: --max-pixels N, or HUSH_MAX_PIXELS=N; 0 means no limit).',
      { file },
    );
  }
}

/** Samples of one channel as a new Float32Array (H*W). */
export function extractChannel(image: Image, channel: number): Float32Array {
  const { width, height, channels, data } = image;
  const out = new Float32Array(width * height);
  for (let i = 0, j = channel; i < out.length; i++, j += channels) out[i] = data[j];
  return out;
}

export function insertChannel(image: Image, channel: number, plane: Float32Array): void {
  const { channels, data } = image;
  for (let i = 0, j = channel; i < plane.length; i++, j += channels) data[j] = plane[i];
}

export function sameShape(a: Image, b: Image): boolean {
  return a.width === b.width && a.height === b.height && a.channels === b.channels;
}

/** Minimum and maximum over samples that are finite and not masked. */
export function valueRange(image: Image): { min: number; max: number } {
  let min = Infinity;
  let max = -Infinity;
  const { data, mask } = image;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if ((mask && mask[i]) || !Number.isFinite(v)) continue;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return { min, max };
}

/** exact[i] where data[i] is still its float32 rounding, else data[i]: what float64 writers store. */
export function exactValue(image: Pick<Image, 'data' | 'exact'>, i: number): number {
  const e = image.exact;
  if (e === undefined) return image.data[i];
  const v = e[i];
  return Math.fround(v) === image.data[i] || (v !== v && image.data[i] !== image.data[i]) ? v : image.data[i];
}
