/**
 * Total-variation denoising by Chambolle's projection algorithm ("An algorithm for
 * total variation minimization and applications", J. Math. Imaging and Vision 20,
 * 89-97, 2004), minimising the Rudin-Osher-Fatemi energy (Physica D 60, 1992). It
 * reproduces scikit-image 0.19 `denoise_tv_chambolle(image, weight, eps,
 * max_num_iter, channel_axis=-1)` iteration for iteration: the same dual update with
 * tau = 1/4, the same energy and stopping rule (stop when |E_prev - E| < eps * E_0,
 * E = (sum d^2 + weight * sum |grad|) / pixels), every colour channel on its own.
 * The arithmetic per sample is scikit-image's in float64, term by term, so outputs
 * equal its float64 outputs (only the order of the two energy sums differs, which
 * could move the stopping iteration in a near tie).
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
/** Planes smaller than this run in the calling thread: starting workers costs more than it saves. */
const TV_WORKER_MIN_PIXELS = 1 << 16;

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
 * The working arrays of one plane. `image` holds the input, `out` the current
 * estimate u = image + div p, (p0, p1) the dual field along axes 0 and 1, and
 * rowD/rowN the per-row sums of d^2 and |grad u| for the energy, summed over rows in
 * order, so any split into bands gives the same energy. The row sums alternate
 * between two halves by iteration parity, so a worker that has moved on to the next
 * iteration never overwrites sums another worker is still reading.
 */
interface TvState {
  width: number;
  height: number;
  image: Float64Array;
  out: Float64Array;
  p0: Float64Array;
  p1: Float64Array;
  /** 2 x height */
  rowD: Float64Array;
  rowN: Float64Array;
}

function makeState(width: number, height: number, alloc: (bytes: number) => ArrayBufferLike = (b) => new ArrayBuffer(b)): TvState {
  const n = width * height;
  const f = (len: number): Float64Array => new Float64Array(alloc(len * 8));
  return { width, height, image: f(n), out: f(n), p0: f(n), p1: f(n), rowD: f(2 * height), rowN: f(2 * height) };
}

/** u = image + div p on row y (d = 0 on the first iteration), with sum d^2 into the row sums of parity `par`. */
function outRow(s: TvState, y: number, first: boolean, par: number): void {
  const { width: W, image, out, p0, p1, rowD } = s;
  const i0 = y * W;
  const at = par * s.height + y;
  if (first) {
    for (let i = i0; i < i0 + W; i++) out[i] = image[i];
    rowD[at] = 0;
    return;
  }
  let sd = 0;
  // scikit-image: d = -p.sum(0); d[1:, :] += p[0][:-1, :]; d[:, 1:] += p[1][:, :-1]; out = image + d
  if (y > 0) {
    let d = -(p0[i0] + p1[i0]) + p0[i0 - W];
    out[i0] = image[i0] + d;
    sd += d * d;
    for (let i = i0 + 1; i < i0 + W; i++) {
      d = -(p0[i] + p1[i]) + p0[i - W] + p1[i - 1];
      out[i] = image[i] + d;
      sd += d * d;
    }
  } else {
    let d = -(p0[i0] + p1[i0]);
    out[i0] = image[i0] + d;
    sd += d * d;
    for (let i = i0 + 1; i < i0 + W; i++) {
      d = -(p0[i] + p1[i]) + p1[i - 1];
      out[i] = image[i] + d;
      sd += d * d;
    }
  }
  rowD[at] = sd;
}

/** Dual update on row y from the gradient of u (needs u on rows y and y+1), with sum |grad u| into the row sums. */
function dualRow(s: TvState, y: number, k: number, par: number): void {
  const { width: W, height: H, out, p0, p1, rowN } = s;
  const tau = 0.25;
  const i0 = y * W;
  const last = i0 + W - 1;
  let sn = 0;
  // scikit-image: g = diff(out) per axis (0 on the last row/column); norm = sqrt(sum g^2);
  // E += weight * sum(norm); norm = norm * (tau / weight) + 1; p = (p - tau * g) / norm.
  // The loops are split by border so the inner one has no branches (25% faster).
  if (y < H - 1) {
    for (let i = i0; i < last; i++) {
      const u = out[i];
      const g0 = out[i + W] - u;
      const g1 = out[i + 1] - u;
      const norm = Math.sqrt(g0 * g0 + g1 * g1);
      sn += norm;
      const den = norm * k + 1;
      p0[i] = (p0[i] - tau * g0) / den;
      p1[i] = (p1[i] - tau * g1) / den;
    }
    const g0 = out[last + W] - out[last];
    const norm = Math.sqrt(g0 * g0 + 0);
    sn += norm;
    const den = norm * k + 1;
    p0[last] = (p0[last] - tau * g0) / den;
    p1[last] = (p1[last] - tau * 0) / den;
  } else {
    for (let i = i0; i < last; i++) {
      const g1 = out[i + 1] - out[i];
      const norm = Math.sqrt(0 + g1 * g1);
      sn += norm;
      const den = norm * k + 1;
      p0[i] = (p0[i] - tau * 0) / den;
      p1[i] = (p1[i] - tau * g1) / den;
    }
    const den = 0 * k + 1;
    sn += 0;
    p0[last] = (p0[last] - tau * 0) / den;
    p1[last] = (p1[last] - tau * 0) / den;
  }
  rowN[par * H + y] = sn;
}

