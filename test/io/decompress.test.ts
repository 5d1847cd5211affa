import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { HushError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { detectCompression, maybeDecompress } from '../../src/io/decompress.js';

const here = dirname(fileURLToPath(import.meta.url));
const fixtures = resolve(here, '..', '..', '..', 'test', 'fixtures', 'fits');
const load = (name: string): Buffer => readFileSync(join(fixtures, name));

test('gzip and bzip2 are recognised by content and decompressed', () => {
  const plain = load('int16-scaled-blank.fits');
  assert.equal(detectCompression(plain), undefined);
  assert.equal(maybeDecompress(plain, 'a.fits'), plain, 'uncompressed input is returned as it is');
  const bz = load('int16-scaled-blank.fits.bz2');
  assert.equal(detectCompression(bz), 'bzip2');
  assert.ok(Buffer.from(maybeDecompress(bz, 'misnamed.fits')).equals(plain));
  const gz = gzipSync(plain);
  assert.equal(detectCompression(gz), 'gzip');
  assert.ok(Buffer.from(maybeDecompress(gz, 'a.fits.gz')).equals(plain));
  assert.ok(Buffer.from(maybeDecompress(load('float32-nan.fits.gz'), 'x')).equals(load('float32-nan.fits')));
  assert.equal(detectCompression(Buffer.from('BZ')), undefined);
});

test('decompression bombs stop at maxBytes', () => {
  const bomb = load('zeros-4mib.bin.bz2');
  assert.equal(maybeDecompress(bomb, 'z.bz2').length, 4 << 20);
  assert.throws(() => maybeDecompress(bomb, 'z.bz2', { maxBytes: 1 << 20 }), {
    code: 'ERR_TOO_LARGE',
    message: "readImage: 'z.bz2' (bzip2) decompresses to more than 1048576 bytes, over the limit. Raise it with the maxBytes option if the file is genuine.",
  });
  const gz = gzipSync(Buffer.alloc(4 << 20));
  assert.throws(() => maybeDecompress(gz, 'z.gz', { maxBytes: 1 << 20 }), {
    code: 'ERR_TOO_LARGE',
    message: "readImage: 'z.gz' (gzip) decompresses to more than 1048576 bytes, over the limit. Raise it with the maxBytes option if the file is genuine.",
  });
  assert.equal(maybeDecompress(gz, 'z.gz', { maxBytes: 4 << 20 }).length, 4 << 20, 'exactly at the limit is fine');
});

test('corrupt and truncated data give ERR_DECODE', () => {
  const gz = gzipSync(load('uint8.fits'));
  assert.throws(() => maybeDecompress(gz.subarray(0, gz.length - 12), 'cut.fits.gz'), {
    code: 'ERR_DECODE',
    message: "readImage: cannot decode 'cut.fits.gz': gzip data ends early (file is truncated?)",
  });
  const bad = Buffer.from(gz);
  bad[3] = 0xff; // reserved flag bits
  assert.throws(() => maybeDecompress(bad, 'bad.fits.gz'), {
    code: 'ERR_DECODE',
    message: /^readImage: cannot decode 'bad\.fits\.gz': gzip data is corrupt \(.+\)$/,
  });
  const bz = load('int16-scaled-blank.fits.bz2');
  assert.throws(() => maybeDecompress(bz.subarray(0, 100), 'cut.fits.bz2'), {
    code: 'ERR_DECODE',
    message: "readImage: cannot decode 'cut.fits.bz2': bzip2 data ends early (file is truncated?)",
  });
  const crc = Buffer.from(bz);
  crc[crc.length - 3] ^= 0x10; // inside the stream CRC
  assert.throws(() => maybeDecompress(crc, 'crc.fits.bz2'), {
    code: 'ERR_DECODE',
    message: /^readImage: cannot decode 'crc\.fits\.bz2': bzip2 data is corrupt \(.+\)$/,
  });
});

test('maybeDecompress rejects bad arguments', () => {
  assert.throws(() => maybeDecompress(Buffer.alloc(1), 'f', { maxBytes: 0 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'maybeDecompress: expected an integer from 1 to 4294967296 for options.maxBytes but received 0 (number).',
  });
  assert.throws(() => maybeDecompress('x' as never, 'f'), {
    message: "maybeDecompress: expected a Uint8Array for buf but received 'x' (string).",
  });
});

test('fuzz: every truncation and random byte flips fail cleanly, each within a second', () => {
  const rng = createRng(11);
  const inputs = [load('int16-scaled-blank.fits.bz2'), gzipSync(load('cube3.fits'))];
  const check = (b: Uint8Array, label: string): void => {
    const t0 = performance.now();
    try {
      maybeDecompress(b, 'fuzz');
    } catch (e) {
      assert.ok(e instanceof HushError && e.code === 'ERR_DECODE', `${label}: ${e instanceof Error ? e.stack : String(e)}`);
    }
    assert.ok(performance.now() - t0 < 1000, label);
  };
  for (const input of inputs) {
    for (let n = 4; n < input.length; n += 3) check(input.subarray(0, n), `cut at ${n}`);
    for (let c = 0; c < 60; c++) {
      const b = Buffer.from(input);
      const pos = 4 + rng.int(b.length - 4);
      b[pos] ^= 1 << rng.int(8);
      check(b, `flip at ${pos}`);
    }
  }
});
