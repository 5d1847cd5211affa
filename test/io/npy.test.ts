import test from 'node:test';
import assert from 'node:assert/strict';
import { decodeNpy, encodeNpy, isNpy, type NpyDtype } from '../../src/io/npy.js';
import { createImage } from '../../src/core/image.js';
// .npy files are built byte by byte here, independently of src/io/npy.ts, so the
// decoder is tested against the format and not against our own encoder.

interface RawNpyOptions {
  version?: 1 | 2 | 3;
  /** the full header dict text; default built from descr/shape/fortran */
  header?: string;
  fortran?: boolean;
}

function pyShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

function rawNpy(descr: string, shape: readonly number[], data: Uint8Array, o: RawNpyOptions = {}): Uint8Array {
  const version = o.version ?? 1;
  const dict =
    o.header ?? `{'descr': '${descr}', 'fortran_order': ${o.fortran ? 'True' : 'False'}, 'shape': ${pyShape(shape)}, }`;
  const pre = version === 1 ? 10 : 12;
  const body = new TextEncoder().encode(dict);
  const unpadded = pre + body.length + 1;
  const pad = (64 - (unpadded % 64)) % 64;
  const hlen = body.length + pad + 1;
  const out = new Uint8Array(pre + hlen + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, hlen, true);
  else dv.setUint32(8, hlen, true);
  out.set(body, pre);
  out.fill(0x20, pre + body.length, pre + hlen - 1);
  out[pre + hlen - 1] = 0x0a;
  out.set(data, pre + hlen);
  return out;
}

type Kind = 'f4' | 'f8' | 'u1' | 'u2';

/** Stores `values` as the given numpy type and byte order. */
function packValues(kind: Kind, littleEndian: boolean, values: readonly number[]): Uint8Array {
  const size = kind === 'u1' ? 1 : kind === 'u2' ? 2 : kind === 'f4' ? 4 : 8;
  const out = new Uint8Array(values.length * size);
  const dv = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (kind === 'u1') dv.setUint8(i, v);
    else if (kind === 'u2') dv.setUint16(i * 2, v, littleEndian);
    else if (kind === 'f4') dv.setFloat32(i * 4, v, littleEndian);
    else dv.setFloat64(i * 8, v, littleEndian);
  });
  return out;
}

const DTYPE_OF: Record<Kind, NpyDtype> = { f4: 'float32', f8: 'float64', u1: 'uint8', u2: 'uint16' };
const MAX_OF: Record<Kind, number> = { f4: 0, f8: 0, u1: 255, u2: 65535 };

/** Sample values per kind: extremes and awkward values, each exactly representable in the stored type. */
function sampleValues(kind: Kind, n: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    if (kind === 'u1') out.push([0, 255, 1, 254, 127, 128][i % 6] ?? 0);
    else if (kind === 'u2') out.push([0, 65535, 1, 32768, 257, 65534][i % 6] ?? 0);
    else out.push(Math.fround([-1.5, 0, 1e-30, 3.25e6, 0.1, -0][i % 6] * (i + 1)));
  }
  return out;
}

for (const kind of ['f4', 'f8', 'u1', 'u2'] as const) {
  for (const littleEndian of kind === 'u1' ? [true] : [true, false]) {
    for (const shape of [[3, 5], [2, 3, 1], [2, 3, 3], [3, 2, 2], [2, 2, 4]]) {
      const descr = `${kind === 'u1' ? '|' : littleEndian ? '<' : '>'}${kind}`;
      test(`decodeNpy reads ${descr} ${pyShape(shape)} and encodeNpy writes it back exactly`, () => {
        const n = shape.reduce((a, b) => a * b, 1);
        const values = sampleValues(kind, n);
        const file = rawNpy(descr, shape, packValues(kind, littleEndian, values));
        const im = decodeNpy(file, { file: 'x.npy' });
        assert.equal(im.height, shape[0]);
        assert.equal(im.width, shape[1]);
        assert.equal(im.channels, shape[2] ?? 1);
        assert.deepEqual(im.source, {
          format: 'npy',
          sampleFormat: DTYPE_OF[kind],
          scale: MAX_OF[kind] ? 'unit' : 'physical',
        });
        const expected = values.map((v) => Math.fround(MAX_OF[kind] ? v / MAX_OF[kind] : v));
        assert.deepEqual([...im.data], expected);
        assert.equal(im.mask, undefined);
        // The same bytes at an odd offset in their ArrayBuffer take the copying path.
        const shifted = new Uint8Array(file.length + 1).subarray(1);
        shifted.set(file);
        assert.deepEqual([...decodeNpy(shifted, { file: 'x.npy' }).data], expected);
        // Written back little-endian in the source dtype: the data section is the stored values again.
        const again = encodeNpy(im);
        assert.deepEqual([...again.subarray(again.length - values.length * (kind === 'u1' ? 1 : kind === 'u2' ? 2 : kind === 'f4' ? 4 : 8))], [
          ...packValues(kind, true, values),
        ]);
        const back = decodeNpy(again, { file: 'y.npy' });
        assert.deepEqual([...back.data], [...im.data]);
        assert.deepEqual(back.source, im.source);
      });
    }
  }
}

