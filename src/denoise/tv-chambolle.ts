/**
 * Total-variation denoising by Chambolle's projection algorithm ("An algorithm for
 * total variation minimization and applications", J. Math. Imaging and Vision 20,
 * 89-97, 2004), minimising the Rudin-Osher-Fatemi energy (Physica D 60, 1992). It
 * reproduces scikit-image 0.19 `denoise_tv_chambolle(image, weight, eps,
 * max_num_iter, channel_axis=-1)` iteration for iteration: the same dual update with
 * tau = 1/4, the same energy and stopping rule (stop when |E_prev - E| < eps * E_0,
 * E = (sum d^2 + weight * sum |grad|) / pixels), every colour channel on its own.
 * The arithmetic per sample is scikit-image's on float32 input, term by term in float32
 * (tv-simd.ts: WebAssembly SIMD, or the same operations in JavaScript where SIMD is
 * missing, bit for bit), so outputs equal scikit-image's float32 outputs where the
 * stopping iteration is the same (measured on Set12: equal), and its float64 outputs to
 * float32 round-off. Only the
 * energy's sums are added in another order (float32 lanes per row, rows in float64;
 * numpy sums pairwise), which could move the stopping iteration in a near tie.
 *
 * The iteration is global, so it is not split into independent tiles: `denoise` runs
 * it on worker threads that share the arrays and meet at a barrier twice per
 * iteration, giving the same result as one thread, bit for bit. Only planes over
 * TV_EXACT_MAX_PIXELS are cut into overlapping tiles, to bound memory.
 */
import { checkImage, colourChannels, createImage, withData, type Image } from '../core/image.js';
import { resolveParams, type ParamSpec } from '../core/params.js';
import { checkObject } from '../core/validate.js';
import { defaultThreads, runTiled } from '../core/pool.js';
import { HushError, ERROR_CODES, invalidParameter, type ErrorCode } from '../core/errors.js';
import { assembleColour, filledColour, missingSamples } from './filters.js';
import type { DenoiseContext, DenoiserInfo, ParameterGrid } from './types.js';
import { KeptMemory, newMemory, WASM_PAGE, type WasmMemory } from '../core/wasm-asm.js';
import { TV_TAU, tvJsKernels, tvModule, tvSimdAvailable, tvSimdKernels, type TvRowKernels } from './tv-simd.js';

export interface DenoiseTvChambolleOptions {
  /** denoising weight on the image's value scale: larger is smoother (scikit-image's `weight`) */
  weight: number;
  /** stop when the energy changes by less than eps times the initial energy (default 2e-4) */
  eps?: number;
  /** most iterations (default 200) */
  maxIterations?: number;
}

export const TV_CHAMBOLLE_PARAMS: readonly ParamSpec[] = [
  {
    name: 'weight',
    type: 'number',
    above: 0,
    // the eps stopping rule makes the result jump with the weight: Set12 03 at sigma 50
    // gives 25.07 dB at weight 0.187 and 24.25 at 0.189 (25.06 / 25.04 with 200 fixed iterations)
    stepwise: true,
    description:
      'Denoising weight (scikit-image `weight`), on the image value scale: larger removes more noise and more detail. Around the noise sigma is a good start.',
  },
  {
    name: 'eps',
    type: 'number',
    min: 0,
    default: 2e-4,
    description: 'Stopping tolerance: iterations stop when the energy changes by less than eps times the initial energy.',
  },
  { name: 'maxIterations', type: 'number', integer: true, min: 1, max: 100000, default: 200, description: 'Most iterations (scikit-image `max_num_iter`).' },
];

/** Planes larger than this (pixels) are denoised by `denoise` in overlapping tiles, to bound memory (32 bytes per pixel of working arrays otherwise). */
export const TV_EXACT_MAX_PIXELS = 1 << 24;
/** Tile side and overlap used above TV_EXACT_MAX_PIXELS. */
export const TV_TILE_SIZE = 2048;
export const TV_TILE_OVERLAP = 48;
/**
 * Planes smaller than this run in the calling thread: with the SIMD kernels a 2 MP plane
 * takes about 0.15 s on one core, and on the shared 2-core machine the workers' start
 * and their barriers (two per iteration) cost more than the second core saved up to
 * about 8 MP (docs/denoisers-tv-wavelet.md).
 */
