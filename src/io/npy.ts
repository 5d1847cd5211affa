/**
 * NumPy .npy reading and writing, in-house (format versions 1.0, 2.0 and 3.0, as
 * specified in numpy's `numpy.lib.format` / NEP 1). The header is a Python dict
 * literal; it is parsed by a small literal parser here, never evaluated. Only C-order
 * arrays of shape (H, W) or (H, W, C) with C in 1..4 and the dtypes float32, float64,
 * uint8 and uint16 (either byte order) are images; anything else is refused with a
 * message that says how to convert it in numpy.
 *
 * Values: float arrays keep their values (float64 is rounded to float32, the sample
 * type of every Image); uint8/uint16 are divided by 255/65535 into [0,1]. NaN in a
 * float array marks the sample in `image.mask`. `encodeNpy` writes the dtype the
 * image came from unless told otherwise, so decode -> encode round trips are exact for
 * float32, uint8 and uint16, and for float64 whose values are float32-representable.
 */
import { HushError, decodeError, invalidParameter } from '../core/errors.js';
import {
  checkImage,
  checkPixelLimit,
  createImage,
  DEFAULT_PIXEL_LIMIT,
  exactValue,
  isChannels,
  type Image,
  type SampleFormat,
} from '../core/image.js';
import { checkObject, checkOneOf, optionalNumber } from '../core/validate.js';

export const NPY_DTYPES = ['float32', 'float64', 'uint8', 'uint16'] as const;
export type NpyDtype = (typeof NPY_DTYPES)[number];

export interface DecodeNpyOptions {
  /** name used in error messages */
  file: string;
  /** refuse arrays of more than this many pixels (H*W); 0 means no limit; default DEFAULT_PIXEL_LIMIT */
  maxPixels?: number;
}

export interface EncodeNpyOptions {
  /** dtype to write; default: the image's source dtype when it is one of NPY_DTYPES, else float32 */
  dtype?: NpyDtype;
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const FN = 'readImage';
/** numpy aligns the start of the data to 64 bytes */
const ARRAY_ALIGN = 64;
/** numpy leaves room in the header for the first axis to grow to this many digits */
const GROWTH_AXIS_MAX_DIGITS = 21;
const MAX_HEADER_DEPTH = 8;

interface DtypeInfo {
  dtype: NpyDtype;
  size: number;
  /** unsigned-integer maximum, 0 for floats */
  max: number;
}

const DTYPE_CODES: Record<string, DtypeInfo> = {
  f4: { dtype: 'float32', size: 4, max: 0 },
  f8: { dtype: 'float64', size: 8, max: 0 },
  u1: { dtype: 'uint8', size: 1, max: 255 },
  u2: { dtype: 'uint16', size: 2, max: 65535 },
};

const DESCR_OF: Record<NpyDtype, string> = { float32: '<f4', float64: '<f8', uint8: '|u1', uint16: '<u2' };

const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** True when `buf` starts with the .npy magic string. */
export function isNpy(buf: Uint8Array): boolean {
  if (buf.length < MAGIC.length) return false;
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC[i]) return false;
  return true;
}

// ---------------------------------------------------------------------------
// Header literal parser: the subset of Python literals numpy writes (str, int,
// bool, None, tuple, list, dict), with a depth limit so hostile input cannot
// recurse deeply.

type PyValue = string | number | boolean | null | PyValue[] | { tuple: PyValue[] } | Map<string, PyValue>;

class LiteralParser {
  pos = 0;
  constructor(
    private readonly text: string,
    private readonly fail: (what: string) => HushError,
  ) {}