test('encodeNpy writes the header numpy writes', () => {
  // numpy 1.24: np.save of a (7, 9) float32 array (header length 0x76, data at byte 128).
  const dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (7, 9), }";
  const expected = Buffer.concat([
    Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0x76, 0]),
    Buffer.from(dict.padEnd(117, ' ') + '\n', 'latin1'),
  ]);
  const out = encodeNpy(createImage(9, 7, 1));
  assert.equal(out.length, 128 + 63 * 4);
  assert.deepEqual(out.subarray(0, 128), expected);
  const rgb = encodeNpy(createImage(2, 1, 3, undefined, { source: { format: 'png', sampleFormat: 'uint8', scale: 'unit' } }));
  assert.match(rgb.subarray(10, 128).toString('latin1'), /^\{'descr': '\|u1', 'fortran_order': False, 'shape': \(1, 2, 3\), \} +\n$/);
  assert.equal(rgb.length, 128 + 6);
});

test('decodeNpy reads format versions 2.0 and 3.0 and Python 2 headers', () => {
  const data = packValues('f4', true, [1, 2, 3, 4, 5, 6]);
  for (const version of [2, 3] as const) {
    const im = decodeNpy(rawNpy('<f4', [2, 3], data, { version }), { file: 'v.npy' });
    assert.deepEqual([...im.data], [1, 2, 3, 4, 5, 6]);
  }
  const py2 = rawNpy('', [], data, { header: '{"descr": "<f4", "fortran_order": False, "shape": (2L, 3L)}' });
  assert.deepEqual([...decodeNpy(py2, { file: 'p.npy' }).data], [1, 2, 3, 4, 5, 6]);
});

test('decodeNpy reads a 2.0 header longer than format 1.0 can hold', () => {
  const data = packValues('u1', true, [7]);
  const long = `{'descr': '|u1', 'fortran_order': False, 'shape': (1, 1), }${' '.repeat(70000)}`;
  const im = decodeNpy(rawNpy('', [], data, { version: 2, header: long }), { file: 'long.npy' });
  assert.equal(im.data[0], Math.fround(7 / 255));
});

test('NaN in float data is marked in the mask; masked samples are written as NaN', () => {
  const file = rawNpy('<f4', [1, 3], packValues('f4', true, [1, NaN, 3]));
  const im = decodeNpy(file, { file: 'nan.npy' });
  assert.deepEqual([...(im.mask ?? [])], [0, 1, 0]);
  const m = createImage(2, 1, 1, new Float32Array([5, 6]), { mask: new Uint8Array([0, 1]) });
  const back = decodeNpy(encodeNpy(m, { dtype: 'float64' }), { file: 'm.npy' });
  assert.deepEqual([...back.data], [5, NaN]);
  assert.deepEqual([...(back.mask ?? [])], [0, 1]);
});

test('encodeNpy: uint dtypes take [0,1] samples, round and clamp', () => {
  const im = createImage(5, 1, 1, new Float32Array([-0.1, 0.5, 1.2, NaN, 0.2]));
  const u8 = decodeNpy(encodeNpy(im, { dtype: 'uint8' }), { file: 'a.npy' });
  assert.deepEqual([...u8.data].map((v) => Math.round(v * 255)), [0, 128, 255, 0, 51]);
  const u16 = encodeNpy(im, { dtype: 'uint16' });
  assert.deepEqual([...new Uint16Array(u16.buffer.slice(u16.byteOffset + 128, u16.byteOffset + 138))], [0, 32768, 65535, 0, 13107]);
});