export const TV_WORKER_MIN_PIXELS = 1 << 23;

interface TvParams {
  weight: number;
  eps: number;
  maxIterations: number;
}

function resolveTv(fn: string, options: unknown): TvParams {
  const o = resolveParams(fn, TV_CHAMBOLLE_PARAMS, checkObject(fn, 'options', options));
  if (o.weight === undefined) throw invalidParameter(fn, 'options.weight', 'a finite number above 0', undefined);
  return o as unknown as TvParams;
}

/**
 * Where the working arrays of one plane lie in a heap (byte offsets, 16-byte
 * aligned): `img` the input f, `out` the estimate u = f + div p, (p0, p1) the dual
 * field along axes 0 and 1, all float32, with a row of zeros before p0 and a zero
 * before p1 (tv-simd.ts); `rows` the per-row sums of d^2 and |grad u| (float64, 4 x
 * height: sums of d^2 then of |grad u|, each in two halves by iteration parity, so
 * a worker that has moved on to the next iteration never overwrites sums another
 * worker is still reading). The energy adds them in row order, so any split into
 * bands gives the same energy.
 */
export interface TvLayout {
  width: number;
  height: number;
  img: number;
  out: number;
  /** the zeroed region: the zeros before p0, p0, the zero before p1, p1 */
  zeroFrom: number;
  p0: number;
  p1: number;
  rows: number;
  bytes: number;
}

const align16 = (b: number): number => Math.ceil(b / 16) * 16;

export function tvLayout(width: number, height: number): TvLayout {
  const plane = align16(4 * width * height);
  const img = 0;
  const out = img + plane;
  const zeroFrom = out + plane;
  const p0 = zeroFrom + align16(4 * width);
  const p1 = p0 + plane + 16;
  const rows = p1 + plane;
  return { width, height, img, out, zeroFrom, p0, p1, rows, bytes: rows + 32 * height };
}

/** A plane's working arrays on a heap, and the kernels that update them. */
interface TvState {
  L: TvLayout;
  heap: Float32Array;
  /** 4 x height: [sum d^2 | parity 0, parity 1][sum |grad u| | parity 0, parity 1] */
  rows: Float64Array;
  k: TvRowKernels;
}

function stateOn(L: TvLayout, buffer: ArrayBufferLike, k: TvRowKernels | undefined): TvState {
  const heap = new Float32Array(buffer, 0, L.bytes >> 2);
  return { L, heap, rows: new Float64Array(buffer, L.rows, 4 * L.height), k: k ?? tvJsKernels(heap) };
}

/** Zeroes the dual field (and the zeros around it) for a new plane. */
function resetDual(s: TvState): void {
  s.heap.fill(0, s.L.zeroFrom >> 2, s.L.rows >> 2);
}

/** u = f + div p on row y, with sum d^2 into the row sums of parity `par`. */
function outRow(s: TvState, y: number, par: number): void {
  const { width: W, height: H, img, out, p0, p1 } = s.L;
  const o = 4 * y * W;
  s.rows[par * H + y] = s.k.out(img + o, out + o, p0 + o, p1 + o, W);
}

/** Dual update on row y from the gradient of u (needs u on rows y and y+1), with sum |grad u| into the row sums. */
function dualRow(s: TvState, y: number, k: number, par: number): void {
  const { width: W, height: H, out, p0, p1 } = s.L;
  const o = 4 * y * W;
  const below = y < H - 1 ? o + 4 * W : o;
  s.rows[(2 + par) * H + y] = s.k.dual(out + o, out + below, p0 + o, p1 + o, W, k);
}

/** Energy after an iteration, from the row sums in row order. */
function energy(s: TvState, weight: number, par: number): number {
  const H = s.L.height;
  let sd = 0;
  let sn = 0;
  for (let y = par * H; y < (par + 1) * H; y++) sd += s.rows[y];
  for (let y = (2 + par) * H; y < (3 + par) * H; y++) sn += s.rows[y];
  return (sd + weight * sn) / (s.L.width * H);
}

