/**
 * FITS image reading and writing, in-house (FITS Standard 4.0, IAU FITS Working
 * Group 2016; no maintained JavaScript FITS library exists). Reads the primary HDU
 * or an IMAGE extension with BITPIX 8, 16, 32, 64, -32 or -64, applies BSCALE/BZERO
 * so `image.data` holds physical values, and turns BLANK and NaN pixels into
 * `image.mask`. The header is kept card for card in `image.fits`, together with the
 * physical values in float64 where float32 cannot hold them, so that
 * decode -> encode gives back the same header (plus HISTORY) and the same stored
 * numbers, bit for bit, for every BITPIX. Pixel rows are kept in file order: row 0
 * is the first row stored (NAXIS2 = 1), which viewers such as ds9 show at the bottom.
 *
 * Browser-safe: no Node imports. Compressed files (.fits.gz, .fits.bz2) go through
 * `maybeDecompress` from ./decompress.js first.
 */
import { decodeError, invalidParameter, unsupported } from '../core/errors.js';
import {
  checkImage,
  checkPixelLimit,
  createImage,
  DEFAULT_PIXEL_LIMIT,
  type FitsMeta,
  type Image,
  type ImageSource,
  type SampleFormat,
} from '../core/image.js';
import { checkNumber, checkObject, checkOneOf, optionalNumber } from '../core/validate.js';
import {
  CARD_LENGTH,
  cardKeyword,
  formatCard,
  formatCommentary,
  normaliseCard,
  parseCard,
  showValue,
  type FitsValue,
} from './fits-card.js';
import {
  describeHdu,
  FITS_BITPIX,
  hasImageData,
  isCompressedImage,
  isImageHdu,
  paddedLength,
  scanHdus,
  startsLikeFits,
  type FitsBitpix,
  type FitsHdu,
} from './fits-hdu.js';

export { FITS_BITPIX, type FitsBitpix } from './fits-hdu.js';
export type { FitsValue } from './fits-card.js';

/** How NAXIS3 planes become images: one Image per plane, or the channels of one Image (NAXIS3 = 1 or 3 only). */
export const FITS_PLANES = ['images', 'channels'] as const;
export type FitsPlanes = (typeof FITS_PLANES)[number];

export interface DecodeFitsOptions {
  /** name used in error messages */
  file: string;
  /** HDU to read (0 = primary); default: the primary HDU if it has data, else the first IMAGE extension */
  hdu?: number;
  /** NAXIS3 planes as separate images (default) or as channels (only when NAXIS3 is 1 or 3) */
  planes?: FitsPlanes;
  /** refuse images with more than this many pixels (NAXIS1 x NAXIS2); 0 means no limit; default DEFAULT_PIXEL_LIMIT */
  maxPixels?: number;
  /**
   * 'borrow': the caller hands `buf` over (readImage does, for the file it just read), so
   * float data may be byte-swapped in place and viewed without a copy; default 'copy'.
   */
  input?: 'copy' | 'borrow';
}

export interface EncodeFitsOptions {
  /** BITPIX to write; default: the source's (with its BSCALE/BZERO/BLANK), else -32 */
  bitpix?: FitsBitpix;
  /** text for HISTORY cards added after `HISTORY hush: written by hush` (long lines are split) */
  history?: string[];
}

/** One HDU of a file, as `listFitsHdus` reports it. */
export interface FitsHduSummary {
  index: number;
  /** 'PRIMARY', 'IMAGE', 'BINTABLE', 'TABLE', ... */
  type: string;
  extname?: string;
  bitpix: FitsBitpix;
  /** NAXIS1, NAXIS2, ... */
  axes: number[];
  /** whether decodeFits can read an image from it */
  image: boolean;
  /** one line, e.g. `1 IMAGE 'N2' 245x251 BITPIX -32` */
  description: string;
  cards: string[];
  /** byte offsets of the header and data in the file, and the data length without padding */
  headerStart: number;
  dataStart: number;
  dataBytes: number;
}

const FN = 'readImage';
const HISTORY_MARK = 'hush: written by hush';

/** Content sniffing: true when the bytes start with `SIMPLE  =` (uncompressed FITS; see maybeDecompress). */
export function isFits(buf: Uint8Array): boolean {
  return buf instanceof Uint8Array && startsLikeFits(buf);
}

function compressionOf(buf: Uint8Array): string | undefined {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  if (buf.length >= 3 && buf[0] === 0x42 && buf[1] === 0x5a && buf[2] === 0x68) return 'bzip2';
  return undefined;
}

function checkFitsBuffer(fn: string, buf: unknown, file: string): Uint8Array {
  if (!(buf instanceof Uint8Array)) throw invalidParameter(fn, 'buf', 'a Uint8Array', buf);
  if (buf.length === 0) throw decodeError(FN, file, 'file is empty');
  const packed = compressionOf(buf);
  if (packed) throw decodeError(FN, file, `the data is ${packed}-compressed; decompress it first (maybeDecompress)`);
  if (!startsLikeFits(buf)) throw decodeError(FN, file, "not a FITS file (it does not start with 'SIMPLE  =')");
  return buf;
}

