/**
 * The tfjs side of tiled inference: a TileRunner over a tfjs LayersModel or a hush
 * model, for inferTiled. Tiles arrive NCHW (the layout onnxruntime and exported
 * networks use) and tfjs convolutions take NHWC, so each batch is transposed on the
 * way in and back on the way out, inside one tf.tidy. The multiple, the channels, the
 * normalisation and whether the network is conditioned on the exposure ratio come
 * from the model, as runModel takes them.
 */
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { invalidParameter } from '../core/errors.js';
import { optionalNumber, checkObject } from '../core/validate.js';
import type { HushModel } from '../models/hush-model.js';
import type { InputNormalization } from '../models/normalization.js';
import { inferMultiple } from '../models/run-model.js';
import { loadTfjs } from './tfjs.js';
import type { TileRunExtra, TileRunner } from './tiled.js';

export interface TfjsTileRunnerOptions {
  /** tile sides are multiples of this (default: the metadata's, else inferred from the layers) */
  multiple?: number;
}

function isHushModel(m: unknown): m is HushModel {
  return typeof m === 'object' && m !== null && 'model' in m && 'metadata' in m;
}

function isLayersModel(m: unknown): m is LayersModel {
  return typeof m === 'object' && m !== null && typeof (m as LayersModel).predict === 'function' && Array.isArray((m as LayersModel).inputs);
}

/** A TileRunner that runs `model` with tfjs (loading it as runModel does). The model stays the caller's to dispose. */
export function tfjsTileRunner(model: HushModel | LayersModel, options: TfjsTileRunnerOptions = {}): TileRunner {
  const fn = 'tfjsTileRunner';
  const net = isHushModel(model) ? model.model : model;
  if (!isLayersModel(net)) throw invalidParameter(fn, 'model', 'a HushModel or a tfjs LayersModel', model);
  const meta = isHushModel(model) ? model.metadata : undefined;
  const opts = checkObject(fn, 'options', options) as TfjsTileRunnerOptions;
  const multiple = optionalNumber(fn, 'options.multiple', opts.multiple, meta?.multiple ?? inferMultiple(net), { integer: true, min: 1 });
  const channels = net.inputs[0].shape[3] as number;
  const conditioned = net.inputs.length > 1;
  const normalization: InputNormalization | undefined = meta?.normalization;
  return {
    channels,
    multiple,
    conditioned,
    ...(normalization === undefined ? {} : { normalization }),
    async run(batch: Float32Array, n: number, c: number, h: number, w: number, extra?: TileRunExtra): Promise<Float32Array> {
      const ratio = extra?.exposureRatio;
      if (conditioned && ratio === undefined) {
        throw invalidParameter(fn, 'extra.exposureRatio', 'a positive number (the model is conditioned on the exposure-time ratio)', ratio);
      }
      const { tf } = await loadTfjs();
      const y = tf.tidy(() => {
        const x = tf.transpose(tf.tensor4d(batch, [n, c, h, w]), [0, 2, 3, 1]);
        const out = net.predict(conditioned ? [x, tf.fill([n, 1], ratio as number)] : x) as Tensor;
        return tf.transpose(out, [0, 3, 1, 2]);
      });
      try {
        return (await y.data()) as Float32Array;
      } finally {
        y.dispose();
      }
    },
  };
}
