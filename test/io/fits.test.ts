import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { createImage, type Image } from '../../src/core/image.js';
import {
  decodeFits,
  encodeFits,
  fitsHeaderSummary,
  getFitsKeyword,
  isFits,
  listFitsHdus,
} from '../../src/io/fits.js';
import { maybeDecompress } from '../../src/io/decompress.js';
import { formatCard, parseCard } from '../../src/io/fits-card.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(here, '..', '..', '..', 'test', 'fixtures', 'fits');
const load = (name: string): Buffer => readFileSync(join(fixtures, name));
const decode1 = (name: string, options: Partial<Parameters<typeof decodeFits>[1]> = {}): Image => {
  const images = decodeFits(maybeDecompress(load(name), name), { file: name, ...options });
  assert.equal(images.length, 1);
  return images[0];
};
const at = (im: Image, x: number, y: number, c = 0): number => im.data[(y * im.width + x) * im.channels + c];
const HISTORY_CARD = 'HISTORY hush: written by hush'.padEnd(80);

/** The cards of a header starting at `offset`, END excluded. */
function cardsAt(buf: Uint8Array, offset = 0): string[] {
  const out: string[] = [];
  for (let p = offset; ; p += 80) {
    const c = Buffer.from(buf.subarray(p, p + 80)).toString('latin1');
    if (c.startsWith('END ')) return out;
    out.push(c);
  }
}

/** `buf` with the first card for `keyword` (from byte `from` on) replaced by `card` (80 characters). */
function withCard(buf: Uint8Array, keyword: string, card: string, from = 0): Buffer {
  const b = Buffer.from(buf);
  for (let p = from; p < b.length; p += 80) {
    if (b.toString('latin1', p, p + 8).trimEnd() === keyword) {
      b.write(card.padEnd(80).slice(0, 80), p, 'latin1');
      return b;
    }
  }
  throw new Error(`no ${keyword} card`);
}

/** The same file with `HISTORY hush: written by hush` added before END of the first header. */
function withHistory(buf: Uint8Array): Buffer {
  const cards = cardsAt(buf);
  const oldHeader = Math.ceil(((cards.length + 1) * 80) / 2880) * 2880;
  const text = [...cards, HISTORY_CARD, 'END'.padEnd(80)].join('');
  const header = Buffer.from(text.padEnd(Math.ceil(text.length / 2880) * 2880), 'latin1');
  const data = Buffer.from(buf.subarray(oldHeader));
  const padded = Buffer.alloc(Math.ceil(data.length / 2880) * 2880);
  data.copy(padded);
  return Buffer.concat([header, padded]);
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < a.length; i++) if (ua[i] !== ub[i] && !(a[i] !== a[i] && b[i] !== b[i])) return false;
  return true;
}

// ------------------------------------------------ reading the independently written fixtures

test('int16 with BSCALE/BZERO/BLANK: physical values, mask, header over two blocks', () => {
  const im = decode1('int16-scaled-blank.fits');
  assert.deepEqual([im.width, im.height, im.channels], [8, 6, 1]);
  assert.deepEqual(im.source, { format: 'fits', sampleFormat: 'int16', scale: 'physical' });
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 8; x++) {
      const blank = (x === 2 && y === 1) || (x === 5 && y === 4);
      assert.equal(im.mask![y * 8 + x], blank ? 1 : 0);
      if (blank) assert.ok(Number.isNaN(at(im, x, y)));
      else assert.equal(at(im, x, y), 1000 + 0.5 * (1000 * x - 3000 * y + 7));
    }
  }
  const f = im.fits!;
  assert.deepEqual([f.bitpix, f.bscale, f.bzero, f.blank, f.hdu], [16, 0.5, 1000, -32768, 0]);
  assert.equal(im.exact, undefined, 'every value is exact in float32, so no float64 copy');
  assert.equal(f.cards.length, 44);
  assert.ok(f.cards.every((c) => c.length === 80));
  assert.equal(f.cards[0], 'SIMPLE  =                    T / conforms to FITS standard'.padEnd(80));
  assert.equal(getFitsKeyword(im, 'OBJECT'), "Barnard's loop");
  assert.equal(getFitsKeyword(im, 'gain'), 1.5);
  assert.equal(getFitsKeyword(im, 'EXPTIME'), 12.5);
  assert.equal(getFitsKeyword(im, 'EXTEND'), true);
  assert.equal(getFitsKeyword(im, 'NOPE'), undefined);
});

