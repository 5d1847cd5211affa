/**
 * FITS header cards: parsing and formatting of the 80-character records, following
 * the FITS Standard 4.0 (IAU FITS Working Group, 2016), section 4. Values are read
 * in the free format the standard allows; cards hush writes use the fixed format
 * (numbers and logicals right-aligned to column 30, strings from column 11, comment
 * after ` / `), which is what astropy, cfitsio and ds9 expect.
 */

export const CARD_LENGTH = 80;
export const BLOCK_LENGTH = 2880;

/** A parsed card value: string, number, logical; undefined for commentary or an empty/unparsed value. */
export type FitsValue = string | number | boolean;

export interface FitsCard {
  /** the keyword, columns 1-8 without trailing spaces ('' for a blank card) */
  keyword: string;
  /** parsed value; undefined when the card has no value indicator or the value is empty or not understood */
  value?: FitsValue;
  /** the value as written (for numbers, the digits as text, e.g. to read 64-bit integers exactly) */
  raw?: string;
  comment?: string;
}

const INTEGER = /^[+-]?\d+$/;
const REAL = /^[+-]?(\d+\.?\d*|\.\d+)([EeDd][+-]?\d+)?$/;

/** Card text from 80 bytes (latin1, so every byte survives a read-write round trip). */
export function cardText(bytes: Uint8Array, start: number): string {
  return String.fromCharCode.apply(null, Array.from(bytes.subarray(start, start + CARD_LENGTH)));
}

export function cardKeyword(card: string): string {
  return card.slice(0, 8).trimEnd();
}

export function parseCard(card: string): FitsCard {
  const keyword = cardKeyword(card);
  if (card.slice(8, 10) !== '= ' || keyword === 'COMMENT' || keyword === 'HISTORY' || keyword === '') {
    return { keyword };
  }
  const rest = card.slice(10);
  let i = 0;
  while (i < rest.length && rest[i] === ' ') i++;
  if (rest[i] === "'") {
    let s = '';
    let j = i + 1;
    for (;;) {
      const q = rest.indexOf("'", j);
      if (q < 0) return { keyword, raw: rest.trim() }; // unterminated string
      s += rest.slice(j, q);
      if (rest[q + 1] === "'") {
        s += "'";
        j = q + 2;
      } else {
        j = q + 1;
        break;
      }
    }
    const slash = rest.indexOf('/', j);
    const comment = slash >= 0 ? rest.slice(slash + 1).trim() : undefined;
    // Trailing spaces in a string value are not significant (standard 4.2.1.1); leading ones are.
    return { keyword, value: s.trimEnd(), raw: s, comment };
  }
  const slash = rest.indexOf('/', i);
  const token = (slash >= 0 ? rest.slice(i, slash) : rest.slice(i)).trim();
  const comment = slash >= 0 ? rest.slice(slash + 1).trim() : undefined;
  if (token === '') return { keyword, comment };
  if (token === 'T') return { keyword, value: true, raw: token, comment };
  if (token === 'F') return { keyword, value: false, raw: token, comment };
  if (INTEGER.test(token)) return { keyword, value: Number(token), raw: token, comment };
  if (REAL.test(token)) return { keyword, value: Number(token.replace(/[Dd]/, 'E')), raw: token, comment };
  return { keyword, raw: token, comment };
}

/**
 * A card's value as error messages show it: strings quoted, anything unprintable as
 * '?', runs of blanks collapsed, at most 30 characters, so a message stays one line.
 */
export function showValue(card: FitsCard | undefined): string {
  if (card === undefined) return 'missing';
  let text: string;
  if (typeof card.value === 'string') text = `'${card.value}'`;
  else if (card.raw !== undefined) text = card.raw;
  else if (card.value !== undefined) text = String(card.value);
  else return 'empty';
  text = text.replace(/[^\x20-\x7e]/g, '?').replace(/ {2,}/g, ' ');
  return text.length > 30 ? `${text.slice(0, 27)}...` : text;
}

/** A number in FITS fixed format: integers as digits, reals with a decimal point and E exponent. */
export function formatNumber(v: number): string {
  // Every digit of an integral double (2^63 is 9223372036854775808, not 9.223372036854776E+18).
  if (Number.isInteger(v) && Math.abs(v) <= 2 ** 64) return BigInt(v).toString();
  let s = String(v).toUpperCase();
  if (!s.includes('.')) s = s.replace(/^([+-]?\d+)/, '$1.0');
  return s;
}

function ascii(s: string): string {
  // Cards are bytes; anything outside latin1 cannot be written and becomes '?'.
  return s.replace(/[^\x20-\xff]/g, '?');
}

/** An 80-character card; values in fixed format, comment after ` / ` where it fits. */
export function formatCard(keyword: string, value: FitsValue, comment?: string): string {
  let v: string;
  if (typeof value === 'boolean') v = (value ? 'T' : 'F').padStart(20);
  else if (typeof value === 'number') v = formatNumber(value).padStart(20);
  else v = `'${value.replace(/'/g, "''").padEnd(8)}'`.padEnd(20);
  let card = `${keyword.padEnd(8)}= ${v}`;
  if (comment !== undefined && comment !== '') card += ` / ${comment}`;
  return ascii(card).slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}

/** Commentary cards (`HISTORY`, `COMMENT`) for `text`, split into 72-character pieces. */
export function formatCommentary(keyword: 'HISTORY' | 'COMMENT', text: string): string[] {
  const clean = ascii(text.replace(/[\r\n\t]+/g, ' '));
  const out: string[] = [];
  for (let i = 0; i === 0 || i < clean.length; i += 72) {
    out.push(`${keyword.padEnd(8)}${clean.slice(i, i + 72)}`.padEnd(CARD_LENGTH));
  }
  return out;
}

/** A card as it will be written: exactly 80 characters, each one byte. */
export function normaliseCard(card: string): string {
  return ascii(card).slice(0, CARD_LENGTH).padEnd(CARD_LENGTH);
}
