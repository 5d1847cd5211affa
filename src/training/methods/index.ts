/** The registry of training methods: one file each, one id across API, CLI and docs. */
import { N2TRUE } from './n2true.js';
import { N2N } from './n2n.js';
import { N2SELF } from './n2self.js';
import { N2V } from './n2v.js';
import { N2SAME } from './n2same.js';
import { N2SAME_PRO } from './n2same-pro.js';
import { R2R } from './r2r.js';
import type { TrainingMethod, TrainingMethodInfo } from './types.js';

export const METHOD_REGISTRY: { readonly [K in TrainingMethod]: TrainingMethodInfo } = {
  n2true: N2TRUE,
  n2n: N2N,
  n2self: N2SELF,
  n2v: N2V,
  n2same: N2SAME,
  'n2same-pro': N2SAME_PRO,
  r2r: R2R,
};

export { TRAINING_METHODS, DATA_KINDS, type TrainingMethod, type TrainingMethodInfo, type DataKind, type MethodContext, type MethodBatch } from './types.js';