test('float32 with NaN, -0 and Infinity; the .gz copy decodes the same', () => {
  const im = decode1('float32-nan.fits');
  assert.deepEqual(im.source, { format: 'fits', sampleFormat: 'float32', scale: 'physical' });
  assert.ok(Object.is(at(im, 0, 0), -0), '-0 keeps its sign');
  assert.equal(at(im, 3, 0), Infinity);
  assert.equal(at(im, 2, 3), 2 + 30 + 0.25);
  assert.deepEqual([...im.mask!].flatMap((m, i) => (m ? [i] : [])), [6, 19]);
  assert.ok(Number.isNaN(at(im, 1, 1)) && Number.isNaN(at(im, 4, 3)));
  assert.equal(im.exact, undefined);
  assert.ok(sameBits(decode1('float32-nan.fits.gz').data, im.data));
});

test('float64 keeps the float64 values in image.exact', () => {
  const im = decode1('float64.fits');
  const s = im.exact!;
  assert.ok(s instanceof Float64Array && s.length === 12);
  assert.equal(s[5], 0.1 * 5);
  assert.equal(at(im, 1, 1), Math.fround(0.1 * 5));
  assert.equal(s[11], 1e300);
  assert.equal(at(im, 3, 2), Infinity, '1e300 is beyond float32');
  assert.deepEqual([...im.mask!].flatMap((m, i) => (m ? [i] : [])), [10]);
  assert.ok(Number.isNaN(s[10]));
  assert.equal(im.source!.sampleFormat, 'float64');
});

test('uint8 with BLANK, int32 with BZERO 2^31, int64 with BLANK', () => {
  const u8 = decode1('uint8.fits');
  assert.equal(at(u8, 3, 2), (37 * 3 + 11 * 2) % 255);
  assert.deepEqual([...u8.mask!].flatMap((m, i) => (m ? [i] : [])), [34]);
  assert.equal(u8.fits!.blank, 255);
  assert.equal(u8.source!.sampleFormat, 'uint8');

  const u32 = decode1('int32-unsigned.fits');
  assert.equal(at(u32, 0, 0), 0);
  assert.equal(u32.exact![23], 4294967295);
  assert.equal(u32.exact![1], 16777217, 'beyond float32 but exact in stored');
  assert.equal(at(u32, 1, 0), 16777216);
  assert.equal(at(u32, 2, 1), Math.fround(200000 - 77777 + 2147483648));
  assert.equal(u32.exact![8], 200000 - 77777 + 2147483648);
  assert.equal(u32.mask, undefined);

  const i64 = decode1('int64.fits');
  assert.deepEqual([...i64.exact!].slice(0, 4), [2 ** 53 - 1, -(2 ** 40), 0, 42]);
  assert.equal(i64.fits!.blank, -(2 ** 63));
  assert.deepEqual([...i64.mask!], [0, 0, 0, 0, 1, 0]);
  assert.equal(at(i64, 2, 1), -7);
});

test('a 3-plane cube: one image per plane, or 3 channels', () => {
  const planes = decodeFits(load('cube3.fits'), { file: 'cube3.fits' });
  assert.equal(planes.length, 3);
  for (let k = 0; k < 3; k++) {
    assert.deepEqual([planes[k].width, planes[k].height, planes[k].channels], [4, 3, 1]);
    assert.equal(at(planes[k], 3, 2), 100 * k + 3 + 20);
  }
  const rgb = decode1('cube3.fits', { planes: 'channels' });
  assert.equal(rgb.channels, 3);
  for (let k = 0; k < 3; k++) assert.equal(at(rgb, 1, 2, k), 100 * k + 1 + 20);
});

