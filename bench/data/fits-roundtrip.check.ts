/**
 * FITS round trip on the real sky images in ../shared/datasets/astro_fits (every
 * .fits/.fit/.fts, gzip and bzip2 included): decode -> encode -> decode, then check
 * that the data are bitwise the same (NaN positions included), the masks and the
 * float64 `stored` values are the same, every header card comes back in order with
 * only HISTORY cards added, and the re-encoded data section holds the same bytes as
 * the original (NaN payloads aside).
 *
 *   npx tsc -p tsconfig.json; node dist/bench/data-checks.js fits
 */
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Image } from '../../src/core/image.js';
import { maybeDecompress } from '../../src/io/decompress.js';
import { decodeFits, encodeFits, listFitsHdus } from '../../src/io/fits.js';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await walk(p)));
    else if (/\.(fits|fit|fts)(\.gz|\.bz2)?$/i.test(e.name)) out.push(p);
  }
  return out;
}

function fail(file: string, what: string): never {
  throw new Error(`${file}: ${what}`);
}

/** Index of the first sample whose bits differ, NaN matching NaN; -1 when none. */
function firstDifference(a: Float32Array | Float64Array, b: Float32Array | Float64Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x !== x && y !== y) continue;
    if (!Object.is(x, y)) return i;
  }
  return -1;
}

function compareImages(file: string, a: Image[], b: Image[]): void {
  if (a.length !== b.length) fail(file, `${a.length} images before, ${b.length} after`);
  a.forEach((x, k) => {
    const y = b[k];
    const where = a.length > 1 ? `plane ${k}: ` : '';
    if (x.width !== y.width || x.height !== y.height || x.channels !== y.channels) {
      fail(file, `${where}shape ${x.width}x${x.height}x${x.channels} became ${y.width}x${y.height}x${y.channels}`);
    }
    const d = firstDifference(x.data, y.data);
    if (d >= 0) fail(file, `${where}sample ${d} changed from ${x.data[d]} to ${y.data[d]}`);
    const mx = x.mask;
    const my = y.mask;
    if ((mx === undefined) !== (my === undefined) || (mx && my && mx.some((m, i) => m !== my[i]))) fail(file, `${where}mask changed`);
    const fx = x.fits!;
    const fy = y.fits!;
    if ((x.exact === undefined) !== (y.exact === undefined)) fail(file, `${where}stored values appeared or vanished`);
    if (x.exact && y.exact) {
      const s = firstDifference(x.exact, y.exact);
      if (s >= 0) fail(file, `${where}stored value ${s} changed from ${x.exact[s]} to ${y.exact[s]}`);
    }
    for (const key of ['bitpix', 'bscale', 'bzero', 'blank', 'hdu'] as const) {
      if (!Object.is(fx[key], fy[key])) fail(file, `${where}${key} ${fx[key]} became ${fy[key]}`);
    }
    const n = fx.cards.length;
    fx.cards.forEach((c, i) => {
      if (fy.cards[i] !== c) fail(file, `${where}header card ${i + 1} changed:\n  ${c}\n  ${fy.cards[i]}`);
    });
    const extra = fy.cards.slice(n);
    if (extra.length === 0 || !extra.every((c) => c.startsWith('HISTORY '))) {
      fail(file, `${where}expected only added HISTORY cards after the original ones, got ${JSON.stringify(extra)}`);
    }
  });
}

/** Compares the data sections sample by sample; returns how many NaN samples differ only in their payload bits. */
function compareDataBytes(file: string, before: Uint8Array, after: Uint8Array, bitpix: number): number {
  if (before.length !== after.length) fail(file, `data section ${before.length} bytes before, ${after.length} after`);
  const size = Math.abs(bitpix) / 8;
  const dvA = new DataView(before.buffer, before.byteOffset, before.length);
  const dvB = new DataView(after.buffer, after.byteOffset, after.length);
  let nanPayloads = 0;
  for (let at = 0; at < before.length; at += size) {
    let same = true;
    for (let j = 0; j < size; j++) if (before[at + j] !== after[at + j]) same = false;
    if (same) continue;
    const bothNaN =
      bitpix === -32
        ? Number.isNaN(dvA.getFloat32(at)) && Number.isNaN(dvB.getFloat32(at))
        : bitpix === -64 && Number.isNaN(dvA.getFloat64(at)) && Number.isNaN(dvB.getFloat64(at));
    if (!bothNaN) fail(file, `data byte ${at} (sample ${at / size}) differs after re-encoding`);
    nanPayloads++;
  }
  return nanPayloads;
}

export default async function fitsRoundtrip(shared: string): Promise<string[]> {
  const root = join(shared, 'datasets', 'astro_fits');
  const files = (await walk(root)).sort();
  if (files.length === 0) throw new Error(`no FITS files under ${root}`);
  const lines: string[] = [];
  let totalMs = 0;
  for (const path of files) {
    const name = relative(root, path);
    const t0 = performance.now();
    const raw = await readFile(path);
    const buf = maybeDecompress(raw, name);
    const images = decodeFits(buf, { file: name });
    const out = encodeFits(images.length > 1 ? images : images[0]);
    const again = decodeFits(out, { file: `${name} (re-encoded)` });
    compareImages(name, images, again);

    const meta = images[0].fits!;
    const src = listFitsHdus(buf, { file: name })[meta.hdu];
    const dst = listFitsHdus(out, { file: `${name} (re-encoded)` })[again[0].fits!.hdu];
    const nanPayloads = compareDataBytes(
      name,
      buf.subarray(src.dataStart, src.dataStart + src.dataBytes),
      out.subarray(dst.dataStart, dst.dataStart + dst.dataBytes),
      meta.bitpix,
    );
    const ms = performance.now() - t0;
    totalMs += ms;
    const im = images[0];
    const masked = images.reduce((s, x) => s + (x.mask ? x.mask.reduce((a, m) => a + m, 0) : 0), 0);
    lines.push(
      [
        name.padEnd(52),
        `${raw.length} B`.padStart(10),
        `BITPIX ${meta.bitpix}`.padEnd(10),
        `HDU ${meta.hdu}`,
        `${im.width}x${im.height}${images.length > 1 ? `x${images.length}` : ''}`.padEnd(11),
        `${meta.cards.length} cards`.padStart(9),
        `${masked} masked`.padStart(10),
        im.exact ? 'float64 kept' : 'float32 exact',
        nanPayloads ? `data identical but ${nanPayloads} NaN payloads` : 'data bytes identical',
        `${ms.toFixed(0)} ms`.padStart(7),
      ].join('  '),
    );
  }
  lines.push(`${files.length} files round-tripped in ${(totalMs / 1000).toFixed(1)} s`);
  return lines;
}
