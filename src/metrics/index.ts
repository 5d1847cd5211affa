/**
 * Full-reference image quality metrics: `mse`, `psnr` and `ssim`, each computed in
 * float64 over the colour channels (alpha ignored), reproducing scikit-image 0.19.
 */
export { mse } from './mse.js';
export { psnr, PSNR_PARAMS, type PsnrOptions } from './psnr.js';
export { ssim, SSIM_CONFIGS, SSIM_PARAMS, type SsimConfig, type SsimOptions } from './ssim.js';