test('HDU selection skips tables (PCOUNT heaps included) and reports what each HDU is', () => {
  const ext = decode1('ext-image-table.fits');
  assert.equal(ext.fits!.hdu, 1);
  assert.equal(at(ext, 4, 3), 4 - 6);
  assert.equal(ext.fits!.cards[0], "XTENSION= 'IMAGE   '           / Image extension".padEnd(80));
  assert.equal(decode1('ext-image-table.fits', { hdu: 1 }).fits!.hdu, 1);

  const late = decode1('table-first.fits');
  assert.equal(late.fits!.hdu, 3);
  assert.equal(at(late, 2, 1), 2.5);

  assert.deepEqual(
    listFitsHdus(load('table-first.fits'), { file: 't.fits' }).map((h) => h.description),
    ['0 PRIMARY (no data)', "1 BINTABLE 'CATALOG'", '2 TABLE', "3 IMAGE 'LATE' 3x2 BITPIX -32"],
  );

  const file = 'ext-image-table.fits';
  const buf = load(file);
  assert.throws(() => decodeFits(buf, { file, hdu: 0 }), {
    code: 'ERR_DECODE',
    message: "readImage: cannot decode 'ext-image-table.fits': HDU 0 has no image data (NAXIS = 0)",
  });
  assert.throws(() => decodeFits(buf, { file, hdu: 2 }), {
    code: 'ERR_DECODE',
    message: "readImage: cannot decode 'ext-image-table.fits': HDU 2 is a BINTABLE extension, not an image",
  });
  assert.throws(() => decodeFits(buf, { file, hdu: 3 }), {
    code: 'ERR_DECODE',
    message:
      "readImage: cannot decode 'ext-image-table.fits': HDU 3 does not exist: the file has 3 HDUs (0 PRIMARY (no data); 1 IMAGE 'SCI' 5x4 BITPIX 16; 2 BINTABLE 'CATALOG')",
  });
});

test('a data block without its final padding still decodes', () => {
  const im = decode1('unpadded.fits');
  assert.deepEqual([...im.data], [0, 1, 2, 3, 4, 5]);
});

test('the .bz2 fixture (made by the bzip2 tool) decodes like the plain file', () => {
  const a = decode1('int16-scaled-blank.fits');
  const b = decode1('int16-scaled-blank.fits.bz2');
  assert.ok(sameBits(a.data, b.data));
  assert.deepEqual(a.fits!.cards, b.fits!.cards);
});

// ------------------------------------------------ exact round trips

test('decode -> encode gives back the same file, byte for byte, plus one HISTORY card', () => {
  for (const name of ['int16-scaled-blank.fits', 'float32-nan.fits', 'float64.fits', 'uint8.fits', 'int32-unsigned.fits', 'int64.fits', 'unpadded.fits']) {
    const buf = load(name);
    const out = encodeFits(decode1(name));
    assert.ok(out.equals(withHistory(buf)), name);
  }
  const cube = load('cube3.fits');
  assert.ok(encodeFits(decodeFits(cube, { file: 'c' })).equals(withHistory(cube)), 'cube from its planes');
  assert.ok(encodeFits(decode1('cube3.fits', { planes: 'channels' })).equals(withHistory(cube)), 'cube from 3 channels');
});

test('an image from an IMAGE extension is written as empty primary + the same extension', () => {
  const im = decode1('table-first.fits');
  const out = encodeFits(im);
  assert.equal(out.length % 2880, 0);
  assert.deepEqual(cardsAt(out).map((c) => c.trimEnd()), [
    'SIMPLE  =                    T / conforms to FITS standard',
    'BITPIX  =                    8 / array data type',
    'NAXIS   =                    0 / number of array dimensions',
    'EXTEND  =                    T',
  ]);
  assert.deepEqual(cardsAt(out, 2880), [...im.fits!.cards, HISTORY_CARD]);
  const again = decodeFits(out, { file: 'out.fits' })[0];
  assert.equal(again.fits!.hdu, 1);
  assert.ok(sameBits(again.data, im.data));
});

test('changed pixels are written from data, unchanged ones from stored', () => {
  const im = decode1('float64.fits');
  im.data[1] = 0.5;
  im.mask![2] = 1;
  const again = decodeFits(encodeFits(im), { file: 'x' })[0];
  assert.equal(again.data[1], 0.5);
  assert.ok(Number.isNaN(again.data[2]) && again.mask![2] === 1);
  assert.equal(again.exact![5], 0.1 * 5);
  assert.equal(again.exact![11], 1e300);

  const scaled = decode1('int16-scaled-blank.fits');
  scaled.data[0] = 1234.5;
  scaled.data[1] = 1e9; // beyond int16 x 0.5 + 1000: clamped
  scaled.mask![3] = 1;
  const back = decodeFits(encodeFits(scaled), { file: 'x' })[0];
  assert.equal(back.data[0], 1234.5);
  assert.equal(back.data[1], 1000 + 0.5 * 32767);
  assert.equal(back.mask![3], 1);
  assert.equal(back.data[8], scaled.data[8]);
});

