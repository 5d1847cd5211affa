/**
 * Writes the tiny FITS fixtures in test/fixtures/fits/. Every file is built here byte
 * by byte (cards typed out, samples written big-endian with DataView), independently
 * of src/io/fits.ts, so the tests check the decoder against a second writer rather
 * than against itself. The pixel formulas are repeated in test/io/fits.test.ts.
 *
 *   npx tsc -p tsconfig.json && node dist/scripts/make-fits-fixtures.js
 *
 * The .bz2 fixture needs the `bzip2` command; without it that file is left as it is.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { gzipSync } from 'node:zlib';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const out = join(root, 'test', 'fixtures', 'fits');

type Value = string | number | boolean | { raw: string };

/** One 80-character card in fixed format. */
function card(key: string, value?: Value, comment?: string): string {
  let s: string;
  if (key === 'COMMENT' || key === 'HISTORY' || value === undefined) {
    s = `${key.padEnd(8)}${typeof value === 'string' ? value : ''}`;
  } else {
    let v: string;
    if (typeof value === 'boolean') v = (value ? 'T' : 'F').padStart(20);
    else if (typeof value === 'number') v = String(value).padStart(20);
    else if (typeof value === 'string') v = `'${value.replace(/'/g, "''").padEnd(8)}'`.padEnd(20);
    else v = value.raw.padStart(20);
    s = `${key.padEnd(8)}= ${v}${comment ? ` / ${comment}` : ''}`;
  }
  if (s.length > 80) throw new Error(`card too long: ${s}`);
  return s.padEnd(80);
}

function header(cards: string[]): Buffer {
  const text = [...cards, 'END'.padEnd(80)].join('');
  const len = Math.ceil(text.length / 2880) * 2880;
  return Buffer.from(text.padEnd(len), 'latin1');
}

function padData(b: Buffer): Buffer {
  const len = Math.ceil(b.length / 2880) * 2880;
  return Buffer.concat([b, Buffer.alloc(len - b.length)]);
}

type Kind = 'u8' | 'i16' | 'i32' | 'i64' | 'f32' | 'f64';

function data(kind: Kind, values: (number | bigint)[]): Buffer {
  const size = { u8: 1, i16: 2, i32: 4, i64: 8, f32: 4, f64: 8 }[kind];
  const b = Buffer.alloc(values.length * size);
  const dv = new DataView(b.buffer, b.byteOffset, b.length);
  values.forEach((v, i) => {
    const at = i * size;
    if (kind === 'u8') dv.setUint8(at, Number(v));
    else if (kind === 'i16') dv.setInt16(at, Number(v), false);
    else if (kind === 'i32') dv.setInt32(at, Number(v), false);
    else if (kind === 'i64') dv.setBigInt64(at, BigInt(v), false);
    else if (kind === 'f32') dv.setFloat32(at, Number(v), false);
    else dv.setFloat64(at, Number(v), false);
  });
  return b;
}

function grid<T>(w: number, h: number, f: (x: number, y: number) => T): T[] {
  const v: T[] = [];
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) v.push(f(x, y));
  return v;
}

function write(name: string, ...parts: Buffer[]): Buffer {
  const b = Buffer.concat(parts);
  writeFileSync(join(out, name), b);
  console.log(`${name}: ${b.length} bytes`);
  return b;
}

function primary(bitpix: number, axes: number[], extra: string[] = []): Buffer {
  return header([
    card('SIMPLE', true, 'conforms to FITS standard'),
    card('BITPIX', bitpix),
    card('NAXIS', axes.length),
    ...axes.map((a, i) => card(`NAXIS${i + 1}`, a)),
    ...extra,
  ]);
}

function imageExtension(bitpix: number, axes: number[], extra: string[] = []): Buffer {
  return header([
    card('XTENSION', 'IMAGE', 'Image extension'),
    card('BITPIX', bitpix),
    card('NAXIS', axes.length),
    ...axes.map((a, i) => card(`NAXIS${i + 1}`, a)),
    card('PCOUNT', 0),
    card('GCOUNT', 1),
    ...extra,
  ]);
}

