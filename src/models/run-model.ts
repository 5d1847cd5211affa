/**
 * runModel: a denoising network applied to an Image of any size. The image is
 * normalised as the model expects, mirrored out to the network's size multiple (so
 * the border sees image-like context rather than zeros), run as NHWC, cropped back
 * and denormalised; alpha and the no-data mask are carried through untouched.
 */
import type { LayersModel, Tensor } from '@tensorflow/tfjs';
import { invalidParameter } from '../core/errors.js';
import { checkImage, colourChannels, extractChannel, insertChannel, withData, type Image } from '../core/image.js';
import { checkNumber, checkObject, checkOneOf } from '../core/validate.js';
import { loadTfjs } from '../runtime/tfjs.js';
import type { HushModel } from './hush-model.js';
import { checkNormalization, normalize, type InputNormalization } from './normalization.js';
import { CHANNEL_MODES, channelMismatch, type ChannelMode } from './channels.js';

export { CHANNEL_MODES, channelMismatch, type ChannelMode };



export interface RunModelOptions {
  /** how values are mapped before the network (default: the model's metadata, else none) */
  normalization?: InputNormalization;
  /** the exposure-time ratio, for models conditioned on it (unet preset 'astro') */
  exposureRatio?: number;
  /** pad height and width to a multiple of this (default: the metadata's, else inferred from the layers) */
  multiple?: number;
  /** 'per-channel': a grey model denoises each colour channel of an RGB image; 'strict' (default): channels must match */
  channelMode?: ChannelMode;
}

function isHushModel(m: unknown): m is HushModel {
  return typeof m === 'object' && m !== null && 'model' in m && 'metadata' in m;
}

/** Product of the strides of every down-sampling layer: the size multiple a U-shaped network needs. */
export function inferMultiple(model: LayersModel): number {
  let m = 1;
  for (const layer of model.layers) {
    const cls = layer.getClassName();
    if (cls === 'MaxPooling2D' || cls === 'AveragePooling2D' || cls === 'Conv2D') {
      const strides = (layer.getConfig().strides as number[] | undefined) ?? [1, 1];
      m *= Math.max(strides[0], strides[1]);
    }
  }
  return m;
}

/** Pads a [B, H, W, C] tensor by mirroring (symmetric, repeated if the pad exceeds the image) to H2 x W2, centred. */
function padTo(tf: typeof import('@tensorflow/tfjs'), x: Tensor, h2: number, w2: number): { padded: Tensor; top: number; left: number } {
  const [, h, w] = x.shape;
  const top = Math.floor((h2 - h) / 2);
  const left = Math.floor((w2 - w) / 2);
  let y = x;
  let [t, b, l, r] = [top, h2 - h - top, left, w2 - w - left];
  while (t > 0 || b > 0 || l > 0 || r > 0) {
    const [, hh, ww] = y.shape;
    const st = Math.min(t, hh);
    const sb = Math.min(b, hh);
    const sl = Math.min(l, ww);
    const sr = Math.min(r, ww);
    y = tf.mirrorPad(y, [[0, 0], [st, sb], [sl, sr], [0, 0]], 'symmetric');
    [t, b, l, r] = [t - st, b - sb, l - sl, r - sr];
  }
  return { padded: y, top, left };
}

/** Denoises `image` with `model` (a HushModel, or a bare LayersModel with options). Returns a new Image. */
export async function runModel(model: HushModel | LayersModel, image: Image, options: RunModelOptions = {}): Promise<Image> {
  const fn = 'runModel';
  checkImage(fn, image);
  const opts = checkObject(fn, 'options', options) as RunModelOptions;
  const { tf } = await loadTfjs();
  const net = isHushModel(model) ? model.model : model;
  const meta = isHushModel(model) ? model.metadata : undefined;
  const normalization = opts.normalization !== undefined ? checkNormalization(fn, 'options.normalization', opts.normalization) : (meta?.normalization ?? { kind: 'none' as const });
  const multiple = opts.multiple !== undefined ? checkNumber(fn, 'options.multiple', opts.multiple, { integer: true, min: 1 }) : (meta?.multiple ?? inferMultiple(net));
  const channelMode = checkOneOf(fn, 'options.channelMode', opts.channelMode ?? 'strict', CHANNEL_MODES);
  const modelChannels = net.inputs[0].shape[3] as number;
  const colour = colourChannels(image);
  const perChannel = modelChannels !== colour;
  if (perChannel && !(modelChannels === 1 && colour === 3 && channelMode === 'per-channel')) {
    throw channelMismatch(fn, modelChannels, colour, modelChannels === 1 ? "convert the image to grey, use a model trained for RGB, or pass channelMode: 'per-channel'" : 'convert the image to RGB or use a model trained for grey images');
  }
  const conditioned = net.inputs.length > 1;
  let ratio: number | undefined;
  if (conditioned) {
    if (opts.exposureRatio === undefined) throw invalidParameter(fn, 'options.exposureRatio', 'a positive number (the model is conditioned on the exposure-time ratio)', undefined);
    ratio = checkNumber(fn, 'options.exposureRatio', opts.exposureRatio, { above: 0 });
  }

  const { width, height } = image;
  const batch = perChannel ? colour : 1;
  const c = perChannel ? 1 : colour;
  const plane = width * height;
  const input = new Float32Array(batch * plane * c);
  const planes = Array.from({ length: colour }, (_, k) => extractChannel(image, k));
  if (perChannel) planes.forEach((p, k) => input.set(p, k * plane));
  else for (let i = 0; i < plane; i++) for (let k = 0; k < c; k++) input[i * c + k] = planes[k][i];
  const denormalize = normalize(input, plane * c, normalization);

  const h2 = Math.ceil(height / multiple) * multiple;
  const w2 = Math.ceil(width / multiple) * multiple;
  const result = tf.tidy(() => {
    const x = tf.tensor4d(input, [batch, height, width, c]);
    const { padded, top, left } = padTo(tf, x, h2, w2);
    const inputs = conditioned ? [padded, tf.fill([batch, 1], ratio as number)] : padded;
    const y = net.predict(inputs) as Tensor;
    return tf.slice(y, [0, top, left, 0], [batch, height, width, c]);
  });
  const out = (await result.data()) as Float32Array;
  result.dispose();
  denormalize(out);

  const data = image.data.slice();
  const res = withData(image, data);
  for (let k = 0; k < colour; k++) {
    const p = perChannel ? out.subarray(k * plane, (k + 1) * plane) : Float32Array.from({ length: plane }, (_, i) => out[i * c + k]);
    insertChannel(res, k, p);
  }
  return res;
}
