/**
 * Seeded fuzzing of decodeNpy: every mutated file either decodes to a well-formed
 * Image or throws a HushError with one of the expected codes, quickly.
 */
import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeNpy, encodeNpy } from '../../src/io/npy.js';
import { checkImage, createImage } from '../../src/core/image.js';
import { isHushError } from '../../src/core/errors.js';
import { createRng, type Rng } from '../../src/core/rng.js';

const ALLOWED = new Set(['ERR_DECODE', 'ERR_TOO_LARGE', 'ERR_UNSUPPORTED']);

/** Valid seed files: every dtype, 2-D and 3-D. */
function seeds(rng: Rng): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const dtype of ['float32', 'float64', 'uint8', 'uint16'] as const) {
    for (const channels of [1, 3, 4] as const) {
      const w = 1 + rng.int(6);
      const h = 1 + rng.int(6);
      const data = new Float32Array(w * h * channels).map(() => rng.next());
      // a plain Uint8Array copy: Buffer#slice is a view, and mutations must not touch the seeds
      out.push(new Uint8Array(encodeNpy(createImage(w, h, channels, data), { dtype })));
    }
  }
  return out;
}

/** Replaces the header dict of a valid file, keeping its data section. */
function withHeader(file: Uint8Array, dict: string, version = 1): Uint8Array {
  const hlen = file[8] | (file[9] << 8);
  const data = file.subarray(10 + hlen);
  const pre = version === 1 ? 10 : 12;
  const body = new TextEncoder().encode(`${dict}\n`);
  const out = new Uint8Array(pre + body.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, body.length & 0xffff, true);
  else dv.setUint32(8, body.length, true);
  out.set(body, pre);
  out.set(data, pre + body.length);
  return out;
}

const WEIRD_DESCR = ['<f16', '<f2', '|f4', '>u1', '=f4', 'f4', 'u1', '<i2', 'O', '<U8', '|S4', '<c8', '|b1', '<M8[ns]', '', "'", '<f4 ', '\\u0066'];
const WEIRD_SHAPE = [
  '(1099511627776, 5)',
  '(5, 1099511627776)',
  '(99999999999999999999, 1)',
  '(-1, 3)',
  '(0, 0)',
  '()',
  '(3,)',
  '(2, 2, 2, 2)',
  '(2, 2, 0)',
  '(2, 2, 5)',
  '(16383, 16384)',
  '(2.5, 2)',
  "('2', 2)",
  '(2, 2,,)',
  '(((((((((((2, 2)))))))))))',
];

function mutate(rng: Rng, base: Uint8Array): Uint8Array {
  const kind = rng.int(7);
  if (kind === 6) {
    // flips in the data section only: must always decode (NaN from a float bit pattern is masked, not an error)
    const out = base.slice();
    const start = 10 + (base[8] | (base[9] << 8));
    for (let i = 0; i < 4; i++) out[start + rng.int(out.length - start)] ^= 1 << rng.int(8);
    return out;
  }
  if (kind === 0) return base.subarray(0, rng.int(base.length));
  if (kind === 1 || kind === 2) {
    const out = base.slice();
    const flips = 1 + rng.int(4);
    // kind 1 flips bytes in the preamble and header, where parsing happens; kind 2 anywhere.
    const span = kind === 1 ? Math.min(out.length, 128) : out.length;
    for (let i = 0; i < flips; i++) out[rng.int(span)] ^= 1 << rng.int(8);
    return out;
  }
  if (kind === 3) {
    const descr = WEIRD_DESCR[rng.int(WEIRD_DESCR.length)];
    return withHeader(base, `{'descr': '${descr}', 'fortran_order': False, 'shape': (2, 3), }`, 1 + rng.int(3));
  }
  if (kind === 4) {
    const shape = WEIRD_SHAPE[rng.int(WEIRD_SHAPE.length)];
    return withHeader(base, `{'descr': '<f4', 'fortran_order': ${rng.int(4) === 0 ? 'True' : 'False'}, 'shape': ${shape}, }`);
  }
  // random printable garbage inside the dict
  const chars = "{}()[]',:0123456789 TrueFalseNone'descr'shape\\\"";
  let junk = '';
  for (let i = 0, n = rng.int(60); i < n; i++) junk += chars[rng.int(chars.length)];
  return withHeader(base, rng.int(2) ? `{${junk}}` : junk, 1 + rng.int(3));
}

test('decodeNpy survives seeded fuzzing: a valid Image or a HushError, fast', () => {
  const rng = createRng(20240611);
  const bases = seeds(rng);
  const counts: Record<string, number> = {};
  let slowest = 0;
  for (let i = 0; i < 1000; i++) {
    const file = mutate(rng, bases[rng.int(bases.length)]);
    // Mostly the default pixel limit; sometimes none, sometimes one that small seeds exceed.
    const maxPixels = [undefined, undefined, 0, 8][rng.int(4)];
    const t0 = performance.now();
    let outcome: string;
    try {
      const im = decodeNpy(file, { file: `case${i}.npy`, maxPixels });
      checkImage('fuzz', im);
      outcome = 'ok';
    } catch (e) {
      if (!isHushError(e) || !ALLOWED.has(e.code)) {
        assert.fail(`case ${i}: unexpected ${e instanceof Error ? `${e.name} ${(e as { code?: string }).code ?? ''}: ${e.message}` : String(e)}`);
      }
      assert.ok(!e.message.includes('\n'), `case ${i}: message is one line: ${e.message}`);
      outcome = e.code;
    }
    const dt = performance.now() - t0;
    slowest = Math.max(slowest, dt);
    assert.ok(dt < 1000, `case ${i} took ${dt.toFixed(0)} ms`);
    counts[outcome] = (counts[outcome] ?? 0) + 1;
  }
  // Each outcome must actually be exercised, or the fuzzer is not reaching the code it claims to.
  for (const k of ['ok', 'ERR_DECODE', 'ERR_UNSUPPORTED', 'ERR_TOO_LARGE']) assert.ok((counts[k] ?? 0) > 0, `no case gave ${k}: ${JSON.stringify(counts)}`);
  assert.ok(slowest < 1000);
});
