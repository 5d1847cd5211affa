/**
 * Worker-thread parallelism for pure, synchronous image functions: the image
 * is cut into tiles (or bands) with context, each worker imports the function's
 * module and runs it on one tile, and the cores are stitched back. Node-only:
 * worker_threads is imported lazily, so browser bundles never reach it and the
 * function falls back to running in the calling thread.
 */
import { availableParallelism } from 'node:os';
import type { Image } from './image.js';
import { withData } from './image.js';
import { ERROR_CODES, HushError, type ErrorCode } from './errors.js';
import { cropImage, pasteTileCore, planBands, planTiles, type Tile } from './tiling.js';

export interface ParallelOptions {
  /** worker threads (default: the number of cores); 1 runs in the calling thread */
  threads?: number;
  /** pixels of context each tile needs on every side so that its core equals the untiled result */
  overlap: number;
  /** tile side (default: bands, one or a few per thread) */
  tileSize?: number;
  /** called with the fraction done, 0..1 */
  onProgress?: (fraction: number) => void;
}

export interface TileTask {
  /** file URL of an ES module (use import.meta.url of the module that exports `exportName`) */
  moduleUrl: string;
  /** name of an exported function `(image: Image, options) => Image` */
  exportName: string;
  /** plain-data options (structured-cloneable) */
  options: unknown;
}

export function defaultThreads(): number {
  const env = Number(process.env.HUSH_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(1, availableParallelism());
}

type TileFn = (image: Image, options: unknown) => Image;

/** Runs `task` over tiles of `image` on worker threads and stitches the result. */
export async function runTiled(image: Image, task: TileTask, options: ParallelOptions): Promise<Image> {
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  const minRows = 2 * options.overlap + 16;
  const tiles: Tile[] = options.tileSize
    ? planTiles(image.width, image.height, options.tileSize, options.overlap)
    : planBands(image.width, image.height, Math.min(threads * 2, Math.max(1, Math.floor(image.height / minRows))), options.overlap);
  if (threads === 1 || tiles.length === 1) {
    const mod = (await import(task.moduleUrl)) as Record<string, TileFn>;
    const fn = mod[task.exportName];
    if (tiles.length === 1) {
      const r = fn(image, task.options);
      options.onProgress?.(1);
      return r;
    }
    const out = withData(image, new Float32Array(image.data.length));
    let done = 0;
    for (const t of tiles) {
      const r = fn(cropImage(image, t.cx0, t.cy0, t.cx1, t.cy1), task.options);
      pasteTileCore(out, t, r.data);
      options.onProgress?.(++done / tiles.length);
    }
    return out;
  }
  const { Worker } = await import('node:worker_threads');
  const out = withData(image, new Float32Array(image.data.length));
  const workerUrl = new URL('./pool-worker.js', import.meta.url);
  const nWorkers = Math.min(threads, tiles.length);
  let next = 0;
  let done = 0;
  const workers = Array.from({ length: nWorkers }, () => new Worker(workerUrl));
  try {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve, reject) => {
            const feed = (): void => {
              if (next >= tiles.length) {
                resolve();
                return;
              }
              const idx = next++;
              const t = tiles[idx];
              const tile = cropImage(image, t.cx0, t.cy0, t.cx1, t.cy1);
              w.postMessage(
                { id: idx, moduleUrl: task.moduleUrl, exportName: task.exportName, options: task.options, image: tile },
                [tile.data.buffer as ArrayBuffer],
              );
            };
            w.on('message', (msg: { id: number; data?: Float32Array; error?: { message: string; code?: string; name?: string } }) => {
              if (msg.error) {
                const { code, message } = msg.error;
                reject((ERROR_CODES as readonly string[]).includes(code ?? '') ? new HushError(code as ErrorCode, message) : new Error(message));
                return;
              }
              pasteTileCore(out, tiles[msg.id], msg.data as Float32Array);
              options.onProgress?.(++done / tiles.length);
              feed();
            });
            w.on('error', reject);
            feed();
          }),
      ),
    );
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return out;
}
