/**
 * Worker-thread parallelism for pure, synchronous image functions: the image
 * is cut into tiles (or bands) with context, each worker imports the function's
 * module and runs it on one tile, and the cores are stitched back. Node-only:
 * worker_threads is imported lazily, so browser bundles never reach it and the
 * function falls back to running in the calling thread.
 *
 * The workers are kept between calls (a persistent pool): started lazily on the
 * first call that needs them, reused by later calls (their imported modules and
 * compiled code stay warm), unref'd while idle so they never keep the process
 * alive, replaced when one crashes, and stopped by `disposePool()`.
 */
import { availableParallelism } from 'node:os';
import type { Worker as WorkerType } from 'node:worker_threads';
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
  /**
   * number of full-width bands when `tileSize` is not given (default 2 per thread, at most
   * one per 2 * overlap + 16 rows); one per thread suits functions with a large overlap
   */
  bands?: number;
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

interface WorkerReply {
  id: number;
  data?: Float32Array;
  error?: { message: string; code?: string; name?: string };
}

/** One pooled worker: `run` posts a task and settles with its reply, or with the worker's crash. */
class PooledWorker {
  busy = false;
  dead = false;
  private pending: { id: number; resolve: (data: Float32Array) => void; reject: (e: Error) => void } | undefined;
  private nextId = 0;

  constructor(readonly worker: WorkerType) {
    worker.on('message', (msg: WorkerReply) => {
      const p = this.pending;
      if (!p || msg.id !== p.id) return;
      this.pending = undefined;
      if (msg.error) {
        const { code, message } = msg.error;
        p.reject((ERROR_CODES as readonly string[]).includes(code ?? '') ? new HushError(code as ErrorCode, message) : new Error(message));
      } else p.resolve(msg.data as Float32Array);
    });
    worker.on('error', (e: Error) => this.fail(e));
    worker.on('exit', (code: number) => this.fail(new Error(`pool: worker thread exited (code ${code}) while running a tile`)));
    worker.unref();
  }

  /** Whether a task has been posted and not answered. */
  get running(): boolean {
    return this.pending !== undefined;
  }

  /** Marks the worker dead, takes it out of the pool and rejects its task, if any. */
  fail(e: Error): void {
    this.dead = true;
    removeWorker(this);
    const p = this.pending;
    this.pending = undefined;
    p?.reject(e);
  }

  run(task: TileTask, tile: Image): Promise<Float32Array> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.dead) {
        reject(new Error('pool: worker thread has stopped'));
        return;
      }
      this.pending = { id, resolve, reject };
      this.worker.postMessage({ id, moduleUrl: task.moduleUrl, exportName: task.exportName, options: task.options, image: tile }, [
        tile.data.buffer as ArrayBuffer,
      ]);
    });
  }
}

/** Idle and busy workers of the process-wide pool. */
const pool: PooledWorker[] = [];

function removeWorker(w: PooledWorker): void {
  const i = pool.indexOf(w);
  if (i >= 0) pool.splice(i, 1);
}

/** Takes `count` idle workers (starting new ones where too few are idle) and marks them busy, ref'd. */
async function acquire(count: number): Promise<PooledWorker[]> {
  const got: PooledWorker[] = [];
  for (const w of pool) {
    if (got.length === count) break;
    if (!w.busy && !w.dead) {
      w.busy = true;
      got.push(w);
    }
  }
  if (got.length < count) {
    const { Worker } = await import('node:worker_threads');
    const workerUrl = new URL('./pool-worker.js', import.meta.url);
    while (got.length < count) {
      const w = new PooledWorker(new Worker(workerUrl));
      pool.push(w);
      got.push(w);
    }
  }
  for (const w of got) {
    w.busy = true;
    w.worker.ref();
  }
  return got;
}

/** Returns workers to the pool (unref'd); beyond `keep` idle workers, the extra ones are stopped. */
function release(workers: PooledWorker[], keep: number): void {
  for (const w of workers) {
    w.busy = false;
    if (w.dead) continue;
    w.worker.unref();
  }
  let idle = pool.filter((w) => !w.busy && !w.dead);
  while (idle.length > keep) {
    const w = idle.pop() as PooledWorker;
    stopWorker(w);
    idle = pool.filter((x) => !x.busy && !x.dead);
  }
}

