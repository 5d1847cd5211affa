/**
 * Missing samples (masked, NaN or infinite) for BM3D: they are filled from their
 * neighbours before denoising, so no NaN enters a block distance or a group, and the
 * input values are put back afterwards, so a missing sample is never replaced by a
 * made-up one. The fill is a breadth-first "onion" fill: each missing sample gets the
 * mean of its 8-neighbours that were known or filled in an earlier layer.
 */
import { colourChannels, type Image } from '../core/image.js';

/** 1 where a colour sample is missing (masked, NaN or infinite); undefined when none is. */
export function missingColourSamples(image: Image): Uint8Array | undefined {
  const { data, mask, channels } = image;
  const nc = colourChannels(image);
  let missing: Uint8Array | undefined;
  for (let i = 0; i < data.length; i++) {
    if (i % channels >= nc) continue;
    if ((mask && mask[i]) || !Number.isFinite(data[i])) {
      missing ??= new Uint8Array(data.length);
      missing[i] = 1;
    }
  }
  return missing;
}

/**
 * The colour channels of `image` as separate planes (height x width each), missing
 * samples filled layer by layer from known 8-neighbours; a plane with no known sample is 0.
 */
export function filledColourPlanes(image: Image, missing: Uint8Array | undefined): Float32Array[] {
  const { data, width, height, channels } = image;
  const nc = colourChannels(image);
  const n = width * height;
  const planes: Float32Array[] = [];
  for (let c = 0; c < nc; c++) {
    const plane = new Float32Array(n);
    for (let p = 0; p < n; p++) plane[p] = data[p * channels + c];
    planes.push(plane);
  }
  if (!missing) return planes;
  const layer = new Int32Array(n);
  const queue = new Int32Array(n);
  for (let c = 0; c < nc; c++) {
    const plane = planes[c];
    let tail = 0;
    for (let p = 0; p < n; p++) layer[p] = missing[p * channels + c] ? -1 : 0;
    for (let p = 0; p < n; p++) {
      if (layer[p] !== -1) continue;
      const y = (p / width) | 0;
      const x = p - y * width;
      let touches = false;
      for (let dy = -1; dy <= 1 && !touches; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx >= 0 && xx < width && layer[yy * width + xx] === 0) {
            touches = true;
            break;
          }
        }
      }
      if (touches) {
        layer[p] = 1;
        queue[tail++] = p;
      }
    }
    if (tail === 0) {
      for (let p = 0; p < n; p++) if (layer[p] === -1) plane[p] = 0;
      continue;
    }
    for (let head = 0; head < tail; head++) {
      const p = queue[head];
      const L = layer[p];
      const y = (p / width) | 0;
      const x = p - y * width;
      let sum = 0;
      let count = 0;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= height) continue;
        for (let dx = -1; dx <= 1; dx++) {
          const xx = x + dx;
          if (xx < 0 || xx >= width || (dy === 0 && dx === 0)) continue;
          const q = yy * width + xx;
          const lq = layer[q];
          if (lq >= 0 && lq < L) {
            sum += plane[q];
            count++;
          } else if (lq === -1) {
            layer[q] = L + 1;
            queue[tail++] = q;
          }
        }
      }
      plane[p] = sum / count;
    }
  }
  return planes;
}