// ------------------------------------------------ writing images that did not come from FITS

test('an image without FITS metadata gets a minimal header in fixed format', () => {
  const im = createImage(4, 3, 1, Float32Array.from({ length: 12 }, (_, i) => i / 11));
  const out = encodeFits(im, { history: ['denoised with nl-means, h = 0.1', 'x'.repeat(100)] });
  assert.deepEqual(cardsAt(out).map((c) => c.trimEnd()), [
    'SIMPLE  =                    T / conforms to FITS standard',
    'BITPIX  =                  -32 / array data type',
    'NAXIS   =                    2 / number of array dimensions',
    'NAXIS1  =                    4',
    'NAXIS2  =                    3',
    'HISTORY hush: written by hush',
    'HISTORY denoised with nl-means, h = 0.1',
    `HISTORY ${'x'.repeat(72)}`,
    `HISTORY ${'x'.repeat(28)}`,
  ]);
  assert.equal(out.length, 2 * 2880);
  assert.equal(isFits(out), true);
  const back = decodeFits(out, { file: 'x' })[0];
  assert.ok(sameBits(back.data, im.data));
});

test('3 channels become NAXIS3 = 3 and come back as channels', () => {
  const im = createImage(2, 2, 3, Float32Array.from({ length: 12 }, (_, i) => i * 0.5));
  const out = encodeFits(im);
  assert.deepEqual(cardsAt(out).slice(2, 6).map((c) => c.trimEnd()), [
    'NAXIS   =                    3 / number of array dimensions',
    'NAXIS1  =                    2',
    'NAXIS2  =                    2',
    'NAXIS3  =                    3',
  ]);
  const back = decodeFits(out, { file: 'x', planes: 'channels' })[0];
  assert.ok(sameBits(back.data, im.data));
  const planes = decodeFits(out, { file: 'x' });
  assert.deepEqual([...planes[1].data], [0.5, 2, 3.5, 5]);
});

test('integer BITPIX without source scaling: integers stored as they are, other values scaled min-max', () => {
  const ints = createImage(3, 1, 1, Float32Array.from([0, 40000, 65535]));
  const u16 = encodeFits(ints, { bitpix: 16 });
  assert.ok(cardsAt(u16).some((c) => c.trimEnd() === 'BZERO   =                32768 / physical = BZERO + BSCALE * array'));
  assert.deepEqual([...decodeFits(u16, { file: 'x' })[0].data], [0, 40000, 65535]);
  assert.deepEqual([...decodeFits(encodeFits(ints, { bitpix: 32 }), { file: 'x' })[0].data], [0, 40000, 65535]);

  const unit = createImage(4, 1, 1, Float32Array.from([0, 0.25, 0.7, 1]));
  const b8 = decodeFits(encodeFits(unit, { bitpix: 8 }), { file: 'x' })[0];
  assert.equal(b8.fits!.bscale, 1 / 255);
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(b8.data[i] - unit.data[i]) <= 0.5 / 255 + 1e-7);

  const holes = createImage(3, 1, 1, Float32Array.from([1, NaN, 3]));
  const h16 = encodeFits(holes, { bitpix: 16 });
  assert.ok(cardsAt(h16).some((c) => c.startsWith('BLANK   =               -32768')));
  const back = decodeFits(h16, { file: 'x' })[0];
  assert.deepEqual([...back.mask!], [0, 1, 0]);
  assert.deepEqual([back.data[0], back.data[2]], [1, 3]);

  const d64 = decodeFits(encodeFits(unit, { bitpix: -64 }), { file: 'x' })[0];
  assert.ok(sameBits(d64.data, unit.data));
  const i64 = decodeFits(encodeFits(ints, { bitpix: 64 }), { file: 'x' })[0];
  assert.deepEqual([...i64.data], [0, 40000, 65535]);
});

test('changing BITPIX rewrites BSCALE/BZERO/BLANK in place and keeps every other card', () => {
  const im = decode1('int16-scaled-blank.fits');
  const out = encodeFits(im, { bitpix: -32 });
  const cards = cardsAt(out);
  assert.equal(cards.length, im.fits!.cards.length + 1 - 1, 'BLANK dropped, HISTORY added');
  assert.ok(cards.includes('BSCALE  =                    1 / physical = BZERO + BSCALE * array'.padEnd(80)));
  assert.ok(cards.includes('BZERO   =                    0'.padEnd(80)));
  assert.ok(!cards.some((c) => c.startsWith('BLANK')));
  for (const c of im.fits!.cards) if (!/^(BITPIX|BSCALE|BZERO|BLANK)/.test(c)) assert.ok(cards.includes(c), c);
  const back = decodeFits(out, { file: 'x' })[0];
  assert.ok(sameBits(back.data, im.data));
  assert.deepEqual(back.mask, im.mask);
});

