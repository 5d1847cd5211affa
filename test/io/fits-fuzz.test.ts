/**
 * Seeded fuzzing of decodeFits: truncations, flipped bytes, absurd header values and
 * junk after `SIMPLE  =`. Every case must either decode to well-formed images (which
 * then survive encode -> decode unchanged) or throw a one-line HushError with code
 * ERR_DECODE (ERR_TOO_LARGE for the pixel limit), within a second.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HushError } from '../../src/core/errors.js';
import { checkImage, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { decodeFits, encodeFits } from '../../src/io/fits.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(here, '..', '..', '..', 'test', 'fixtures', 'fits');
const load = (name: string): Buffer => readFileSync(join(fixtures, name));
const BASES = ['int16-scaled-blank.fits', 'float32-nan.fits', 'float64.fits', 'int64.fits', 'uint8.fits', 'cube3.fits', 'ext-image-table.fits', 'table-first.fits'].map(
  (name) => ({ name, buf: load(name) }),
);
const ALLOWED = new Set(['ERR_DECODE', 'ERR_TOO_LARGE']);

const stats = { decoded: 0, rejected: 0 };

function sameValues(a: Float32Array, b: Float32Array): boolean {
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i]) && !(a[i] !== a[i] && b[i] !== b[i])) return false;
  return true;
}

function check(buf: Uint8Array, label: string): void {
  const t0 = performance.now();
  let images: Image[] | undefined;
  try {
    images = decodeFits(buf, { file: 'fuzz.fits' });
  } catch (e) {
    assert.ok(e instanceof HushError, `${label}: not a HushError: ${e instanceof Error ? e.stack : String(e)}`);
    assert.ok(ALLOWED.has(e.code), `${label}: code ${e.code}: ${e.message}`);
    assert.ok(!e.message.includes('\n'), `${label}: message has several lines: ${e.message}`);
    assert.ok(e.message.startsWith("readImage: cannot decode 'fuzz.fits': ") || e.code === 'ERR_TOO_LARGE', `${label}: ${e.message}`);
    stats.rejected++;
  }
  if (images) {
    assert.ok(images.length >= 1, label);
    for (const im of images) {
      checkImage('fuzz', im);
      assert.ok(im.fits && im.fits.cards.every((c) => c.length === 80), label);
    }
    // Whatever decoded must be written back and read again unchanged.
    const again = decodeFits(encodeFits(images.length > 1 ? images : images[0]), { file: 'again.fits' });
    assert.equal(again.length, images.length, label);
    images.forEach((im, k) => {
      assert.ok(sameValues(im.data, again[k].data), `${label}: plane ${k} changed in a round trip`);
      assert.deepEqual(again[k].mask, im.mask, label);
    });
    stats.decoded++;
  }
  const ms = performance.now() - t0;
  assert.ok(ms < 1000, `${label}: took ${ms.toFixed(0)} ms`);
}

/** `buf` with the value of the first `keyword` card after byte `from` replaced by `value`. */
function withValue(buf: Uint8Array, keyword: string, value: string, from = 0): Buffer | undefined {
  const b = Buffer.from(buf);
  for (let p = from; p + 80 <= b.length; p += 80) {
    if (b.toString('latin1', p, p + 8).trimEnd() === keyword) {
      b.write(`${keyword.padEnd(8)}= ${value.padStart(20)}`.padEnd(80).slice(0, 80), p, 'latin1');
      return b;
    }
  }
  return undefined;
}

test('truncations at many offsets', () => {
  const rng = createRng(1);
  let cases = 0;
  for (const { name, buf } of BASES) {
    const offsets = new Set([0, 1, 8, 9, 10, 79, 80, 81, 2879, 2880, 2881, 5759, 5760, buf.length - 1]);
    while (offsets.size < 30) offsets.add(rng.int(buf.length));
    for (const n of offsets) {
      if (n >= buf.length) continue;
      check(buf.subarray(0, n), `${name} cut at ${n}`);
      cases++;
    }
  }
  assert.ok(cases >= 200, `${cases} cases`);
});

test('flipped bytes, mostly in headers', () => {
  const rng = createRng(2);
  for (let c = 0; c < 250; c++) {
    const { name, buf } = BASES[rng.int(BASES.length)];
    const b = Buffer.from(buf);
    const flips = 1 + rng.int(3);
    const what: string[] = [];
    for (let f = 0; f < flips; f++) {
      const pos = rng.next() < 0.7 ? rng.int(Math.min(b.length, 2880)) : rng.int(b.length);
      const value = rng.next() < 0.5 ? b[pos] ^ (1 << rng.int(8)) : rng.int(256);
      what.push(`${pos}=${value}`);
      b[pos] = value;
    }
    check(b, `${name} with bytes ${what.join(',')}`);
  }
});

test('absurd header values', () => {
  const values = [
    '1099511627776',
    '9007199254740993',
    '1E400',
    '-1',
    '-32768',
    '0',
    '7',
    '2.5',
    "'abc'",
    'T',
    '',
    'NaN',
    '999',
    '1000',
    '2147483647',
    '-9223372036854775808',
    '1D-300',
    '4.0',
    '1E3',
    '-9223372036854775808.0',
    '\n7',
    "'\x00\x1b'",
  ];
  let cases = 0;
  const targets: [string, string, number][] = [
    ['int16-scaled-blank.fits', 'NAXIS', 0],
    ['int16-scaled-blank.fits', 'NAXIS1', 0],
    ['int16-scaled-blank.fits', 'NAXIS2', 0],
    ['int16-scaled-blank.fits', 'BITPIX', 0],
    ['int16-scaled-blank.fits', 'BSCALE', 0],
    ['int16-scaled-blank.fits', 'BZERO', 0],
    ['int16-scaled-blank.fits', 'BLANK', 0],
    ['int64.fits', 'BLANK', 0],
    ['cube3.fits', 'NAXIS3', 0],
    ['float64.fits', 'BITPIX', 0],
    // the BINTABLE after the image, and the one before it
    ['table-first.fits', 'PCOUNT', 2880],
    ['table-first.fits', 'GCOUNT', 2880],
    ['table-first.fits', 'NAXIS2', 2880],
    ['table-first.fits', 'NAXIS', 2880],
    ['ext-image-table.fits', 'NAXIS1', 2880],
  ];
  for (const [name, keyword, from] of targets) {
    const buf = BASES.find((b) => b.name === name)!.buf;
    for (const v of values) {
      const b = withValue(buf, keyword, v, from);
      assert.ok(b, `${name} has ${keyword}`);
      check(b, `${name} ${keyword} = ${v}`);
      cases++;
    }
  }
  assert.ok(cases >= 200, `${cases} cases`);
});

test('junk after SIMPLE  =', () => {
  const rng = createRng(3);
  for (let c = 0; c < 30; c++) {
    const b = Buffer.alloc(9 + rng.int(7000));
    b.write('SIMPLE  =', 0, 'latin1');
    for (let i = 9; i < b.length; i++) b[i] = rng.next() < 0.5 ? 32 + rng.int(95) : rng.int(256);
    check(b, `junk ${c}`);
  }
});

test('both outcomes happen (the fuzzing reaches the decoder, not only the first check)', () => {
  assert.ok(stats.decoded > 20, `decoded ${stats.decoded}`);
  assert.ok(stats.rejected > 200, `rejected ${stats.rejected}`);
});