interface Scaling {
  bscale: number;
  bzero: number;
  /** BLANK for integer BITPIX */
  blank?: number;
  blankBig?: bigint;
}

function realKeyword(hdu: FitsHdu, file: string, key: string, fallback: number): number {
  const card = hdu.keywords.get(key);
  if (card === undefined || (card.value === undefined && card.raw === undefined)) return fallback;
  if (typeof card.value !== 'number' || !Number.isFinite(card.value)) {
    throw decodeError(FN, file, `HDU ${hdu.index}: ${key} = ${showValue(card)} is not a finite number`);
  }
  return card.value;
}

function readScaling(hdu: FitsHdu, file: string): Scaling {
  const bscale = realKeyword(hdu, file, 'BSCALE', 1);
  const bzero = realKeyword(hdu, file, 'BZERO', 0);
  if (bscale === 0) throw decodeError(FN, file, `HDU ${hdu.index}: BSCALE = 0 maps every pixel to BZERO`);
  const s: Scaling = { bscale, bzero };
  const card = hdu.keywords.get('BLANK');
  // BLANK has no meaning for floating-point data (standard 5.3); NaN plays its part there.
  if (hdu.bitpix > 0 && card !== undefined && (card.value !== undefined || card.raw !== undefined)) {
    if (typeof card.value !== 'number' || card.raw === undefined || !/^[+-]?\d+$/.test(card.raw)) {
      throw decodeError(FN, file, `HDU ${hdu.index}: BLANK = ${showValue(card)} is not an integer`);
    }
    s.blank = card.value;
    if (hdu.bitpix === 64) s.blankBig = BigInt(card.raw.replace(/^\+/, ''));
  }
  return s;
}

/** The HDUs for a message, at most 6 of them, so the message stays short. */
function listed(hdus: FitsHdu[]): string {
  const shown = hdus.slice(0, 6).map(describeHdu).join('; ');
  return hdus.length > 6 ? `${shown}; and ${hdus.length - 6} more` : shown;
}

/** Which HDU to read: the one asked for, or the default rule. */
function selectHdu(buf: Uint8Array, file: string, wanted: number | undefined): FitsHdu {
  if (wanted !== undefined) {
    const hdus = scanHdus(buf, file, (h) => h.index === wanted);
    const hdu = hdus[hdus.length - 1];
    if (hdu.index !== wanted) {
      throw decodeError(FN, file, `HDU ${wanted} does not exist: the file has ${hdus.length} HDU${hdus.length > 1 ? 's' : ''} (${listed(hdus)})`);
    }
    if (isCompressedImage(hdu)) throw compressedError(file, hdu);
    if (hdu.groups) throw unsupported(FN, `cannot read '${file}': HDU 0 holds random groups, not an image`);
    if (!isImageHdu(hdu)) throw decodeError(FN, file, `HDU ${wanted} is a ${hdu.type} extension, not an image`);
    if (hdu.axes.length === 0) throw decodeError(FN, file, `HDU ${wanted} has no image data (NAXIS = 0)`);
    const empty = hdu.axes.findIndex((a) => a === 0);
    if (empty >= 0) throw decodeError(FN, file, `HDU ${wanted} has no image data (NAXIS${empty + 1} = 0)`);
    return checkAxes(hdu, file);
  }
  const hdus = scanHdus(buf, file, (h) => hasImageData(h) || isCompressedImage(h));
  const hdu = hdus[hdus.length - 1];
  if (isCompressedImage(hdu)) throw compressedError(file, hdu);
  if (!hasImageData(hdu)) {
    throw decodeError(FN, file, `no HDU holds image data (${listed(hdus)})`);
  }
  return checkAxes(hdu, file);
}

function compressedError(file: string, hdu: FitsHdu): Error {
  return unsupported(
    FN,
    `cannot read '${file}': HDU ${hdu.index} is a tile-compressed image (ZIMAGE = T)`,
    'Uncompress it first, e.g. with funpack or astropy',
  );
}

/** hush images have at most 3 axes; further axes of length 1 (e.g. a Stokes axis) are fine. */
function checkAxes(hdu: FitsHdu, file: string): FitsHdu {
  for (let i = 3; i < hdu.axes.length; i++) {
    if (hdu.axes[i] !== 1) {
      throw unsupported(FN, `cannot read '${file}': HDU ${hdu.index} has NAXIS = ${hdu.axes.length} with NAXIS${i + 1} = ${hdu.axes[i]}; hush reads images of up to 3 axes`);
    }
  }
  return hdu;
}

interface Plane {
  data: Float32Array;
  mask?: Uint8Array;
  /** physical values in float64, present only where float32 does not hold them exactly */
  stored?: Float64Array;
}