/** Energy after an iteration, from the row sums in row order. */
function energy(s: TvState, weight: number, par: number): number {
  const H = s.height;
  let sd = 0;
  let sn = 0;
  for (let y = par * H; y < (par + 1) * H; y++) sd += s.rowD[y];
  for (let y = par * H; y < (par + 1) * H; y++) sn += s.rowN[y];
  return (sd + weight * sn) / (s.width * H);
}

/** One sweep over rows y0..y1-1: u on every row, and the dual update on every row but the last. */
function sweep(s: TvState, y0: number, y1: number, first: boolean, k: number, par: number): void {
  outRow(s, y0, first, par);
  for (let y = y0; y < y1 - 1; y++) {
    outRow(s, y + 1, first, par);
    dualRow(s, y, k, par);
  }
}

/**
 * Chambolle's iteration on rows y0..y1-1 of a plane (state.image set, p zero), with
 * `meet` called where the bands of other workers must have caught up (a no-op for a
 * single band). Returns the iterations run; u is left in state.out.
 */
function iterate(s: TvState, p: TvParams, y0: number, y1: number, meet: () => void): number {
  const k = 0.25 / p.weight;
  let eInit = 0;
  let ePrev = 0;
  for (let i = 0; i < p.maxIterations; i++) {
    const par = i & 1;
    sweep(s, y0, y1, i === 0, k, par);
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
  read(c: number, into: Float64Array): void;
  /** sets colour plane c of the output (missing samples are skipped) */
  write(c: number, plane: ArrayLike<number>): void;
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
      else for (let q = 0, i = c; q < n; q++, i += channels) into[q] = data[i];
    },
    write(c, plane) {
      if (missing) {
        for (let q = 0, i = c; q < n; q++, i += channels) if (!missing[i]) out[i] = plane[q];
      } else for (let q = 0, i = c; q < n; q++, i += channels) out[i] = plane[q];
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
  const s = makeState(image.width, image.height);
  for (let c = 0; c < cp.nc; c++) {
    cp.read(c, s.image);
    if (c > 0) {
      s.p0.fill(0);
      s.p1.fill(0);
    }
    iterate(s, p, 0, image.height, alone);
    cp.write(c, s.out);
  }
  return cp.result();
}

// ---------------------------------------------------------------------------
// Worker threads sharing one plane.

/** Options of tvChambolleBandTask: the shared arrays and this worker's rows. */
interface BandTaskOptions {
  width: number;
  height: number;
  buffers: Record<'image' | 'out' | 'p0' | 'p1' | 'rowD' | 'rowN', SharedArrayBuffer>;
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
  const { width, height, buffers: b, y0, y1, parties, params } = options;
  const control = new Int32Array(options.control);
  const s: TvState = {
    width,
    height,
    image: new Float64Array(b.image),
    out: new Float64Array(b.out),
    p0: new Float64Array(b.p0),
    p1: new Float64Array(b.p1),
    rowD: new Float64Array(b.rowD),
    rowN: new Float64Array(b.rowN),
  };
  try {
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
        const cleanup = (): void => {
          w.off('message', onMessage);
          w.off('error', onError);
        };
        w.on('message', onMessage);
        w.on('error', onError);
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

/** Same result as denoiseTvChambolle, bit for bit, with each plane's iteration shared by `threads` workers. */
async function denoiseTvShared(image: Image, p: TvParams, threads: number, onProgress?: (f: number) => void): Promise<Image> {
  const { width, height } = image;
  const parties = Math.max(1, Math.min(threads, height));
  const cp = colourPlanes(image);
  const s = makeState(width, height, (bytes) => new SharedArrayBuffer(bytes));
  const buffers = {} as BandTaskOptions['buffers'];
  for (const k of ['image', 'out', 'p0', 'p1', 'rowD', 'rowN'] as const) buffers[k] = s[k].buffer as SharedArrayBuffer;
  const control = new SharedArrayBuffer(16);
  await withWorkerGroup(parties, async (group) => {
    for (let c = 0; c < cp.nc; c++) {
      cp.read(c, s.image);
      s.p0.fill(0);
      s.p1.fill(0);
      new Int32Array(control).fill(0);
      await Promise.all(
        Array.from({ length: parties }, (_, b) => {
          const y0 = Math.floor((b * height) / parties);
          const y1 = Math.floor(((b + 1) * height) / parties);
          const options: BandTaskOptions = { width, height, buffers, control, y0, y1, parties, params: p };
          return group.call(b, import.meta.url, 'tvChambolleBandTask', options);
        }),
      );
      cp.write(c, s.out);
      onProgress?.((c + 1) / cp.nc);
    }
  });
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

async function denoiseTvAsync(image: Image, options: Record<string, unknown>, context: DenoiseContext = {}): Promise<Image> {
  const fn = 'denoiseTvChambolle';
  checkImage(fn, image);
  const p = resolveTv(fn, options);
  const pixels = image.width * image.height;
  const threads = Math.max(1, Math.floor(context.threads ?? defaultThreads()));
  if (pixels > TV_EXACT_MAX_PIXELS) return denoiseTvChambolleTiled(image, p, { threads, onProgress: context.onProgress });
  if (threads === 1 || pixels < TV_WORKER_MIN_PIXELS || image.height < 2) {
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
  denoise: denoiseTvAsync,
};