test('encodeNpy picks the source dtype by default, float32 otherwise', () => {
  const descr = (b: Buffer): string => /'descr': '([^']+)'/.exec(b.toString('latin1', 10, 80))?.[1] ?? '';
  assert.equal(descr(encodeNpy(createImage(1, 1, 1))), '<f4');
  assert.equal(descr(encodeNpy(createImage(1, 1, 1, undefined, { source: { format: 'tiff', sampleFormat: 'uint16', scale: 'unit' } }))), '<u2');
  assert.equal(descr(encodeNpy(createImage(1, 1, 1, undefined, { source: { format: 'fits', sampleFormat: 'int16', scale: 'physical' } }))), '<f4');
  assert.equal(descr(encodeNpy(createImage(1, 1, 1, undefined, { source: { format: 'fits', sampleFormat: 'float64', scale: 'physical' } }))), '<f8');
  assert.equal(descr(encodeNpy(createImage(1, 1, 1), { dtype: 'uint16' })), '<u2');
});

test('isNpy sniffs the magic string', () => {
  assert.equal(isNpy(encodeNpy(createImage(1, 1, 1))), true);
  assert.equal(isNpy(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50])), false);
  assert.equal(isNpy(new TextEncoder().encode('PK\x03\x04 not npy')), false);
});

// ---------------------------------------------------------------------------
// Rejections, with their exact text.

const f4x6 = packValues('f4', true, [1, 2, 3, 4, 5, 6]);

function rejects(buf: Uint8Array, code: string, message: string, maxPixels?: number): void {
  assert.throws(() => decodeNpy(buf, { file: 'bad.npy', maxPixels }), { name: 'HushError', code, message });
}

