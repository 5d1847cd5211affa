/**
 * Channel modes and the channel-mismatch error shared by every inference path
 * (runModel, inferTiled, the ONNX runners). No Node or tfjs imports: browser-safe.
 */
import { HushError } from '../core/errors.js';

export const CHANNEL_MODES = ['strict', 'per-channel'] as const;
export type ChannelMode = (typeof CHANNEL_MODES)[number];

function describeChannels(n: number): string {
  return n === 1 ? 'grey (1-channel)' : `RGB (${n}-channel)`;
}

/** `runModel: the model takes grey (1-channel) images but the image is RGB (3-channel); <hint>` */
export function channelMismatch(fn: string, modelChannels: number, imageChannels: number, hint: string): HushError {
  return new HushError('ERR_INVALID_PARAMETER', `${fn}: the model takes ${describeChannels(modelChannels)} images but the image is ${describeChannels(imageChannels)}; ${hint}`, {
    param: 'image.channels',
    expected: String(modelChannels),
    received: imageChannels,
    hint,
  });
}

