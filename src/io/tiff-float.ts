/**
 * Writer for 32-bit float TIFF (uncompressed, one strip per 64 rows, little
 * endian). sharp reads float TIFF but always casts to 8 or 16 bit when it writes
 * grey images, so float output is written here.
 */
import { endianness } from 'node:os';
import type { Image } from '../core/image.js';

export function encodeFloatTiff(image: Image): Buffer {
  const { width, height, channels, data } = image;
  const rowsPerStrip = Math.max(1, Math.min(height, Math.floor((1 << 20) / (width * channels * 4)) || 1));
  const nStrips = Math.ceil(height / rowsPerStrip);
  const tags: Array<[number, number, number, number[] | number]> = [];
  // [tag, type, count, value(s)]; type 3 SHORT, 4 LONG
  const photometric = channels <= 2 ? 1 : 2;
  const extra = channels === 2 || channels === 4 ? 1 : 0;
  const header = 8;
  const nTags = 12 + extra;
  const ifdSize = 2 + nTags * 12 + 4;
  let off = header + ifdSize;
  const arrays: Array<{ offset: number; bytes: Buffer }> = [];
  const put = (bytes: Buffer): number => {
    const o = off;
    arrays.push({ offset: o, bytes });
    off += bytes.length + (bytes.length & 1);
    return o;
  };
  const shorts = (v: number[]): Buffer => {
    const b = Buffer.alloc(v.length * 2);
    v.forEach((x, i) => b.writeUInt16LE(x, i * 2));
    return b;
  };
  const longs = (v: number[]): Buffer => {
    const b = Buffer.alloc(v.length * 4);
    v.forEach((x, i) => b.writeUInt32LE(x, i * 4));
    return b;
  };
  const bps = Array<number>(channels).fill(32);
  const fmt = Array<number>(channels).fill(3);
  const bpsVal = channels <= 2 ? 32 : put(shorts(bps));
  const fmtVal = channels <= 2 ? 3 : put(shorts(fmt));
  const stripBytes: number[] = [];
  for (let s = 0; s < nStrips; s++) stripBytes.push(Math.min(rowsPerStrip, height - s * rowsPerStrip) * width * channels * 4);
  const countsOff = nStrips > 1 ? put(longs(stripBytes)) : -1;
  const offsetsPlaceholder = nStrips > 1 ? put(Buffer.alloc(nStrips * 4)) : -1;
  const dataStart = off;
  const stripOffsets: number[] = [];
  let acc = dataStart;
  for (const b of stripBytes) {
    stripOffsets.push(acc);
    acc += b;
  }
  tags.push([256, 4, 1, width]);
  tags.push([257, 4, 1, height]);
  tags.push([258, 3, channels, bpsVal]);
  tags.push([259, 3, 1, 1]);
  tags.push([262, 3, 1, photometric]);
  tags.push([273, 4, nStrips, nStrips > 1 ? offsetsPlaceholder : stripOffsets[0]]);
  tags.push([277, 3, 1, channels]);
  tags.push([278, 4, 1, rowsPerStrip]);
  tags.push([279, 4, nStrips, nStrips > 1 ? countsOff : stripBytes[0]]);
  tags.push([284, 3, 1, 1]);
  tags.push([296, 3, 1, 1]);
  if (extra) tags.push([338, 3, 1, 2]);
  tags.push([339, 3, channels, fmtVal]);
  tags.sort((a, b) => a[0] - b[0]);
  const total = acc;
  const out = Buffer.alloc(total);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(header, 4);
  let p = header;
  out.writeUInt16LE(tags.length, p);
  p += 2;
  for (const [tag, type, count, value] of tags) {
    out.writeUInt16LE(tag, p);
    out.writeUInt16LE(type, p + 2);
    out.writeUInt32LE(count, p + 4);
    const v = value as number;
    if (type === 3 && count === 1) out.writeUInt16LE(v, p + 8);
    else if (type === 3 && count === 2) {
      // two SHORTs fit in the value field: only used for bps/format with 2 channels
      out.writeUInt16LE(tag === 258 ? 32 : 3, p + 8);
      out.writeUInt16LE(tag === 258 ? 32 : 3, p + 10);
    } else out.writeUInt32LE(v, p + 8);
    p += 12;
  }
  out.writeUInt32LE(0, p);
  for (const a of arrays) a.bytes.copy(out, a.offset);
  if (nStrips > 1) longs(stripOffsets).copy(out, offsetsPlaceholder);
  if (endianness() === 'LE' && (out.byteOffset + dataStart) % 4 === 0) new Float32Array(out.buffer, out.byteOffset + dataStart, data.length).set(data);
  else for (let i = 0; i < data.length; i++) out.writeFloatLE(data[i], dataStart + 4 * i);
  return out;
}
