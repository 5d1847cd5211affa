import test from 'node:test';
import assert from 'node:assert/strict';
import sharp from 'sharp';
import { encodeImage, decodeImages, readImage, writeImage, formatFromPath, sniffFormat } from '../../src/io/index.js';
import type { Channels } from '../../src/core/image.js';
import { testPattern, tempDir, maxAbsDiff } from '../helpers/images.js';
import { writeFileSync, readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const CHANNELS: Channels[] = [1, 2, 3, 4];

for (const format of ['png', 'tiff'] as const) {
  for (const bitDepth of [8, 16] as const) {
    for (const channels of CHANNELS) {
      test(`${format} ${bitDepth}-bit ${channels}-channel round trip is exact and keeps depth and channels`, async () => {
        const levels = bitDepth === 8 ? 255 : 65535;
        const im = testPattern(13, 9, channels, levels);
        const bytes = await encodeImage(im, format, { bitDepth });
        const meta = await sharp(bytes).metadata();
        assert.equal(meta.channels, channels);
        assert.equal(meta.depth, bitDepth === 8 ? 'uchar' : 'ushort');
        const [back] = await decodeImages(bytes, `x.${format}`);
        assert.equal(back.channels, channels);
        assert.equal(back.width, 13);
        assert.equal(back.height, 9);
        assert.equal(back.source?.sampleFormat, bitDepth === 8 ? 'uint8' : 'uint16');
        assert.equal(back.source?.scale, 'unit');
        // exact: re-quantising gives the same integers
        for (let i = 0; i < im.data.length; i++) {
          assert.equal(Math.round(back.data[i] * levels), Math.round(im.data[i] * levels), `sample ${i}`);
        }
        // and writing it again (default depth = source depth) gives identical bytes' pixels
        const again = await encodeImage(back, format);
        const meta2 = await sharp(again).metadata();
        assert.equal(meta2.depth, meta.depth);
        assert.equal(meta2.channels, channels);
      });
    }
  }
}

test('16-bit precision is kept (no detour through 8 bits)', async () => {
  const im = testPattern(32, 8, 1, 65535);
  for (let i = 0; i < im.data.length; i++) im.data[i] = (1000 + i) / 65535; // all distinct, all in one 8-bit step range
  const [back] = await decodeImages(await encodeImage(im, 'png', { bitDepth: 16 }), 'x.png');
  const distinct = new Set(Array.from(back.data, (v) => Math.round(v * 65535)));
  assert.equal(distinct.size, im.data.length);
});

for (const channels of [1, 3, 4] as const) {
  test(`32-bit float TIFF ${channels}-channel round trip keeps physical values bit-exactly`, async () => {
    const im = testPattern(11, 7, channels);
    for (let i = 0; i < im.data.length; i++) im.data[i] = (im.data[i] - 0.3) * 12345.678;
    im.source = { format: 'tiff', sampleFormat: 'float32', scale: 'physical' };
    const bytes = await encodeImage(im, 'tiff');
    const meta = await sharp(bytes).metadata();
    assert.equal(meta.depth, 'float');
    const [back] = await decodeImages(bytes, 'x.tif');
    assert.equal(back.channels, channels);
    assert.equal(back.source?.sampleFormat, 'float32');
    assert.equal(back.source?.scale, 'physical');
    assert.deepEqual(back.data, im.data);
  });
}

test('WebP lossless is exact; JPEG and lossy WebP stay close', async () => {
  for (const channels of [1, 3] as const) {
    const im = testPattern(24, 16, channels, 255);
    const [wl] = await decodeImages(await encodeImage(im, 'webp', { lossless: true }), 'x.webp');
    assert.ok(maxAbsDiff(wl.data, im.data) < 1e-6);
    const [jp] = await decodeImages(await encodeImage(im, 'jpeg', { quality: 95 }), 'x.jpg');
    assert.equal(jp.channels, channels);
    assert.ok(maxAbsDiff(jp.data, im.data) < 0.15);
  }
});

test('grey JPEG stays single-channel', async () => {
  const im = testPattern(16, 16, 1, 255);
  const bytes = await encodeImage(im, 'jpeg');
  assert.equal((await sharp(bytes).metadata()).channels, 1);
  const [back] = await decodeImages(bytes, 'x.jpg');
  assert.equal(back.channels, 1);
});

test('physical values outside [0,1] need a stretch for 8/16-bit formats', async () => {
  const im = testPattern(8, 8, 1);
  for (let i = 0; i < im.data.length; i++) im.data[i] *= 5000;
  await assert.rejects(encodeImage(im, 'png'), {
    code: 'ERR_INVALID_PARAMETER',
    message: /values range from .* but PNG stores \[0,1\]; choose a stretch \(--stretch linear\|asinh\|zscale\)/,
  });
  for (const stretch of ['linear', 'asinh', 'zscale'] as const) {
    const [back] = await decodeImages(await encodeImage(im, 'png', { stretch, bitDepth: 16 }), 'x.png');
    const lo = Math.min(...back.data);
    const hi = Math.max(...back.data);
    assert.ok(lo >= 0 && hi <= 1 && hi - lo > 0.5, `${stretch}: ${lo}..${hi}`);
  }
});

test('format from extension and content', () => {
  assert.equal(formatFromPath('a/b.FITS.gz'), 'fits');
  assert.equal(formatFromPath('x.tif'), 'tiff');
  assert.equal(formatFromPath('x.jpeg'), 'jpeg');
  assert.equal(formatFromPath('x.txt'), undefined);
  assert.equal(sniffFormat(new Uint8Array([0x89, 0x50, 0x4e, 0x47, 13, 10, 26, 10])), 'png');
});

test('a mislabelled file decodes by content; an unknown one is a clear ERR_DECODE', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const png = await encodeImage(testPattern(5, 5, 1, 255), 'png');
    writeFileSync(join(dir, 'really-png.jpg'), png);
    const im = await readImage(join(dir, 'really-png.jpg'));
    assert.equal(im.source?.format, 'png');
    writeFileSync(join(dir, 'notes.png'), 'hello, this is text\n');
    await assert.rejects(readImage(join(dir, 'notes.png')), {
      code: 'ERR_DECODE',
      message: `readImage: cannot decode '${join(dir, 'notes.png')}': content is not PNG (nor any format hush reads: png, jpeg, webp, tiff, fits, npy); the file is corrupt or mislabelled`,
    });
    writeFileSync(join(dir, 'empty.png'), '');
    await assert.rejects(readImage(join(dir, 'empty.png')), { code: 'ERR_DECODE', message: /file is empty$/ });
    await assert.rejects(readImage(join(dir, 'missing.png')), { code: 'ERR_IO', message: /cannot read '.*missing\.png': no such file$/ });
  } finally {
    cleanup();
  }
});

