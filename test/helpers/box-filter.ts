/** A 5x5 box filter with clamped borders (reach 2), for testing the tile pool. */
import { createImage, type Image } from '../../src/core/image.js';
import { HushError } from '../../src/core/errors.js';

export function boxFilter(image: Image, options: { radius: number; failOn?: number }): Image {
  if (options.failOn !== undefined && image.width * image.height > options.failOn) {
    throw new HushError('ERR_INVALID_PARAMETER', 'boxFilter: tile too large');
  }
  const { width, height, channels, data } = image;
  const r = options.radius;
  const out = new Float32Array(data.length);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        let s = 0;
        for (let dy = -r; dy <= r; dy++) {
          for (let dx = -r; dx <= r; dx++) {
            const yy = Math.min(height - 1, Math.max(0, y + dy));
            const xx = Math.min(width - 1, Math.max(0, x + dx));
            s += data[(yy * width + xx) * channels + c];
          }
        }
        out[(y * width + x) * channels + c] = s / (2 * r + 1) ** 2;
      }
    }
  }
  return createImage(width, height, channels, out);
}