/** One sweep over rows y0..y1-1: u on every row, and the dual update on every row but the last. */
function sweep(s: TvState, y0: number, y1: number, k: number, par: number): void {
  outRow(s, y0, par);
  for (let y = y0; y < y1 - 1; y++) {
    outRow(s, y + 1, par);
    dualRow(s, y, k, par);
  }
}

/**
 * Chambolle's iteration on rows y0..y1-1 of a plane (img set, p zero), with
 * `meet` called where the bands of other workers must have caught up (a no-op for a
 * single band). Returns the iterations run; u is left in `out`. On the first
 * iteration p = 0, so u = f and d = 0, as scikit-image's first iteration.
 */
function iterate(s: TvState, p: TvParams, y0: number, y1: number, meet: () => void): number {
  // scikit-image multiplies the float32 norm by the Python float tau / weight, which numpy casts to float32
  const k = Math.fround(TV_TAU / p.weight);
  let eInit = 0;
  let ePrev = 0;
  for (let i = 0; i < p.maxIterations; i++) {
    const par = i & 1;
    sweep(s, y0, y1, k, par);
    meet();
    dualRow(s, y1 - 1, k, par);
    meet();
    const e = energy(s, p.weight, par);
    if (i === 0) {
      eInit = e;
      ePrev = e;
      // a flat plane: the gradient is 0 everywhere, p stays 0 and u = image for ever
      if (e === 0) return 1;
    } else if (Math.abs(ePrev - e) < p.eps * eInit) {
      return i + 1;
    } else ePrev = e;
  }
  return p.maxIterations;
}

/** Memory of the single-thread path, kept between calls (fresh pages are slow on small VMs). */
const keptTv = new KeptMemory();
let keptTvKernels: { memory: WasmMemory; k: TvRowKernels | undefined } | undefined;

/** A heap for one plane in the calling thread: the kept WebAssembly memory with the SIMD kernels, or an ArrayBuffer and the JavaScript ones. */
function localState(L: TvLayout): TvState {
  if (!tvSimdAvailable()) return stateOn(L, new ArrayBuffer(L.bytes), undefined);
  const { memory } = keptTv.take(L.bytes);
  if (!keptTvKernels || keptTvKernels.memory !== memory) keptTvKernels = { memory, k: tvSimdKernels(memory, false) };
  return stateOn(L, memory.buffer, keptTvKernels.k);
}

const alone = (): void => {};

/**
 * The colour planes of an image one at a time, missing samples (mask, NaN, infinity)
 * filled from their neighbours (filters.ts's fill), and the output image built plane by
 * plane: alpha and missing samples keep their input values. Shared with wavelet.ts.
 */
export interface ColourPlanes {
  nc: 1 | 3;
  /** pixels per plane */
  n: number;
  missing: Uint8Array | undefined;
  /** colour plane c into `into` (float64, row-major) */
  read(c: number, into: Float32Array | Float64Array): void;
  /** sets colour plane c of the output (missing samples are skipped) */
  write(c: number, plane: ArrayLike<number>): void;
  /** the filled (or original) samples, colour channel c of pixel q at data[q * stride + c] */
  source: { data: ArrayLike<number>; stride: number };
  /** sets every colour plane of the output in one pass over the pixels */
  writeAll(planes: ArrayLike<number>[]): void;
  /** the output image: the input's metadata and alpha, the written planes */
  result(): Image;
}

