/**
 * Building blocks shared by the local classical denoisers (Gaussian, median, donut
 * median, bilateral, non-local means): border rules as numpy and scipy.ndimage
 * define them, scipy's separable Gaussian, scikit-image's disk footprint, the
 * handling of missing samples (NaN or masked: filled from their neighbours before
 * filtering so they never spread, restored after), and the glue that runs a
 * denoiser over tiles with context on worker threads so that the tiled result
 * equals the untiled one exactly.
 */
import { colourChannels, withData, type Image } from '../core/image.js';
import { runTiled, type TileTask } from '../core/pool.js';
import type { DenoiseContext } from './types.js';

// ---------------------------------------------------------------------------
// Borders. Each maps any integer coordinate k (however far outside) to 0..n-1.

/** numpy.pad 'reflect' = scipy 'mirror' = skimage coord_map 'R': d c b | a b c d | c b a (period 2n-2). */
export function mirrorIndex(k: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * n - 2;
  const m = ((k % period) + period) % period;
  return m < n ? m : period - m;
}

/** scipy.ndimage 'reflect' = numpy.pad 'symmetric': b a | a b c d | d c (period 2n). */
export function symmetricIndex(k: number, n: number): number {
  const period = 2 * n;
  const m = ((k % period) + period) % period;
  return m < n ? m : period - 1 - m;
}

/** scipy.ndimage 'nearest' = numpy 'edge': a a | a b c d | d d. */
export function nearestIndex(k: number, n: number): number {
  return k < 0 ? 0 : k >= n ? n - 1 : k;
}

// ---------------------------------------------------------------------------
// Gaussian filter, as scipy.ndimage.gaussian_filter(mode='reflect').

/** Radius scipy uses for a Gaussian of standard deviation `sigma` truncated at `truncate` sigmas. */
export function gaussianRadius(sigma: number, truncate = 4): number {
  return Math.trunc(truncate * sigma + 0.5);
}

