/**
 * The shape every training method shares (SPEC section 5), so `fit`, `hush train`
 * and the docs treat them alike. A method turns patches into one training batch: the
 * network input(s), the target, an optional loss mask and the loss to apply.
 * Methods are architecture-independent: they never see the model.
 */
import type { ParamSpec } from '../../core/params.js';
import type { Rng } from '../../core/rng.js';
import type { ShardLossSpec } from '../../models/shard-loss.js';
import type { BatchShape } from '../masking.js';

export const TRAINING_METHODS = ['n2true', 'n2n', 'n2self', 'n2v', 'n2same', 'n2same-pro', 'r2r'] as const;
export type TrainingMethod = (typeof TRAINING_METHODS)[number];

/**
 * What the training data gives per patch: clean images (noise is drawn on the fly),
 * noisy/clean pairs, noisy/noisy pairs, or noisy images alone.
 */
export const DATA_KINDS = ['clean', 'noisy-clean', 'noisy-noisy', 'noisy'] as const;
export type DataKind = (typeof DATA_KINDS)[number];

export interface MethodContext {
  /** NHWC batches: `noisy` always; `clean` when known; `noisy2` an independent second noisy realisation when known */
  noisy: Float32Array;
  clean?: Float32Array;
  noisy2?: Float32Array;
  shape: BatchShape;
  rng: Rng;
  /** 0-based step and the run's total */
  step: number;
  steps: number;
  /** the noise sigma on the data's scale, when known or estimated */
  sigma?: number;
}

export interface MethodBatch {
  inputs: Float32Array[];
  target: Float32Array;
  mask?: Float32Array;
  loss: ShardLossSpec;
}

export interface TrainingMethodInfo {
  readonly id: TrainingMethod;
  /** the paper's name */
  readonly name: string;
  readonly summary: string;
  readonly reference: string;
  /** the data kinds it can train from */
  readonly accepts: readonly DataKind[];
  readonly params: readonly ParamSpec[];
  /** one batch from resolved options */
  batch(ctx: MethodContext, options: Readonly<Record<string, unknown>>): MethodBatch;
  /**
   * For a method that trains exactly as another one up to some step (Noise2SamePro is
   * Noise2Same before its last phase): that method, the options it was given (as the
   * user gave them, for comparison with a checkpoint's), and `partsAt`, the number of
   * steps the two share. `fit`'s `resumeFrom` may start from such a run's checkpoint.
   */
  continues?(given: Readonly<Record<string, unknown>>, resolved: Readonly<Record<string, unknown>>, steps: number): MethodContinuation;
}

export interface MethodContinuation {
  method: TrainingMethod;
  methodOptions: Record<string, unknown>;
  partsAt: number;
}

export const LOSS_PARAM: ParamSpec = { name: 'loss', type: 'enum', choices: ['l2', 'l1'], default: 'l2', description: 'pixel loss' };
