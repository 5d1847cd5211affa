/**
 * saveModel / loadModel: hush models on disk in the TensorFlow.js layers format, a
 * folder with model.json (topology, weights manifest, and the hush metadata block
 * under userDefinedMetadata.hush) and weights.bin (float32, little-endian). tfjs's
 * own file handler lives in tfjs-node, which hush does not use, so this module is
 * the IO handler: the same files load in the browser with tf.loadLayersModel.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { io as tfio, LayersModel } from '@tensorflow/tfjs';
import { decodeError, HushError, invalidParameter } from '../core/errors.js';
import { checkObject } from '../core/validate.js';
import { writeFileAtomic, type IfExists } from '../io/atomic-write.js';
import { loadTfjs } from '../runtime/tfjs.js';
import { HUSH_MODEL_FORMAT, HUSH_MODEL_VERSION, wrapModel, type HushModel, type HushModelMetadata } from './hush-model.js';
import { checkNormalization } from './normalization.js';
import { MODEL_ARCHITECTURES, MODEL_CHANNELS } from './types.js';
import { channelMismatch } from './run-model.js';
import './layers/index.js';

export const MODEL_JSON = 'model.json';
export const WEIGHTS_BIN = 'weights.bin';

export interface SaveModelOptions {
  /** what to do when the folder already holds a model (default 'error') */
  ifExists?: IfExists;
}

export interface LoadModelOptions {
  /** refuse a model not made for this many colour channels */
  channels?: 1 | 3;
}

/** The model.json path for a folder or a model.json path. */
export function modelJsonPath(path: string): string {
  return basename(path) === MODEL_JSON || path.endsWith('.json') ? path : join(path, MODEL_JSON);
}

/** A tfjs save handler writing model.json and weights.bin into `dir`. */
export function fileSaveHandler(dir: string, ifExists: IfExists = 'error'): tfio.IOHandler {
  return {
    save: async (artifacts: tfio.ModelArtifacts): Promise<tfio.SaveResult> => {
      const { tf } = await loadTfjs();
      await mkdir(dir, { recursive: true });
      const weightData = artifacts.weightData === undefined ? new ArrayBuffer(0) : tf.io.CompositeArrayBuffer.join(artifacts.weightData);
      const json: tfio.ModelJSON = {
        modelTopology: artifacts.modelTopology as object,
        format: artifacts.format ?? 'layers-model',
        generatedBy: artifacts.generatedBy,
        convertedBy: artifacts.convertedBy ?? null,
        weightsManifest: [{ paths: [`./${WEIGHTS_BIN}`], weights: artifacts.weightSpecs ?? [] }],
        ...(artifacts.userDefinedMetadata ? { userDefinedMetadata: artifacts.userDefinedMetadata } : {}),
      };
      // weights first: a model.json never points at weights that are not there yet
      await writeFileAtomic(join(dir, WEIGHTS_BIN), new Uint8Array(weightData), { ifExists });
      await writeFileAtomic(join(dir, MODEL_JSON), Buffer.from(JSON.stringify(json)), { ifExists });
      return { modelArtifactsInfo: tf.io.getModelArtifactsInfoForJSON(artifacts) };
    },
  };
}

async function readOrThrow(path: string, fn: string): Promise<Buffer> {
  try {
    const st = await stat(path);
    if (st.isDirectory()) throw new HushError('ERR_IO', `${fn}: cannot read '${path}': it is a folder`, { file: path });
    return await readFile(path);
  } catch (e) {
    if (e instanceof HushError) throw e;
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new HushError('ERR_IO', `${fn}: cannot read '${path}': ${why}`, { file: path, cause: e });
  }
}