test('decodeNpy rejects malformed files with ERR_DECODE and one line', () => {
  rejects(new Uint8Array([0x93, 0x4e]), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': file is 2 bytes, too short for .npy");
  rejects(new TextEncoder().encode('\x89PNG\r\n\x1a\n....'), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': not a NumPy .npy file (no \\x93NUMPY magic)");
  rejects(new Uint8Array([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': file is 8 bytes, too short for an .npy preamble (file is truncated?)");
  const ok = rawNpy('<f4', [2, 3], f4x6);
  rejects(ok.subarray(0, 100), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header length 118 exceeds file (90 bytes after the preamble; file is truncated?)");
  rejects(ok.subarray(0, ok.length - 5), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': data is 19 bytes, expected 24 for shape (2, 3) float32 (file is truncated?)");
  const longer = new Uint8Array(ok.length + 4);
  longer.set(ok);
  rejects(longer, 'ERR_DECODE', "readImage: cannot decode 'bad.npy': data is 28 bytes, expected 24 for shape (2, 3) float32 (trailing bytes after the array; wrong shape in the header?)");
  rejects(rawNpy('', [], f4x6, { header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), 'extra': 1}" }), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header has keys 'descr', 'extra', 'fortran_order', 'shape'; expected 'descr', 'fortran_order', 'shape'");
  rejects(rawNpy('', [], f4x6, { header: "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3)" }), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header is not a valid dict literal: expected ',' or '}' at character 118 but found end of header");
  rejects(rawNpy('', [], f4x6, { header: "{'descr': '<f4', 'fortran_order': __import__('os'), 'shape': (2, 3)}" }), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header is not a valid dict literal: expected a value at character 34 but found '_'");
  rejects(rawNpy('', [], f4x6, { header: "{'descr': '<f4', 'fortran_order': 0, 'shape': (2, 3)}" }), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header 'fortran_order' is not True or False");
  rejects(rawNpy('', [], f4x6, { header: "{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3]}" }), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header 'shape' is not a tuple");
  rejects(rawNpy('<f4', [-2, 3], f4x6), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header 'shape' has an invalid dimension -2");
  rejects(rawNpy('<f4', [2 ** 40, 5], f4x6), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': data is 24 bytes, expected 21990232555520 for shape (1099511627776, 5) float32 (file is truncated?)");
  rejects(rawNpy('', [], f4x6, { header: `{'descr': ${'['.repeat(20)}` }), 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header is nested too deeply");
  const nonAscii = rawNpy('<f4', [2, 3], f4x6);
  nonAscii[20] = 0xe9;
  rejects(nonAscii, 'ERR_DECODE', "readImage: cannot decode 'bad.npy': header has a non-ASCII byte 0xe9 at offset 20");
});

test('decodeNpy refuses valid arrays that are not images with ERR_UNSUPPORTED and a fix', () => {
  rejects(rawNpy('<f4', [2, 3], f4x6, { fortran: true }), 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': Fortran-order arrays are not supported. Save a C-order copy: np.save(path, np.ascontiguousarray(a))");
  rejects(rawNpy('<i4', [2, 3], f4x6), 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': dtype '<i4' is not supported (supported: float32, float64, uint8, uint16 in either byte order). Convert it first, e.g. np.save(path, a.astype(np.float32))");
  rejects(rawNpy('|f4', [2, 3], f4x6), 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': dtype '|f4' is not supported (supported: float32, float64, uint8, uint16 in either byte order). Convert it first, e.g. np.save(path, a.astype(np.float32))");
  rejects(rawNpy('', [], f4x6, { header: "{'descr': [('r', '<f4')], 'fortran_order': False, 'shape': (6,)}" }), 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': structured dtypes are not supported. Save a plain numeric array, e.g. np.save(path, a['field'])");
  rejects(rawNpy('<f4', [6], f4x6), 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': shape (6,) is not an image; expected (height, width) or (height, width, channels)");
  rejects(rawNpy('<f4', [1, 1, 6], f4x6), 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': shape (1, 1, 6) has 6 channels; expected 1 to 4 on the last axis. Channels first? Use np.moveaxis(a, 0, -1)");
  rejects(rawNpy('<f4', [0, 3], new Uint8Array(0)), 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': shape (0, 3) holds no pixels");
  const v4 = rawNpy('<f4', [2, 3], f4x6);
  v4[6] = 4;
  rejects(v4, 'ERR_UNSUPPORTED', "readImage: cannot read 'bad.npy': .npy format version 4.0 is not supported (supported: 1.0, 2.0, 3.0)");
});

test('decodeNpy applies the pixel limit', () => {
  const file = rawNpy('<f4', [2, 3], f4x6);
  rejects(file, 'ERR_TOO_LARGE', "readImage: image 'bad.npy' has 3x2 = 6 pixels, over the limit of 5. Raise it with the maxPixels option (CLI: --max-pixels N, or HUSH_MAX_PIXELS=N; 0 means no limit).", 5);
  assert.equal(decodeNpy(file, { file: 'ok.npy', maxPixels: 6 }).width, 3);
  assert.equal(decodeNpy(file, { file: 'ok.npy', maxPixels: 0 }).width, 3);
});

test('decodeNpy and encodeNpy validate their options', () => {
  const file = rawNpy('<f4', [2, 3], f4x6);
  assert.throws(() => decodeNpy(file, { file: 'a.npy', maxPixels: -1 }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'decodeNpy: expected an integer of at least 0 for options.maxPixels but received -1 (number).',
  });
  assert.throws(() => decodeNpy(file, {} as { file: string }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'decodeNpy: expected a string for options.file but received undefined.',
  });
  assert.throws(() => decodeNpy([1, 2] as unknown as Uint8Array, { file: 'a.npy' }), {
    code: 'ERR_INVALID_PARAMETER',
    message: 'decodeNpy: expected a Uint8Array for buf but received an array of length 2.',
  });
  assert.throws(() => encodeNpy(createImage(1, 1, 1), { dtype: 'float16' as NpyDtype }), {
    code: 'ERR_INVALID_PARAMETER',
    message: "encodeNpy: expected one of 'float32', 'float64', 'uint8', 'uint16' for options.dtype but received 'float16' (string). Did you mean 'float32'?",
  });
});

test('float64 values float32 cannot hold round-trip bit-exactly; changed samples take the new value', async () => {
  const { decodeNpy: dec, encodeNpy: enc } = await import('../../src/io/npy.js');
  const values = new Float64Array([0.1, 1 / 3, Math.PI, 1e-300, -2.5, 16777217, 0, Number.NaN]);
  const header = `{'descr': '<f8', 'fortran_order': False, 'shape': (2, 4), }`;
  const padded = header + ' '.repeat(64 - ((10 + header.length + 1) % 64)) + '\n';
  const buf = new Uint8Array(10 + padded.length + values.byteLength);
  buf.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, padded.length & 0xff, padded.length >> 8]);
  buf.set(new TextEncoder().encode(padded), 10);
  buf.set(new Uint8Array(values.buffer), 10 + padded.length);
  const im = dec(buf, { file: 'f8.npy' });
  assert.ok(im.exact instanceof Float64Array);
  assert.deepEqual(new Uint8Array(enc(im)), buf);
  const changed = { ...im, data: im.data.slice() };
  changed.data[1] = 0.75;
  const back = dec(new Uint8Array(enc(changed)), { file: 'g.npy' });
  assert.equal(back.exact![0], 0.1);
  assert.equal(back.data[1], 0.75);
  assert.equal(back.exact?.[1] ?? back.data[1], 0.75);
  assert.equal(back.exact![2], Math.PI);
});
