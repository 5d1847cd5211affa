/**
 * hush's custom layers, registered with tfjs's serialisation map so saved models
 * reload. Their class names carry a Hush prefix ("HushSubtract", ...) so that they
 * cannot collide with a layer tfjs may add later. Importing this module registers them.
 */
import * as tf from '@tensorflow/tfjs';
import { Subtract } from './subtract.js';
import { AppendConstantChannel } from './append-constant-channel.js';
import { MatchMean } from './match-mean.js';

export { Subtract, AppendConstantChannel, MatchMean };

/** Every custom layer class, for registration and the completeness test. */
export const CUSTOM_LAYERS = [Subtract, AppendConstantChannel, MatchMean] as const;

for (const cls of CUSTOM_LAYERS) tf.serialization.registerClass(cls);
