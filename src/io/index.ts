/**
 * readImage / writeImage: one entry point for every format hush reads and
 * writes. Reading sniffs the content (a mislabelled file still decodes, an
 * unknown one gets a clear ERR_DECODE); writing picks the format from the
 * extension and always writes atomically.
 */
import { readFile, stat } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { basename } from 'node:path';
import { decodeError, HushError, invalidParameter } from '../core/errors.js';
import { checkImage, DEFAULT_PIXEL_LIMIT, IMAGE_FORMATS, valueRange, type Image, type ImageFormat } from '../core/image.js';
import { checkNumber, checkOneOf } from '../core/validate.js';
import { decodeRaster, encodeRaster, RASTER_FORMATS, type RasterFormat } from './raster.js';
import { decodeFits, encodeFits, isFits } from './fits.js';
import { decodeNpy, encodeNpy, isNpy } from './npy.js';
import { maybeDecompress } from './decompress.js';
import { writeFileAtomic, type IfExists } from './atomic-write.js';
import { applyStretch, STRETCHES, type Stretch } from './stretch.js';

export { STRETCHES, type Stretch } from './stretch.js';
export { writeFileAtomic, IF_EXISTS, type IfExists } from './atomic-write.js';

export interface ReadImageOptions {
  /** FITS: which HDU holds the image (default: the primary if it has data, else the first image extension) */
  hdu?: number;
  /** FITS cubes: NAXIS3 planes as separate images (default) or as the channels of one image */
  planes?: 'images' | 'channels';
  /** FITS cubes read as images: which plane readImage returns (default 0) */
  plane?: number;
  /** refuse images with more pixels than this; 0 means no limit (default: sharp's, 268 million) */
  maxPixels?: number;
}

const EXTENSIONS: Record<string, ImageFormat> = {
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.webp': 'webp',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.fits': 'fits',
  '.fit': 'fits',
  '.fts': 'fits',
  '.npy': 'npy',
};

/** Format named by a path's extension (`.fits.gz` and `.fits.bz2` count as FITS), or undefined. */
export function formatFromPath(path: string): ImageFormat | undefined {
  const lower = path.toLowerCase().replace(/\.(gz|bz2)$/, '');
  const dot = lower.lastIndexOf('.');
  return dot < 0 ? undefined : EXTENSIONS[lower.slice(dot)];
}

