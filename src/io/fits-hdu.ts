/**
 * FITS header-and-data units: reading one header, validating the mandatory keywords
 * (FITS Standard 4.0, sections 4.4.1 and 7) and walking from HDU to HDU by the data
 * size they declare, Nbits = |BITPIX| x GCOUNT x (PCOUNT + NAXIS1 x ... x NAXISm),
 * padded to 2880-byte blocks. Every size is checked against the bytes actually
 * present before anything is allocated, so a hostile header gives a one-line
 * ERR_DECODE rather than a RangeError or an attempt to allocate terabytes.
 */
import { decodeError } from '../core/errors.js';
import { BLOCK_LENGTH, CARD_LENGTH, cardKeyword, cardText, parseCard, showValue, type FitsCard } from './fits-card.js';

const FN = 'readImage';

export const FITS_BITPIX = [8, 16, 32, 64, -32, -64] as const;
export type FitsBitpix = (typeof FITS_BITPIX)[number];

/** The FITS standard allows at most 999 axes. */
const MAX_NAXIS = 999;

export interface FitsHdu {
  /** 0 for the primary HDU */
  index: number;
  /** 'PRIMARY', or the XTENSION value: 'IMAGE', 'BINTABLE', 'TABLE', ... */
  type: string;
  /** every card before END, 80 characters each */
  cards: string[];
  /** parsed cards by keyword (the first card of each keyword) */
  keywords: Map<string, FitsCard>;
  bitpix: FitsBitpix;
  /** NAXIS1, NAXIS2, ... (empty when NAXIS = 0) */
  axes: number[];
  pcount: number;
  gcount: number;
  /** primary HDU in the random-groups format (NAXIS1 = 0, GROUPS = T) */
  groups: boolean;
  headerStart: number;
  dataStart: number;
  /** bytes of data, without the padding */
  dataBytes: number;
  /** offset of the next HDU */
  next: number;
}

/** Header text as it may appear in a message: printable ASCII only, at most 40 characters. */
function printable(text: string): string {
  const t = text.replace(/[^\x20-\x7e]/g, '?');
  return t.length > 40 ? `${t.slice(0, 37)}...` : t;
}

export function paddedLength(n: number): number {
  return Math.ceil(n / BLOCK_LENGTH) * BLOCK_LENGTH;
}

function startsWithText(buf: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > buf.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[at + i] !== text.charCodeAt(i)) return false;
  return true;
}

/** Whether the bytes start like a FITS file (`SIMPLE  =`). Truncated files still count, so they get a precise error. */
export function startsLikeFits(buf: Uint8Array): boolean {
  return startsWithText(buf, 0, 'SIMPLE  =');
}

