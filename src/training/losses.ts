/**
 * Training losses (SPEC section 4), as tfjs functions of NHWC tensors that return a
 * scalar and are differentiable end to end:
 * - l1, l2 (mean absolute / squared error), optionally over a mask only;
 * - smooth: squared differences between the output and itself shifted one pixel
 *   (horizontally and vertically), ImageDenoisingGAN's smoothness term;
 * - adversarial: binary cross-entropy of discriminator probabilities (Goodfellow
 *   et al. 2014);
 * - kl: KL divergence between the softmax distributions of target and output over
 *   each image's pixels (the Astro U-net's L1 + KL);
 * - ssim: 1 - SSIM with an 11-tap Gaussian window, sigma 1.5 (Wang et al. 2004);
 * - perceptual: weighted distances between VGG16 feature maps (Johnson, Alahi &
 *   Fei-Fei 2016) of ImageNet-normalised inputs; the VGG16 weights come from a file
 *   the user gives, never from the network;
 * - the Noise2Same invariance term (Xie, Wang & Ji 2020), restricted to the mask.
 */
import * as tf from '@tensorflow/tfjs';
import type { LayersModel, Scalar, SymbolicTensor, Tensor, Tensor4D } from '@tensorflow/tfjs';
import { HushError, invalidParameter } from '../core/errors.js';
import { checkNumber, checkObject, checkOneOf } from '../core/validate.js';
import { fileLoadHandler } from '../models/io.js';

export const LOSSES = ['l1', 'l2', 'smooth', 'adversarial', 'kl', 'ssim', 'perceptual', 'noise2same-invariance'] as const;
export type LossName = (typeof LOSSES)[number];

function checkPair(fn: string, a: Tensor, b: Tensor): void {
  if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
    throw invalidParameter(fn, 'target', `a tensor of shape [${a.shape.join(', ')}] (the prediction's)`, `[${b.shape.join(', ')}]`);
  }
}

/** mean(e) or, with a mask, sum(e * mask) / sum(mask). */
function reduceMasked(e: Tensor, mask: Tensor | undefined): Scalar {
  if (!mask) return tf.mean(e) as Scalar;
  return tf.div(tf.sum(tf.mul(e, mask)), tf.maximum(tf.sum(tf.mul(tf.onesLike(e), mask)), 1e-12)) as Scalar;
}

/** Mean absolute error; with `mask`, over the masked values only. */
export function l1Loss(prediction: Tensor, target: Tensor, mask?: Tensor): Scalar {
  checkPair('l1Loss', prediction, target);
  return tf.tidy(() => reduceMasked(tf.abs(tf.sub(prediction, target)), mask));
}

/** Mean squared error; with `mask`, over the masked values only (Noise2Self). */
export function l2Loss(prediction: Tensor, target: Tensor, mask?: Tensor): Scalar {
  checkPair('l2Loss', prediction, target);
  return tf.tidy(() => reduceMasked(tf.squaredDifference(prediction, target), mask));
}

/**
 * mean((y[:, :, x] - y[:, :, x+1])^2) + mean((y[:, y, :] - y[:, y+1, :])^2): the output
 * against itself shifted one pixel left and one pixel down. ImageDenoisingGAN uses
 * tf.nn.l2_loss (half the sum) of the same differences; this is the mean, so its
 * weight does not depend on the patch size.
 */
export function smoothnessLoss(y: Tensor4D): Scalar {
  const [b, h, w, c] = y.shape;
  if (h < 2 || w < 2) throw invalidParameter('smoothnessLoss', 'y', 'a batch of images at least 2x2', `${h}x${w}`);
  return tf.tidy(() => {
    const horizontal = tf.squaredDifference(tf.slice(y, [0, 0, 0, 0], [b, h, w - 1, c]), tf.slice(y, [0, 0, 1, 0], [b, h, w - 1, c]));
    const vertical = tf.squaredDifference(tf.slice(y, [0, 0, 0, 0], [b, h - 1, w, c]), tf.slice(y, [0, 1, 0, 0], [b, h - 1, w, c]));
    return tf.add(tf.mean(horizontal), tf.mean(vertical)) as Scalar;
  });
}

export const ADVERSARIAL_TARGETS = ['real', 'fake'] as const;

/**
 * Binary cross-entropy of discriminator probabilities against 'real' (1) or 'fake'
 * (0): -mean(t log p + (1 - t) log(1 - p)), p clipped to [1e-7, 1 - 1e-7].
 */