/** Terminates a worker; a task it was running fails with `reason`. */
function stopWorker(w: PooledWorker, reason = 'pool: worker thread stopped while running a tile'): Promise<number> {
  w.worker.removeAllListeners('exit');
  w.worker.removeAllListeners('error');
  w.worker.on('error', () => undefined);
  w.fail(new Error(reason));
  return w.worker.terminate();
}

/** Number of worker threads the pool holds now (idle or busy); for tests and diagnostics. */
export function poolSize(): number {
  return pool.length;
}

/**
 * Stops every pooled worker thread (tests, clean shutdown). Calls running at that moment
 * fail; later calls start fresh workers.
 */
export async function disposePool(): Promise<void> {
  await Promise.all(pool.slice().map((w) => stopWorker(w, 'pool: disposed while running a tile')));
}

/** One call of a tile function on a worker: `task.exportName(image, task.options)`. */
export interface PoolJob {
  task: TileTask;
  /** the input; its data buffer is transferred to the worker (not copied) */
  image: Image;
}

/**
 * Runs each job's function on a pooled worker thread (at most `threads` at once, in order
 * of the list) and resolves with the `data` of each result, in the order of `jobs`. For
 * callers that cut their own bands (each with its own options) instead of runTiled's
 * tiles. With `threads` 1 the jobs run in the calling thread.
 */
export async function runJobs(jobs: PoolJob[], threads: number, onDone?: (index: number) => void): Promise<Float32Array[]> {
  const results: Float32Array[] = new Array(jobs.length);
  const n = Math.max(1, Math.min(Math.floor(threads), jobs.length));
  if (n === 1) {
    for (let i = 0; i < jobs.length; i++) {
      const { task, image } = jobs[i];
      const mod = (await import(task.moduleUrl)) as Record<string, TileFn>;
      results[i] = mod[task.exportName](image, task.options).data;
      onDone?.(i);
    }
    return results;
  }
  const workers = await acquire(n);
  let next = 0;
  let failed = false;
  try {
    await Promise.all(
      workers.map(async (w) => {
        while (!failed && next < jobs.length) {
          const i = next++;
          results[i] = await w.run(jobs[i].task, jobs[i].image);
          onDone?.(i);
        }
      }),
    );
  } catch (e) {
    failed = true;
    await Promise.all(workers.filter((w) => !w.dead && w.running).map((w) => stopWorker(w)));
    throw e;
  } finally {
    release(workers, Math.max(defaultThreads(), n));
  }
  return results;
}

/** Runs `task` over tiles of `image` on worker threads and stitches the result. */
export async function runTiled(image: Image, task: TileTask, options: ParallelOptions): Promise<Image> {
  const threads = Math.max(1, Math.floor(options.threads ?? defaultThreads()));
  const minRows = 2 * options.overlap + 16;
  const bands = Math.max(1, Math.floor(options.bands ?? threads * 2));
  const tiles: Tile[] = options.tileSize
    ? planTiles(image.width, image.height, options.tileSize, options.overlap)
    : planBands(image.width, image.height, Math.min(bands, Math.max(1, Math.floor(image.height / minRows))), options.overlap);
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
  const out = withData(image, new Float32Array(image.data.length));
  const nWorkers = Math.min(threads, tiles.length);
  const workers = await acquire(nWorkers);
  let next = 0;
  let done = 0;
  let failed = false;
  try {
    await Promise.all(
      workers.map(async (w) => {
        while (!failed && next < tiles.length) {
          const idx = next++;
          const t = tiles[idx];
          const data = await w.run(task, cropImage(image, t.cx0, t.cy0, t.cx1, t.cy1));
          pasteTileCore(out, t, data);
          options.onProgress?.(++done / tiles.length);
        }
      }),
    );
  } catch (e) {
    failed = true;
    // workers still running a tile of this call are stopped rather than waited for
    await Promise.all(workers.filter((w) => !w.dead && w.running).map((w) => stopWorker(w)));
    throw e;
  } finally {
    release(workers, Math.max(defaultThreads(), nWorkers));
  }
  return out;
}