/**
 * One plane of `n` samples at byte `start`: physical values (BZERO + BSCALE x stored),
 * NaN and a mask bit where BLANK or NaN. One pass over the file bytes through a
 * big-endian DataView, and one loop per BITPIX so every access stays monomorphic
 * (a shared generic loop runs several times slower once it has seen a few types).
 * The float64 values are kept only when float32 loses something.
 */
function convertPlane(buf: Uint8Array, start: number, n: number, bitpix: FitsBitpix, s: Scaling, borrow = false): Plane {
  if (bitpix === -32 && s.bscale === 1 && s.bzero === 0 && HOST_LE) return convertFloatPlaneFast(buf, start, n, borrow);
  const dv = new DataView(buf.buffer, buf.byteOffset + start, n * (Math.abs(bitpix) / 8));
  const data = new Float32Array(n);
  let mask: Uint8Array | undefined;
  const { bscale, bzero } = s;
  // With no scaling the value is taken as stored, so -0.0 keeps its sign bit.
  const id = bscale === 1 && bzero === 0;
  const exact = id && (bitpix === 8 || bitpix === 16 || bitpix === -32);
  const phys = exact ? undefined : new Float64Array(n);
  const blank = s.blank ?? NaN; // NaN never equals a sample
  let inexact = false;
  switch (bitpix) {
    case 8:
      for (let i = 0; i < n; i++) {
        const r = dv.getUint8(i);
        const v = r === blank ? NaN : id ? r : bzero + bscale * r;
        data[i] = v;
        if (phys) phys[i] = v;
        if (v !== v) (mask ??= new Uint8Array(n))[i] = 1;
        else if (data[i] !== v) inexact = true;
      }
      break;
    case 16:
      for (let i = 0; i < n; i++) {
        const r = dv.getInt16(2 * i);
        const v = r === blank ? NaN : id ? r : bzero + bscale * r;
        data[i] = v;
        if (phys) phys[i] = v;
        if (v !== v) (mask ??= new Uint8Array(n))[i] = 1;
        else if (data[i] !== v) inexact = true;
      }
      break;
    case 32:
      for (let i = 0; i < n; i++) {
        const r = dv.getInt32(4 * i);
        const v = r === blank ? NaN : id ? r : bzero + bscale * r;
        data[i] = v;
        if (phys) phys[i] = v;
        if (v !== v) (mask ??= new Uint8Array(n))[i] = 1;
        else if (data[i] !== v) inexact = true;
      }
      break;
    case 64: {
      const big = s.blankBig;
      for (let i = 0; i < n; i++) {
        const r = dv.getBigInt64(8 * i);
        const v = r === big ? NaN : id ? Number(r) : bzero + bscale * Number(r);
        data[i] = v;
        if (phys) phys[i] = v;
        if (v !== v) (mask ??= new Uint8Array(n))[i] = 1;
        else if (data[i] !== v) inexact = true;
      }
      break;
    }
    case -32:
      for (let i = 0; i < n; i++) {
        const r = dv.getFloat32(4 * i);
        const v = id ? r : bzero + bscale * r;
        data[i] = v;
        if (phys) phys[i] = v;
        if (v !== v) (mask ??= new Uint8Array(n))[i] = 1;
        else if (data[i] !== v) inexact = true;
      }
      break;
    case -64:
      for (let i = 0; i < n; i++) {
        const r = dv.getFloat64(8 * i);
        const v = id ? r : bzero + bscale * r;
        data[i] = v;
        if (phys) phys[i] = v;
        if (v !== v) (mask ??= new Uint8Array(n))[i] = 1;
        else if (data[i] !== v) inexact = true;
      }
      break;
  }
  const plane: Plane = { data };
  if (mask) plane.mask = mask;
  if (inexact && phys) plane.stored = phys;
  return plane;
}

/**
 * BITPIX -32 without scaling, the commonest float FITS: one native byte swap
 * (Buffer#swap32) into an aligned buffer, viewed as Float32Array; about ten times
 * faster than a DataView loop on large images.
 */