export function adversarialLoss(probabilities: Tensor, target: (typeof ADVERSARIAL_TARGETS)[number]): Scalar {
  const t = checkOneOf('adversarialLoss', 'target', target, ADVERSARIAL_TARGETS);
  return tf.tidy(() => {
    const p = tf.clipByValue(probabilities, 1e-7, 1 - 1e-7);
    return tf.neg(tf.mean(t === 'real' ? tf.log(p) : tf.log(tf.sub(1, p)))) as Scalar;
  });
}

/**
 * KL(softmax(target) || softmax(prediction)), the distributions taken over each image's
 * pixels, channel by channel; the mean over images and channels.
 */
export function klLoss(prediction: Tensor4D, target: Tensor4D): Scalar {
  checkPair('klLoss', prediction, target);
  const [b, h, w, c] = prediction.shape;
  return tf.tidy(() => {
    const flat = (t: Tensor4D) => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [b * c, h * w]);
    const logQ = tf.logSoftmax(flat(prediction));
    const logP = tf.logSoftmax(flat(target));
    return tf.mean(tf.sum(tf.mul(tf.exp(logP), tf.sub(logP, logQ)), 1)) as Scalar;
  });
}

export interface SsimLossOptions {
  /** max - min of the values the images can hold (default 1) */
  dataRange?: number;
}

const SSIM_TAPS = (() => {
  const g = Array.from({ length: 11 }, (_, i) => Math.exp(-((i - 5) ** 2) / (2 * 1.5 * 1.5)));
  const s = g.reduce((a, v) => a + v, 0);
  return g.map((v) => v / s);
})();

/**
 * 1 - SSIM, SSIM as in Wang et al. 2004 (and scikit-image's gaussian_weights mode):
 * 11-tap Gaussian window, sigma 1.5, K1 0.01, K2 0.03, population covariance, averaged
 * over the positions where the window fits (the "valid" region), per channel.
 */
export function ssimLoss(prediction: Tensor4D, target: Tensor4D, options: SsimLossOptions = {}): Scalar {
  checkPair('ssimLoss', prediction, target);
  const o = checkObject('ssimLoss', 'options', options);
  const range = checkNumber('ssimLoss', 'options.dataRange', o.dataRange ?? 1, { above: 0 });
  const [b, h, w, c] = prediction.shape;
  if (h < 11 || w < 11) throw invalidParameter('ssimLoss', 'prediction', 'images at least 11x11 (the Gaussian window)', `${h}x${w}`);
  return tf.tidy(() => {
    const gh = tf.tensor4d(SSIM_TAPS, [11, 1, 1, 1]);
    const gw = tf.tensor4d(SSIM_TAPS, [1, 11, 1, 1]);
    // channels into the batch so one single-channel filter serves them all
    const planes = (t: Tensor4D) => tf.reshape(tf.transpose(t, [0, 3, 1, 2]), [b * c, h, w, 1]) as Tensor4D;
    const blur = (t: Tensor4D) => tf.conv2d(tf.conv2d(t, gh, 1, 'valid'), gw, 1, 'valid');
    const x = planes(prediction);
    const y = planes(target);
    const mx = blur(x);
    const my = blur(y);
    const sxx = tf.sub(blur(tf.mul(x, x) as Tensor4D), tf.mul(mx, mx));
    const syy = tf.sub(blur(tf.mul(y, y) as Tensor4D), tf.mul(my, my));
    const sxy = tf.sub(blur(tf.mul(x, y) as Tensor4D), tf.mul(mx, my));
    const c1 = (0.01 * range) ** 2;
    const c2 = (0.03 * range) ** 2;
    const num = tf.mul(tf.add(tf.mul(tf.mul(mx, my), 2), c1), tf.add(tf.mul(sxy, 2), c2));
    const den = tf.mul(tf.add(tf.add(tf.mul(mx, mx), tf.mul(my, my)), c1), tf.add(tf.add(sxx, syy), c2));
    return tf.sub(1, tf.mean(tf.div(num, den))) as Scalar;
  });
}

// ---------------------------------------------------------------------------
// Perceptual loss on VGG16 features

/** VGG16's convolution layers in Keras naming, block by block (Simonyan & Zisserman 2015). */
export const VGG16_LAYERS: readonly (readonly number[])[] = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];

/** The feature taps the perceptual loss can use: the last convolution of each block. */
export const VGG16_TAPS = ['block1_conv2', 'block2_conv2', 'block3_conv3', 'block4_conv3', 'block5_conv3'] as const;
export type Vgg16Tap = (typeof VGG16_TAPS)[number];

/** ImageNet statistics of torchvision's VGG16, for inputs in [0, 1], RGB. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export interface BuildVgg16FeaturesOptions {
  /** blocks to keep: up to the deepest tap used (default all 5) */
  blocks?: number;
  /** divides every width (tests use 16 or 32 for a tiny VGG-shaped network; 1 is VGG16) */
  widthDivisor?: number;
  /** seed of the random initial weights */
  seed?: number;
}

