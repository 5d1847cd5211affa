/**
 * Transparent decompression of gzip (RFC 1952, via node:zlib) and bzip2 (via the
 * pure-JS seek-bzip decoder), chosen by content, not by file name. The output is
 * capped (`maxBytes`), so a small hostile file cannot expand to fill memory: zlib
 * stops at `maxOutputLength`, and the bzip2 output stream refuses the first byte
 * past the cap.
 */
import { gunzipSync } from 'node:zlib';
import bunzip from 'seek-bzip';
import { decodeError, HushError, invalidParameter } from '../core/errors.js';
import { checkObject, optionalNumber } from '../core/validate.js';

const FN = 'readImage';

export const COMPRESSIONS = ['gzip', 'bzip2'] as const;
export type Compression = (typeof COMPRESSIONS)[number];

/** 2 GiB: room for the largest image the default pixel limit allows (268 Mpx at 4 bytes), with headers. */
export const DEFAULT_MAX_DECOMPRESSED_BYTES = 2 ** 31;

export interface MaybeDecompressOptions {
  /** refuse to produce more than this many bytes; default DEFAULT_MAX_DECOMPRESSED_BYTES, at most 2^32 */
  maxBytes?: number;
}

/** 'gzip' for 1f 8b, 'bzip2' for 'BZh' followed by a level digit, else undefined. */
export function detectCompression(buf: Uint8Array): Compression | undefined {
  if (buf.length >= 2 && buf[0] === 0x1f && buf[1] === 0x8b) return 'gzip';
  if (buf.length >= 4 && buf[0] === 0x42 && buf[1] === 0x5a && buf[2] === 0x68 && buf[3] >= 0x31 && buf[3] <= 0x39) return 'bzip2';
  return undefined;
}

function tooLarge(file: string, what: Compression, maxBytes: number): HushError {
  return new HushError(
    'ERR_TOO_LARGE',
    `${FN}: '${file}' (${what}) decompresses to more than ${maxBytes} bytes, over the limit. Raise it with the maxBytes option if the file is genuine.`,
    { file },
  );
}

class InputEnded extends Error {}
class OutputFull extends Error {}

function gunzip(buf: Uint8Array, file: string, maxBytes: number): Uint8Array {
  try {
    return gunzipSync(buf, { maxOutputLength: maxBytes });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge(file, 'gzip', maxBytes);
    if (code === 'Z_BUF_ERROR') throw decodeError(FN, file, 'gzip data ends early (file is truncated?)', e);
    throw decodeError(FN, file, `gzip data is corrupt (${(e as Error).message})`, e);
  }
}

function bunzip2(buf: Uint8Array, file: string, maxBytes: number): Uint8Array {
  let pos = 0;
  const input = {
    readByte(): number {
      if (pos >= buf.length) throw new InputEnded();
      return buf[pos++];
    },
    read(target: Uint8Array, offset: number, length: number): number {
      let n = 0;
      while (n < length && pos < buf.length) target[offset + n++] = buf[pos++];
      return n === 0 ? -1 : n;
    },
    seek(p: number): void {
      pos = p;
    },
    eof(): boolean {
      return pos >= buf.length;
    },
  };
  // Grows by doubling up to the cap, so the cap is never allocated up front.
  let out = new Uint8Array(Math.min(maxBytes, Math.max(1 << 16, buf.length * 4)));
  let length = 0;
  const output = {
    writeByte(byte: number): void {
      if (length === out.length) {
        if (length >= maxBytes) throw new OutputFull();
        const grown = new Uint8Array(Math.min(maxBytes, out.length * 2));
        grown.set(out);
        out = grown;
      }
      out[length++] = byte;
    },
  };
  try {
    bunzip.decode(input, output, true);
  } catch (e) {
    if (e instanceof OutputFull) throw tooLarge(file, 'bzip2', maxBytes);
    if (e instanceof InputEnded) throw decodeError(FN, file, 'bzip2 data ends early (file is truncated?)', e);
    throw decodeError(FN, file, `bzip2 data is corrupt (${(e as Error).message})`, e);
  }
  return out.subarray(0, length);
}

/** Gunzips or bunzips `buf` when its content says it is compressed; otherwise returns it unchanged. */
export function maybeDecompress(buf: Uint8Array, file: string, options?: MaybeDecompressOptions): Uint8Array {
  if (!(buf instanceof Uint8Array)) throw invalidParameter('maybeDecompress', 'buf', 'a Uint8Array', buf);
  if (typeof file !== 'string') throw invalidParameter('maybeDecompress', 'file', 'a string', file);
  const opts = checkObject('maybeDecompress', 'options', options);
  const maxBytes = optionalNumber('maybeDecompress', 'options.maxBytes', opts.maxBytes, DEFAULT_MAX_DECOMPRESSED_BYTES, {
    integer: true,
    min: 1,
    max: 2 ** 32,
  });
  const kind = detectCompression(buf);
  if (kind === 'gzip') return gunzip(buf, file, maxBytes);
  if (kind === 'bzip2') return bunzip2(buf, file, maxBytes);
  return buf;
}