function convertFloatPlaneFast(buf: Uint8Array, start: number, n: number, borrow: boolean): Plane {
  const aligned = (buf.byteOffset + start) % 4 === 0;
  let bytes: Uint8Array;
  if (borrow && aligned) bytes = new Uint8Array(buf.buffer, buf.byteOffset + start, 4 * n);
  else {
    bytes = new Uint8Array(4 * n);
    bytes.set(new Uint8Array(buf.buffer, buf.byteOffset + start, 4 * n));
  }
  swap32(bytes);
  const data = new Float32Array(bytes.buffer, bytes.byteOffset, n);
  let mask: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const v = data[i];
    if (v !== v) (mask ??= new Uint8Array(n))[i] = 1;
  }
  const plane: Plane = { data };
  if (mask) plane.mask = mask;
  return plane;
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** In-place 32-bit byte swap: Node's native Buffer#swap32 where there is one, else a loop (browsers). */
function swap32(bytes: Uint8Array): void {
  const B = (globalThis as { Buffer?: { from(b: ArrayBufferLike, o: number, l: number): { swap32(): unknown } } }).Buffer;
  if (B) {
    B.from(bytes.buffer, bytes.byteOffset, bytes.length).swap32();
    return;
  }
  const u32 = new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  for (let i = 0; i < u32.length; i++) {
    const v = u32[i];
    u32[i] = ((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24);
  }
}

function sampleFormatOf(bitpix: FitsBitpix, s: Scaling): SampleFormat {
  switch (bitpix) {
    case 8:
      return 'uint8';
    case 16:
      return s.bscale === 1 && s.bzero === 32768 ? 'uint16' : 'int16';
    case 32:
      return 'int32';
    case -32:
      return 'float32';
    default:
      // BITPIX 64 has no SampleFormat of its own; its values are held as float64 in `stored`.
      return 'float64';
  }
}

function interleave(planes: Plane[], n: number): Plane {
  const c = planes.length;
  const data = new Float32Array(n * c);
  const anyMask = planes.some((p) => p.mask);
  const anyStored = planes.some((p) => p.stored);
  const mask = anyMask ? new Uint8Array(n * c) : undefined;
  const stored = anyStored ? new Float64Array(n * c) : undefined;
  for (let k = 0; k < c; k++) {
    const p = planes[k];
    for (let i = 0, j = k; i < n; i++, j += c) {
      data[j] = p.data[i];
      if (mask && p.mask) mask[j] = p.mask[i];
      // A plane without `stored` is exact in float32, so its float32 values are the physical ones.
      if (stored) stored[j] = p.stored ? p.stored[i] : p.data[i];
    }
  }
  const out: Plane = { data };
  if (mask) out.mask = mask;
  if (stored) out.stored = stored;
  return out;
}

/**
 * Decodes the image HDU of a FITS file. A cube (NAXIS3 > 1) gives one Image per plane
 * unless `planes: 'channels'`; anything else gives one Image.
 */
export function decodeFits(buf: Uint8Array, options: DecodeFitsOptions): Image[] {
  const opts = checkObject('decodeFits', 'options', options);
  if (typeof opts.file !== 'string') throw invalidParameter('decodeFits', 'options.file', 'a string', opts.file);
  const file = opts.file;
  const wanted = opts.hdu === undefined ? undefined : checkNumber('decodeFits', 'options.hdu', opts.hdu, { integer: true, min: 0 });
  const planesMode = checkOneOf('decodeFits', 'options.planes', opts.planes ?? 'images', FITS_PLANES);
  const maxPixels = optionalNumber('decodeFits', 'options.maxPixels', opts.maxPixels, DEFAULT_PIXEL_LIMIT, { integer: true, min: 0 });
  checkFitsBuffer('decodeFits', buf, file);

  const hdu = selectHdu(buf, file, wanted);
  const width = hdu.axes[0];
  const height = hdu.axes[1] ?? 1;
  const depth = hdu.axes[2] ?? 1;
  checkPixelLimit(FN, width, height, maxPixels, file);
  if (planesMode === 'channels' && depth !== 1 && depth !== 3) {
    throw invalidParameter(
      'decodeFits',
      'options.planes',
      `'images' (HDU ${hdu.index} of '${file}' has NAXIS3 = ${depth}; 'channels' needs NAXIS3 = 1 or 3)`,
      planesMode,
    );
  }
  const scaling = readScaling(hdu, file);
  const n = width * height;
  const planeBytes = n * (Math.abs(hdu.bitpix) / 8);
  const planes: Plane[] = [];
  for (let k = 0; k < depth; k++) planes.push(convertPlane(buf, hdu.dataStart + k * planeBytes, n, hdu.bitpix, scaling, options.input === 'borrow'));
  const grouped = planesMode === 'channels' && depth === 3 ? [interleave(planes, n)] : planes;
  const channels = planesMode === 'channels' && depth === 3 ? 3 : 1;
  const source: ImageSource = { format: 'fits', sampleFormat: sampleFormatOf(hdu.bitpix, scaling), scale: 'physical' };
  return grouped.map((p) => {
    const fits: FitsMeta = { cards: hdu.cards.slice(), bitpix: hdu.bitpix, bscale: scaling.bscale, bzero: scaling.bzero, hdu: hdu.index };
    if (scaling.blank !== undefined) fits.blank = scaling.blank;
    const extra: Pick<Image, 'source' | 'mask' | 'fits' | 'exact'> = { source: { ...source }, fits };
    if (p.stored) extra.exact = p.stored;
    if (p.mask) extra.mask = p.mask;
    return createImage(width, height, channels, p.data, extra);
  });
}

/** Every HDU of a file, for `hush info` and for choosing `hdu`. */
export function listFitsHdus(buf: Uint8Array, options: { file: string }): FitsHduSummary[] {
  const opts = checkObject('listFitsHdus', 'options', options);
  if (typeof opts.file !== 'string') throw invalidParameter('listFitsHdus', 'options.file', 'a string', opts.file);
  checkFitsBuffer('listFitsHdus', buf, opts.file);
  return scanHdus(buf, opts.file).map((h) => {
    const name = h.keywords.get('EXTNAME')?.value;
    const s: FitsHduSummary = {
      index: h.index,
      type: h.type,
      bitpix: h.bitpix,
      axes: h.axes.slice(),
      image: hasImageData(h),
      description: describeHdu(h),
      cards: h.cards.slice(),
      headerStart: h.headerStart,
      dataStart: h.dataStart,
      dataBytes: h.dataBytes,
    };
    if (typeof name === 'string' && name.trim() !== '') s.extname = name.trim();
    return s;
  });
}

/** The header cards of an image read from FITS, one per line (trailing blanks trimmed); '' for other images. */
export function fitsHeaderSummary(image: Image): string {
  checkImage('fitsHeaderSummary', image);
  return image.fits ? image.fits.cards.map((c) => c.trimEnd()).join('\n') : '';
}

/** The value of the first card with this keyword in the image's FITS header, or undefined. */
export function getFitsKeyword(image: Image, keyword: string): FitsValue | undefined {
  checkImage('getFitsKeyword', image);
  if (typeof keyword !== 'string' || keyword.trim() === '') {
    throw invalidParameter('getFitsKeyword', 'keyword', 'a non-empty string', keyword);
  }
  const key = keyword.trim().toUpperCase();
  const card = image.fits?.cards.find((c) => cardKeyword(c) === key);
  return card === undefined ? undefined : parseCard(card).value;
}

// ---------------------------------------------------------------- writing

const FNE = 'encodeFits';

interface IntRange {
  lo: number;
  hi: number;
  /** the smallest step between integers a double can hold near the ends of the range */
  step: number;
}

/** Stored-integer range of a BITPIX. For 64 bits the ends are kept to doubles: 2^63 - 1 is not one. */
function intRange(bitpix: 8 | 16 | 32 | 64): IntRange {
  if (bitpix === 8) return { lo: 0, hi: 255, step: 1 };
  if (bitpix === 64) return { lo: -(2 ** 63), hi: 2 ** 63 - 1024, step: 2048 };
  return { lo: -(2 ** (bitpix - 1)), hi: 2 ** (bitpix - 1) - 1, step: 1 };
}

/** The samples to write: one plane per NAXIS3 index, each with the stored values that still apply. */
interface Source {
  width: number;
  height: number;
  planes: Plane[];
  meta?: FitsMeta;
}

function storedFor(im: Image): Float64Array | undefined {
  const s = im.exact;
  return s instanceof Float64Array && s.length === im.data.length ? s : undefined;
}

function planeOf(data: Float32Array, mask?: Uint8Array, stored?: Float64Array): Plane {
  const p: Plane = { data };
  if (mask) p.mask = mask;
  if (stored) p.stored = stored;
  return p;
}

function checkMeta(meta: unknown): FitsMeta | undefined {
  if (meta === undefined) return undefined;
  const m = meta as Partial<FitsMeta> | null;
  if (m === null || typeof m !== 'object') throw invalidParameter(FNE, 'image.fits', 'a FitsMeta object or undefined', meta);
  if (!Array.isArray(m.cards) || !m.cards.every((c) => typeof c === 'string')) {
    throw invalidParameter(FNE, 'image.fits.cards', 'an array of strings', m.cards);
  }
  if (!(FITS_BITPIX as readonly unknown[]).includes(m.bitpix)) {
    throw invalidParameter(FNE, 'image.fits.bitpix', `one of ${FITS_BITPIX.join(', ')}`, m.bitpix);
  }
  if (typeof m.bscale !== 'number' || !Number.isFinite(m.bscale) || m.bscale === 0) {
    throw invalidParameter(FNE, 'image.fits.bscale', 'a finite number other than 0', m.bscale);
  }
  if (typeof m.bzero !== 'number' || !Number.isFinite(m.bzero)) {
    throw invalidParameter(FNE, 'image.fits.bzero', 'a finite number', m.bzero);
  }
  if (m.blank !== undefined && !Number.isInteger(m.blank)) {
    throw invalidParameter(FNE, 'image.fits.blank', 'an integer or undefined', m.blank);
  }
  return m as FitsMeta;
}

function sourceOf(image: Image | readonly Image[]): Source {
  if (Array.isArray(image)) {
    const list = image as readonly Image[];
    if (list.length === 0) {
      throw invalidParameter(FNE, 'image', 'an Image or a non-empty array of single-channel Images of one size', image);
    }
    const first = checkImage(FNE, list[0], 'image[0]');
    const planes = list.map((im, k) => {
      checkImage(FNE, im, `image[${k}]`);
      if (im.channels !== 1 || im.width !== first.width || im.height !== first.height) {
        throw invalidParameter(
          FNE,
          `image[${k}]`,
          `a single-channel ${first.width}x${first.height} Image like image[0] (planes of one cube)`,
          `${im.width}x${im.height}x${im.channels}`,
        );
      }
      return planeOf(im.data, im.mask, storedFor(im));
    });
    return { width: first.width, height: first.height, planes, meta: checkMeta(first.fits) };
  }
  const im = checkImage(FNE, image);
  const meta = checkMeta(im.fits);
  const stored = storedFor(im);
  if (im.channels === 1) return { width: im.width, height: im.height, planes: [planeOf(im.data, im.mask, stored)], meta };
  const n = im.width * im.height;
  const c = im.channels;
  const planes: Plane[] = [];
  for (let k = 0; k < c; k++) {
    const data = new Float32Array(n);
    const mask = im.mask ? new Uint8Array(n) : undefined;
    const st = stored ? new Float64Array(n) : undefined;
    for (let i = 0, j = k; i < n; i++, j += c) {
      data[i] = im.data[j];
      if (mask) mask[i] = im.mask![j];
      if (st) st[i] = stored![j];
    }
    planes.push(planeOf(data, mask, st));
  }
  return { width: im.width, height: im.height, planes, meta };
}

/** The physical value to write: the float64 one from the file while the pixel is unchanged, else the float32 one. */
function valueAt(p: Plane, i: number): number {
  const v = p.data[i];
  const s = p.stored;
  if (s !== undefined) {
    const x = s[i];
    if (Math.fround(x) === v || (x !== x && v !== v)) return x;
  }
  return v;
}

function isMasked(p: Plane, i: number): boolean {
  return (p.mask !== undefined && p.mask[i] !== 0) || p.data[i] !== p.data[i];
}

/**
 * BSCALE/BZERO for integer output with no source scaling to keep: integers that fit
 * are stored as they are (with the usual unsigned offset, BZERO = 2^(BITPIX-1), where
 * that makes them fit); anything else is mapped linearly from [min, max] onto the
 * integer range, as astropy's `scale(type, 'minmax')` does.
 */
function autoScaling(bitpix: 8 | 16 | 32 | 64, planes: Plane[], lo: number, hi: number): { bscale: number; bzero: number } {
  let min = Infinity;
  let max = -Infinity;
  let integral = true;
  for (const p of planes) {
    for (let i = 0; i < p.data.length; i++) {
      if (isMasked(p, i)) continue;
      const v = valueAt(p, i);
      if (!Number.isFinite(v)) continue;
      if (v < min) min = v;
      if (v > max) max = v;
      if (integral && !Number.isInteger(v)) integral = false;
    }
  }
  if (min > max) return { bscale: 1, bzero: 0 };
  if (integral) {
    if (min >= lo && max <= hi) return { bscale: 1, bzero: 0 };
    const offset = bitpix === 8 ? -128 : 2 ** (bitpix - 1);
    if (min - offset >= lo && max - offset <= hi) return { bscale: 1, bzero: offset };
  }
  if (max === min) return { bscale: 1, bzero: min - lo };
  const bscale = (max - min) / (hi - lo);
  return { bscale, bzero: min - lo * bscale };
}

/** The exact BLANK of the source header, when it is the one being kept. */
function blankCardValue(meta: FitsMeta | undefined, blank: number): bigint | undefined {
  const card = meta?.cards.find((c) => cardKeyword(c) === 'BLANK');
  const raw = card === undefined ? undefined : parseCard(card).raw;
  return raw !== undefined && /^[+-]?\d+$/.test(raw) && Number(raw) === blank ? BigInt(raw.replace(/^\+/, '')) : undefined;
}

/** The stored integer for sample i: BLANK where masked, else rounded, clamped and kept off BLANK. */
function rawInteger(p: Plane, i: number, s: Scaling, lo: number, hi: number, step: number): number {
  if (isMasked(p, i)) return s.blank ?? 0;
  let r = Math.round((valueAt(p, i) - s.bzero) / s.bscale);
  if (r < lo) r = lo;
  else if (r > hi) r = hi;
  // A value that would land on BLANK moves one step inward, so it is not read back as no data.
  if (r === s.blank) r += r === lo ? step : -step;
  return r;
}

/** Writes every plane, big-endian, through a DataView over the output: one pass, one loop per BITPIX. */
function writeSamples(dv: DataView, planes: Plane[], n: number, bitpix: FitsBitpix, s: Scaling): void {
  const size = Math.abs(bitpix) / 8;
  const { bscale, bzero } = s;
  const id = bscale === 1 && bzero === 0;
  const { lo, hi, step } = bitpix > 0 ? intRange(bitpix as 8 | 16 | 32 | 64) : { lo: 0, hi: 0, step: 1 };
  for (let k = 0; k < planes.length; k++) {
    const p = planes[k];
    const at = k * n * size;
    switch (bitpix) {
      case 8:
        for (let i = 0; i < n; i++) dv.setUint8(at + i, rawInteger(p, i, s, lo, hi, step));
        break;
      case 16:
        for (let i = 0; i < n; i++) dv.setInt16(at + 2 * i, rawInteger(p, i, s, lo, hi, step));
        break;
      case 32:
        for (let i = 0; i < n; i++) dv.setInt32(at + 4 * i, rawInteger(p, i, s, lo, hi, step));
        break;
      case 64: {
        // BLANK as written in the header: a 64-bit BLANK need not be a double.
        const blank = s.blankBig ?? BigInt(s.blank ?? 0);
        for (let i = 0; i < n; i++) {
          dv.setBigInt64(at + 8 * i, isMasked(p, i) ? blank : BigInt(rawInteger(p, i, s, lo, hi, step)));
        }
        break;
      }
      case -32:
        for (let i = 0; i < n; i++) {
          const v = p.mask !== undefined && p.mask[i] !== 0 ? NaN : valueAt(p, i);
          dv.setFloat32(at + 4 * i, id ? v : (v - bzero) / bscale);
        }
        break;
      case -64:
        for (let i = 0; i < n; i++) {
          const v = p.mask !== undefined && p.mask[i] !== 0 ? NaN : valueAt(p, i);
          dv.setFloat64(at + 8 * i, id ? v : (v - bzero) / bscale);
        }
        break;
    }
  }
}

function axesFromCards(cards: string[]): number[] | undefined {
  const get = (k: string): number | undefined => {
    const c = cards.find((x) => cardKeyword(x) === k);
    const v = c === undefined ? undefined : parseCard(c).value;
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? v : undefined;
  };
  const naxis = get('NAXIS');
  if (naxis === undefined || naxis > 999) return undefined;
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) {
    const a = get(`NAXIS${i}`);
    if (a === undefined) return undefined;
    axes.push(a);
  }
  return axes;
}