/**
 * A VGG16-shaped feature network (conv3x3+ReLU per the table, 2x2 max-pool between
 * blocks) with Keras layer names, random weights: the shape that a converted VGG16
 * file fills, and a tiny stand-in for tests.
 */
export function buildVgg16Features(options: BuildVgg16FeaturesOptions = {}): LayersModel {
  const blocks = checkNumber('buildVgg16Features', 'options.blocks', options.blocks ?? 5, { integer: true, min: 1, max: 5 });
  const div = checkNumber('buildVgg16Features', 'options.widthDivisor', options.widthDivisor ?? 1, { integer: true, min: 1, max: 64 });
  let seed = options.seed ?? 1;
  const input = tf.input({ shape: [null, null, 3], name: 'input_1' });
  let x: SymbolicTensor = input;
  for (let bIdx = 0; bIdx < blocks; bIdx++) {
    if (bIdx > 0) x = tf.layers.maxPooling2d({ poolSize: 2, strides: 2, name: `block${bIdx}_pool` }).apply(x) as SymbolicTensor;
    VGG16_LAYERS[bIdx].forEach((width, i) => {
      x = tf.layers
        .conv2d({
          filters: Math.max(1, Math.floor(width / div)),
          kernelSize: 3,
          padding: 'same',
          activation: 'relu',
          kernelInitializer: tf.initializers.glorotUniform({ seed: seed++ }),
          name: `block${bIdx + 1}_conv${i + 1}`,
        })
        .apply(x) as SymbolicTensor;
    });
  }
  return tf.model({ inputs: input, outputs: x, name: 'vgg16_features' });
}

/** A model with one output per tap, sharing `vgg`'s layers (which must carry Keras VGG16 names). */
export function vggTapModel(vgg: LayersModel, taps: readonly Vgg16Tap[]): LayersModel {
  const outputs = taps.map((t) => {
    let layer;
    try {
      layer = vgg.getLayer(t);
    } catch {
      throw new HushError('ERR_INVALID_PARAMETER', `perceptualLoss: the VGG network has no layer '${t}' (expected Keras VGG16 layer names such as ${VGG16_TAPS.join(', ')})`, {
        param: 'taps',
      });
    }
    return layer.output as SymbolicTensor;
  });
  return tf.model({ inputs: vgg.inputs, outputs });
}

/**
 * Reads VGG16 features from a TensorFlow.js layers model the user provides (e.g. Keras'
 * VGG16(include_top=False) converted with tensorflowjs_converter). Nothing is fetched.
 */
export async function loadVgg16Features(path: string): Promise<LayersModel> {
  try {
    return await tf.loadLayersModel(fileLoadHandler(path, 'loadVgg16Features'));
  } catch (e) {
    if (e instanceof HushError) throw e;
    throw new HushError('ERR_DECODE', `loadVgg16Features: cannot load '${path}': ${(e as Error).message}`, { file: path, cause: e });
  }
}

export interface PerceptualLossOptions {
  /** VGG16 features: from loadVgg16Features, or buildVgg16Features for tests */
  vgg: LayersModel;
  /** weight per tap (default { block2_conv2: 1 }, the "VGG conv2" features of ImageDenoisingGAN) */
  weights?: Partial<Record<Vgg16Tap, number>>;
  /** the value range of the images (default [0, 1]); they are mapped to [0, 1] before ImageNet normalisation */
  inputRange?: [number, number];
  /** distance between feature maps (default 'l2', mean squared) */
  distance?: 'l1' | 'l2';
}

export interface PerceptualLoss {
  (prediction: Tensor4D, target: Tensor4D): Scalar;
  /** the tap model; it shares the VGG's layers (dispose the VGG when done) */
  readonly features: LayersModel;
}

/** Maps [0,1] images (1 or 3 channels) to VGG's RGB input with ImageNet mean/std. */
export function imagenetNormalize(x: Tensor4D, inputRange: [number, number] = [0, 1]): Tensor4D {
  return tf.tidy(() => {
    const [lo, hi] = inputRange;
    let t = lo === 0 && hi === 1 ? x : tf.div(tf.sub(x, lo), hi - lo);
    const c = x.shape[3];
    if (c === 1) t = tf.tile(t, [1, 1, 1, 3]);
    else if (c !== 3) throw invalidParameter('perceptualLoss', 'prediction', 'images with 1 or 3 channels', c);
    return tf.div(tf.sub(t, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])) as Tensor4D;
  });
}

/**
 * sum over taps of weight * mean distance(VGG_tap(prediction), VGG_tap(target)). The
 * VGG is frozen (trainable = false) so that only the denoiser learns.
 */
