/**
 * hush: the Node entry point of the library. Node-only code (sharp, fs) is
 * reachable from here; browser builds import the pure modules directly.
 */
export * from './core/image.js';
export * from './core/errors.js';
export { createRng, type Rng } from './core/rng.js';
export {
  readImage,
  readImages,
  decodeImages,
  writeImage,
  encodeImage,
  formatFromPath,
  sniffFormat,
  STRETCHES,
  type Stretch,
  type ReadImageOptions,
  type WriteImageOptions,
  type EncodeImageOptions,
} from './io/index.js';
export * from './noise/index.js';
export * from './metrics/index.js';
export * from './denoise/index.js';
export * from './denoise/invariant.js';
export * from './denoise/calibrate.js';
export * from './denoise/auto.js';
