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
