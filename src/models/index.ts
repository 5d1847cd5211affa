/**
 * The model zoo: one list of architecture ids feeds the type, the validator and its
 * error text, `hush models`, and docs/neural-engine.md. Each architecture lives in
 * its own file and exports its builder and registry entry; this file gathers them,
 * and re-exports the zoo's API. Importing it imports tfjs (not a backend): neural
 * code only.
 */
export { MODEL_ARCHITECTURES, MODEL_CHANNELS, type ArchitectureInfo, type ModelArchitecture, type ModelChannels } from './types.js';
export {
  MODEL_REGISTRY,
  resolveModelOptions,
  buildModel,
  buildResolved,
  modelMultiple,
  modelStats,
  type BuildModelOptions,
  type ResolvedModelOptions,
  type ModelStats,
} from './registry.js';
export { countFlops } from './flops.js';
export { CUSTOM_LAYERS, Subtract, AppendConstantChannel } from './layers/index.js';
export { NORMALIZATION_KINDS, type InputNormalization, type NormalizationKind } from './normalization.js';
export {
  createModel,
  HUSH_MODEL_FORMAT,
  HUSH_MODEL_VERSION,
  type HushModel,
  type HushModelMetadata,
  type CreateModelOptions,
  type NoiseTrainedFor,
  type TrainingRecord,
} from './hush-model.js';
export { buildDncnn, type DncnnOptions } from './dncnn.js';
export { buildUnet, type UnetOptions } from './unet.js';
export { buildRidnet, type RidnetOptions } from './ridnet.js';
export { buildAutoencoder, type AutoencoderOptions } from './autoencoder.js';
export { buildGanGenerator, type GanGeneratorOptions } from './gan-generator.js';
export { buildGanDiscriminator, type GanDiscriminatorOptions } from './gan-discriminator.js';
export { runModel, inferMultiple, CHANNEL_MODES, type ChannelMode, type RunModelOptions } from './run-model.js';
export { saveModel, loadModel, fileSaveHandler, fileLoadHandler, MODEL_JSON, WEIGHTS_BIN, type SaveModelOptions, type LoadModelOptions } from './io.js';
