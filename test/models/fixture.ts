/**
 * A tiny, seeded training fixture: smooth clean patches (gradients, a disc, a bar)
 * and their Gaussian-noisy versions, NHWC, values in [0, 1].
 */
import { createRng } from '../../src/core/rng.js';

export interface Fixture {
  clean: Float32Array;
  noisy: Float32Array;
  shape: [number, number, number, number];
}

export function makeFixture(batch: number, size: number, channels: number, sigma = 0.1, seed = 1): Fixture {
  const rng = createRng(seed);
  const n = batch * size * size * channels;
  const clean = new Float32Array(n);
  for (let b = 0; b < batch; b++) {
    const cx = size * (0.3 + 0.4 * rng.next());
    const cy = size * (0.3 + 0.4 * rng.next());
    const r = size * (0.15 + 0.15 * rng.next());
    const gx = rng.next() - 0.5;
    const gy = rng.next() - 0.5;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const disc = (x - cx) ** 2 + (y - cy) ** 2 < r * r ? 0.35 : 0;
        const bar = Math.abs(x - y - b) < 2 ? 0.2 : 0;
        for (let c = 0; c < channels; c++) {
          const v = 0.3 + (gx * x + gy * y) / size + disc + bar + 0.05 * c;
          clean[((b * size + y) * size + x) * channels + c] = Math.min(1, Math.max(0, v));
        }
      }
    }
  }
  const noisy = clean.slice();
  rng.addNormal(noisy, clean, sigma);
  return { clean, noisy, shape: [batch, size, size, channels] };
}

/** `count` RGB training images of size x size (planar, as training/data.ts's TrainImage) from makeFixture's clean patches */
export function rgbTrainImages(count: number, size: number): { data: Float32Array; width: number; height: number; channels: 3; file: string }[] {
  const f = makeFixture(count, size, 3, 0, 12);
  const plane = size * size;
  return Array.from({ length: count }, (_, i) => {
    const data = new Float32Array(3 * plane);
    for (let p = 0; p < plane; p++) for (let k = 0; k < 3; k++) data[k * plane + p] = f.clean[(i * plane + p) * 3 + k];
    return { data, width: size, height: size, channels: 3 as const, file: `fixture-${i}` };
  });
}
