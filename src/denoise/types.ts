/**
 * The shape every classical denoiser shares, so the registry, calibration,
 * automatic mode, CLI, server and docs treat them alike (house style: one file
 * and one registry entry per algorithm, scikit-image's parameter vocabulary).
 */
import type { Image } from '../core/image.js';
import type { ParamSpec } from '../core/params.js';

export interface DenoiseContext {
  /** worker threads to use (default: all cores); 1 = the calling thread only */
  threads?: number;
  /** fraction done, 0..1, for progress bars and HTTP events */
  onProgress?: (fraction: number) => void;
}

/** A value grid per parameter, for calibration: { h: [0.02, 0.04, ...], patchSize: [5, 7] }. */
export type ParameterGrid = Record<string, readonly (number | string)[]>;

export interface DenoiserInfo {
  /** registry key = file name = CLI value (`nl-means`) */
  readonly id: string;
  /** one line for help and docs */
  readonly summary: string;
  /** every option, validated with resolveParams; `sigma` is the noise standard deviation on the image's scale */
  readonly params: readonly ParamSpec[];
  /** true when the method needs `sigma` (callers estimate it with estimateSigma when it is not given) */
  readonly usesSigma: boolean;
  /** the grid calibrateDenoiser searches by default, for a noise level `sigma` (estimated or given) */
  calibrationGrid(sigma: number): ParameterGrid;
  /** denoises; input untouched; same size, channels, mask and metadata out; alpha carried through */
  denoise(image: Image, options: Record<string, unknown>, context?: DenoiseContext): Promise<Image>;
}