export function colourPlanes(image: Image): ColourPlanes {
  const { data, channels } = image;
  const missing = missingSamples(image);
  const nc = colourChannels(image);
  const n = image.width * image.height;
  // the fill needs all channels at once; without missing samples the planes are read in place
  const filled = missing ? filledColour(image, missing) : undefined;
  const out = data.slice();
  return {
    nc,
    n,
    missing,
    read(c, into) {
      if (filled) for (let q = 0, i = c; q < n; q++, i += nc) into[q] = filled[i];
      else if (channels === 1) into.set(data);
      else for (let q = 0, i = c; q < n; q++, i += channels) into[q] = data[i];
    },
    write(c, plane) {
      if (missing) {
        for (let q = 0, i = c; q < n; q++, i += channels) if (!missing[i]) out[i] = plane[q];
      } else if (channels === 1) out.set(plane);
      else for (let q = 0, i = c; q < n; q++, i += channels) out[i] = plane[q];
    },
    source: filled ? { data: filled, stride: nc } : { data, stride: channels },
    writeAll(planes) {
      if (!missing && planes.length === 3) {
        const [p0, p1, p2] = planes;
        for (let q = 0, i = 0; q < n; q++, i += channels) {
          out[i] = p0[q];
          out[i + 1] = p1[q];
          out[i + 2] = p2[q];
        }
        return;
      }
      for (let q = 0, i = 0; q < n; q++, i += channels) {
        for (let c = 0; c < planes.length; c++) if (!missing || !missing[i + c]) out[i + c] = planes[c][q];
      }
    },
    result: () => withData(image, out),
  };
}

/**
 * Total-variation denoising (Chambolle), scikit-image's `denoise_tv_chambolle` with
 * `channel_axis=-1`: each colour channel separately, alpha untouched, missing samples
 * (mask, NaN) filled from their neighbours first and restored after.
 */
export function denoiseTvChambolle(image: Image, options: DenoiseTvChambolleOptions): Image {
  const fn = 'denoiseTvChambolle';
  checkImage(fn, image);
  const p = resolveTv(fn, options);
  const cp = colourPlanes(image);
  const L = tvLayout(image.width, image.height);
  const s = localState(L);
  const n = image.width * image.height;
  for (let c = 0; c < cp.nc; c++) {
    cp.read(c, s.heap.subarray(L.img >> 2, (L.img >> 2) + n));
    resetDual(s);
    iterate(s, p, 0, image.height, alone);
    cp.write(c, s.heap.subarray(L.out >> 2, (L.out >> 2) + n));
  }
  return cp.result();
}

// ---------------------------------------------------------------------------
// Worker threads sharing one plane.

/** Options of tvChambolleBandTask: the shared arrays and this worker's rows. */
interface BandTaskOptions {
  layout: TvLayout;
  /** the shared heap: a shared WebAssembly memory (SIMD kernels) or a SharedArrayBuffer (JavaScript kernels) */
  memory?: WasmMemory;
  buffer?: SharedArrayBuffer;
  /** Int32Array: [arrived, generation, failed, iterations] */
  control: SharedArrayBuffer;
  y0: number;
  y1: number;
  parties: number;
  params: TvParams;
}

/** Waits until `parties` workers have arrived (a generation-counting barrier on shared memory). */
function barrier(control: Int32Array, parties: number): void {
  const generation = Atomics.load(control, 1);
  if (Atomics.add(control, 0, 1) === parties - 1) {
    Atomics.store(control, 0, 0);
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
    return;
  }
  while (Atomics.load(control, 1) === generation) Atomics.wait(control, 1, generation, 100);
  if (Atomics.load(control, 2) !== 0) throw new Error('tv-chambolle: another worker failed');
}

/**
 * Worker side: rows y0..y1-1 of a plane held in shared memory. Each iteration sweeps
 * the band (u, then the dual update of all its rows but the last), meets the other
 * bands, updates its last row (which needs the next band's first row of u), meets
 * them again, and then every worker reads the same row sums and takes the same
 * stopping decision. Runs through core/pool-worker.js, whose tasks have the shape
 * (image, options) => image; the image is unused.
 */
export function tvChambolleBandTask(_image: Image, options: BandTaskOptions): Image {
  const { layout, memory, y0, y1, parties, params } = options;
  const control = new Int32Array(options.control);
  try {
    // both kernels give the same bits, so a worker without SIMD may join the others
    const s = memory ? stateOn(layout, memory.buffer, tvSimdKernels(memory, true)) : stateOn(layout, options.buffer as SharedArrayBuffer, undefined);
    const iterations = iterate(s, params, y0, y1, () => barrier(control, parties));
    if (y0 === 0) Atomics.store(control, 3, iterations);
  } catch (e) {
    // release the others from the barrier, so they fail too instead of waiting for ever
    Atomics.store(control, 2, 1);
    Atomics.add(control, 1, 1);
    Atomics.notify(control, 1);
    throw e;
  }
  return createImage(1, 1, 1);
}

