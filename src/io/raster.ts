/**
 * PNG, JPEG, WebP and TIFF through sharp (libvips). Grey stays one channel and
 * 16-bit stays 16-bit in both directions: sharp converts to sRGB 8-bit unless
 * told otherwise, so every read and write names the colourspace explicitly.
 */
import sharp, { type Metadata, type OutputInfo } from 'sharp';
import { decodeError, HushError, invalidParameter } from '../core/errors.js';
import {
  checkPixelLimit,
  createImage,
  DEFAULT_PIXEL_LIMIT,
  hasAlpha,
  isChannels,
  type Image,
  type SampleFormat,
} from '../core/image.js';
import { encodeFloatTiff } from './tiff-float.js';

export const RASTER_FORMATS = ['png', 'jpeg', 'webp', 'tiff'] as const;
export type RasterFormat = (typeof RASTER_FORMATS)[number];

export interface DecodeRasterOptions {
  file: string;
  maxPixels?: number;
}

const GREY_SPACES = new Set(['b-w', 'grey16']);

export async function decodeRaster(buf: Uint8Array, options: DecodeRasterOptions): Promise<Image> {
  const { file } = options;
  const maxPixels = options.maxPixels ?? DEFAULT_PIXEL_LIMIT;
  let meta: Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false, failOn: 'warning' }).metadata();
  } catch (e) {
    throw decodeError('readImage', file, cleanSharpMessage(e), e);
  }
  const format = meta.format as string;
  if (!['png', 'jpeg', 'webp', 'tiff'].includes(format)) {
    throw decodeError('readImage', file, `unsupported format '${format}'`);
  }
  const width = meta.autoOrient?.width ?? meta.width;
  const height = meta.autoOrient?.height ?? meta.height;
  if (!width || !height) throw decodeError('readImage', file, 'image has no size');
  checkPixelLimit('readImage', width, height, maxPixels, file);
  const depth = meta.depth ?? 'uchar';
  const grey = GREY_SPACES.has(meta.space ?? '') || (meta.channels ?? 3) <= 2;
  let space: string;
  let sampleFormat: SampleFormat;
  let rawDepth: 'uchar' | 'ushort' | 'float';
  const hasAlphaChannel = meta.hasAlpha === true;
  if (depth === 'uchar' || depth === 'char') {
    // libvips drops the alpha of 8-bit grey+alpha when asked for 'b-w': read it as RGBA and fold back below
    space = grey && !hasAlphaChannel ? 'b-w' : 'srgb';
    sampleFormat = 'uint8';
    rawDepth = 'uchar';
  } else if (depth === 'ushort' || depth === 'short') {
    space = grey ? 'grey16' : 'rgb16';
    sampleFormat = 'uint16';
    rawDepth = 'ushort';
  } else if (depth === 'float' || depth === 'double') {
    space = grey ? 'b-w' : 'scrgb';
    sampleFormat = 'float32';
    rawDepth = 'float';
  } else {
    throw decodeError('readImage', file, `unsupported sample depth '${depth}' (8, 16-bit integer and 32-bit float are supported)`);
  }
  let raw: { data: Buffer; info: OutputInfo };
  try {
    raw = await sharp(buf, { limitInputPixels: false, failOn: 'warning' })
      .autoOrient()
      .toColourspace(space)
      .raw({ depth: rawDepth })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw decodeError('readImage', file, cleanSharpMessage(e), e);
  }
  const { info } = raw;
  const decoded = info.channels;
  if (!isChannels(decoded)) throw decodeError('readImage', file, `unsupported channel count ${decoded}`);
  const n = info.width * info.height * decoded;
  const samples = new Float32Array(n);
  const bytes = raw.data;
  if (rawDepth === 'uchar') {
    for (let i = 0; i < n; i++) samples[i] = bytes[i] / 255;
  } else if (rawDepth === 'ushort') {
    const u16 = toAligned(bytes, Uint16Array, n);
    for (let i = 0; i < n; i++) samples[i] = u16[i] / 65535;
  } else {
    samples.set(toAligned(bytes, Float32Array, n));
  }
  // Grey stays grey: a grey source decoded through RGB(A), and WebP (which has no grey mode)
  // whose three colour channels are equal everywhere, fold back to 1 or 2 channels.
  const foldable = decoded >= 3 && ((grey && rawDepth === 'uchar') || (format === 'webp' && coloursEqual(samples, decoded)));
  const { data, channels } = foldable ? foldToGrey(samples, decoded as 3 | 4) : { data: samples, channels: decoded };
  return createImage(info.width, info.height, channels, data, {
    source: { format: format as RasterFormat, sampleFormat, scale: rawDepth === 'float' ? 'physical' : 'unit' },
  });
}

function coloursEqual(s: Float32Array, channels: number): boolean {
  for (let i = 0; i < s.length; i += channels) if (s[i] !== s[i + 1] || s[i] !== s[i + 2]) return false;
  return true;
}