export function perceptualLoss(options: PerceptualLossOptions): PerceptualLoss {
  const o = checkObject('perceptualLoss', 'options', options) as unknown as PerceptualLossOptions;
  if (!o.vgg || typeof (o.vgg as LayersModel).predict !== 'function') throw invalidParameter('perceptualLoss', 'options.vgg', 'a tfjs LayersModel (loadVgg16Features)', o.vgg);
  const weights = o.weights ?? { block2_conv2: 1 };
  const taps = Object.keys(weights).map((t) => checkOneOf('perceptualLoss', 'options.weights', t, VGG16_TAPS));
  if (taps.length === 0) throw invalidParameter('perceptualLoss', 'options.weights', 'at least one tap', weights);
  const w = taps.map((t) => checkNumber('perceptualLoss', `options.weights.${t}`, weights[t], { min: 0 }));
  const distance = checkOneOf('perceptualLoss', 'options.distance', o.distance ?? 'l2', ['l1', 'l2'] as const);
  // a fixed feature extractor: an optimizer minimising this loss must not train it
  o.vgg.trainable = false;
  const features = vggTapModel(o.vgg, taps);
  const range = o.inputRange ?? [0, 1];
  const fn = ((prediction: Tensor4D, target: Tensor4D): Scalar => {
    checkPair('perceptualLoss', prediction, target);
    return tf.tidy(() => {
      const fp = features.apply(imagenetNormalize(prediction, range)) as Tensor | Tensor[];
      const ft = features.apply(imagenetNormalize(target, range)) as Tensor | Tensor[];
      const lp = Array.isArray(fp) ? fp : [fp];
      const lt = Array.isArray(ft) ? ft : [ft];
      let total: Tensor = tf.scalar(0);
      lp.forEach((f, i) => {
        const d = distance === 'l1' ? tf.abs(tf.sub(f, lt[i])) : tf.squaredDifference(f, lt[i]);
        total = tf.add(total, tf.mul(tf.mean(d), w[i]));
      });
      return total as Scalar;
    });
  }) as PerceptualLoss;
  Object.defineProperty(fn, 'features', { value: features });
  return fn;
}

// ---------------------------------------------------------------------------
// Noise2Same

/**
 * sqrt( sum(mask * (f(x) - f(x_masked))^2) / sum(mask) ): how much the output at the
 * masked pixels changes when those pixels are hidden from the input. Restricted to the
 * mask: over all pixels, training collapses to the identity.
 */
export function noise2SameInvariance(fx: Tensor, fxMasked: Tensor, mask: Tensor): Scalar {
  checkPair('noise2SameInvariance', fx, fxMasked);
  return tf.tidy(() => {
    const m = tf.mul(tf.onesLike(fx), mask);
    return tf.sqrt(tf.add(tf.div(tf.sum(tf.mul(tf.squaredDifference(fx, fxMasked), m)), tf.maximum(tf.sum(m), 1e-12)), 1e-12)) as Scalar;
  });
}

export const NOISE2SAME_VARIANTS = ['noise2same', 'noise2same-pro'] as const;

export interface Noise2SameLossOptions {
  /** 'noise2same': rec + lambda * inv; 'noise2same-pro': rec + 2 sqrt(rec) inv (lambda from the batch) */
  variant?: (typeof NOISE2SAME_VARIANTS)[number];
  /** lambda of 'noise2same' (default 2, the public code's, for standardised inputs; the paper's is 2 sigma) */
  lambda?: number;
}

/**
 * Noise2Same: rec = mean((f(x) - x)^2) over all pixels, plus the invariance term on
 * the mask, weighted by lambda (or by 2 sqrt(rec) for Noise2SamePro).
 */
export function noise2SameLoss(x: Tensor, fx: Tensor, fxMasked: Tensor, mask: Tensor, options: Noise2SameLossOptions = {}): Scalar {
  const o = checkObject('noise2SameLoss', 'options', options);
  const variant = checkOneOf('noise2SameLoss', 'options.variant', o.variant ?? 'noise2same', NOISE2SAME_VARIANTS);
  const lambda = checkNumber('noise2SameLoss', 'options.lambda', o.lambda ?? 2, { min: 0 });
  checkPair('noise2SameLoss', fx, x);
  return tf.tidy(() => {
    const rec = tf.mean(tf.squaredDifference(fx, x));
    const inv = noise2SameInvariance(fx, fxMasked, mask);
    const weight = variant === 'noise2same' ? tf.scalar(lambda) : tf.mul(tf.sqrt(tf.add(rec, 1e-12)), 2);
    return tf.add(rec, tf.mul(weight, inv)) as Scalar;
  });
}
