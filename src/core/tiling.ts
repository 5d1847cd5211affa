/**
 * Tiles with overlap for denoisers whose output at a pixel depends only on a
 * bounded neighbourhood (its "reach"): each tile is processed with `overlap`
 * extra pixels of context on every side, and only its core is kept, so the
 * stitched result equals the untiled one wherever reach <= overlap.
 */
import { createImage, type Image } from './image.js';

export interface Tile {
  /** core region, kept in the output */
  x0: number;
  y0: number;
  x1: number;
  y1: number;
  /** region with context, given to the denoiser */
  cx0: number;
  cy0: number;
  cx1: number;
  cy1: number;
}

export function planTiles(width: number, height: number, tileSize: number, overlap: number): Tile[] {
  const tiles: Tile[] = [];
  const ts = Math.max(1, Math.floor(tileSize));
  for (let y0 = 0; y0 < height; y0 += ts) {
    for (let x0 = 0; x0 < width; x0 += ts) {
      const x1 = Math.min(width, x0 + ts);
      const y1 = Math.min(height, y0 + ts);
      tiles.push({
        x0,
        y0,
        x1,
        y1,
        cx0: Math.max(0, x0 - overlap),
        cy0: Math.max(0, y0 - overlap),
        cx1: Math.min(width, x1 + overlap),
        cy1: Math.min(height, y1 + overlap),
      });
    }
  }
  return tiles;
}

/** Band plan: full-width horizontal bands, the cheapest split for row-major data. */
export function planBands(width: number, height: number, bands: number, overlap: number): Tile[] {
  const n = Math.max(1, Math.min(bands, height));
  const tiles: Tile[] = [];
  for (let k = 0; k < n; k++) {
    const y0 = Math.floor((k * height) / n);
    const y1 = Math.floor(((k + 1) * height) / n);
    if (y1 <= y0) continue;
    tiles.push({ x0: 0, y0, x1: width, y1, cx0: 0, cy0: Math.max(0, y0 - overlap), cx1: width, cy1: Math.min(height, y1 + overlap) });
  }
  return tiles;
}

export function cropImage(image: Image, x0: number, y0: number, x1: number, y1: number): Image {
  const { channels, width, data } = image;
  const w = x1 - x0;
  const h = y1 - y0;
  const out = new Float32Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    const src = ((y0 + y) * width + x0) * channels;
    out.set(data.subarray(src, src + w * channels), y * w * channels);
  }
  let mask: Uint8Array | undefined;
  if (image.mask) {
    mask = new Uint8Array(w * h * channels);
    for (let y = 0; y < h; y++) {
      const src = ((y0 + y) * width + x0) * channels;
      mask.set(image.mask.subarray(src, src + w * channels), y * w * channels);
    }
  }
  return createImage(w, h, channels, out, { source: image.source, mask });
}

/** Copies the core of a processed tile (given with its context) into `out`. */
export function pasteTileCore(out: Image, tile: Tile, processed: Float32Array): void {
  const { channels, width } = out;
  const cw = tile.cx1 - tile.cx0;
  const w = tile.x1 - tile.x0;
  for (let y = tile.y0; y < tile.y1; y++) {
    const src = ((y - tile.cy0) * cw + (tile.x0 - tile.cx0)) * channels;
    out.data.set(processed.subarray(src, src + w * channels), (y * width + tile.x0) * channels);
  }
}