  private skipSpace(): void {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos])) this.pos++;
  }

  private error(expected: string): HushError {
    const found = this.pos < this.text.length ? `'${this.text[this.pos]}'` : 'end of header';
    return this.fail(`header is not a valid dict literal: expected ${expected} at character ${this.pos} but found ${found}`);
  }

  private eat(ch: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  parseTop(): PyValue {
    const v = this.value(0);
    this.skipSpace();
    if (this.pos !== this.text.length) throw this.error('end of header');
    return v;
  }

  private value(depth: number): PyValue {
    if (depth > MAX_HEADER_DEPTH) throw this.fail('header is nested too deeply');
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "'" || c === '"') return this.string();
    if (c === '(') return { tuple: this.sequence(')', depth) };
    if (c === '[') return this.sequence(']', depth);
    if (c === '{') return this.dict(depth);
    const word = /^(True|False|None)\b/.exec(this.text.slice(this.pos, this.pos + 6));
    if (word) {
      this.pos += word[1].length;
      return word[1] === 'None' ? null : word[1] === 'True';
    }
    const num = /^[-+]?\d+[lL]?/.exec(this.text.slice(this.pos, this.pos + 40));
    if (num) {
      this.pos += num[0].length;
      return Number(num[0].replace(/[lL]$/, ''));
    }
    throw this.error('a value');
  }

  private string(): string {
    const quote = this.text[this.pos++];
    let out = '';
    while (this.pos < this.text.length) {
      const c = this.text[this.pos++];
      if (c === quote) return out;
      if (c === '\\') {
        if (this.pos >= this.text.length) break;
        out += this.text[this.pos++];
      } else {
        out += c;
      }
    }
    throw this.fail('header is not a valid dict literal: unterminated string');
  }

  private sequence(close: string, depth: number): PyValue[] {
    this.pos++;
    const items: PyValue[] = [];
    for (;;) {
      if (this.eat(close)) return items;
      items.push(this.value(depth + 1));
      if (this.eat(close)) return items;
      if (!this.eat(',')) throw this.error(`',' or '${close}'`);
    }
  }

  private dict(depth: number): Map<string, PyValue> {
    this.pos++;
    const out = new Map<string, PyValue>();
    for (;;) {
      if (this.eat('}')) return out;
      this.skipSpace();
      const c = this.text[this.pos];
      if (c !== "'" && c !== '"') throw this.error('a string key');
      const key = this.string();
      if (!this.eat(':')) throw this.error("':'");
      out.set(key, this.value(depth + 1));
      if (this.eat('}')) return out;
      if (!this.eat(',')) throw this.error("',' or '}'");
    }
  }
}

function formatShape(shape: readonly number[]): string {
  return shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
}

interface NpyHeader {
  descr: string;
  fortranOrder: boolean;
  shape: number[];
  /** byte offset of the data */
  dataOffset: number;
}

function readHeader(buf: Uint8Array, file: string): NpyHeader {
  const fail = (what: string): HushError => decodeError(FN, file, what);
  if (!isNpy(buf)) {
    throw fail(buf.length < MAGIC.length ? `file is ${buf.length} bytes, too short for .npy` : 'not a NumPy .npy file (no \\x93NUMPY magic)');
  }
  if (buf.length < 10) throw fail(`file is ${buf.length} bytes, too short for an .npy preamble (file is truncated?)`);
  const major = buf[6];
  const minor = buf[7];
  if (major < 1 || major > 3 || minor !== 0) {
    throw new HushError(
      'ERR_UNSUPPORTED',
      `${FN}: cannot read '${file}': .npy format version ${major}.${minor} is not supported (supported: 1.0, 2.0, 3.0)`,
      { file },
    );
  }
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = buf[8] | (buf[9] << 8);
    start = 10;
  } else {
    if (buf.length < 12) throw fail(`file is ${buf.length} bytes, too short for an .npy ${major}.0 preamble (file is truncated?)`);
    headerLen = (buf[8] | (buf[9] << 8) | (buf[10] << 16)) + buf[11] * 2 ** 24;
    start = 12;
  }
  if (start + headerLen > buf.length) {
    throw fail(`header length ${headerLen} exceeds file (${buf.length - start} bytes after the preamble; file is truncated?)`);
  }
  const bytes = buf.subarray(start, start + headerLen);
  let text: string;
  if (major === 3) {
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      throw fail('header is not valid UTF-8');
    }
  } else {
    for (let i = 0; i < bytes.length; i++) {
      if (bytes[i] > 0x7e || (bytes[i] < 0x20 && bytes[i] !== 0x0a && bytes[i] !== 0x09 && bytes[i] !== 0x0d)) {
        throw fail(`header has a non-ASCII byte 0x${bytes[i].toString(16).padStart(2, '0')} at offset ${start + i}`);
      }
    }
    text = '';
    for (let i = 0; i < bytes.length; i += 8192) text += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
  const dict = new LiteralParser(text, fail).parseTop();
  if (!(dict instanceof Map)) throw fail('header is not a dict literal');
  const keys = [...dict.keys()].sort();
  if (keys.join(',') !== 'descr,fortran_order,shape') {
    throw fail(`header has keys ${keys.map((k) => `'${k}'`).join(', ') || 'none'}; expected 'descr', 'fortran_order', 'shape'`);
  }
  const descr = dict.get('descr');
  const fortran = dict.get('fortran_order');
  const shapeV = dict.get('shape');
  if (typeof fortran !== 'boolean') throw fail("header 'fortran_order' is not True or False");
  if (Array.isArray(descr)) {
    throw new HushError(
      'ERR_UNSUPPORTED',
      `${FN}: cannot read '${file}': structured dtypes are not supported. Save a plain numeric array, e.g. np.save(path, a['field'])`,
      { file },
    );
  }
  if (typeof descr !== 'string') throw fail("header 'descr' is not a string");
  if (shapeV === null || typeof shapeV !== 'object' || !('tuple' in shapeV)) throw fail("header 'shape' is not a tuple");
  const shape: number[] = [];
  for (const d of shapeV.tuple) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw fail(`header 'shape' has an invalid dimension ${typeof d === 'number' ? String(d) : JSON.stringify(d)}`);
    }
    shape.push(d);
  }
  return { descr, fortranOrder: fortran, shape, dataOffset: start + headerLen };
}