test('64-bit integers: BLANK outside the doubles, and min-max scaling that keeps off BLANK', () => {
  const max = '9223372036854775807';
  const buf = withCard(load('int64.fits'), 'BLANK', `BLANK   = ${max.padStart(20)}`);
  const a = decodeFits(buf, { file: 'max.fits' })[0];
  assert.equal(a.mask, undefined, 'no sample equals the new BLANK');
  a.mask = new Uint8Array(6);
  a.mask[1] = 1;
  const out = encodeFits(a);
  assert.ok(cardsAt(out).includes(`BLANK   = ${max.padStart(20)}`.padEnd(80)));
  const data = out.subarray(2880);
  assert.equal(Buffer.from(data).readBigInt64BE(8), 2n ** 63n - 1n);
  assert.deepEqual([...decodeFits(out, { file: 'y' })[0].mask!], [0, 1, 0, 0, 0, 0]);

  const unit = createImage(3, 1, 1, Float32Array.from([0, NaN, 1]));
  const b = decodeFits(encodeFits(unit, { bitpix: 64 }), { file: 'x' })[0];
  assert.deepEqual([...b.mask!], [0, 1, 0]);
  assert.ok(Math.abs(b.data[0]) < 1e-15 && Math.abs(b.data[2] - 1) < 1e-15);
});

test('cards: parsing and fixed-format writing', () => {
  assert.deepEqual(parseCard("OBJECT  = 'it''s / here'   / the name"), { keyword: 'OBJECT', value: "it's / here", raw: "it's / here", comment: 'the name' });
  assert.deepEqual(parseCard('GAIN    =                1.5D0'), { keyword: 'GAIN', value: 1.5, raw: '1.5D0', comment: undefined });
  assert.deepEqual(parseCard('HISTORY = not a value'), { keyword: 'HISTORY' });
  assert.deepEqual(parseCard('UNDEF   =                      / no value'), { keyword: 'UNDEF', comment: 'no value' });
  assert.equal(formatCard('BZERO', 2 ** 63), `BZERO   = ${'9223372036854775808'.padStart(20)}`.padEnd(80));
  assert.equal(formatCard('BSCALE', 1e300).trimEnd(), 'BSCALE  =             1.0E+300');
  assert.equal(formatCard('X', -0.5, 'c').trimEnd(), 'X       =                 -0.5 / c');
  assert.equal(formatCard('S', 'ab').trimEnd(), "S       = 'ab      '");
  assert.equal(formatCard('L', false).trimEnd(), 'L       =                    F');
  assert.equal(formatCard('S', 'x'.repeat(100)).length, 80);
  for (const v of [2 ** 63, 1e300, -0.5, 5.421010862427523e-20, 3713.66692596, 0.1]) assert.equal(parseCard(formatCard('V', v)).value, v);
});

test('fitsHeaderSummary lists the cards', () => {
  const text = fitsHeaderSummary(decode1('float32-nan.fits'));
  assert.equal(text.split('\n')[1], 'BITPIX  =                  -32');
  assert.ok(text.includes("BUNIT   = 'MJy/sr  '"));
  assert.equal(fitsHeaderSummary(createImage(1, 1, 1)), '');
});

test('isFits sniffs content', () => {
  assert.equal(isFits(load('uint8.fits')), true);
  assert.equal(isFits(Buffer.from('SIMPLE  =')), true, 'a truncated FITS file still goes to the FITS reader');
  assert.equal(isFits(load('float32-nan.fits.gz')), false);
  assert.equal(isFits(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), false);
  assert.equal(isFits(new Uint8Array(0)), false);
});

// ------------------------------------------------ rejections, with their messages

