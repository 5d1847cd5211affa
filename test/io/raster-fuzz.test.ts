import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeImages, encodeImage } from '../../src/io/index.js';
import { isHushError } from '../../src/core/errors.js';
import { createRng } from '../../src/core/rng.js';
import { testPattern } from '../helpers/images.js';

/**
 * Seeded fuzzing of the sharp-backed decoders: every mutated file must decode
 * to a well-formed image or fail with a one-line ERR_DECODE / ERR_TOO_LARGE,
 * within a second.
 */
async function expectCleanOutcome(bytes: Uint8Array, label: string): Promise<'ok' | 'error'> {
  const t0 = performance.now();
  try {
    const [im] = await decodeImages(bytes, 'fuzz.bin', { maxPixels: 1 << 22 });
    assert.equal(im.data.length, im.width * im.height * im.channels, label);
    return 'ok';
  } catch (e) {
    assert.ok(isHushError(e), `${label}: not a HushError: ${String(e)}`);
    assert.ok(['ERR_DECODE', 'ERR_TOO_LARGE'].includes(e.code), `${label}: code ${e.code}`);
    assert.ok(!e.message.includes('\n'), `${label}: multi-line message`);
    assert.match(e.message, /^readImage: /, label);
    return 'error';
  } finally {
    const ms = performance.now() - t0;
    assert.ok(ms < 1000, `${label}: took ${ms.toFixed(0)} ms`);
  }
}

for (const [format, opts] of [
  ['png', { bitDepth: 16 }],
  ['jpeg', {}],
  ['webp', { lossless: true }],
  ['tiff', { bitDepth: 8 }],
] as const) {
  test(`fuzz ${format}: truncations, flipped bytes and absurd sizes end cleanly`, async () => {
    const good = new Uint8Array(await encodeImage(testPattern(24, 17, 3, 255), format, opts));
    const rng = createRng(format.length * 1000 + 11);
    const outcomes = { ok: 0, error: 0 };
    // truncations
    for (let k = 0; k < 25; k++) {
      const cut = k === 0 ? 1 : rng.int(good.length - 1) + 1;
      outcomes[await expectCleanOutcome(good.subarray(0, cut), `${format} cut at ${cut}`)]++;
    }
    // flipped bytes
    for (let k = 0; k < 25; k++) {
      const bad = good.slice();
      const flips = 1 + rng.int(8);
      for (let f = 0; f < flips; f++) bad[rng.int(Math.min(bad.length, 200))] ^= 1 << rng.int(8);
      outcomes[await expectCleanOutcome(bad, `${format} flips #${k}`)]++;
    }
    assert.ok(outcomes.error > 20, `${format}: only ${outcomes.error} mutated files were rejected`);
  });
}

test('a PNG header claiming 2^31-1 x 2^31-1 pixels is refused before decoding', async () => {
  const good = new Uint8Array(await encodeImage(testPattern(8, 8, 1, 255), 'png'));
  const bad = good.slice();
  const dv = new DataView(bad.buffer);
  dv.setUint32(16, 0x7fffffff); // IHDR width
  dv.setUint32(20, 0x7fffffff); // IHDR height
  // fix the IHDR CRC so the decoder sees a well-formed but absurd header
  dv.setUint32(29, crc32(bad.subarray(12, 29)));
  const t0 = performance.now();
  await assert.rejects(decodeImages(bad, 'huge.png'), (e: unknown) => isHushError(e) && ['ERR_TOO_LARGE', 'ERR_DECODE'].includes(e.code));
  assert.ok(performance.now() - t0 < 1000);
});

function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