/** NAXISn to write: the source's own axes when they describe the same shape (NAXIS = 1, trailing 1s), else 2 or 3 axes. */
function outputAxes(width: number, height: number, depth: number, meta: FitsMeta | undefined): number[] {
  const needed = depth > 1 ? [width, height, depth] : [width, height];
  const old = meta ? axesFromCards(meta.cards) : undefined;
  if (old === undefined || old.length === 0) return needed;
  const len = Math.max(3, old.length);
  const pad = (a: number[]): number[] => Array.from({ length: len }, (_, i) => a[i] ?? 1);
  const a = pad(old);
  const b = pad([width, height, depth]);
  return a.every((x, i) => x === b[i]) ? old : needed;
}

const STRUCTURAL = /^(SIMPLE|XTENSION|BITPIX|NAXIS\d*|PCOUNT|GCOUNT|END|CHECKSUM|DATASUM)$/;

/**
 * The image HDU's cards: mandatory keywords first (verbatim where their value is
 * unchanged), then every other source card in its place, with BSCALE/BZERO/BLANK
 * updated, added or dropped as the output needs, and the HISTORY cards last.
 * CHECKSUM/DATASUM are dropped: they would no longer match.
 */
function buildCards(meta: FitsMeta | undefined, extension: boolean, bitpix: FitsBitpix, axes: number[], s: Scaling, history: string[]): string[] {
  const old = meta ? meta.cards.map(normaliseCard) : [];
  const parsed = old.map(parseCard);
  const firstIndex = (key: string): number => parsed.findIndex((c) => c.keyword === key);
  const card = (key: string, value: FitsValue, comment?: string, at = firstIndex(key)): string => {
    if (at >= 0 && parsed[at].value === value) return old[at];
    return formatCard(key, value, at >= 0 ? parsed[at].comment : comment);
  };
  const out: string[] = [];
  if (extension) out.push(card('XTENSION', 'IMAGE', 'Image extension'));
  else out.push(card('SIMPLE', true, 'conforms to FITS standard'));
  out.push(card('BITPIX', bitpix, 'array data type'));
  out.push(card('NAXIS', axes.length, 'number of array dimensions'));
  axes.forEach((a, i) => out.push(card(`NAXIS${i + 1}`, a)));
  if (extension) {
    out.push(card('PCOUNT', 0, 'number of parameters'));
    out.push(card('GCOUNT', 1, 'number of groups'));
  }
  const mandatoryEnd = out.length;
  const scaleValues: Record<string, number | undefined> = { BSCALE: s.bscale, BZERO: s.bzero, BLANK: s.blank };
  const placed = new Set<string>();
  for (let i = 0; i < old.length; i++) {
    const k = parsed[i].keyword;
    if (STRUCTURAL.test(k)) continue;
    if (k in scaleValues) {
      if (placed.has(k)) continue;
      placed.add(k);
      const v = scaleValues[k];
      if (v !== undefined) out.push(card(k, v, undefined, i));
      continue;
    }
    out.push(old[i]);
  }
  const added: string[] = [];
  if (!placed.has('BSCALE') && s.bscale !== 1) added.push(formatCard('BSCALE', s.bscale, 'physical = BZERO + BSCALE * array'));
  if (!placed.has('BZERO') && s.bzero !== 0) added.push(formatCard('BZERO', s.bzero, 'physical = BZERO + BSCALE * array'));
  if (!placed.has('BLANK') && s.blank !== undefined) added.push(formatCard('BLANK', s.blank, 'value of pixels with no data'));
  out.splice(mandatoryEnd, 0, ...added);
  out.push(...formatCommentary('HISTORY', HISTORY_MARK));
  for (const h of history) out.push(...formatCommentary('HISTORY', h));
  return out;
}