test('decodeFits rejects bad options', () => {
  const buf = load('cube3.fits');
  assert.throws(() => decodeFits(buf, {} as never), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'decodeFits: expected a string for options.file but received undefined.',
  });
  assert.throws(() => decodeFits(buf, { file: 'c', hdu: -1 }), {
    message: 'decodeFits: expected an integer of at least 0 for options.hdu but received -1 (number).',
  });
  assert.throws(() => decodeFits(buf, { file: 'c', planes: 'chanels' as never }), {
    message: "decodeFits: expected one of 'images', 'channels' for options.planes but received 'chanels' (string). Did you mean 'channels'?",
  });
  assert.throws(() => decodeFits(buf, { file: 'c', maxPixels: Number.NaN }), {
    message: 'decodeFits: expected an integer of at least 0 for options.maxPixels but received NaN (number).',
  });
  assert.throws(() => decodeFits('x' as never, { file: 'c' }), {
    message: "decodeFits: expected a Uint8Array for buf but received 'x' (string).",
  });
});

test("planes: 'channels' needs NAXIS3 = 1 or 3", () => {
  const four = encodeFits([0, 1, 2, 3].map((k) => createImage(2, 2, 1, new Float32Array(4).fill(k))));
  assert.equal(decodeFits(four, { file: 'four.fits' }).length, 4);
  assert.throws(() => decodeFits(four, { file: 'four.fits', planes: 'channels' }), {
    code: 'ERR_INVALID_PARAMETER',
    message:
      "decodeFits: expected 'images' (HDU 0 of 'four.fits' has NAXIS3 = 4; 'channels' needs NAXIS3 = 1 or 3) for options.planes but received 'channels' (string).",
  });
});

test('the pixel limit applies, and 0 means none', () => {
  const buf = load('int16-scaled-blank.fits');
  assert.throws(() => decodeFits(buf, { file: 'big.fits', maxPixels: 47 }), {
    code: 'ERR_TOO_LARGE',
    message:
      "readImage: image 'big.fits' has 8x6 = 48 pixels, over the limit of 47. Raise it with the maxPixels option (CLI: --max-pixels N, or HUSH_MAX_PIXELS=N; 0 means no limit).",
  });
  assert.equal(decodeFits(buf, { file: 'big.fits', maxPixels: 48 }).length, 1);
  assert.equal(decodeFits(buf, { file: 'big.fits', maxPixels: 0 }).length, 1);
});

test('encodeFits rejects bad options and images', () => {
  const im = createImage(2, 2, 1);
  assert.throws(() => encodeFits(im, { bitpix: 12 as never }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'encodeFits: expected one of 8, 16, 32, 64, -32, -64 for options.bitpix but received 12 (number).',
  });
  assert.throws(() => encodeFits(im, { history: 'x' as never }), {
    message: "encodeFits: expected an array of strings for options.history but received 'x' (string).",
  });
  assert.throws(() => encodeFits([]), {
    message: 'encodeFits: expected an Image or a non-empty array of single-channel Images of one size for image but received an array of length 0.',
  });
  assert.throws(() => encodeFits([im, createImage(3, 2, 1)]), {
    message: "encodeFits: expected a single-channel 2x2 Image like image[0] (planes of one cube) for image[1] but received '3x2x1' (string).",
  });
  assert.throws(() => encodeFits({ ...im, fits: { cards: 'x' } } as never), {
    message: "encodeFits: expected an array of strings for image.fits.cards but received 'x' (string).",
  });
  assert.throws(() => encodeFits({ data: new Float32Array(3), width: 2, height: 2, channels: 1 }), {
    message: 'encodeFits: expected length 4 (width x height x channels) for image.data but received a Float32Array.',
  });
});