/** A BINTABLE of 3 rows x 12 bytes (a 1J and a 1PB column) with a 16-byte heap: PCOUNT = 16. */
function binTable(): Buffer {
  const h = header([
    card('XTENSION', 'BINTABLE', 'binary table'),
    card('BITPIX', 8),
    card('NAXIS', 2),
    card('NAXIS1', 12),
    card('NAXIS2', 3),
    card('PCOUNT', 16, 'heap bytes'),
    card('GCOUNT', 1),
    card('TFIELDS', 2),
    card('TTYPE1', 'ID'),
    card('TFORM1', '1J'),
    card('TTYPE2', 'BYTES'),
    card('TFORM2', '1PB(8)'),
    card('EXTNAME', 'CATALOG'),
  ]);
  const rows = Buffer.alloc(3 * 12 + 16);
  for (let r = 0; r < 3; r++) {
    rows.writeInt32BE(r + 1, r * 12);
    rows.writeInt32BE(r === 2 ? 8 : 4, r * 12 + 4); // descriptor: count
    rows.writeInt32BE(r * 4, r * 12 + 8); // descriptor: heap offset
  }
  // Heap bytes that would look like a header if a reader ignored PCOUNT.
  rows.write('XTENSIO!', 36, 'latin1');
  return Buffer.concat([h, padData(rows)]);
}

/** An ASCII TABLE of 2 rows of 10 characters. */
function asciiTable(): Buffer {
  const h = header([
    card('XTENSION', 'TABLE', 'ASCII table'),
    card('BITPIX', 8),
    card('NAXIS', 2),
    card('NAXIS1', 10),
    card('NAXIS2', 2),
    card('PCOUNT', 0),
    card('GCOUNT', 1),
    card('TFIELDS', 1),
    card('TTYPE1', 'NAME'),
    card('TBCOL1', 1),
    card('TFORM1', 'A10'),
  ]);
  return Buffer.concat([h, padData(Buffer.from('first     second    ', 'latin1'))]);
}