/** A tfjs load handler reading a model.json and the weight files it lists. */
export function fileLoadHandler(path: string, fn = 'loadModel'): tfio.IOHandler {
  const jsonPath = modelJsonPath(path);
  return {
    load: async (): Promise<tfio.ModelArtifacts> => {
      const { tf } = await loadTfjs();
      const text = (await readOrThrow(jsonPath, fn)).toString('utf8');
      let json: tfio.ModelJSON;
      try {
        json = JSON.parse(text) as tfio.ModelJSON;
      } catch (e) {
        throw decodeError(fn, jsonPath, `not JSON (${(e as Error).message})`, e);
      }
      if (json === null || typeof json !== 'object' || json.modelTopology === undefined || !Array.isArray(json.weightsManifest)) {
        throw decodeError(fn, jsonPath, 'not a TensorFlow.js layers model (no modelTopology or weightsManifest)');
      }
      return tf.io.getModelArtifactsForJSON(json, async (manifest) => {
        const specs: tfio.WeightsManifestEntry[] = [];
        const buffers: ArrayBuffer[] = [];
        for (const group of manifest) {
          specs.push(...group.weights);
          for (const p of group.paths) {
            const b = await readOrThrow(join(dirname(jsonPath), p), fn);
            buffers.push(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
          }
        }
        const data = tf.io.concatenateArrayBuffers(buffers);
        const expected = specs.reduce((n, s) => n + s.shape.reduce((a, b) => a * b, 1) * 4, 0);
        if (data.byteLength < expected) throw decodeError(fn, jsonPath, `weights hold ${data.byteLength} bytes but the manifest needs ${expected} (file truncated?)`);
        return [specs, data];
      });
    },
  };
}

/** Checks a hush metadata block; the message names what is wrong. */
export function checkMetadata(fn: string, file: string, value: unknown): HushModelMetadata {
  if (value === undefined || value === null) {
    throw decodeError(fn, file, "no hush metadata block (userDefinedMetadata.hush): a plain TensorFlow.js model? hush loads models written by saveModel or 'hush train'");
  }
  const m = value as Partial<HushModelMetadata>;
  if (typeof m !== 'object' || m.format !== HUSH_MODEL_FORMAT) throw decodeError(fn, file, `hush metadata block has format ${JSON.stringify(m.format)}, not '${HUSH_MODEL_FORMAT}'`);
  if (m.version !== HUSH_MODEL_VERSION) {
    throw new HushError('ERR_UNSUPPORTED', `${fn}: '${file}' is a hush model of version ${String(m.version)}; this hush reads version ${HUSH_MODEL_VERSION}`, { file });
  }
  if (!(MODEL_ARCHITECTURES as readonly unknown[]).includes(m.architecture)) throw decodeError(fn, file, `unknown architecture ${JSON.stringify(m.architecture)} in the hush metadata`);
  if (!(MODEL_CHANNELS as readonly unknown[]).includes(m.channels)) throw decodeError(fn, file, `channels ${JSON.stringify(m.channels)} in the hush metadata is not 1 or 3`);
  if (!Number.isInteger(m.multiple) || (m.multiple as number) < 1) throw decodeError(fn, file, `multiple ${JSON.stringify(m.multiple)} in the hush metadata is not a positive integer`);
  checkNormalization(fn, 'metadata.normalization', m.normalization);
  return m as HushModelMetadata;
}

/** Writes `model` (a HushModel) into the folder `dir` as model.json + weights.bin. */
export async function saveModel(model: HushModel, dir: string, options: SaveModelOptions = {}): Promise<void> {
  const fn = 'saveModel';
  if (typeof model !== 'object' || model === null || !('model' in model) || !('metadata' in model)) {
    throw invalidParameter(fn, 'model', 'a HushModel (from createModel or loadModel)', model);
  }
  if (typeof dir !== 'string' || dir === '') throw invalidParameter(fn, 'dir', 'a folder path', dir);
  const opts = checkObject(fn, 'options', options) as SaveModelOptions;
  checkMetadata(fn, dir, model.metadata);
  await loadTfjs();
  const net = model.model as LayersModel;
  const previous = net.getUserDefinedMetadata();
  net.setUserDefinedMetadata({ ...((previous as object | undefined) ?? {}), hush: model.metadata });
  await net.save(fileSaveHandler(dir, opts.ifExists ?? 'error'));
}

/** Reads a hush model from a folder (or its model.json). Plain tfjs models are refused with a clear error. */
export async function loadModel(path: string, options: LoadModelOptions = {}): Promise<HushModel> {
  const fn = 'loadModel';
  if (typeof path !== 'string' || path === '') throw invalidParameter(fn, 'path', 'a model folder or model.json path', path);
  const opts = checkObject(fn, 'options', options) as LoadModelOptions;
  if (opts.channels !== undefined && !(MODEL_CHANNELS as readonly unknown[]).includes(opts.channels)) throw invalidParameter(fn, 'options.channels', 'one of 1, 3', opts.channels);
  const { tf } = await loadTfjs();
  const jsonPath = modelJsonPath(path);
  const handler = fileLoadHandler(path, fn);
  // read the metadata before building the network: a non-hush model fails fast and clearly
  const artifacts = await (handler.load as () => Promise<tfio.ModelArtifacts>)();
  const metadata = checkMetadata(fn, jsonPath, (artifacts.userDefinedMetadata as { hush?: unknown } | undefined)?.hush);
  if (opts.channels !== undefined && opts.channels !== metadata.channels) {
    throw channelMismatch(fn, metadata.channels, opts.channels, `'${jsonPath}' was trained for ${metadata.channels === 1 ? 'grey' : 'RGB'} images`);
  }
  let net: LayersModel;
  try {
    net = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw decodeError(fn, jsonPath, `tfjs could not build the network (${(e as Error).message})`, e);
  }
  return wrapModel(net, metadata);
}