/** A few long-lived workers of core/pool-worker.js, each given one task at a time. */
export interface WorkerGroup {
  readonly size: number;
  /** runs `exportName` of `moduleUrl` on worker `index`; resolves with the typed array the task returned as `.data` */
  call(index: number, moduleUrl: string, exportName: string, options: unknown): Promise<ArrayBufferView>;
}

/**
 * Starts `count` workers running core/pool-worker.js (which imports a module and runs
 * one of its `(image, options) => image` exports per message), hands them to `body`,
 * and terminates them when it settles. Node only: worker_threads is imported lazily.
 */
export async function withWorkerGroup<T>(count: number, body: (group: WorkerGroup) => Promise<T>): Promise<T> {
  const { Worker } = await import('node:worker_threads');
  const workerUrl = new URL('../core/pool-worker.js', import.meta.url);
  const workers = Array.from({ length: count }, () => new Worker(workerUrl));
  let nextId = 0;
  const dummy = createImage(1, 1, 1);
  const group: WorkerGroup = {
    size: count,
    call(index, moduleUrl, exportName, options) {
      const w = workers[index];
      const id = nextId++;
      return new Promise((resolve, reject) => {
        const onMessage = (msg: { id: number; data?: ArrayBufferView; error?: { message: string; code?: string } }): void => {
          if (msg.id !== id) return;
          cleanup();
          if (msg.error) {
            const { code, message } = msg.error;
            reject((ERROR_CODES as readonly string[]).includes(code ?? '') ? new HushError(code as ErrorCode, message) : new Error(message));
          } else resolve(msg.data as ArrayBufferView);
        };
        const onError = (e: Error): void => {
          cleanup();
          reject(e);
        };
        // a worker that stops without an 'error' would otherwise leave this call waiting for ever
        const onExit = (code: number): void => onError(new Error(`tv-chambolle: a worker thread exited (code ${code}) during the iteration`));
        const cleanup = (): void => {
          w.off('message', onMessage);
          w.off('error', onError);
          w.off('exit', onExit);
        };
        w.on('message', onMessage);
        w.on('error', onError);
        w.on('exit', onExit);
        w.postMessage({ id, moduleUrl, exportName, options, image: { ...dummy, data: new Float32Array(1) } });
      });
    },
  };
  try {
    return await body(group);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/** A shared memory kept between threaded calls (up to 256 MiB), and whether a call is using it. */
let keptShared: { memory: WasmMemory; bytes: number; busy: boolean } | undefined;

function takeSharedMemory(bytes: number): WasmMemory {
  const pages = Math.ceil(bytes / WASM_PAGE);
  if (keptShared && !keptShared.busy && keptShared.bytes >= bytes) {
    keptShared.busy = true;
    return keptShared.memory;
  }
  const memory = newMemory(pages, true);
  if (bytes <= 256 * 2 ** 20 && !keptShared?.busy) keptShared = { memory, bytes: pages * WASM_PAGE, busy: true };
  return memory;
}

function releaseSharedMemory(memory: WasmMemory | undefined): void {
  if (keptShared && keptShared.memory === memory) keptShared.busy = false;
}

/** Same result as denoiseTvChambolle, bit for bit, with each plane's iteration shared by `threads` workers. */
async function denoiseTvShared(image: Image, p: TvParams, threads: number, onProgress?: (f: number) => void): Promise<Image> {
  const { width, height } = image;
  const n = width * height;
  const parties = Math.max(1, Math.min(threads, height));
  const cp = colourPlanes(image);
  const L = tvLayout(width, height);
  const simd = tvSimdAvailable() && tvModule(true) !== null;
  const memory = simd ? takeSharedMemory(L.bytes) : undefined;
  const buffer = memory ? undefined : new SharedArrayBuffer(L.bytes);
  const s = stateOn(L, memory ? memory.buffer : (buffer as SharedArrayBuffer), undefined);
  const control = new SharedArrayBuffer(16);
  await withWorkerGroup(parties, async (group) => {
    for (let c = 0; c < cp.nc; c++) {
      cp.read(c, s.heap.subarray(L.img >> 2, (L.img >> 2) + n));
      resetDual(s);
      new Int32Array(control).fill(0);
      await Promise.all(
        Array.from({ length: parties }, (_, b) => {
          const y0 = Math.floor((b * height) / parties);
          const y1 = Math.floor(((b + 1) * height) / parties);
          const options: BandTaskOptions = { layout: L, memory, buffer, control, y0, y1, parties, params: p };
          return group.call(b, import.meta.url, 'tvChambolleBandTask', options);
        }),
      );
      cp.write(c, s.heap.subarray(L.out >> 2, (L.out >> 2) + n));
      onProgress?.((c + 1) / cp.nc);
    }
  }).finally(() => releaseSharedMemory(memory));
  return cp.result();
}

/**
 * TV on overlapping tiles, each iterated (and stopped) on its own, stitched from the
 * tile cores on worker threads: memory is bounded by the tile size, and the result
 * differs slightly from the global iteration (docs/denoisers-tv-wavelet.md gives the
 * measured difference). `denoise` uses it for planes over TV_EXACT_MAX_PIXELS;
 * exported so tests can run it on small images.
 */
export async function denoiseTvChambolleTiled(
  image: Image,
  options: DenoiseTvChambolleOptions,
  tiling: { tileSize?: number; overlap?: number; threads?: number; onProgress?: (f: number) => void } = {},
): Promise<Image> {
  const fn = 'denoiseTvChambolle';
  checkImage(fn, image);
  const p = resolveTv(fn, options);
  const missing = missingSamples(image);
  // fill once on the whole image (a fill is not local), tile the filled image, restore after
  const filled = assembleColour({ ...image, mask: undefined, exact: undefined }, filledColour(image, missing), undefined);
  const r = await runTiled(
    filled,
    { moduleUrl: import.meta.url, exportName: 'denoiseTvChambolle', options: p },
    { threads: tiling.threads, tileSize: tiling.tileSize ?? TV_TILE_SIZE, overlap: tiling.overlap ?? TV_TILE_OVERLAP, onProgress: tiling.onProgress },
  );
  const out = r.data;
  if (missing) for (let i = 0; i < out.length; i++) if (missing[i]) out[i] = image.data[i];
  return withData(image, out);
}

/** The registry entry's `denoise`; `minPixels` (default TV_WORKER_MIN_PIXELS) is there for tests. */
export async function denoiseTvChambolleParallel(image: Image, options: Record<string, unknown>, context: DenoiseContext & { minPixels?: number } = {}): Promise<Image> {
  const fn = 'denoiseTvChambolle';
  checkImage(fn, image);
  const p = resolveTv(fn, options);
  const pixels = image.width * image.height;
  const threads = Math.max(1, Math.floor(context.threads ?? defaultThreads()));
  if (pixels > TV_EXACT_MAX_PIXELS) return denoiseTvChambolleTiled(image, p, { threads, onProgress: context.onProgress });
  if (threads === 1 || pixels < (context.minPixels ?? TV_WORKER_MIN_PIXELS) || image.height < 2) {
    const r = denoiseTvChambolle(image, p);
    context.onProgress?.(1);
    return r;
  }
  return denoiseTvShared(image, p, threads, context.onProgress);
}

/** Weights spanning about 0.5 to 3 noise sigmas: TV's best weight sits near sigma for natural images. */
function tvGrid(sigma: number): ParameterGrid {
  const s = Number.isFinite(sigma) && sigma > 0 ? sigma : 1e-3;
  return { weight: [0.5, 0.7, 1, 1.4, 2, 3].map((m) => Number((m * s).toPrecision(6))) };
}

export const TV_CHAMBOLLE_DENOISER: DenoiserInfo = {
  id: 'tv-chambolle',
  summary: "Total-variation denoising (Chambolle's projection algorithm), scikit-image's denoise_tv_chambolle.",
  params: TV_CHAMBOLLE_PARAMS,
  usesSigma: false,
  calibrationGrid: tvGrid,
  denoise: denoiseTvChambolleParallel,
};