test('bad files give one-line ERR_DECODE messages', () => {
  const good = load('int16-scaled-blank.fits');
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), 'file is empty'],
    [good.subarray(0, 2000), 'header ends before END card (file is truncated?)'],
    [good.subarray(0, 5760 + 10), 'HDU 0: the data needs 96 bytes (BITPIX 16, 8 x 6) but only 10 follow the header (file is truncated?)'],
    [gzipSync(good), 'the data is gzip-compressed; decompress it first (maybeDecompress)'],
    [Buffer.from('\x89PNG\r\n\x1a\n....'), "not a FITS file (it does not start with 'SIMPLE  =')"],
    [withCard(good, 'NAXIS1', 'NAXIS1  =        1099511627776'), 'HDU 0: the data needs 13194139533312 bytes (BITPIX 16, 1099511627776 x 6) but only 2880 follow the header (file is truncated?)'],
    [withCard(good, 'NAXIS1', 'NAXIS1  =                   -5'), 'HDU 0: NAXIS1 = -5 is not an integer of at least 0'],
    [withCard(good, 'NAXIS1', "NAXIS1  = 'eight'"), "HDU 0: NAXIS1 = 'eight' is not an integer of at least 0"],
    [withCard(good, 'NAXIS2', 'NAXIS2  =                 1e99'), 'HDU 0: NAXIS2 = 1e99 is not an integer of at least 0'],
    [withCard(good, 'NAXIS', 'NAXIS   =                 1000'), 'HDU 0: NAXIS = 1000 is not an integer from 0 to 999'],
    [withCard(good, 'NAXIS2', 'COMMENT'), 'HDU 0: NAXIS2 is missing'],
    [withCard(good, 'BITPIX', 'BITPIX  =                    7'), 'HDU 0: BITPIX = 7 is not one of 8, 16, 32, 64, -32, -64'],
    [withCard(good, 'BSCALE', "BSCALE  = 'big'"), "HDU 0: BSCALE = 'big' is not a finite number"],
    [withCard(good, 'BSCALE', 'BSCALE  =                    0'), 'HDU 0: BSCALE = 0 maps every pixel to BZERO'],
    [withCard(good, 'BLANK', 'BLANK   =                  0.5'), 'HDU 0: BLANK = 0.5 is not an integer'],
    [withCard(good, 'SIMPLE', 'SIMPLE  =                    F'), 'SIMPLE = F: the file says it does not conform to the FITS standard'],
    [withCard(good, 'NAXIS', 'NAXIS   =                    0'), 'no HDU holds image data (0 PRIMARY (no data))'],
  ];
  for (const [buf, what] of cases) {
    assert.throws(() => decodeFits(buf, { file: 'scan.fits' }), { code: 'ERR_DECODE', message: `readImage: cannot decode 'scan.fits': ${what}` }, what);
  }
  const ext = load('ext-image-table.fits');
  assert.throws(() => decodeFits(ext.subarray(0, 2880 + 500), { file: 'e.fits' }), {
    message: "readImage: cannot decode 'e.fits': header of HDU 1 ends before END card (file is truncated?)",
  });
});

test('tile-compressed images and more than 3 real axes are refused as unsupported', () => {
  const ext = load('ext-image-table.fits');
  const z = withCard(ext, 'EXTNAME', 'ZIMAGE  =                    T', 3 * 2880);
  assert.throws(() => decodeFits(z, { file: 'z.fits', hdu: 2 }), {
    code: 'ERR_UNSUPPORTED',
    message: "readImage: cannot read 'z.fits': HDU 2 is a tile-compressed image (ZIMAGE = T). Uncompress it first, e.g. with funpack or astropy",
  });
  const cube = load('cube3.fits');
  const four = withCard(withCard(withCard(cube, 'NAXIS', 'NAXIS   =                    4'), 'NAXIS3', 'NAXIS3  =                    1'), 'CTYPE3', 'NAXIS4  =                    3');
  assert.throws(() => decodeFits(four, { file: 'q.fits' }), {
    code: 'ERR_UNSUPPORTED',
    message: "readImage: cannot read 'q.fits': HDU 0 has NAXIS = 4 with NAXIS4 = 3; hush reads images of up to 3 axes",
  });
  const stokes = withCard(withCard(cube, 'NAXIS', 'NAXIS   =                    4'), 'CTYPE3', 'NAXIS4  =                    1');
  assert.equal(decodeFits(stokes, { file: 's.fits' }).length, 3, 'a trailing axis of length 1 is fine');
});

test('a 4096x4096 float image encodes and decodes quickly', (t) => {
  const n = 4096 * 4096;
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = (i % 4099) * 0.25;
  const im = createImage(4096, 4096, 1, data);
  let t0 = performance.now();
  const out = encodeFits(im);
  const encodeMs = performance.now() - t0;
  t0 = performance.now();
  const back = decodeFits(out, { file: 'big.fits' })[0];
  const decodeMs = performance.now() - t0;
  t.diagnostic(`4096x4096 -32: encode ${encodeMs.toFixed(0)} ms, decode ${decodeMs.toFixed(0)} ms`);
  assert.ok(sameBits(back.data, data));
  // Generous bounds: a per-pixel DataView or object path takes several times longer.
  assert.ok(encodeMs < 1500, `encode took ${encodeMs} ms`);
  assert.ok(decodeMs < 1500, `decode took ${decodeMs} ms`);
});
