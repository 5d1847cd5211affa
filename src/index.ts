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
export { denoiseNlMeans } from './denoise/nl-means.js';
export { denoiseBilateral } from './denoise/bilateral.js';
export { denoiseGaussian } from './denoise/gaussian.js';
export { denoiseMedian } from './denoise/median.js';
export { denoiseDonutMedian } from './denoise/donut-median.js';
export { denoiseTvChambolle } from './denoise/tv-chambolle.js';
export { denoiseWavelet } from './denoise/wavelet.js';
export { denoiseBm3d } from './denoise/bm3d.js';
export * from './denoise/anscombe.js';
// The neural engine (tfjs) is heavy: it lives behind the 'hush/models' and 'hush/losses' entry points.