function main(): void {
  mkdirSync(out, { recursive: true });

  // 8x6 int16, BSCALE/BZERO, BLANK at (2,1) and (5,4); a header over one 2880-byte block.
  const blanks = new Set(['2,1', '5,4']);
  const i16 = grid(8, 6, (x, y) => (blanks.has(`${x},${y}`) ? -32768 : 1000 * x - 3000 * y + 7));
  const comments = Array.from({ length: 30 }, (_, i) => card('COMMENT', `filler card ${i + 1} to push the header past one block`));
  const scaled = write(
    'int16-scaled-blank.fits',
    primary(16, [8, 6], [
      card('EXTEND', true),
      card('BSCALE', 0.5, 'physical = BZERO + BSCALE * array'),
      card('BZERO', 1000),
      card('BLANK', -32768, 'no data'),
      card('OBJECT', "Barnard's loop", 'a string with a quote'),
      card('EXPTIME', 12.5, '[s]'),
      card('GAIN', { raw: '1.5D0' }, 'D exponent'),
      card('DATE-OBS', '2024-01-02T03:04:05'),
      card('HISTORY', 'made by scripts/make-fits-fixtures.ts'),
      ...comments,
    ]),
    padData(data('i16', i16)),
  );

  // 5x4 float32: x + 10y + 0.25, NaN at (1,1) and (4,3), -0 at (0,0), +Infinity at (3,0).
  const f32 = grid(5, 4, (x, y) => {
    if ((x === 1 && y === 1) || (x === 4 && y === 3)) return NaN;
    if (x === 0 && y === 0) return -0;
    if (x === 3 && y === 0) return Infinity;
    return x + 10 * y + 0.25;
  });
  const nan = write('float32-nan.fits', primary(-32, [5, 4], [card('BUNIT', 'MJy/sr')]), padData(data('f32', f32)));

  // 4x3 float64: 0.1 * (x + 4y) (not float32 values), 1e300 at (3,2), NaN at (2,2).
  const f64 = grid(4, 3, (x, y) => (x === 3 && y === 2 ? 1e300 : x === 2 && y === 2 ? NaN : 0.1 * (x + 4 * y)));
  write('float64.fits', primary(-64, [4, 3]), padData(data('f64', f64)));

  // 7x5 uint8: (37x + 11y) mod 255, BLANK = 255 at (6,4) only.
  const u8 = grid(7, 5, (x, y) => (x === 6 && y === 4 ? 255 : (37 * x + 11 * y) % 255));
  write('uint8.fits', primary(8, [7, 5], [card('BLANK', 255)]), padData(data('u8', u8)));

  // 6x4 int32 with BZERO = 2^31 (unsigned 32-bit): physical = raw + 2^31, including 0, 2^32 - 1 and 2^24 + 1.
  const i32 = grid(6, 4, (x, y) => {
    if (x === 0 && y === 0) return -2147483648;
    if (x === 5 && y === 3) return 2147483647;
    if (x === 1 && y === 0) return 16777217 - 2147483648;
    return 100000 * x - 77777 * y;
  });
  write('int32-unsigned.fits', primary(32, [6, 4], [card('BZERO', 2147483648), card('BSCALE', 1)]), padData(data('i32', i32)));

  // 3x2 int64: 2^53 - 1, -2^40, 0, 42, BLANK, -7.
  const i64 = [2n ** 53n - 1n, -(2n ** 40n), 0n, 42n, -(2n ** 63n), -7n];
  write('int64.fits', primary(64, [3, 2], [card('BLANK', { raw: '-9223372036854775808' })]), padData(data('i64', i64)));

  // 4x3x3 float32 cube: 100k + x + 10y.
  const cube: number[] = [];
  for (let k = 0; k < 3; k++) cube.push(...grid(4, 3, (x, y) => 100 * k + x + 10 * y));
  write('cube3.fits', primary(-32, [4, 3, 3], [card('CTYPE3', 'BAND')]), padData(data('f32', cube)));

  // Empty primary, IMAGE extension (5x4 int16: x - 2y), BINTABLE after it.
  const img16 = grid(5, 4, (x, y) => x - 2 * y);
  write(
    'ext-image-table.fits',
    primary(16, [], [card('EXTEND', true), card('ORIGIN', 'hush fixtures')]),
    imageExtension(16, [5, 4], [card('EXTNAME', 'SCI'), card('INHERIT', true)]),
    padData(data('i16', img16)),
    binTable(),
  );

  // Empty primary, BINTABLE with a heap, ASCII TABLE, then the IMAGE (3x2 float32: x + y/2).
  write(
    'table-first.fits',
    primary(8, [], [card('EXTEND', true)]),
    binTable(),
    asciiTable(),
    imageExtension(-32, [3, 2], [card('EXTNAME', 'LATE')]),
    padData(data('f32', grid(3, 2, (x, y) => x + y / 2))),
  );

  // 3x2 uint8 (x + 3y) whose data block is not padded to 2880 bytes, as some writers leave it.
  write('unpadded.fits', primary(8, [3, 2]), data('u8', grid(3, 2, (x, y) => x + 3 * y)));

  write('float32-nan.fits.gz', gzipSync(nan, { level: 9 }));

  try {
    write('int16-scaled-blank.fits.bz2', execFileSync('bzip2', ['-9', '-c'], { input: scaled }));
    // 4 MiB of zeros in 48 bytes: the decompression-bomb test.
    write('zeros-4mib.bin.bz2', execFileSync('bzip2', ['-9', '-c'], { input: Buffer.alloc(4 << 20) }));
  } catch {
    console.log('bzip2 not found: the .bz2 fixtures are left as they are');
  }
}

main();