function parseDescr(descr: string, file: string): DtypeInfo & { littleEndian: boolean } {
  const m = /^([<>|=]?)([a-zA-Z])(\d+)$/.exec(descr);
  const info = m ? DTYPE_CODES[`${m[2]}${m[3]}`] : undefined;
  if (!m || !info || (m[1] === '|' && info.size > 1)) {
    throw new HushError(
      'ERR_UNSUPPORTED',
      `${FN}: cannot read '${file}': dtype '${descr}' is not supported (supported: float32, float64, uint8, uint16 in either byte order). ` +
        'Convert it first, e.g. np.save(path, a.astype(np.float32))',
      { file },
    );
  }
  // '=' (native) does not occur in files numpy writes; read it as little-endian, the byte order of every platform numpy ships wheels for.
  return { ...info, littleEndian: m[1] !== '>' };
}

/**
 * Decodes an .npy file into an Image. Throws HushError ERR_DECODE for malformed
 * files, ERR_UNSUPPORTED for valid arrays that are not images hush can hold, and
 * ERR_TOO_LARGE above `maxPixels`.
 */
export function decodeNpy(buf: Uint8Array, options: DecodeNpyOptions): Image {
  const opts = checkObject('decodeNpy', 'options', options);
  if (typeof opts.file !== 'string') throw invalidParameter('decodeNpy', 'options.file', 'a string', opts.file);
  const file = opts.file;
  const maxPixels = optionalNumber('decodeNpy', 'options.maxPixels', opts.maxPixels, DEFAULT_PIXEL_LIMIT, { integer: true, min: 0 });
  if (!(buf instanceof Uint8Array)) throw invalidParameter('decodeNpy', 'buf', 'a Uint8Array', buf);

  const header = readHeader(buf, file);
  const { shape } = header;
  if (header.fortranOrder) {
    throw new HushError(
      'ERR_UNSUPPORTED',
      `${FN}: cannot read '${file}': Fortran-order arrays are not supported. ` +
        'Save a C-order copy: np.save(path, np.ascontiguousarray(a))',
      { file },
    );
  }
  const dt = parseDescr(header.descr, file);
  if (shape.length !== 2 && shape.length !== 3) {
    throw new HushError(
      'ERR_UNSUPPORTED',
      `${FN}: cannot read '${file}': shape ${formatShape(shape)} is not an image; expected (height, width) or (height, width, channels)`,
      { file },
    );
  }
  const [height, width] = shape;
  const channels = shape.length === 3 ? shape[2] : 1;
  if (!isChannels(channels)) {
    throw new HushError(
      'ERR_UNSUPPORTED',
      `${FN}: cannot read '${file}': shape ${formatShape(shape)} has ${channels} channels; expected 1 to 4 on the last axis. ` +
        'Channels first? Use np.moveaxis(a, 0, -1)',
      { file },
    );
  }
  const count = height * width * channels;
  const expectedBytes = count * dt.size;
  const dataBytes = buf.length - header.dataOffset;
  if (dataBytes !== expectedBytes) {
    const why = dataBytes < expectedBytes ? 'file is truncated?' : 'trailing bytes after the array; wrong shape in the header?';
    throw decodeError(FN, file, `data is ${dataBytes} bytes, expected ${expectedBytes} for shape ${formatShape(shape)} ${dt.dtype} (${why})`);
  }
  if (count === 0) {
    throw new HushError('ERR_UNSUPPORTED', `${FN}: cannot read '${file}': shape ${formatShape(shape)} holds no pixels`, { file });
  }
  checkPixelLimit(FN, width, height, maxPixels, file);

  // The stored samples as a typed array: a view when the data is aligned and in host order
  // (the usual case: numpy aligns data to 64 bytes), else an aligned, byte-swapped copy.
  // Fresh memory is slow to touch on some machines, so copy only where needed.
  const at = buf.byteOffset + header.dataOffset;
  let bytes: Uint8Array;
  if (at % dt.size === 0 && (dt.size === 1 || dt.littleEndian === HOST_LITTLE_ENDIAN)) {
    bytes = buf.subarray(header.dataOffset, header.dataOffset + expectedBytes);
  } else {
    bytes = new Uint8Array(expectedBytes);
    bytes.set(buf.subarray(header.dataOffset, header.dataOffset + expectedBytes));
    if (dt.size > 1 && dt.littleEndian !== HOST_LITTLE_ENDIAN) swapBytes(bytes, dt.size);
  }
  const view = <T>(Ctor: new (b: ArrayBufferLike, o: number, n: number) => T): T => new Ctor(bytes.buffer, bytes.byteOffset, count);

  let data: Float32Array;
  let mask: Uint8Array | undefined;
  let exact: Float64Array | undefined;
  if (dt.dtype === 'float32') {
    data = view(Float32Array).slice();
  } else if (dt.dtype === 'float64') {
    const src = view(Float64Array);
    data = new Float32Array(count);
    let inexact = false;
    for (let i = 0; i < count; i++) {
      data[i] = src[i];
      if (data[i] !== src[i] && src[i] === src[i]) inexact = true;
    }
    // keep the float64 values so that unchanged samples are written back bit-exactly
    if (inexact) exact = src.slice();
  } else {
    const src = dt.dtype === 'uint8' ? bytes : view(Uint16Array);
    const max = dt.max;
    data = new Float32Array(count);
    for (let i = 0; i < count; i++) data[i] = src[i] / max;
  }
  if (dt.max === 0) {
    for (let i = 0; i < count; i++) {
      if (data[i] !== data[i]) {
        mask ??= new Uint8Array(count);
        mask[i] = 1;
      }
    }
  }
  const sampleFormat: SampleFormat = dt.dtype;
  return createImage(width, height, channels, data, {
    source: { format: 'npy', sampleFormat, scale: dt.max === 0 ? 'physical' : 'unit' },
    ...(mask ? { mask } : {}),
    ...(exact ? { exact } : {}),
  });
}