test('pixel limit is enforced with a hint on how to raise it', async () => {
  const bytes = await encodeImage(testPattern(40, 30, 1, 255), 'png');
  await assert.rejects(decodeImages(bytes, 'big.png', { maxPixels: 1000 }), {
    code: 'ERR_TOO_LARGE',
    message: /image 'big\.png' has 40x30 = 1200 pixels, over the limit of 1000\. Raise it with the maxPixels option \(CLI: --max-pixels N/,
  });
  const [ok] = await decodeImages(bytes, 'big.png', { maxPixels: 0 });
  assert.equal(ok.width, 40);
});

test('writeImage is atomic, never overwrites without ifExists, never writes an input', async () => {
  const { dir, cleanup } = tempDir();
  try {
    const out = join(dir, 'out.png');
    const im = testPattern(6, 4, 3, 255);
    await writeImage(out, im);
    const first = readFileSync(out);
    const other = testPattern(6, 4, 3, 255);
    other.data.fill(0.25);
    await assert.rejects(writeImage(out, other), {
      code: 'ERR_EXISTS',
      message: `refusing to overwrite '${out}': it exists (use --force to replace it)`,
    });
    assert.deepEqual(readFileSync(out), first);
    await writeImage(out, other, { ifExists: 'overwrite' });
    assert.notDeepEqual(readFileSync(out), first);
    await assert.rejects(writeImage(out, im, { ifExists: 'overwrite', protect: [out] }), {
      code: 'ERR_EXISTS',
      message: /it is an input of this command/,
    });
    // a failing encode leaves nothing behind
    const bad = testPattern(6, 4, 1);
    bad.data.fill(1e6);
    await assert.rejects(writeImage(join(dir, 'bad.png'), bad));
    assert.equal(existsSync(join(dir, 'bad.png')), false);
    assert.deepEqual(readdirSync(dir).sort(), ['out.png']);
    await assert.rejects(writeImage(join(dir, 'x.bmp'), im), { code: 'ERR_INVALID_PARAMETER', message: /expected a file name ending in/ });
  } finally {
    cleanup();
  }
});

test('quality is validated with the house-style message', async () => {
  await assert.rejects(encodeImage(testPattern(4, 4, 1, 255), 'jpeg', { quality: 0 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'writeImage: expected an integer from 1 to 100 for options.quality but received 0 (number).',
  });
});