/** Format from the first bytes of a file. */
export function sniffFormat(bytes: Uint8Array): ImageFormat | undefined {
  const b = bytes;
  if (b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'png';
  if (b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (b.length >= 12 && String.fromCharCode(...b.subarray(0, 4)) === 'RIFF' && String.fromCharCode(...b.subarray(8, 12)) === 'WEBP') return 'webp';
  if (b.length >= 4 && ((b[0] === 0x49 && b[1] === 0x49 && (b[2] === 42 || b[2] === 43) && b[3] === 0) || (b[0] === 0x4d && b[1] === 0x4d && b[2] === 0 && (b[3] === 42 || b[3] === 43)))) return 'tiff';
  if (isFits(b)) return 'fits';
  if (isNpy(b)) return 'npy';
  return undefined;
}

/** Decodes every image in `bytes` (one, or one per FITS plane). */
export async function decodeImages(
  bytes: Uint8Array,
  file: string,
  options: ReadImageOptions = {},
  input: 'copy' | 'borrow' = 'copy',
): Promise<Image[]> {
  const maxPixels = options.maxPixels ?? DEFAULT_PIXEL_LIMIT;
  if (bytes.length === 0) throw decodeError('readImage', file, 'file is empty');
  const data = maybeDecompress(bytes, file);
  // a decompressed buffer is ours, so decoders may reuse it
  const owned = input === 'borrow' || data !== bytes ? 'borrow' : 'copy';
  const format = sniffFormat(data);
  if (format === undefined) {
    const claimed = formatFromPath(file);
    const what = claimed
      ? `content is not ${claimed.toUpperCase()} (nor any format hush reads: ${IMAGE_FORMATS.join(', ')}); the file is corrupt or mislabelled`
      : `not a recognised image format (hush reads ${IMAGE_FORMATS.join(', ')})`;
    throw decodeError('readImage', file, what);
  }
  if (format !== 'fits' && (options.hdu !== undefined || options.planes !== undefined)) {
    throw invalidParameter('readImage', options.hdu !== undefined ? 'options.hdu' : 'options.planes', 'no FITS options for a non-FITS file', options.hdu ?? options.planes);
  }
  if (format === 'fits') return decodeFits(data, { file, hdu: options.hdu, planes: options.planes, maxPixels, input: owned });
  if (format === 'npy') return [decodeNpy(data, { file, maxPixels })];
  return [await decodeRaster(data, { file, maxPixels })];
}

async function readBytes(path: string): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new HushError('ERR_IO', `readImage: cannot read '${path}': it is a folder`, { file: path });
    return await readFile(path);
  } catch (e) {
    if (e instanceof HushError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new HushError('ERR_IO', `readImage: cannot read '${path}': ${why}`, { file: path, cause: e });
  }
}

/** Reads all images of a file (FITS cubes give one per plane). */
export async function readImages(path: string, options: ReadImageOptions = {}): Promise<Image[]> {
  return decodeImages(await readBytes(path), path, options, 'borrow');
}

/** Reads one image: for a FITS cube, plane `options.plane` (default 0) unless planes are read as channels. */
export async function readImage(path: string, options: ReadImageOptions = {}): Promise<Image> {
  const images = await readImages(path, options);
  const plane = options.plane ?? 0;
  if (!Number.isInteger(plane) || plane < 0 || plane >= images.length) {
    throw invalidParameter('readImage', 'options.plane', `an integer from 0 to ${images.length - 1} ('${basename(path)}' has ${images.length} plane${images.length > 1 ? 's' : ''})`, plane);
  }
  return images[plane];
}

export interface EncodeImageOptions {
  /** bits per sample for PNG (8, 16) and TIFF (8, 16, 32 = float) */
  bitDepth?: 8 | 16 | 32;
  /** JPEG/WebP quality, 1..100 (default 95) */
  quality?: number;
  /** WebP only: lossless encoding */
  lossless?: boolean;
  /** how physical values are mapped to [0,1] for 8/16-bit outputs (default 'none': values must already be on [0,1]) */
  stretch?: Stretch;
  /** FITS: BITPIX of the output (default: the source's, else -32) */
  bitpix?: 8 | 16 | 32 | -32 | -64;
  /** FITS: HISTORY cards to add */
  history?: string[];
  /** NPY: dtype of the output (default: the source's, else float32) */
  dtype?: 'float32' | 'float64' | 'uint8' | 'uint16';
}

export interface WriteImageOptions extends EncodeImageOptions {
  /** output format (default: from the extension) */
  format?: ImageFormat;
  /** what to do when the output exists (default 'error') */
  ifExists?: IfExists;
  /** paths that must never be written, such as the inputs of a command */
  protect?: readonly string[];
}

/** Tolerance before unit-scale output refuses un-stretched physical values. */
const UNIT_SLACK = 0.5;

export async function encodeImage(image: Image, format: ImageFormat, options: EncodeImageOptions = {}): Promise<Buffer> {
  checkImage('writeImage', image);
  checkOneOf('writeImage', 'options.format', format, IMAGE_FORMATS);
  const stretch = checkOneOf('writeImage', 'options.stretch', options.stretch ?? 'none', STRETCHES);
  if (options.quality !== undefined) checkNumber('writeImage', 'options.quality', options.quality, { integer: true, min: 1, max: 100 });
  const im = applyStretch(image, stretch);
  if (format === 'fits') return encodeFits(im, { bitpix: options.bitpix, history: options.history });
  if (format === 'npy') return encodeNpy(im, { dtype: options.dtype });
  const raster = format as RasterFormat;
  if (!RASTER_FORMATS.includes(raster)) throw invalidParameter('writeImage', 'options.format', IMAGE_FORMATS.join(', '), format);
  const floatTiff = raster === 'tiff' && (options.bitDepth ?? (im.source?.scale === 'physical' ? 32 : 0)) === 32;
  if (!floatTiff && stretch === 'none') {
    const { min, max } = valueRange(im);
    if (min < -UNIT_SLACK || max > 1 + UNIT_SLACK) {
      throw new HushError(
        'ERR_INVALID_PARAMETER',
        `writeImage: values range from ${fmt(min)} to ${fmt(max)}, but ${raster.toUpperCase()} stores [0,1]; ` +
          `choose a stretch (--stretch linear|asinh|zscale) or write FITS, NPY or 32-bit float TIFF`,
        { param: 'options.stretch', expected: 'a stretch', received: 'none' },
      );
    }
  }
  return encodeRaster(im, raster, {
    bitDepth: floatTiff ? 32 : options.bitDepth,
    quality: options.quality,
    lossless: options.lossless,
  });
}

function fmt(v: number): string {
  return Number.isFinite(v) ? Number(v.toPrecision(4)).toString() : String(v);
}

export async function writeImage(path: string, image: Image, options: WriteImageOptions = {}): Promise<void> {
  const format = options.format ?? formatFromPath(path);
  if (format === undefined) {
    throw invalidParameter(
      'writeImage',
      'path',
      `a file name ending in ${Object.keys(EXTENSIONS).join(', ')} (or pass options.format)`,
      path,
    );
  }
  let bytes: Uint8Array = await encodeImage(image, format, options);
  if (/\.gz$/i.test(path)) bytes = gzipSync(bytes);
  else if (/\.bz2$/i.test(path)) {
    throw new HushError('ERR_UNSUPPORTED', `writeImage: cannot write bzip2 ('${path}'); write .fits or .fits.gz instead`);
  }
  await writeFileAtomic(path, bytes, { ifExists: options.ifExists, protect: options.protect });
}