function swapBytes(bytes: Uint8Array, size: number): void {
  for (let i = 0; i + size <= bytes.length; i += size) {
    for (let a = i, b = i + size - 1; a < b; a++, b--) {
      const t = bytes[a];
      bytes[a] = bytes[b];
      bytes[b] = t;
    }
  }
}

function defaultDtype(image: Image): NpyDtype {
  const s = image.source;
  if (!s) return 'float32';
  if ((s.sampleFormat === 'uint8' || s.sampleFormat === 'uint16') && s.scale === 'unit') return s.sampleFormat;
  if (s.sampleFormat === 'float64' && s.scale === 'physical') return 'float64';
  return 'float32';
}

/**
 * The header numpy itself writes (sorted keys, growth padding, 64-byte alignment), so
 * files compare byte for byte. Image shapes keep it far below the 64 KiB of format 1.0.
 */
function encodeHeader(descr: string, shape: readonly number[]): Uint8Array {
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${formatShape(shape)}, }`;
  dict += ' '.repeat(GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length);
  const padlen = ARRAY_ALIGN - ((10 + dict.length + 1) % ARRAY_ALIGN);
  const text = dict + ' '.repeat(padlen) + '\n';
  const out = new Uint8Array(10 + text.length);
  out.set(MAGIC);
  out[6] = 1;
  out[7] = 0;
  out[8] = text.length & 0xff;
  out[9] = text.length >> 8;
  for (let i = 0; i < text.length; i++) out[10 + i] = text.charCodeAt(i);
  return out;
}

/** round(v * max) clamped to [0, max]; NaN -> 0 */
function quantise(v: number, max: number): number {
  const q = Math.round(v * max);
  return q > max ? max : q >= 0 ? q : 0;
}

/** The same as the typed-array path of encodeNpy, for big-endian hosts or unaligned buffers. */
function writeSamplesPortable(body: DataView, image: Image, dtype: NpyDtype, info: DtypeInfo): void {
  const { data, mask } = image;
  for (let i = 0; i < data.length; i++) {
    const v = mask && mask[i] ? NaN : data[i];
    if (dtype === 'float32') body.setFloat32(i * 4, v, true);
    else if (dtype === 'float64') body.setFloat64(i * 8, mask && mask[i] ? NaN : exactValue(image, i), true);
    else if (dtype === 'uint8') body.setUint8(i, quantise(v, info.max));
    else body.setUint16(i * 2, quantise(v, info.max), true);
  }
}

/**
 * Encodes an Image as an .npy file (little-endian, C order). One channel is written
 * as shape (H, W), more as (H, W, C). For uint dtypes the samples are taken as [0,1]
 * and written as round(v * max), clamped (NaN -> 0). For float dtypes masked samples
 * are written as NaN.
 */
export function encodeNpy(image: Image, options?: EncodeNpyOptions): Buffer {
  checkImage('encodeNpy', image);
  const opts = checkObject('encodeNpy', 'options', options);
  const dtype = opts.dtype === undefined ? defaultDtype(image) : checkOneOf('encodeNpy', 'options.dtype', opts.dtype, NPY_DTYPES);
  const { width, height, channels, data, mask } = image;
  const shape = channels === 1 ? [height, width] : [height, width, channels];
  const header = encodeHeader(DESCR_OF[dtype], shape);
  const n = data.length;
  const info = DTYPE_CODES[DESCR_OF[dtype].slice(1)];
  const out = Buffer.alloc(header.length + n * info.size);
  out.set(header);
  // Buffer.alloc does not pool, and the header is a multiple of 64 bytes, so the body is aligned for a typed view.
  const offset = out.byteOffset + header.length;
  if (!HOST_LITTLE_ENDIAN || offset % 8 !== 0) {
    writeSamplesPortable(new DataView(out.buffer, offset, n * info.size), image, dtype, info);
    return out;
  }
  if (dtype === 'float32' || dtype === 'float64') {
    const dst = dtype === 'float32' ? new Float32Array(out.buffer, offset, n) : new Float64Array(out.buffer, offset, n);
    dst.set(data);
    if (dtype === 'float64' && image.exact?.length === n) for (let i = 0; i < n; i++) dst[i] = exactValue(image, i);
    if (mask) for (let i = 0; i < n; i++) if (mask[i]) dst[i] = NaN;
  } else {
    const dst = dtype === 'uint8' ? new Uint8Array(out.buffer, offset, n) : new Uint16Array(out.buffer, offset, n);
    const max = info.max;
    for (let i = 0; i < n; i++) dst[i] = quantise(data[i], max);
  }
  return out;
}