function writeHeader(out: Uint8Array, at: number, cards: string[]): number {
  const length = paddedLength((cards.length + 1) * CARD_LENGTH);
  out.fill(0x20, at, at + length);
  let pos = at;
  for (const c of [...cards, 'END'.padEnd(CARD_LENGTH)]) {
    for (let i = 0; i < CARD_LENGTH; i++) out[pos + i] = c.charCodeAt(i) & 0xff;
    pos += CARD_LENGTH;
  }
  return at + length;
}

/**
 * Encodes an image as FITS. A multi-channel image becomes a cube with NAXIS3 = channels;
 * an array of single-channel images of one size (the planes decodeFits returns for a
 * cube) becomes one cube again. An image read from an IMAGE extension is written as an
 * empty primary HDU followed by that extension, so its header comes back unchanged.
 */
export function encodeFits(image: Image | readonly Image[], options: EncodeFitsOptions = {}): Buffer {
  const opts = checkObject(FNE, 'options', options);
  const src = sourceOf(image);
  const { meta, planes, width, height } = src;
  const bitpix = (opts.bitpix ?? meta?.bitpix ?? -32) as FitsBitpix;
  if (!(FITS_BITPIX as readonly unknown[]).includes(bitpix)) {
    throw invalidParameter(FNE, 'options.bitpix', `one of ${FITS_BITPIX.join(', ')}`, opts.bitpix);
  }
  const history = opts.history ?? [];
  if (!Array.isArray(history) || !history.every((h) => typeof h === 'string')) {
    throw invalidParameter(FNE, 'options.history', 'an array of strings', opts.history);
  }
  const n = width * height;
  const keep = meta !== undefined && meta.bitpix === bitpix;
  let scaling: Scaling = keep ? { bscale: meta.bscale, bzero: meta.bzero } : { bscale: 1, bzero: 0 };
  if (bitpix > 0) {
    const range = intRange(bitpix as 8 | 16 | 32 | 64);
    const anyMasked = planes.some((p) => {
      for (let i = 0; i < n; i++) if (isMasked(p, i)) return true;
      return false;
    });
    const blank = keep && meta.blank !== undefined ? meta.blank : anyMasked ? range.lo : undefined;
    if (!keep) {
      const reserve = blank === range.lo ? { lo: range.lo + range.step, hi: range.hi } : range;
      scaling = autoScaling(bitpix as 8 | 16 | 32 | 64, planes, reserve.lo, reserve.hi);
    }
    if (blank !== undefined) {
      scaling.blank = blank;
      if (bitpix === 64) scaling.blankBig = blankCardValue(meta, blank) ?? BigInt(blank);
    }
  }

  const extension = meta !== undefined && meta.cards.length > 0 && cardKeyword(meta.cards[0]) === 'XTENSION';
  const axes = outputAxes(width, height, planes.length, meta);
  const cards = buildCards(meta, extension, bitpix, axes, scaling, history);
  const primary = extension
    ? [formatCard('SIMPLE', true, 'conforms to FITS standard'), formatCard('BITPIX', 8, 'array data type'), formatCard('NAXIS', 0, 'number of array dimensions'), formatCard('EXTEND', true)]
    : undefined;

  const size = Math.abs(bitpix) / 8;
  const dataBytes = n * planes.length * size;
  const primaryBytes = primary ? paddedLength((primary.length + 1) * CARD_LENGTH) : 0;
  const headerBytes = paddedLength((cards.length + 1) * CARD_LENGTH);
  const out = Buffer.alloc(primaryBytes + headerBytes + paddedLength(dataBytes));
  let at = 0;
  if (primary) at = writeHeader(out, at, primary);
  at = writeHeader(out, at, cards);

  writeSamples(new DataView(out.buffer, out.byteOffset + at, dataBytes), planes, n, bitpix, scaling);
  return out;
}