/** An integer keyword within [min, max]; `fallback` when the card is absent (undefined: required). */
function integerKeyword(
  file: string,
  index: number,
  keywords: Map<string, FitsCard>,
  key: string,
  min: number,
  max: number,
  fallback?: number,
): number {
  const card = keywords.get(key);
  if (card === undefined) {
    if (fallback !== undefined) return fallback;
    throw decodeError(FN, file, `HDU ${index}: ${key} is missing`);
  }
  const v = card.value;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer of at least ${min}` : `an integer from ${min} to ${max}`;
    throw decodeError(FN, file, `HDU ${index}: ${key} = ${showValue(card)} is not ${range}`);
  }
  return v;
}

/** Reads and validates the header of the HDU at `start`. */
export function readHdu(buf: Uint8Array, start: number, index: number, file: string): FitsHdu {
  const cards: string[] = [];
  let pos = start;
  for (;;) {
    if (pos + CARD_LENGTH > buf.length) {
      const which = index === 0 ? 'header' : `header of HDU ${index}`;
      throw decodeError(FN, file, `${which} ends before END card (file is truncated?)`);
    }
    const card = cardText(buf, pos);
    pos += CARD_LENGTH;
    if (cardKeyword(card) === 'END') break;
    cards.push(card);
  }
  const keywords = new Map<string, FitsCard>();
  for (const c of cards) {
    const k = cardKeyword(c);
    if (k !== '' && k !== 'HISTORY' && k !== 'COMMENT' && !keywords.has(k)) keywords.set(k, parseCard(c));
  }

  let type: string;
  if (index === 0) {
    const simple = cards.length > 0 ? parseCard(cards[0]) : undefined;
    if (simple?.keyword !== 'SIMPLE') throw decodeError(FN, file, "not a FITS file (it does not start with 'SIMPLE  =')");
    if (simple.value !== true) {
      throw decodeError(FN, file, `SIMPLE = ${showValue(simple)}: the file says it does not conform to the FITS standard`);
    }
    type = 'PRIMARY';
  } else {
    const x = cards.length > 0 ? parseCard(cards[0]) : undefined;
    if (x?.keyword !== 'XTENSION' || typeof x.value !== 'string' || x.value.trim() === '') {
      throw decodeError(FN, file, `HDU ${index} does not start with an XTENSION card`);
    }
    type = printable(x.value.trim());
  }

  const bitpixCard = keywords.get('BITPIX');
  const bitpix = bitpixCard?.value;
  if (!(FITS_BITPIX as readonly unknown[]).includes(bitpix)) {
    throw decodeError(FN, file, `HDU ${index}: BITPIX = ${showValue(bitpixCard)} is not one of ${FITS_BITPIX.join(', ')}`);
  }
  const naxis = integerKeyword(file, index, keywords, 'NAXIS', 0, MAX_NAXIS);
  const axes: number[] = [];
  for (let i = 1; i <= naxis; i++) {
    axes.push(integerKeyword(file, index, keywords, `NAXIS${i}`, 0, Number.MAX_SAFE_INTEGER));
  }
  const groups = index === 0 && naxis > 0 && axes[0] === 0 && keywords.get('GROUPS')?.value === true;
  // PCOUNT/GCOUNT are mandatory in extensions; a file that omits them is read with the values IMAGE requires.
  const hasCounts = index > 0 || groups;
  const pcount = hasCounts ? integerKeyword(file, index, keywords, 'PCOUNT', 0, Number.MAX_SAFE_INTEGER, 0) : 0;
  const gcount = hasCounts ? integerKeyword(file, index, keywords, 'GCOUNT', 0, Number.MAX_SAFE_INTEGER, 1) : 1;

  let elements = naxis === 0 ? 0 : 1;
  for (let i = groups ? 1 : 0; i < naxis; i++) elements *= axes[i];
  const dataBytes = naxis === 0 ? 0 : (Math.abs(bitpix as number) / 8) * gcount * (pcount + elements);
  const dataStart = start + paddedLength(pos - start);
  if (dataBytes > 0 && dataStart + dataBytes > buf.length) {
    const have = Math.max(0, buf.length - dataStart);
    throw decodeError(
      FN,
      file,
      `HDU ${index}: the data needs ${dataBytes} bytes (${describeShape(bitpix as FitsBitpix, axes)}) but only ${have} follow the header (file is truncated?)`,
    );
  }
  return {
    index,
    type,
    cards,
    keywords,
    bitpix: bitpix as FitsBitpix,
    axes,
    pcount,
    gcount,
    groups,
    headerStart: start,
    dataStart,
    dataBytes,
    next: dataStart + paddedLength(dataBytes),
  };
}

function describeShape(bitpix: FitsBitpix, axes: number[]): string {
  return `BITPIX ${bitpix}, ${axes.length ? axes.join(' x ') : 'no axes'}`;
}

/**
 * Reads HDUs from the start of the file until `stop` returns true or the file ends.
 * Bytes after the last HDU that do not start with XTENSION are ignored, as astropy
 * and cfitsio do (some writers leave zero padding or junk there).
 */
export function scanHdus(buf: Uint8Array, file: string, stop?: (hdu: FitsHdu) => boolean): FitsHdu[] {
  const hdus: FitsHdu[] = [];
  let at = 0;
  for (;;) {
    const hdu = readHdu(buf, at, hdus.length, file);
    hdus.push(hdu);
    if (stop?.(hdu)) return hdus;
    at = hdu.next;
    if (!startsWithText(buf, at, 'XTENSION')) return hdus;
  }
}

export function isImageHdu(hdu: FitsHdu): boolean {
  return (hdu.type === 'PRIMARY' && !hdu.groups) || hdu.type === 'IMAGE';
}

/** An image HDU with at least one pixel. */
export function hasImageData(hdu: FitsHdu): boolean {
  return isImageHdu(hdu) && hdu.axes.length > 0 && hdu.axes.every((a) => a > 0);
}

/** A tile-compressed image (the BINTABLE convention of fpack/cfitsio). */
export function isCompressedImage(hdu: FitsHdu): boolean {
  return hdu.type === 'BINTABLE' && hdu.keywords.get('ZIMAGE')?.value === true;
}

/** `0 PRIMARY 256x256 BITPIX 16`, `1 BINTABLE`, ... for messages and `hush info`. */
export function describeHdu(hdu: FitsHdu): string {
  const name = hdu.keywords.get('EXTNAME')?.value;
  const label = `${hdu.index} ${hdu.type}${typeof name === 'string' && name.trim() ? ` '${printable(name.trim())}'` : ''}`;
  if (hdu.groups) return `${label} (random groups)`;
  if (isCompressedImage(hdu)) return `${label} (tile-compressed image)`;
  if (!isImageHdu(hdu)) return label;
  if (hdu.axes.length === 0) return `${label} (no data)`;
  return `${label} ${hdu.axes.join('x')} BITPIX ${hdu.bitpix}`;
}
