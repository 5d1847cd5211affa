/** Small deterministic test images, made in code (no files from ../shared). */
import { createImage, type Channels, type Image } from '../../src/core/image.js';
import { createRng } from '../../src/core/rng.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A smooth scene with edges, values on [0,1], quantised to `levels` steps if given. */
export function testPattern(width: number, height: number, channels: Channels, levels?: number): Image {
  const im = createImage(width, height, channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let v = 0.5 + 0.4 * Math.sin((x + 1) * 0.37 + c) * Math.cos((y + 2) * 0.23 - c);
        if ((x > width / 3 && x < (2 * width) / 3) !== (y > height / 2)) v = 1 - v;
        if ((channels === 2 && c === 1) || (channels === 4 && c === 3)) v = ((x * 7 + y * 3) % 11) / 10;
        im.data[(y * width + x) * channels + c] = levels ? Math.round(v * levels) / levels : v;
      }
    }
  }
  return im;
}

export function randomImage(width: number, height: number, channels: Channels, seed: number, scale = 1, offset = 0): Image {
  const rng = createRng(seed);
  const im = createImage(width, height, channels);
  for (let i = 0; i < im.data.length; i++) im.data[i] = offset + scale * rng.next();
  return im;
}

export function tempDir(prefix = 'hush-test-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