function foldToGrey(s: Float32Array, channels: 3 | 4): { data: Float32Array; channels: 1 | 2 } {
  const out = channels === 4 ? 2 : 1;
  const n = s.length / channels;
  const data = new Float32Array(n * out);
  for (let p = 0; p < n; p++) {
    data[p * out] = s[p * channels];
    if (out === 2) data[p * out + 1] = s[p * channels + 3];
  }
  return { data, channels: out };
}

function toAligned<T extends Uint16Array | Float32Array>(
  bytes: Buffer,
  Ctor: { new (b: ArrayBuffer, o: number, l: number): T; new (l: number): T; BYTES_PER_ELEMENT: number },
  n: number,
): T {
  if (bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0) return new Ctor(bytes.buffer as ArrayBuffer, bytes.byteOffset, n);
  const copy = new Uint8Array(n * Ctor.BYTES_PER_ELEMENT);
  copy.set(bytes.subarray(0, copy.length));
  return new Ctor(copy.buffer, 0, n);
}

export interface EncodeRasterOptions {
  /** bits per sample; default: the source's depth where the format allows it, else 8 */
  bitDepth?: 8 | 16 | 32;
  /** JPEG/WebP quality 1..100 (default 95); WebP 'lossless' */
  quality?: number;
  lossless?: boolean;
}

export const BIT_DEPTHS: Record<RasterFormat, readonly number[]> = {
  png: [8, 16],
  jpeg: [8],
  webp: [8],
  tiff: [8, 16, 32],
};

export function defaultBitDepth(format: RasterFormat, image: Image): 8 | 16 | 32 {
  const sf = image.source?.sampleFormat;
  const wanted = sf === 'uint8' ? 8 : sf === 'uint16' || sf === 'int16' ? 16 : sf === undefined ? 8 : format === 'tiff' ? 32 : 16;
  return BIT_DEPTHS[format].includes(wanted) ? (wanted as 8 | 16 | 32) : (Math.max(...BIT_DEPTHS[format].filter((d) => d <= 16)) as 8 | 16);
}

/** Encodes unit-scale samples (values outside [0,1] are clipped) or 32-bit float TIFF. */
export async function encodeRaster(image: Image, format: RasterFormat, options: EncodeRasterOptions = {}): Promise<Buffer> {
  const bitDepth = options.bitDepth ?? defaultBitDepth(format, image);
  if (!BIT_DEPTHS[format].includes(bitDepth)) {
    throw invalidParameter(
      'writeImage',
      'options.bitDepth',
      `one of ${BIT_DEPTHS[format].join(', ')} for ${format.toUpperCase()}`,
      bitDepth,
    );
  }
  if (bitDepth === 32) return encodeFloatTiff(image);
  const { width, height, channels, data } = image;
  const n = data.length;
  let input: Uint8Array | Uint16Array;
  if (bitDepth === 8) {
    const u8 = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      const v = data[i] * 255 + 0.5;
      u8[i] = v >= 255 ? 255 : v > 0 ? v : 0; // NaN -> 0
    }
    input = u8;
  } else {
    const u16 = new Uint16Array(n);
    for (let i = 0; i < n; i++) {
      const v = data[i] * 65535 + 0.5;
      u16[i] = v >= 65535 ? 65535 : v > 0 ? v : 0;
    }
    input = u16;
  }
  const grey = channels <= 2;
  const space = bitDepth === 16 ? (grey ? 'grey16' : 'rgb16') : grey ? 'b-w' : 'srgb';
  let pipe = sharp(input, { raw: { width, height, channels }, limitInputPixels: false }).toColourspace(space);
  const quality = options.quality ?? 95;
  if (format === 'png') pipe = pipe.png({ compressionLevel: 6 });
  else if (format === 'jpeg') pipe = pipe.jpeg({ quality, chromaSubsampling: quality >= 90 ? '4:4:4' : '4:2:0' });
  else if (format === 'webp') pipe = pipe.webp({ quality, lossless: options.lossless ?? false, alphaQuality: 100, exact: true });
  else pipe = pipe.tiff({ compression: 'deflate', predictor: 'horizontal' });
  try {
    return await pipe.toBuffer();
  } catch (e) {
    throw new HushError('ERR_IO', `writeImage: ${format.toUpperCase()} encoding failed: ${cleanSharpMessage(e)}`, { cause: e });
  }
}

export function alphaNote(image: Image): string {
  return hasAlpha(image) ? ' with alpha' : '';
}

function cleanSharpMessage(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  const first = msg.split('\n').find((l) => l.trim().length > 0) ?? msg;
  if (/unsupported image format/i.test(first)) return 'not a recognised image (unsupported or corrupt data)';
  return first.replace(/^Error: /, '').replace(/^VipsForeignLoad\w*: /, '').trim();
}
