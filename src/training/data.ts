/**
 * Training data: image files from a folder, a glob or a list, loaded once into
 * memory as planes on the unit scale, and a seeded patch sampler with the
 * augmentations of SPEC section 5 (flips and 90-degree rotations, shifts are
 * implicit in random crops, zoom by an integer or fractional factor).
 *
 * Pairs (noisy/clean or noisy/noisy) are kept aligned: the same crop and the same
 * augmentation are applied to every member of a pair.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { glob } from 'tinyglobby';
import { HushError, invalidParameter } from '../core/errors.js';
import { colourChannels, extractChannel, type Image } from '../core/image.js';
import type { Rng } from '../core/rng.js';
import { formatFromPath, readImages } from '../io/index.js';

/** One training image: planar float data, `channels` planes of width x height. */
export interface TrainImage {
  data: Float32Array;
  width: number;
  height: number;
  channels: 1 | 3;
  /** file it came from */
  file: string;
}

const IMAGE_EXTENSIONS = '{png,jpg,jpeg,webp,tif,tiff,fits,fit,fts,npy,PNG,JPG,JPEG,WEBP,TIF,TIFF,FITS,FIT,FTS,NPY}';

/**
 * The image files a data argument names: a folder (its image files, sorted), a glob
 * pattern, one file, or several of these separated by commas. Throws when none match.
 */
