/**
 * Makes the sample images shipped in samples/: synthetic scenes drawn in code,
 * so the README's main job runs on a fresh clone with nothing from ../shared.
 *   npm run build && node dist/scripts/make-sample.js
 */
import { createImage, type Image } from '../src/core/image.js';
import { createRng } from '../src/core/rng.js';
import { writeImage } from '../src/io/index.js';
import { addNoise } from '../src/noise/index.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** A colour scene: sky gradient, sun, hills, a house with windows, a checker board and fine stripes. */
export function makeScene(width = 256, height = 256): Image {
  const im = createImage(width, height, 3);
  const rng = createRng(2024);
  const bumps = Array.from({ length: 6 }, () => ({ a: rng.next() * 0.05, f: 1 + rng.next() * 4, p: rng.next() * 6.28 }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const u = x / width;
      const v = y / height;
      // sky
      let r = 0.35 + 0.3 * v;
      let g = 0.55 + 0.25 * v;
      let b = 0.9 - 0.1 * v;
      // sun with soft edge
      const ds = Math.hypot(u - 0.78, v - 0.2);
      const sun = Math.min(1, Math.max(0, (0.09 - ds) / 0.01));
      r = r * (1 - sun) + 1.0 * sun;
      g = g * (1 - sun) + 0.9 * sun;
      b = b * (1 - sun) + 0.45 * sun;
      // hills
      let hill = 0.62;
      for (const k of bumps) hill += k.a * Math.sin(k.f * 6.28 * u + k.p);
      if (v > hill) {
        const shade = 0.85 + 0.15 * Math.sin(u * 40 + v * 13);
        r = 0.2 * shade;
        g = (0.45 + 0.2 * (v - hill)) * shade;
        b = 0.15 * shade;
      }
      // house
      if (u > 0.15 && u < 0.45 && v > 0.5 && v < 0.85) {
        r = 0.75;
        g = 0.3;
        b = 0.2;
        const wx = ((u - 0.15) / 0.3) * 4;
        const wy = ((v - 0.5) / 0.35) * 3;
        if (wx % 1 > 0.3 && wx % 1 < 0.7 && wy % 1 > 0.3 && wy % 1 < 0.75 && wy < 2) {
          r = 0.95;
          g = 0.92;
          b = 0.6;
        }
      }
      // roof
      if (v <= 0.5 && v > 0.32 && Math.abs(u - 0.3) < (v - 0.32) * 1.0) {
        r = 0.3;
        g = 0.25;
        b = 0.3;
      }
      // checker board and stripes: fine detail for measuring sharpness
      if (u > 0.6 && u < 0.95 && v > 0.72 && v < 0.95) {
        const c = (Math.floor(x / 6) + Math.floor(y / 6)) % 2;
        r = g = b = c ? 0.9 : 0.1;
        if (u > 0.78) r = g = b = 0.5 + 0.4 * Math.sin(x * 1.3);
      }
      const i = (y * width + x) * 3;
      im.data[i] = Math.round(Math.min(1, Math.max(0, r)) * 255) / 255;
      im.data[i + 1] = Math.round(Math.min(1, Math.max(0, g)) * 255) / 255;
      im.data[i + 2] = Math.round(Math.min(1, Math.max(0, b)) * 255) / 255;
    }
  }
  return im;
}

async function main(): Promise<void> {
  const out = join(root, 'samples', 'scene.png');
  const scene = makeScene();
  await writeImage(out, scene, { ifExists: 'overwrite', bitDepth: 8 });
  console.log(`wrote ${out}`);
  // the README's main job denoises this one: Gaussian noise sigma 25/255, seed 7, saved as 8-bit PNG
  const noisyOut = join(root, 'samples', 'scene-noisy.png');
  await writeImage(noisyOut, addNoise(scene, { model: 'gaussian', sigma: 25 / 255, seed: 7 }), { ifExists: 'overwrite', bitDepth: 8 });
  console.log(`wrote ${noisyOut}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