/** numpy's pairwise summation of a float64 array (add.reduce), term for term. */
export function numpySum(a: Float64Array, start = 0, n = a.length): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[start + i];
    return res;
  }
  if (n <= 128) {
    const r = a.slice(start, start + 8);
    let i = 8;
    for (; i < n - (n % 8); i += 8) for (let j = 0; j < 8; j++) r[j] += a[start + i + j];
    let res = r[0] + r[1] + (r[2] + r[3]) + (r[4] + r[5] + (r[6] + r[7]));
    for (; i < n; i++) res += a[start + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return numpySum(a, start, n2) + numpySum(a, start + n2, n - n2);
}

/** scipy.ndimage._gaussian_kernel1d (order 0): exp(-0.5 / sigma^2 * x^2) over -r..r, divided by its numpy sum. */
export function gaussianKernel(sigma: number, radius: number): Float64Array {
  const k = new Float64Array(2 * radius + 1);
  const a = -0.5 / (sigma * sigma);
  for (let i = -radius; i <= radius; i++) k[i + radius] = Math.exp(a * (i * i));
  const sum = numpySum(k);
  for (let i = 0; i < k.length; i++) k[i] /= sum;
  return k;
}

/** symmetricIndex(k - r, n) for k = 0 .. n + 2r - 1: the source of each sample of a padded line */
function reflectMap(n: number, r: number): Int32Array {
  const map = new Int32Array(n + 2 * r);
  for (let k = 0; k < map.length; k++) map[k] = symmetricIndex(k - r, n);
  return map;
}

/**
 * scipy.ndimage.gaussian_filter(plane, sigma, mode='reflect', truncate) on a float32
 * plane: a pass along axis 0 (columns), then along axis 1 (rows), each as scipy's
 * correlate1d with a symmetric kernel: per sample, float64 sums in scipy's order
 * (centre first, then the pairs from the outside in), stored as float32 as scipy stores
 * them into a float32 output. The column pass runs row by row over a row of sums, so
 * memory is read in order.
 */
export function gaussianFilterPlane(plane: Float32Array, width: number, height: number, sigma: number, truncate = 4): Float32Array {
  const r = gaussianRadius(sigma, truncate);
  const kernel = gaussianKernel(sigma, r);
  const w0 = kernel[r];
  const tmp = new Float32Array(plane.length);
  const out = new Float32Array(plane.length);
  // axis 0
  const ymap = reflectMap(height, r);
  const sums = new Float64Array(width);
  for (let y = 0; y < height; y++) {
    const c = y * width;
    for (let x = 0; x < width; x++) sums[x] = plane[c + x] * w0;
    for (let j = r; j >= 1; j--) {
      const up = ymap[y + r - j] * width;
      const down = ymap[y + r + j] * width;
      const wj = kernel[r + j];
      for (let x = 0; x < width; x++) sums[x] += (plane[up + x] + plane[down + x]) * wj;
    }
    tmp.set(sums, c);
  }
  // axis 1
  const xmap = reflectMap(width, r);
  const line = new Float64Array(width + 2 * r);
  for (let y = 0; y < height; y++) {
    const base = y * width;
    line.set(tmp.subarray(base, base + width), r);
    for (let k = 0; k < r; k++) {
      line[k] = tmp[base + xmap[k]];
      line[width + r + k] = tmp[base + xmap[width + r + k]];
    }
    for (let x = 0; x < width; x++) {
      const c = x + r;
      let t = line[c] * w0;
      for (let j = r; j >= 1; j--) t += (line[c - j] + line[c + j]) * kernel[r + j];
      out[base + x] = t;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Footprints.

/** skimage.morphology.disk(radius): offsets (dy, dx) with dy^2 + dx^2 <= radius^2, row-major. */
export function diskOffsets(radius: number, withoutCentre = false): Int32Array {
  const out: number[] = [];
  for (let dy = -radius; dy <= radius; dy++) {
    for (let dx = -radius; dx <= radius; dx++) {
      if (dy * dy + dx * dx > radius * radius) continue;
      if (withoutCentre && dy === 0 && dx === 0) continue;
      out.push(dy, dx);
    }
  }
  return Int32Array.from(out);
}

// ---------------------------------------------------------------------------
// Colour samples and missing samples.

/** True where a colour sample has no data: masked, NaN or infinite. Undefined when none is. */
export function missingSamples(image: Image): Uint8Array | undefined {
  const { data, mask, channels } = image;
  const nc = colourChannels(image);
  let missing: Uint8Array | undefined;
  for (let i = 0; i < data.length; i++) {
    // v - v is 0 for finite v, NaN for NaN and infinities
    if (!mask?.[i] && data[i] - data[i] === 0) continue;
    if (channels !== nc && i % channels >= nc) continue;
    missing ??= new Uint8Array(data.length);
    missing[i] = 1;
  }
  return missing;
}

/**
 * The colour samples (alpha left out) as an interleaved array of 1 or 3 channels,
 * with every missing sample replaced by the mean of its already-known 8-neighbours in
 * the same channel, layer by layer outward from the known samples (a breadth-first
 * onion fill): deterministic, local for small holes, and no NaN survives. A channel
 * with no known sample at all is filled with 0.
 */
export function filledColour(image: Image, missing: Uint8Array | undefined): Float32Array {
  const { data, width, height, channels } = image;
  const nc = colourChannels(image);
  const n = width * height;
  const out = new Float32Array(n * nc);
  for (let p = 0; p < n; p++) for (let c = 0; c < nc; c++) out[p * nc + c] = data[p * channels + c];
  if (!missing) return out;
  const layer = new Int32Array(n);
  const queue = new Int32Array(n);
  for (let c = 0; c < nc; c++) {
    let head = 0;
    let tail = 0;
    for (let p = 0; p < n; p++) {
      if (missing[p * channels + c]) layer[p] = -1;
      else layer[p] = 0;
    }
    // seed: missing samples touching a known one
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
          if (xx < 0 || xx >= width || (dy === 0 && dx === 0)) continue;
          if (layer[yy * width + xx] === 0) {
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
      // nothing known in this channel (or nothing missing)
      for (let p = 0; p < n; p++) if (layer[p] === -1) out[p * nc + c] = 0;
      continue;
    }
    while (head < tail) {
      const p = queue[head++];
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
            sum += out[q * nc + c];
            count++;
          } else if (lq === -1) {
            layer[q] = L + 1;
            queue[tail++] = q;
          }
        }
      }
      out[p * nc + c] = sum / count;
    }
  }
  return out;
}

/**
 * Runs `core` on the colour samples of `image` (missing ones filled first) and
 * returns the image with the new colour samples, alpha untouched and missing
 * samples restored to their input values (NaN stays NaN, masked values as they were).
 */
export function applyToColour(
  image: Image,
  core: (colour: Float32Array, width: number, height: number, nc: 1 | 3) => Float32Array,
): Image {
  const nc = colourChannels(image);
  const missing = missingSamples(image);
  // grey or RGB with nothing missing: the samples as they are (cores never write their input)
  if (!missing && image.channels === nc) return withData(image, core(image.data, image.width, image.height, nc));
  const colour = filledColour(image, missing);
  return assembleColour(image, core(colour, image.width, image.height, nc), missing);
}

/** The image with colour samples from `colour` (interleaved, 1 or 3 channels), alpha and missing samples from `image`. */
export function assembleColour(image: Image, colour: Float32Array, missing: Uint8Array | undefined): Image {
  const { channels, data } = image;
  const nc = colourChannels(image);
  const out = data.slice();
  const n = image.width * image.height;
  for (let p = 0; p < n; p++) {
    for (let c = 0; c < nc; c++) {
      const i = p * channels + c;
      if (!(missing && missing[i])) out[i] = colour[p * nc + c];
    }
  }
  return withData(image, out);
}

/** Runs `plane` on each colour channel separately (for filters that do not mix channels). */
export function perPlane(
  colour: Float32Array,
  width: number,
  height: number,
  nc: 1 | 3,
  plane: (samples: Float32Array) => Float32Array,
): Float32Array {
  if (nc === 1) return plane(colour);
  const n = width * height;
  const out = new Float32Array(colour.length);
  const buf = new Float32Array(n);
  for (let c = 0; c < nc; c++) {
    for (let p = 0; p < n; p++) buf[p] = colour[p * nc + c];
    const r = plane(buf);
    for (let p = 0; p < n; p++) out[p * nc + c] = r[p];
  }
  return out;
}

/**
 * Minimum, maximum, mean and standard deviation (population, float64) of the
 * colour samples of an interleaved colour array.
 */
export function colourStats(colour: Float32Array): { min: number; max: number; std: number } {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  for (let i = 0; i < colour.length; i++) {
    const v = colour[i];
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
  }
  const mean = sum / colour.length;
  let ss = 0;
  for (let i = 0; i < colour.length; i++) ss += (colour[i] - mean) ** 2;
  return { min, max, std: Math.sqrt(ss / colour.length) };
}

// ---------------------------------------------------------------------------
// Worker-thread tiling.

/**
 * Inner-loop iterations below which worker threads are not used unless asked for:
 * about a second of work on one core. The first threaded call starts core/pool.ts's
 * persistent workers, and each boots, loads the module and runs its first tile on cold
 * code: 50-100 ms of CPU per worker on an idle machine, up to a second of wall time on a
 * busy one, more than splitting a shorter job saves. Later calls reuse the workers; the
 * threshold was set when workers started per call and has not been re-measured since.
 */
export const MIN_WORK_FOR_THREADS = 2e8;

/**
 * Runs the tile function `task.exportName` of `task.moduleUrl` over tiles of the image
 * with `reach` pixels of context, on `context.threads` workers. Missing samples are
 * filled once, on the whole image, before tiling (a fill is not local for large
 * holes), and restored after, so the result equals the untiled function exactly.
 * Without an explicit `context.threads`, a job estimated at fewer than
 * MIN_WORK_FOR_THREADS inner-loop iterations (`work`) runs in the calling thread.
 */
export async function runLocalDenoiser(image: Image, task: TileTask, reach: number, context: DenoiseContext = {}, work = Infinity): Promise<Image> {
  const missing = missingSamples(image);
  let input = image;
  if (missing || image.mask) {
    const colour = filledColour(image, missing);
    input = { ...assembleColour({ ...image, mask: undefined }, colour, undefined), mask: undefined, exact: undefined };
  }
  const threads = context.threads ?? (work < MIN_WORK_FOR_THREADS ? 1 : undefined);
  const tiled = await runTiled(input, task, { overlap: reach, threads, onProgress: context.onProgress });
  const out = tiled.data;
  if (missing) for (let i = 0; i < out.length; i++) if (missing[i]) out[i] = image.data[i];
  return withData(image, out);
}