export async function listImageFiles(spec: string | readonly string[], fn = 'listImageFiles'): Promise<string[]> {
  const parts = (typeof spec === 'string' ? spec.split(',') : [...spec]).map((s) => s.trim()).filter((s) => s.length > 0);
  if (parts.length === 0) throw invalidParameter(fn, 'data', 'a folder, a glob or a list of image files', spec);
  const files: string[] = [];
  for (const part of parts) {
    let kind: 'dir' | 'file' | 'glob' = 'glob';
    try {
      const s = await stat(part);
      kind = s.isDirectory() ? 'dir' : 'file';
    } catch {
      if (!/[*?[\]{}]/.test(part)) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: '${part}' does not exist`, { file: part });
    }
    if (kind === 'file') {
      files.push(resolve(part));
      continue;
    }
    const pattern = kind === 'dir' ? `**/*.${IMAGE_EXTENSIONS}` : part;
    const found = await glob(pattern, { cwd: kind === 'dir' ? part : undefined, absolute: true, onlyFiles: true, expandDirectories: false });
    const images = found.filter((f) => formatFromPath(f) !== undefined).sort();
    if (images.length === 0) throw new HushError('ERR_INVALID_PARAMETER', `${fn}: no image files in '${part}'`, { file: part });
    files.push(...images);
  }
  return [...new Set(files)];
}

/** Converts an Image (any channel count) to a planar TrainImage of 1 or 3 channels. */
export function toTrainImage(image: Image, channels: 1 | 3, file: string): TrainImage {
  const colour = colourChannels(image);
  const plane = image.width * image.height;
  const data = new Float32Array(plane * channels);
  if (channels === colour) {
    for (let k = 0; k < channels; k++) data.set(extractChannel(image, k), k * plane);
  } else if (channels === 1) {
    // ITU-R BT.601 luma, as skimage.color.rgb2gray uses BT.709; 601 matches PIL's 'L' used by the datasets
    const r = extractChannel(image, 0);
    const g = extractChannel(image, 1);
    const b = extractChannel(image, 2);
    for (let i = 0; i < plane; i++) data[i] = 0.299 * r[i] + 0.587 * g[i] + 0.114 * b[i];
  } else {
    const y = extractChannel(image, 0);
    for (let k = 0; k < 3; k++) data.set(y, k * plane);
  }
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new HushError('ERR_INVALID_PARAMETER', `training data: '${file}' has NaN or infinite pixels; training needs finite images`, { file });
  }
  return { data, width: image.width, height: image.height, channels, file };
}

export interface LoadTrainingImagesOptions {
  channels: 1 | 3;
  /** smallest side an image must have (smaller ones are refused with a clear message) */
  minSide?: number;
  onProgress?: (done: number, total: number) => void;
}

/** Reads every file (every plane of FITS cubes) as TrainImages. */
export async function loadTrainingImages(files: readonly string[], options: LoadTrainingImagesOptions): Promise<TrainImage[]> {
  const out: TrainImage[] = [];
  let done = 0;
  for (const file of files) {
    const images = await readImages(file);
    for (const image of images) {
      if (options.minSide !== undefined && Math.min(image.width, image.height) < options.minSide) {
        throw new HushError('ERR_INVALID_PARAMETER', `training data: '${file}' is ${image.width}x${image.height}, smaller than the ${options.minSide}x${options.minSide} patches; use a smaller --patch`, { file });
      }
      out.push(toTrainImage(image, options.channels, file));
    }
    options.onProgress?.(++done, files.length);
  }
  return out;
}

/** The 8 symmetries of the square: bit 0 flips x, bit 1 flips y, bit 2 transposes. */
export type Dihedral = 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7;

export interface Augmentation {
  /** flips and 90-degree rotations (default true) */
  dihedral?: boolean;
  /** zoom factors drawn uniformly from [min, max] (default none: [1, 1]) */
  zoom?: [number, number];
}

export interface PatchRequest {
  /** patch side in pixels */
  size: number;
  /** patches to draw */
  count: number;
  augmentation?: Augmentation;
}

/**
 * Draws `count` patches of `size` x `size` from `sets` (each set is a list of
 * aligned images: [clean] or [noisy, clean] or [noisy1, noisy2]); returns one NHWC
 * batch per set member. The image is picked uniformly, the crop uniformly inside it,
 * then the same augmentation is applied to every member.
 */
export function samplePatches(sets: readonly (readonly TrainImage[])[], request: PatchRequest, rng: Rng): Float32Array[] {
  const { size, count } = request;
  const dihedral = request.augmentation?.dihedral ?? true;
  const [zmin, zmax] = request.augmentation?.zoom ?? [1, 1];
  if (sets.length === 0) throw invalidParameter('samplePatches', 'sets', 'at least one image', 0);
  const members = sets[0].length;
  const c = sets[0][0].channels;
  const outs = Array.from({ length: members }, () => new Float32Array(count * size * size * c));
  for (let n = 0; n < count; n++) {
    const set = sets[rng.int(sets.length)];
    const { width, height } = set[0];
    const zoom = zmin === zmax ? zmin : zmin + (zmax - zmin) * rng.next();
    // source window side (in source pixels) that maps onto the patch
    const src = Math.min(Math.max(1, Math.round(size / zoom)), width, height);
    const x0 = rng.int(width - src + 1);
    const y0 = rng.int(height - src + 1);
    const t = (dihedral ? rng.int(8) : 0) as Dihedral;
    for (let m = 0; m < members; m++) {
      const img = set[m];
      const out = outs[m];
      const plane = img.width * img.height;
      const base = n * size * size * c;
      for (let py = 0; py < size; py++) {
        for (let px = 0; px < size; px++) {
          // apply the symmetry to patch coordinates
          let u = t & 4 ? py : px;
          let v = t & 4 ? px : py;
          if (t & 1) u = size - 1 - u;
          if (t & 2) v = size - 1 - v;
          // nearest source pixel of the (possibly zoomed) window
          const sx = x0 + Math.min(src - 1, Math.floor(((u + 0.5) * src) / size));
          const sy = y0 + Math.min(src - 1, Math.floor(((v + 0.5) * src) / size));
          const o = base + (py * size + px) * c;
          const i = sy * img.width + sx;
          for (let k = 0; k < c; k++) out[o + k] = img.data[k * plane + i];
        }
      }
    }
  }
  return outs;
}
